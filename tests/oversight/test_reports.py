"""The transparency report's figures equal counts made here, independently, from the audit
trail; its CSV says the same as its JSON; the disparate-impact table compares the shares."""

from __future__ import annotations

import csv
import functools
import io
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, Outcome, record_disclosure, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.auth.service import agency_by_code
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.oversight.models import Alert
from pars.oversight.reports.compliance import compliance_report
from pars.oversight.reports.period import Period
from pars.oversight.reports.render import to_csv, to_html
from pars.oversight.reports.transparency import transparency_report
from pars.oversight.scan import ScanResult
from pars.permissions import Role
from pars.sharing import agreements
from pars.sharing.models import DetainerRequest
from pars.work import unit_of_work
from tests.oversight.conftest import Ask, Person, Refuse, Trail, at, partner_actor
from tests.sharing.conftest import agreement, approve, fbi, governors, propose  # noqa: F401

ZONE_NAME = "America/New_York"


def _trail(trail: Trail, partner: Callable[..., Actor], crowd: list[Person], db: Engine) -> None:
    ice, fbi = partner("ICE"), partner("FBI")  # noqa: F811 - not the sharing fixture
    for i, p in enumerate(crowd[:5]):  # ICE: nightly searches without a case, February
        trail.write(ice, at(i, 2), Ask([p]))
    trail.write(ice, at(2, 3), Refuse("protected_field_probe", parameters=["place_of_birth"], purpose=None))
    trail.write(ice, at(40, 2), Refuse("no_agreement_in_force"))  # March 16
    trail.write(fbi, at(1, 11), Ask(crowd[5:7], case="F-1"), Ask([], case="F-2"))
    trail.write(fbi, at(30, 11), Ask([crowd[0]], case="F-3", action=AuditAction.ARREST_READ))
    trail.write(fbi, at(30, 12), Ask([crowd[1], crowd[5]], channel="feed", action=AuditAction.FEED_DELIVER))
    trail.write(fbi, at(30, 13), Refuse("case_reference_required", agreement_id=uuid.uuid4()))
    # A feed withdrawal names a record the partner already holds: no disclosure.
    with unit_of_work(make_session_factory(db), FrozenClock(at(31, 1)), policy=trail.policy, actor=fbi) as session:
        record_event(session, fbi, AuditAction.FEED_DELIVER, crowd[5].arrest_id,
                     {"type": "withdrawal", "records": [str(crowd[5].arrest_id)], "fields": ["id"], "channel": "feed"})  # fmt: skip
    # Outside the period: January 31, 23:30 city time.
    trail.write(fbi, datetime.fromisoformat("2026-01-31T23:30:00-05:00"), Ask([crowd[2]], case="F-0"))


def test_transparency_figures_are_the_trails(
    db: Engine, session: Session, trail: Trail, partner: Callable[..., Actor], people: Callable[..., list[Person]],
    run_scan: Callable[..., ScanResult], settings: Any,
) -> None:  # fmt: skip
    crowd = people(4, race="Black", ethnicity="Not Hispanic") + people(4, race="White", ethnicity="Hispanic")
    _trail(trail, partner, crowd, db)
    run_scan()
    period = Period.parse("2026-02-01", "2026-03-31", zone=settings.zone)
    with make_session_factory(db)() as reading:
        report = transparency_report(reading, period, zone=settings.zone, now=at(60))

    # Counted here, straight from the trail.
    persons = {str(p.arrest_id): str(p.person_id) for p in crowd}
    expected: dict[tuple[str, str], Counter[str]] = {}
    people_by: dict[tuple[str, str], set[str]] = {}
    fields: dict[tuple[str, str], Counter[str]] = {}
    entries = session.scalars(select(AuditEntry).where(AuditEntry.agency.in_(["ICE", "FBI"]))).all()
    for entry in entries:
        local = entry.at.astimezone(settings.zone)
        if not (period.start <= entry.at < period.end):
            continue
        key = (entry.agency or "", local.strftime("%Y-%m"))
        counts = expected.setdefault(key, Counter())
        if entry.action in ("arrest.read", "arrest.search"):
            counts["queries"] += 1
            counts["refused"] += entry.outcome == "refused"
        if entry.outcome == "ok" and entry.details.get("type") != "withdrawal" and entry.details.get("records"):
            counts["records_disclosed"] += len(entry.details["records"])
            people_by.setdefault(key, set()).update(persons[r] for r in entry.details["records"])
            for name in entry.details["fields"]:
                fields.setdefault(key, Counter())[name] += len(entry.details["records"])
    rows = {(a["agency"], m["month"]): m for a in report["agencies"] for m in a["months"]}
    assert set(rows) == {(a, m) for a in ("FBI", "ICE") for m in ("2026-02", "2026-03")}
    for key, month in rows.items():
        counts = expected.get(key, Counter())
        assert month["queries"] == counts["queries"], key
        assert month["refused"] == counts["refused"], key
        assert month["records_disclosed"] == counts["records_disclosed"], key
        assert month["persons_disclosed"] == len(people_by.get(key, set())), key
        assert month["fields"] == dict(fields.get(key, Counter())), key
    assert rows[("ICE", "2026-02")]["queries"] == 6 and rows[("ICE", "2026-02")]["purposes"] == {
        "criminal_investigation": 5, "unstated": 1}  # fmt: skip
    assert rows[("FBI", "2026-03")]["records_disclosed"] == 3  # one read, one feed delivery of two
    ice = next(a for a in report["agencies"] if a["agency"] == "ICE")
    assert ice["totals"]["alerts"] == ice["totals"]["alerts_open"] > 0
    assert ice["totals"]["alerts_by_rule"]["protected_field_probe"] == 1

    # Disparate impact: arrests of the period against the people disclosed to partners.
    impact = {(r["race"], r["ethnicity"]): r for r in report["disparate_impact"]}
    black, white = (
        impact[("Black or African American", "Not Hispanic or Latino")],
        impact[("White", "Hispanic or Latino")],
    )
    assert black["arrests"] == white["arrests"] == 4 and black["arrest_share"] == 0.5
    disclosed = set().union(*people_by.values())
    black_ids = {str(p.person_id) for p in crowd[:4]}
    assert black["persons_disclosed"] == len(disclosed & black_ids)
    assert white["persons_disclosed"] == len(disclosed - black_ids)
    share = black["persons_disclosed"] / len(disclosed)
    assert black["disclosure_share"] == round(share, 4)
    assert black["ratio"] is None and black["suppressed"]  # fewer than 11 people: no ratio
    by_ice = {(r["race"], r["ethnicity"]): r["persons_disclosed"] for r in report["disparate_impact_by_agency"]["ICE"]}
    assert by_ice == {("Black or African American", "Not Hispanic or Latino"): 4, ("White", "Hispanic or Latino"): 1}

    # CSV: one row per agency and month, the same numbers.
    table = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [(r["agency"], r["month"]) for r in table] == sorted(rows)
    for row in table:
        month = rows[(row["agency"], row["month"])]
        assert int(row["queries"]) == month["queries"] and int(row["persons_disclosed"]) == month["persons_disclosed"]
        assert int(row["field:person.name"]) == month["fields"].get("person.name", 0)
    assert "<svg" in to_html(report)


def test_detainers_received_and_honoured(
    db: Engine, people: Callable[..., list[Person]], make_user: Callable[..., Any], settings: Any,
    policy: CheckpointPolicy,
) -> None:  # fmt: skip
    make_user(Role.PARTNER, agency="ICE")
    crowd = people(3)
    with unit_of_work(make_session_factory(db), FrozenClock(at(5)), policy=policy) as session:
        ice = agency_by_code(session, "ICE")
        assert ice is not None
        for person, status in zip(crowd, ("accepted", "declined", "declined"), strict=True):
            session.add(DetainerRequest(arrest_id=person.arrest_id, agency_id=ice.id, type="notification",
                                        status=status, reason="", created_at=at(5)))  # fmt: skip
    period = Period.parse("2026-02-01", "2026-02-28", zone=settings.zone)
    with make_session_factory(db)() as reading:
        report = transparency_report(reading, period, zone=settings.zone, now=at(60))
    (ice_row,) = [a for a in report["agencies"] if a["agency"] == "ICE"]
    assert ice_row["months"][0]["detainers_received"] == 3 and ice_row["months"][0]["detainers_honoured"] == 1


def test_periods_are_city_days_both_included(settings: Any) -> None:
    period = Period.parse("2026-02-01", "2026-02-28", zone=settings.zone)
    assert period.start == datetime.fromisoformat("2026-02-01T00:00:00-05:00")
    assert period.end == datetime.fromisoformat("2026-03-01T00:00:00-05:00")
    assert period.shown(settings.zone)["to"] == "2026-03-01T00:00:00-05:00"
    instants = Period.parse("2026-02-01T12:00:00+00:00", "2026-02-02T12:00:00+00:00", zone=settings.zone)
    assert (instants.start.hour, instants.end - instants.start) == (12, timedelta(days=1))


# --- the evidence of purpose limitation (issue 12, part 5) ------------------------------------


def _lookup(
    session: Session, actor: Actor, agreement_id: uuid.UUID, person: Person | None, case: dict[str, Any] | None,
    reference: str | None,
) -> None:  # fmt: skip
    """An answered search as the gate writes it: parameters, and the case it was made under."""
    extra: dict[str, Any] = {"parameters": ["first_name", "last_name"]} | ({"case": case} if case else {})
    record_disclosure(
        session, actor, AuditAction.ARREST_SEARCH, agreement_id=agreement_id, agreement_version=1,
        purpose="criminal_investigation", case_reference=reference, channel="query",
        records=[] if person is None else [(person.arrest_id, person.person_id)],
        fields=["id", "person.dob", "person.name", "status", "tracking_number"], details=extra,
    )  # fmt: skip


def _refusal(session: Session, actor: Actor, agreement_id: uuid.UUID, reason: str, reference: str | None) -> None:
    details: dict[str, Any] = {
        "reason": reason, "purpose": "criminal_investigation", "case_reference": reference, "channel": "query",
        "agreement_id": str(agreement_id), "agreement_version": 1, "parameters": ["first_name", "last_name"],
    }  # fmt: skip
    if reason == "ambiguous":
        details["persons"] = 4
    record_event(session, actor, AuditAction.ARREST_SEARCH, None, details, outcome=Outcome.REFUSED)


def _alert(session: Session, rule: str, evidence: list[int], *, severity: str, outcome: str | None = None) -> Alert:
    start = datetime.fromisoformat("2026-03-18T00:00:00-04:00")
    alert = Alert(
        key=f"{rule}:ICE:{uuid.uuid4()}", rule=rule, agency="ICE", user_id=None, severity=severity,
        window_start=start, window_end=start + timedelta(days=1), summary=f"{rule} on the day", evidence=evidence,
        details={}, raised_at=start + timedelta(days=1), updated_at=start + timedelta(days=1),
        reviewed_at=None if outcome is None else start + timedelta(days=2), review_outcome=outcome,
        review_note=None if outcome is None else "looked at",
    )  # fmt: skip
    session.add(alert)
    return alert


def test_purpose_limitation_counts_refusals_unexplained_lookups_and_the_new_alerts(
    db: Engine, clock: FrozenClock, make_user: Callable[..., Any], people: Callable[..., list[Person]],
    agreement: Callable[..., dict[str, Any]], settings: Any,  # noqa: F811
    policy: CheckpointPolicy,
) -> None:  # fmt: skip
    ice = partner_actor(make_user(Role.PARTNER, agency="ICE"))
    terms = agreement(agency="ICE", require_case_reference=False, daily_query_limit=None)
    agreement_id = uuid.UUID(terms["id"])
    crowd = people(4)
    factory = make_session_factory(db)
    day = datetime.fromisoformat("2026-03-18T10:00:00-04:00")
    seqs: dict[str, list[int]] = {}

    def write(kind: str, minute: int, act: Callable[[Session], None]) -> None:
        with unit_of_work(factory, FrozenClock(day + timedelta(minutes=minute)), policy=policy, actor=ice) as session:
            act(session)
        with factory() as session:
            seqs.setdefault(kind, []).append(
                session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).first() or 0
            )

    registered = {"registered": True, "subjects": 2}
    write("explained", 1, lambda s: _lookup(s, ice, agreement_id, crowd[0], registered | {"explained": True}, "ICE-1"))
    write("unexplained_registered", 2,
          lambda s: _lookup(s, ice, agreement_id, crowd[1], registered | {"explained": False}, "ICE-1"))  # fmt: skip
    invented = {"registered": False, "subjects": 0, "explained": False}
    write("unexplained_invented", 3, lambda s: _lookup(s, ice, agreement_id, crowd[2], invented, "ICE-X-77"))
    write("found_nobody", 4, lambda s: _lookup(s, ice, agreement_id, None, invented, "ICE-X-78"))
    write("no_reference", 5, lambda s: _lookup(s, ice, agreement_id, crowd[3], None, None))
    for minute in range(3):
        write(
            "ambiguous",
            10 + minute,
            functools.partial(
                _refusal, actor=ice, agreement_id=agreement_id, reason="ambiguous", reference=f"ICE-X-{minute}"
            ),
        )
    for minute in range(2):
        write("unregistered", 20 + minute, lambda s: _refusal(s, ice, agreement_id, "unregistered_case", "ICE-X-9"))
    write("too_broad", 30, lambda s: _refusal(s, ice, agreement_id, "search_too_broad", None))
    with unit_of_work(factory, FrozenClock(day + timedelta(days=1)), policy=policy) as session:
        sweep = _alert(session, "refused_sweep", seqs["ambiguous"] + seqs["too_broad"], severity="medium")
        churn = _alert(session, "case_reference_churn", seqs["ambiguous"] + seqs["unexplained_invented"],
                       severity="medium")  # fmt: skip
        _alert(session, "refused_sweep", seqs["ambiguous"][:1], severity="medium", outcome="dismissed")
        _alert(session, "no_case_reference", seqs["no_reference"], severity="medium")  # medium: not standing
        session.flush()
        standing = {str(sweep.id), str(churn.id)}

    period = Period.parse("2026-03-01", "2026-03-31", zone=settings.zone)
    with factory() as reading:
        agreement_row = agreements.load(reading, agreement_id)
        report = compliance_report(reading, agreement_row, period, zone=settings.zone)
        transparency = transparency_report(reading, period, zone=settings.zone, now=day + timedelta(days=5))

    assert report["queries"] == 11 and report["refusals"] == 6
    assert report["refusals_by_reason"] == {"ambiguous": 3, "search_too_broad": 1, "unregistered_case": 2}
    evidence = report["purpose_limitation_evidence"]
    assert (evidence["ambiguous_refusals"], evidence["unregistered_case_refusals"], evidence["too_broad_refusals"]) == (
        3, 2, 1)  # fmt: skip
    # Unexplained: answered with someone, under a reference no subject of which is that someone.
    assert evidence["unexplained_lookups"] == 2 and evidence["unexplained_under_registered_case"] == 1
    assert evidence["evidence"] == {
        "ambiguous_refusals": seqs["ambiguous"], "unregistered_case_refusals": seqs["unregistered"],
        "too_broad_refusals": seqs["too_broad"],
        "unexplained_lookups": sorted(seqs["unexplained_registered"] + seqs["unexplained_invented"]),
        "unexplained_under_registered_case": seqs["unexplained_registered"],
    }  # fmt: skip
    assert evidence["alerts_by_rule"] == {"case_reference_churn": 1, "demographic_skew": 0, "no_case_reference": 1,
                                          "refused_sweep": 2}  # fmt: skip
    assert evidence["standing_alerts"] == 2

    (breach,) = report["breaches"]
    assert breach["term"] == "purpose_limitation" and report["in_breach"] is True
    assert set(breach["alerts"]) == standing
    assert breach["evidence"] == sorted(set(seqs["ambiguous"] + seqs["too_broad"] + seqs["unexplained_invented"]))
    assert breach["evidence_by_rule"] == {
        "case_reference_churn": sorted(seqs["ambiguous"] + seqs["unexplained_invented"]),
        "refused_sweep": sorted(seqs["ambiguous"] + seqs["too_broad"]),
    }
    assert breach["indicators"] == evidence["evidence"]
    assert "3 searches refused as ambiguous, 2 for an unregistered case, 2 lookups" in breach["summary"]

    (month,) = next(a for a in transparency["agencies"] if a["agency"] == "ICE")["months"]
    assert month["month"] == "2026-03" and month["queries"] == 11 and month["refused"] == 6
    assert month["ambiguous_refusals"] == 3
    assert month["refused_by_reason"] == {"ambiguous": 3, "search_too_broad": 1, "unregistered_case": 2}
    assert month["alerts_by_rule"] == evidence["alerts_by_rule"] and month["alerts"] == 4
    (row,) = [r for r in csv.DictReader(io.StringIO(to_csv(transparency))) if r["agency"] == "ICE"]
    assert (row["ambiguous_refusals"], row["refused:ambiguous"], row["refused:unregistered_case"]) == ("3", "3", "2")
    assert (row["alerts:refused_sweep"], row["alerts:case_reference_churn"], row["alerts:demographic_skew"]) == (
        "2", "1", "0")  # fmt: skip
    page = to_html(transparency)
    assert "refused: name matched several people" in page and "alert: many different case references" in page
    assert "alert: searches skewed by race or ethnicity" in page
