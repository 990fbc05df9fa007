"""``TallyStore``'s baselines read for every subject of a batch at once (one statement per rule)
give what one statement per subject gave: each subject's windows in the range asked, by start,
and its first window ever."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from pars.db import make_session_factory
from pars.oversight.models import Tally
from pars.oversight.rulebase import TallyState
from pars.oversight.scan import TallyStore
from pars.oversight.windows import Window

RULES = ("volume_spike", "broad_search", "demographic_skew")
AGENCIES = ("ICE", "FBI", "ATF")
SUBJECTS = ("", "u1", "u2", "u3")
DAY = timedelta(days=1)
START = datetime(2025, 3, 1, 5, tzinfo=UTC)


def _windows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for rule in RULES:
        for agency in AGENCIES:
            for subject in SUBJECTS:
                for day in sorted(rng.sample(range(60), rng.randint(0, 12))):
                    start = START + day * DAY
                    rows.append({"key": f"{rule}|{agency}|{subject or '-'}|{day}", "rule": rule, "agency": agency,
                                 "subject": subject, "window_start": start, "window_end": start + DAY,
                                 "count": rng.randint(1, 50), "evidence": [], "data": {}})  # fmt: skip
    return rows


def test_history_read_for_every_subject_at_once_is_each_subjects_own(db: Engine) -> None:
    rng = random.Random(17)  # noqa: S311 - reproducible tallies, not a secret
    rows = _windows(rng)
    factory = make_session_factory(db)
    with factory() as session:
        session.execute(insert(Tally), rows)
        reach = timedelta(days=9)
        store = TallyStore(session, 100, reach)
        # The batch holds some subjects' windows of days 40 to 45, not every subject's: the others are asked alone.
        for row in rng.sample(rows, 6):
            start = START + rng.randint(40, 45) * DAY
            key = f"{row['rule']}|{row['agency']}|{row['subject']}|batch"
            store.states[key] = TallyState(key, str(row["rule"]), str(row["agency"]), str(row["subject"]),
                                           Window(start, start + DAY))  # fmt: skip
        earliest = min(state.window.start for state in store.states.values())
        c = Tally.__table__.c
        for rule in RULES:
            for agency in AGENCIES:
                for subject in SUBJECTS:
                    first = session.scalar(
                        select(func.min(c.window_start)).where(c.rule == rule, c.agency == agency, c.subject == subject)
                    )
                    assert store.first_seen(rule, agency, subject) == first
                    for start in (
                        earliest - reach,
                        earliest - reach / 2,
                        earliest,
                        earliest + 5 * DAY,
                        earliest - 2 * reach,
                    ):
                        end = start + rng.randint(1, 20) * DAY
                        expected = [
                            (at.replace(tzinfo=UTC) if at.tzinfo is None else at, count)
                            for at, count in session.execute(
                                select(c.window_start, c.count)
                                .where(c.rule == rule, c.agency == agency, c.subject == subject,
                                       c.window_start >= start, c.window_start < end)
                                .order_by(c.window_start)
                            )
                        ]  # fmt: skip
                        got = [(at.replace(tzinfo=UTC) if at.tzinfo is None else at, n)
                               for at, n in store.history(rule, agency, subject, start, end)]  # fmt: skip
                        assert got == expected, (rule, agency, subject, start, end)
        session.rollback()
