"""The partner side of the demonstration world (CONTRACT §12): the FBI, ATF and ICE agreements
with their votes, and months of partner activity through the real gate.

- FBI: criminal investigation, query and feed, case-bound searches by name and date of birth,
  each case registered with its subject first; and one task-force day: a registered case with
  25 to 30 co-defendants, all looked up under its one reference (lawful, and unflagged).
- ATF: firearms charges only (Title 18 §§ 6105, 6106, 6108, 6110.2, 907), searches by tracking number.
- ICE: the agreement the city ended. In force until the end of the most recent August 31, city
  time, and not renewed. Before expiry its officers searched every night, by name, without a case
  reference, mostly for people born abroad: the pattern a later oversight feature must recognise
  as a fishing expedition. In its last weeks it also worked the smarter way a determined partner
  would: office-hours searches by common Hispanic first and last names, each under a freshly
  invented case reference (many refused as ambiguous). After expiry its attempts are refused,
  and the refusals are on the trail.

FBI and ATF also subscribe webhooks to the demo receiver (`pars demo --receiver`) on 127.0.0.1.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import AnyActor, PartnerActor
from pars.demo.people import common_hispanic_name
from pars.feed import service as feed_service
from pars.feed.models import Subscription
from pars.feed.schemas import SubscriptionIn
from pars.feed.vocabulary import SubscriptionStatus
from pars.records.codes import ETHNICITY
from pars.records.models import Arrest, Charge
from pars.records.search import parse_search
from pars.settings import PrivateTargets
from pars.sharing import agreements, cases, gate
from pars.sharing.agreements import Policy
from pars.sharing.gate import PartnerRequest
from pars.sharing.models import Agreement
from pars.sharing.schemas import AgreementIn, CaseIn, CaseSubjectIn

FIREARMS = ["6105", "6106", "6108", "6110.2", "907"]
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
    """One partner query: a search that names a person or a case, then a read of what it found."""

    handle: str
    purpose: str
    case_reference: str | None
    how: str  # "name" | "tracking" | "fishing" | "sweep"


@dataclass(frozen=True)
class TaskForce:
    """A case with many co-defendants, registered with all of them, each looked up the same day."""

    handle: str
    purpose: str
    case_reference: str
    size: int


PartnerAct = Proposal | Ballot | Lookup | TaskForce

# Namesakes the city world books (first, last, sex) before ICE's sweeps: many different people
# share these names, which is why a search by them alone is ambiguous (CONTRACT §7). A sweeper
# tries the commonest names first.
NAMESAKES = (("José", "Rodríguez", "M"), ("María", "Rivera", "F"), ("Luis", "Cruz", "M"))
SWEEP_WEEKS = 3


def namesakes_before(now: datetime, zone: ZoneInfo) -> datetime:
    """The city world books its namesakes before ICE's sweeps begin (its last three weeks)."""
    return city_midnight(ice_expiry(now, zone) - timedelta(days=SWEEP_WEEKS * 7 + 1), zone)


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
            scope={"titles": [18, 35]}, require_case_reference=True, daily_query_limit=500)),
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


def activity(
    rng: random.Random, start: datetime, now: datetime, zone: ZoneInfo
) -> Iterator[tuple[datetime, PartnerAct]]:
    """Partner queries from `start` to `now`, each at a plausible hour."""
    ice_end = ice_expiry(now, zone)
    day, case, firearms_case = city_midnight(start + timedelta(days=2), zone), 0, 0
    # ICE's smarter weeks: fresh references on some office days of its last three weeks.
    sweep_days = {
        (ice_end - timedelta(days=d)).astimezone(zone).date() for d in rng.sample(range(2, SWEEP_WEEKS * 7 + 1), 6)
    }
    task_force = city_midnight(now - timedelta(days=rng.randint(10, 20)), zone) + timedelta(hours=10)
    yield task_force, TaskForce("fbi.agent", "criminal_investigation", f"FBI-PH-{task_force.year}-TF01",
                                rng.randint(25, 30))  # fmt: skip
    while day < now:
        if rng.random() < 0.35:  # FBI: a case-bound search in office hours
            case += 1
            at = day + timedelta(hours=rng.uniform(9, 17))
            yield at, Lookup("fbi.agent", "criminal_investigation", f"FBI-PH-{at.year}-{case:04d}", "name")
        if rng.random() < 0.2:  # ATF: a firearms case, by tracking number
            firearms_case += 1
            at = day + timedelta(hours=rng.uniform(9, 17))
            reference = f"ATF-PHL-{at.year % 100}-{firearms_case:03d}"
            yield at, Lookup("atf.agent", "firearms_investigation", reference, "tracking")
        if day < ice_end:  # ICE: nightly sweeps by name, no case reference
            for _ in range(rng.randint(6, 16)):
                yield (
                    day + timedelta(hours=rng.uniform(0.5, 4.5)),
                    Lookup("ice.officer", "criminal_investigation", None, "fishing"),
                )
        if day.astimezone(zone).date() in sweep_days:
            for _ in range(rng.randint(25, 40)):
                reference = f"ICE-ERO-PHI-{rng.randint(100_000, 999_999)}"  # invented for each search
                yield (
                    day + timedelta(hours=rng.uniform(9, 17)),
                    Lookup("ice.officer", "criminal_investigation", reference, "sweep"),
                )
        if day >= ice_end and rng.random() < 0.3:  # ICE after expiry: refused, and on the trail
            for _ in range(rng.randint(1, 3)):
                yield (
                    day + timedelta(hours=rng.uniform(0.5, 4.5)),
                    Lookup("ice.officer", "criminal_investigation", None, "fishing"),
                )
        day += timedelta(days=1)


def perform(
    session: Session,
    actor: AnyActor,
    act: PartnerAct,
    *,
    at: datetime,
    rng: random.Random,
    policy: Policy,
    zone: ZoneInfo,
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
    elif not isinstance(actor, PartnerActor):
        raise TypeError(f"{act} is a partner's act; {actor.name} is not a partner")
    elif isinstance(act, TaskForce):
        _task_force(session, actor, act, at=at, rng=rng, zone=zone)
    else:
        _lookup(session, actor, act, at=at, rng=rng, zone=zone)


def _register(
    session: Session, actor: PartnerActor, reference: str, title: str, people: list[Arrest], zone: ZoneInfo
) -> None:
    """Registers the case with its subjects, once (a second demo run finds it open already)."""
    assert actor.agency_code is not None
    if cases.standing(session, actor.agency_code, reference).registered:
        return
    subjects = [CaseSubjectIn(last_name=a.last_name, first_name=a.first_name, dob=a.dob) for a in people]
    cases.register(session, actor, CaseIn(reference=reference, title=title, subjects=subjects), zone=zone)


def _task_force(
    session: Session, actor: PartnerActor, act: TaskForce, *, at: datetime, rng: random.Random, zone: ZoneInfo
) -> None:
    recent = list(session.scalars(select(Arrest).where(Arrest.arrested_at < at).order_by(Arrest.arrested_at.desc())))
    defendants = rng.sample(recent, min(act.size, len(recent)))
    _register(session, actor, act.case_reference, "Task force: a drug distribution network", defendants, zone)
    request = PartnerRequest(purpose=act.purpose, case_reference=act.case_reference)
    for arrest in defendants:
        params = {"last_name": arrest.last_name, "dob": arrest.dob.isoformat()}
        page = gate.search(session, actor, parse_search(params), request, zone=zone)
        if page.items:
            gate.read(session, actor, page.items[0].id, request, zone=zone)


def _sweep(
    session: Session, actor: PartnerActor, act: Lookup, *, at: datetime, rng: random.Random, zone: ZoneInfo
) -> None:
    """A first and last name, nothing else: half the time one of the commonest (the city's
    namesakes: refused as ambiguous once two are on file), a fifth the name of someone on file,
    Hispanic when there is one (answered when no one shares it, and read), else another common
    Hispanic name (mostly nobody). A refusal propagates, so the unit of work audits it."""
    draw = rng.random()
    target = None
    if draw < 0.5:
        first, last, _ = rng.choice(NAMESAKES)
    elif draw < 0.7:
        shared = {(f, n) for f, n, _ in NAMESAKES}
        on_file = [
            a
            for a in session.scalars(select(Arrest).where(Arrest.arrested_at < at).limit(500))
            if a.first_name and (a.first_name, a.last_name) not in shared
        ]
        if not on_file:
            return
        target = rng.choice(
            [a for a in on_file if ETHNICITY.classify(a.ethnicity) == ETHNICITY.classify("H")] or on_file
        )
        first, last = target.first_name or "", target.last_name
    else:
        first, last = common_hispanic_name(rng)
    request = PartnerRequest(purpose=act.purpose, case_reference=act.case_reference)
    page = gate.search(session, actor, parse_search({"last_name": last, "first_name": first}), request, zone=zone)
    if page.items:
        gate.read(session, actor, page.items[0].id, request, zone=zone)


def _lookup(
    session: Session, actor: PartnerActor, act: Lookup, *, at: datetime, rng: random.Random, zone: ZoneInfo
) -> None:
    pool = select(Arrest).where(Arrest.arrested_at < at)
    if act.how == "tracking":
        pool = pool.where(Arrest.charges.any((Charge.title == 18) & Charge.section.in_(FIREARMS)))
    candidates = list(session.scalars(pool.order_by(Arrest.arrested_at.desc()).limit(200)))
    if act.how == "fishing":
        # The complaint in Philadelphia: searches aimed at people born outside the United States.
        foreign = [a for a in candidates if (a.citizenship or "US") != "US"]
        candidates = foreign if foreign and rng.random() < 0.8 else candidates
    if act.how == "sweep":
        _sweep(session, actor, act, at=at, rng=rng, zone=zone)
        return
    if not candidates:
        return
    target = rng.choice(candidates)
    request = PartnerRequest(purpose=act.purpose, case_reference=act.case_reference)
    if act.how in ("name", "tracking") and act.case_reference is not None:
        _register(session, actor, act.case_reference, "Investigation", [target], zone)
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
        gate.read(session, actor, page.items[0].id, request, zone=zone)


# handle → the purpose its deliveries are disclosed for.
SUBSCRIBERS = {"fbi.agent": "criminal_investigation", "atf.agent": "firearms_investigation"}


def receiver_url(agency: str, port: int) -> str:
    return f"http://127.0.0.1:{port}/{agency.lower()}"


def subscribe_receiver(session: Session, actors: Mapping[str, AnyActor], *, port: int) -> None:
    """FBI's and ATF's webhooks point at the demo receiver; once per URL, however often the demo runs."""
    for handle, purpose in SUBSCRIBERS.items():
        actor = actors[handle]
        assert isinstance(actor, PartnerActor) and actor.agency_code is not None, actor
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
