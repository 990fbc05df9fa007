"""The partner side of the demonstration world (CONTRACT §12): the FBI, ATF and ICE agreements
with their votes, and months of partner activity through the real gate.

- FBI: criminal investigation, query and feed. It registers each case it works, with its subject,
  and looks the subject up by name and date of birth under that case (an *explained* lookup). One
  task-force case names 25–30 co-defendants, all looked up in one day under its one reference:
  the lawful twin of a sweep.
- ATF: firearms charges only (Title 18 §§ 6105, 6106, 6108, 6110.2, 907), searches by tracking number.
- ICE: the agreement the city ended. In force until the end of the most recent August 31, city
  time, and not renewed. Before expiry its officers searched every night, by name, without a case
  reference, mostly for people born abroad; and, on a few days of its last weeks, swept the
  commonest Hispanic first and last names in office hours, each search under a freshly invented
  case reference (so that no search is "without a case"): most such names match several people
  and are refused as ambiguous, some match one person, who is then read. After expiry its
  attempts are refused, and the refusals are on the trail.

FBI and ATF also subscribe webhooks to the demo receiver (`pars demo --receiver`) on 127.0.0.1.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.auth.principal import Actor
from pars.feed import service as feed_service
from pars.feed.models import Subscription
from pars.feed.schemas import SubscriptionIn
from pars.feed.vocabulary import PrivateTargets, SubscriptionStatus
from pars.records.models import Arrest, Charge
from pars.records.search import parse_search
from pars.sharing import agreements, cases, gate
from pars.sharing.agreements import Policy
from pars.sharing.gate import PartnerRequest
from pars.sharing.models import Agreement
from pars.sharing.schemas import AgreementIn, CaseIn, CaseSubjectIn

FIREARMS = ["6105", "6106", "6108", "6110.2", "907"]
FBI_TITLES = [18, 35]
COMMON_FIELDS = [
    "person.name", "person.aliases", "person.dob", "person.sex", "person.race", "person.identifiers",
    "arrest.arrested_at", "arrest.district", "arrest.incident_number", "charges", "charging", "custody",
]  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    handle: str
    terms: AgreementIn


@dataclass(frozen=True)
class Ballot:
    handle: str
    partner: str
    vote: str


@dataclass(frozen=True)
class Lookup:
    """One partner query: a search that names a person or a case, then a read of what it found.

    ``how``: ``name`` (FBI: registers the case with its subject, then searches by name and date
    of birth), ``tracking`` (ATF), ``fishing`` (ICE at night: a name, no case), ``sweep`` (ICE by
    day: a common Hispanic name under an invented reference), ``task_force`` (FBI: the
    ``index``-th co-defendant of the task-force case registered with ``cutoff``)."""

    handle: str
    purpose: str
    case_reference: str | None
    how: str
    cutoff: datetime | None = None
    index: int = 0


@dataclass(frozen=True)
class TaskForceCase:
    """FBI registers one case naming ``size`` co-defendants: people arrested before ``cutoff``."""

    handle: str
    reference: str
    cutoff: datetime
    size: int


PartnerAct = Proposal | Ballot | Lookup | TaskForceCase

# The names a sweeper tries first: among the commonest Hispanic first names and surnames in
# Philadelphia's arrests.
SWEEP_FIRST_NAMES = ("José", "Luis", "Juan", "Carlos", "Miguel", "Ángel", "María", "Carmen", "Ana", "Luz")
SWEEP_LAST_NAMES = ("Rodríguez", "Rivera", "Cruz", "Torres", "Santiago", "Ortiz", "Hernández", "García",
                    "Colón", "Díaz")  # fmt: skip
# Namesakes the city world books (first, last, sex): many different people share these names,
# which is why a search by them alone is ambiguous (CONTRACT §7).
NAMESAKES = (("José", "Rodríguez", "M"), ("María", "Rivera", "F"), ("Luis", "Cruz", "M"))
SWEEP_DAYS = 3
SWEEP_SEARCHES = (30, 45)
TASK_FORCE_SUBJECTS = (25, 30)


def city_midnight(day: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.astimezone(zone).date(), time(0), tzinfo=zone)


def ice_expiry(now: datetime, zone: ZoneInfo) -> datetime:
    """The end of the most recent August 31, city time (September 1, 00:00)."""
    local = now.astimezone(zone)
    expiry = datetime(local.year, 9, 1, tzinfo=zone)
    return expiry if expiry <= now else datetime(local.year - 1, 9, 1, tzinfo=zone)


def history_start(now: datetime, zone: ZoneInfo, days: int) -> datetime:
    """The demo's history covers `days`, and at least the last month of ICE's agreement."""
    return min(now - timedelta(days=days), ice_expiry(now, zone) - timedelta(days=35))


def _terms(agency: str, title: str, effective: datetime, expires: datetime, **terms: Any) -> AgreementIn:
    return AgreementIn.model_validate(
        {"agency": agency, "title": title, "document_ref": f"MOU-{agency}-{effective.year}",
         "effective_from": effective, "expires_at": expires, "fields": COMMON_FIELDS, **terms}
    )  # fmt: skip


def agreement_steps(now: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, PartnerAct]]:
    local = now.astimezone(zone)
    ice_end = ice_expiry(now, zone)
    # FBI's and ATF's agreements cover the whole history (which starts in ICE's last year), so
    # their case-bound work is never a request without an agreement.
    year_start = datetime(ice_end.astimezone(zone).year, 1, 1, tzinfo=zone)
    next_year = datetime(local.year + 1, 1, 1, tzinfo=zone)
    ice_start = ice_end.replace(year=ice_end.year - 1)
    plans = [
        ("FBI", year_start, [("DAO", "yes"), ("FJD", "yes"), ("CITY", "yes")], _terms(
            "FBI", "FBI Philadelphia Division: arrest data for criminal investigations", year_start, next_year,
            purposes=["criminal_investigation", "fugitive_apprehension"], channels=["query", "feed"],
            scope={"titles": FBI_TITLES}, require_case_reference=True, daily_query_limit=500)),
        ("ATF", year_start, [("DAO", "yes"), ("FJD", "yes"), ("CITY", "yes")], _terms(
            "ATF", "ATF Philadelphia Field Division: firearms arrests", year_start, next_year,
            purposes=["firearms_investigation"], channels=["query", "feed"],
            scope={"titles": [18], "sections": FIREARMS}, require_case_reference=True, daily_query_limit=200)),
        ("ICE", ice_start, [("CITY", "no"), ("DAO", "yes"), ("FJD", "yes")], _terms(
            "ICE", "ICE Philadelphia Field Office: arrest data (not renewed)", ice_start, ice_end,
            purposes=["criminal_investigation", "fugitive_apprehension"], channels=["query"],
            fields=[*COMMON_FIELDS, "person.ethnicity", "person.address"],
            require_case_reference=False, daily_query_limit=None)),
    ]  # fmt: skip
    for partner, effective, votes, terms in plans:
        proposed = effective - timedelta(days=30)
        yield proposed, Proposal("city.governance", terms)
        for day, (stakeholder, vote) in enumerate(votes, start=1):
            yield proposed + timedelta(days=day), Ballot(f"{stakeholder.lower()}.governance", partner, vote)


def namesakes_before(now: datetime, zone: ZoneInfo) -> datetime:
    """The city world books its namesakes before ICE's sweeps begin."""
    return city_midnight(ice_expiry(now, zone) - timedelta(days=SWEEP_DAYS * 7 + 1), zone)


def _sweep_days(rng: random.Random, start: datetime, now: datetime, zone: ZoneInfo) -> set[datetime]:
    """Weekdays of ICE's last three weeks under its agreement (after the namesakes' arrests)."""
    ice_end, first = ice_expiry(now, zone), namesakes_before(now, zone)
    days = [city_midnight(ice_end - timedelta(days=d), zone) for d in range(2, SWEEP_DAYS * 7 + 1)]
    days = [d for d in days if d.weekday() < 5 and max(first, start) < d < now]
    return set(rng.sample(days, min(SWEEP_DAYS, len(days))))


def _task_force(rng: random.Random, now: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, PartnerAct]]:
    """Three days ago: FBI registers a task-force case with its co-defendants and looks each up."""
    day = city_midnight(now - timedelta(days=3), zone)
    opened = day + timedelta(hours=9)
    reference = f"FBI-PH-{opened.year}-TF-0117"
    size = rng.randint(*TASK_FORCE_SUBJECTS)
    yield opened, TaskForceCase("fbi.agent", reference, opened, size)
    for index in range(size):
        at = opened + timedelta(minutes=10 + 9 * index)
        yield at, Lookup("fbi.agent", "criminal_investigation", reference, "task_force", cutoff=opened, index=index)


def activity(
    rng: random.Random, start: datetime, now: datetime, zone: ZoneInfo
) -> Iterator[tuple[datetime, PartnerAct]]:
    """Partner queries from `start` to `now`, each at a plausible hour."""
    ice_end = ice_expiry(now, zone)
    sweeps = _sweep_days(rng, start, now, zone)
    yield from _task_force(rng, now, zone)
    day, case = city_midnight(start + timedelta(days=2), zone), 0
    while day < now:
        if rng.random() < 0.35:  # FBI: a registered case, its subject looked up in office hours
            case += 1
            at = day + timedelta(hours=rng.uniform(9, 17))
            yield at, Lookup("fbi.agent", "criminal_investigation", f"FBI-PH-{at.year}-{case:04d}", "name")
        if rng.random() < 0.2:  # ATF: a firearms case, by tracking number
            at = day + timedelta(hours=rng.uniform(9, 17))
            yield at, Lookup("atf.agent", "firearms_investigation", f"ATF-PHL-{at.year % 100}-{case:03d}", "tracking")
        if day in sweeps:  # ICE by day: common Hispanic names, a fresh invented reference for each
            for _ in range(rng.randint(*SWEEP_SEARCHES)):
                at = day + timedelta(hours=rng.uniform(9, 16.5))
                reference = f"ICE-ERO-PHI-{at.year}-{rng.randint(10_000, 99_999)}"
                yield at, Lookup("ice.officer", "criminal_investigation", reference, "sweep")
        if day < ice_end:  # ICE: nightly sweeps by name, no case reference
            for _ in range(rng.randint(6, 16)):
                yield (
                    day + timedelta(hours=rng.uniform(0.5, 4.5)),
                    Lookup("ice.officer", "criminal_investigation", None, "fishing"),
                )
        elif rng.random() < 0.3:  # ICE after expiry: refused, and on the trail
            for _ in range(rng.randint(1, 3)):
                yield (
                    day + timedelta(hours=rng.uniform(0.5, 4.5)),
                    Lookup("ice.officer", "criminal_investigation", None, "fishing"),
                )
        day += timedelta(days=1)


def perform(
    session: Session, actor: Actor, act: PartnerAct, *, at: datetime, rng: random.Random, policy: Policy, zone: ZoneInfo
) -> None:
    """Runs one act through the same services the HTTP API calls. Refusals raise DomainError."""
    if isinstance(act, Proposal):
        agreements.propose(session, actor, act.terms, policy)
    elif isinstance(act, Ballot):
        target = session.scalars(
            select(Agreement)
            .join(Agreement.agency)
            .where(Agreement.agency.has(code=act.partner))
            .order_by(Agreement.created_at.desc())
        ).first()
        assert target is not None
        agreements.vote(session, actor, target.id, act.vote, policy)
    elif isinstance(act, TaskForceCase):
        subjects = [_subject(a) for a in _co_defendants(session, act.cutoff, act.size)]
        title = "Joint task force: narcotics distribution network"
        cases.register(session, actor, CaseIn(reference=act.reference, title=title, subjects=subjects), zone=zone)
    elif act.how == "sweep":
        _sweep(session, actor, act, at=at, rng=rng, zone=zone)
    elif act.how == "task_force":
        assert act.cutoff is not None
        people = _co_defendants(session, act.cutoff, act.index + 1)
        if len(people) > act.index:
            _search_and_read(session, actor, act, _by_name_and_dob(people[act.index]), zone=zone)
    else:
        _lookup(session, actor, act, at=at, rng=rng, zone=zone)


def _subject(arrest: Arrest) -> CaseSubjectIn:
    return CaseSubjectIn(last_name=arrest.last_name, first_name=arrest.first_name, dob=arrest.dob)


def _by_name_and_dob(arrest: Arrest) -> dict[str, str]:
    return {"last_name": arrest.last_name, "dob": arrest.dob.isoformat()}


def _co_defendants(session: Session, cutoff: datetime, size: int) -> list[Arrest]:
    """The task force's people: the first ``size`` different people arrested before ``cutoff``
    on charges in FBI's scope, oldest arrest first; the same list whenever it is asked for."""
    pool = session.scalars(
        select(Arrest)
        # A day before the case opened: an arrest booked after it cannot slip into the list.
        .where(
            Arrest.arrested_at < cutoff - timedelta(days=1),
            Arrest.charges.any(Charge.title.in_(FBI_TITLES)),
            Arrest.sealed.is_(False),
        )
        .order_by(Arrest.arrested_at, Arrest.id)
    )
    people: dict[uuid.UUID, Arrest] = {}
    for arrest in pool:
        if len(people) == size:
            break
        people.setdefault(arrest.person_id, arrest)
    return list(people.values())


def _search_and_read(session: Session, actor: Actor, act: Lookup, params: dict[str, str], *, zone: ZoneInfo) -> None:
    request = PartnerRequest(purpose=act.purpose, case_reference=act.case_reference)
    page = gate.search(session, actor, parse_search(params), request, zone=zone)
    if page.items:
        gate.read(session, actor, uuid.UUID(page.items[0]["id"]), request, zone=zone)


def _sweep(session: Session, actor: Actor, act: Lookup, *, at: datetime, rng: random.Random, zone: ZoneInfo) -> None:
    """A name and nothing else: half the time one of the city's namesakes (ambiguous once two are
    on file), a quarter the name of someone on file, Hispanic when there is one (answered when no
    one shares it), else a common first name and surname (mostly nobody)."""
    draw = rng.random()
    if draw < 0.5:
        first, last, _ = rng.choice(NAMESAKES)
    elif draw < 0.75:
        shared = {(f, n) for f, n, _ in NAMESAKES}
        on_file = [
            a
            for a in session.scalars(select(Arrest).where(Arrest.arrested_at < at).limit(500))
            if a.first_name and (a.first_name, a.last_name) not in shared
        ]
        hispanic = [a for a in on_file if a.ethnicity == "Hispanic"]
        if not on_file:
            return
        target = rng.choice(hispanic or on_file)
        first, last = target.first_name or "", target.last_name
    else:
        first, last = rng.choice(SWEEP_FIRST_NAMES), rng.choice(SWEEP_LAST_NAMES)
    _search_and_read(session, actor, act, {"last_name": last, "first_name": first}, zone=zone)


def _lookup(session: Session, actor: Actor, act: Lookup, *, at: datetime, rng: random.Random, zone: ZoneInfo) -> None:
    pool = select(Arrest).where(Arrest.arrested_at < at)
    if act.how == "tracking":
        pool = pool.where(Arrest.charges.any((Charge.title == 18) & Charge.section.in_(FIREARMS)))
    elif act.how == "name":  # FBI works cases on people its agreement covers
        pool = pool.where(Arrest.charges.any(Charge.title.in_(FBI_TITLES)), Arrest.sealed.is_(False))
    candidates = list(session.scalars(pool.order_by(Arrest.arrested_at.desc()).limit(200)))
    if act.how == "fishing":
        # The complaint in Philadelphia: searches aimed at people born outside the United States.
        foreign = [a for a in candidates if (a.citizenship or "US") != "US"]
        candidates = foreign if foreign and rng.random() < 0.8 else candidates
    if not candidates:
        return
    target = rng.choice(candidates)
    if act.how == "name" and act.case_reference is not None:
        # The case comes first, naming its subject: the lookup under it is explained.
        title = "Investigation, Philadelphia Division"
        data = CaseIn(reference=act.case_reference, title=title, subjects=[_subject(target)])
        cases.register(session, actor, data, zone=zone)
    request = PartnerRequest(purpose=act.purpose, case_reference=act.case_reference)
    if act.how == "tracking":
        params = {"tracking_number": target.tracking_number}
    elif act.how == "name":
        params = {"last_name": target.last_name, "dob": target.dob.isoformat()}
    elif target.first_name:
        params = {"last_name": target.last_name, "first_name": target.first_name}
    else:
        params = {"last_name": target.last_name, "dob": target.dob.isoformat()}
    page = gate.search(session, actor, parse_search(params), request, zone=zone)
    if page.items and act.how != "fishing":
        gate.read(session, actor, uuid.UUID(page.items[0]["id"]), request, zone=zone)


# handle → the purpose its deliveries are disclosed for.
SUBSCRIBERS = {"fbi.agent": "criminal_investigation", "atf.agent": "firearms_investigation"}


def receiver_url(agency: str, port: int) -> str:
    return f"http://127.0.0.1:{port}/{agency.lower()}"


def subscribe_receiver(session: Session, actors: dict[str, Actor], *, port: int) -> None:
    """FBI's and ATF's webhooks point at the demo receiver; once per URL, however often the demo runs."""
    for handle, purpose in SUBSCRIBERS.items():
        actor = actors[handle]
        assert actor.agency_code is not None
        url = receiver_url(actor.agency_code, port)
        existing = session.scalars(
            select(Subscription.id).where(
                Subscription.agency == actor.agency_code,
                Subscription.url == url,
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
        ).first()
        if existing is None:
            # The demo receiver is on 127.0.0.1 by construction.
            data = SubscriptionIn(url=url, purpose=purpose)
            feed_service.subscribe(session, actor, data, targets=PrivateTargets.LOOPBACK)
