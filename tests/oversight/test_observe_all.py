"""The scan hands each window the batch's queries at once (``Rule.observe_all``): the tallies are
exactly those of observing the queries one at a time, for every rule, whatever the queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pars.actions import AuditAction
from pars.oversight.rules import RULES, Context, TallyState
from pars.oversight.scan import TallyStore, tally_key
from pars.oversight.trail import CaseFacts, Query
from pars.oversight.windows import Window
from pars.settings import Settings
from pars.sharing.vocabulary import Refused

SETTINGS = Settings(oversight_max_evidence=10)  # a small cap, so that the tests reach it
START = datetime(2026, 3, 1, 5, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=7))
REASONS = [None, *[str(r) for r in Refused], "protected_field_probe"]


@st.composite
def queries(draw: st.DrawFn) -> list[Query]:
    made = []
    for seq in range(1, draw(st.integers(1, 30)) + 1):
        ok = draw(st.booleans())
        persons = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3, unique=True)) if ok else []
        query = Query(
            seq=seq,
            at=START + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60 - 1))),
            agency="ICE",
            user=draw(st.sampled_from(["", "u1", "u2", "u3"])),
            action=draw(st.sampled_from([str(AuditAction.ARREST_READ), str(AuditAction.ARREST_SEARCH)])),
            ok=ok,
            reason=None if ok else draw(st.sampled_from(REASONS)),
            purpose=None,
            case=draw(st.sampled_from(["", "C-1", "C-2", "C-3"])),
            records=[f"r-{p}" for p in persons],
            parameters=draw(st.lists(st.sampled_from(["last_name", "dob", "sid", "place_of_birth"]), max_size=3)),
            subject=draw(st.none() | st.sampled_from(["s1", "s2"])),
            case_facts=draw(st.none() | st.builds(CaseFacts, st.booleans(), st.integers(0, 3), st.booleans())),
            persons=persons,
            demographics=[draw(st.sampled_from([("B", "N"), ("W", "H"), ("W", "N")])) for _ in persons],
            recent=draw(st.booleans()),
        )
        made.append(query)
    return made


def _state(rule: str) -> TallyState:
    return TallyState(key="k", rule=rule, agency="ICE", subject="", window=WINDOW)


def _plain(state: TallyState) -> dict[str, Any]:
    return {"count": state.count, "evidence": state.evidence, "data": state.data}


@given(queries())
def test_observing_a_window_s_queries_at_once_is_observing_them_one_by_one(made: list[Query]) -> None:
    context = Context(SETTINGS, frozenset({"ICE"}), lambda *_: [], lambda *_: None)
    for rule in RULES:
        one_by_one, at_once = _state(rule.name), _state(rule.name)
        for query in made:
            rule.observe(one_by_one, query, context)
        for first in range(0, len(made), 7):  # in the pieces of several batches
            rule.observe_all(at_once, made[first : first + 7], context)
        assert _plain(at_once) == _plain(one_by_one), rule.name


@given(queries(), st.data())
def test_a_rule_counts_queries_of_one_kind_alike(made: list[Query], data: st.DataObject) -> None:
    """The scan asks ``Rule.counts`` once per ``Query.kind``: whatever else differs between two
    queries of one kind (who, when, which case, which people) does not change the answer."""
    for query in made:
        other = Query(
            seq=query.seq + 1000,
            at=query.at + timedelta(days=data.draw(st.integers(0, 30))),
            agency=data.draw(st.sampled_from(["ICE", "FBI"])),
            user=data.draw(st.sampled_from(["", "u9"])),
            action=query.action,
            ok=query.ok,
            reason=query.reason,
            purpose=data.draw(st.none() | st.just("other")),
            case="C-9" if query.case else "",
            records=[f"x-{r}" for r in query.records],
            parameters=data.draw(st.lists(st.sampled_from(["last_name", "dob", "race"]), max_size=3)),
            subject="s9" if query.subject else None,
            matched=data.draw(st.integers(0, 5)),
            case_facts=None
            if query.case_facts is None
            else CaseFacts(data.draw(st.booleans()), data.draw(st.integers(0, 3)), query.case_facts.explained),
            persons=[f"y-{p}" for p in query.persons],
            demographics=list(query.demographics),
            recent=query.recent,
        )
        assert other.kind() == query.kind()
        assert [rule.counts(other) for rule in RULES] == [rule.counts(query) for rule in RULES]


@given(queries())
def test_the_scan_counts_each_query_in_the_windows_its_rules_name(made: list[Query]) -> None:
    """``TallyStore.count`` (plans per kind, windows per quarter) puts every query in exactly
    the windows ``Rule.windows`` names, in trail order, the windows in the order first met."""
    settings = Settings(oversight_max_evidence=1000)
    context = Context(settings, frozenset({"ICE"}), lambda *_: [], lambda *_: None)
    expected: dict[str, list[int]] = {}
    for query in made:
        for rule in RULES:
            for subject, window in rule.windows(query, context):
                expected.setdefault(tally_key(rule.name, query.agency, subject, window), []).append(query.seq)
    store = TallyStore(None, settings.oversight_max_evidence, timedelta(days=1))  # type: ignore[arg-type]
    store._load = lambda wanted: store.states.update(  # type: ignore[method-assign]
        {k: TallyState(k, r.name, a, s, w) for k, (r, a, s, w) in wanted.items() if k not in store.states}
    )
    store._touch_users = lambda touched: None  # type: ignore[method-assign]
    store.count(made, context)
    assert [(key, state.evidence) for key, state in store.states.items()] == list(expected.items())
