"""Partners' registered cases (CONTRACT §7).

A partner registers the cases it works, with the people each is about as far as it knows them.
Its queries name a case by reference (PARS-Case-Reference); an agreement may require that the
reference be an open registered case, and a lookup whose disclosed person is a subject of the
case is *explained*, which the compliance report and the misuse rules use.

Subjects are kept only as keyed hashes (``pars.sharing.keyed``) of their normalised parts, with
the names of the parts given (the *shape*: ``last``, ``last+dob``, ``last+first+dob`` …). To
match a person, the gate hashes the person's own parts in each shape the case holds and looks the
hash up: set membership, no name ever stored or compared in clear.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.auth.models import Agency
from pars.auth.service import agency_by_code
from pars.clock import now
from pars.errors import BadRequest, Conflict, FieldError, Invalid, NotFound
from pars.pagination import Page, keyset_page
from pars.records.models import Arrest
from pars.records.names import name_key
from pars.sharing.keyed import Domain, Hasher, hasher
from pars.sharing.models import CaseSubject, RegisteredCase
from pars.sharing.schemas import CaseIn, CaseSubjectIn

REFERENCE_MAX = 64
EARLIEST_DOB = date(1900, 1, 1)
# The parts of a subject, in the order a shape names them.
PARTS = ("last", "first", "dob")


def subject_parts(last: str | None, first: str | None, dob: date | None) -> dict[str, str]:
    """The normalised parts present: names as they are matched (``name_key``), dates ISO."""
    parts = {"last": name_key(last) or "", "first": name_key(first) or "", "dob": dob.isoformat() if dob else ""}
    return {name: value for name, value in parts.items() if value}


def shape_of(parts: Mapping[str, str]) -> str:
    return "+".join(name for name in PARTS if name in parts)


def _key(session: Session) -> Hasher:
    # A session without the audit key raises: storing subjects in clear is never an option.
    return hasher(session, Domain.CASE_SUBJECT)


# --- registering, closing, reading ----------------------------------------------------------


def check_reference(reference: str) -> str:
    """The reference as stored (surrounding spaces removed). Too long or with control
    characters is a 400 (like the header it must match); the value is never echoed."""
    text = reference.strip()
    if len(text) > REFERENCE_MAX or not text.isprintable():
        raise BadRequest(f"reference must be at most {REFERENCE_MAX} printable characters, without control characters")
    if not text:
        raise Invalid.one("reference", "must not be empty")
    return text


def _check_subjects(subjects: list[CaseSubjectIn], today: date) -> list[dict[str, str]]:
    errors: list[FieldError] = []
    parts = []
    for index, subject in enumerate(subjects):
        if not name_key(subject.last_name):
            errors.append(FieldError(f"subjects[{index}].last_name", "must not be empty"))
        if subject.first_name is not None and not name_key(subject.first_name):
            errors.append(FieldError(f"subjects[{index}].first_name", "must not be empty when given"))
        if subject.dob is not None and not EARLIEST_DOB <= subject.dob <= today:
            errors.append(FieldError(f"subjects[{index}].dob", "must be a date from 1900-01-01 to today"))
        parts.append(subject_parts(subject.last_name, subject.first_name, subject.dob))
    if errors:
        raise Invalid(errors)
    return parts


def register(session: Session, actor: Actor, data: CaseIn, *, zone: ZoneInfo) -> RegisteredCase:
    """A case of the actor's agency. Every check comes before anything is added: a refused
    registration leaves nothing behind."""
    reference = check_reference(data.reference)
    instant = now(session)
    parts = _check_subjects(data.subjects, instant.astimezone(zone).date())
    agency = agency_by_code(session, actor.agency_code or "")
    assert agency is not None
    taken = session.scalar(
        select(RegisteredCase.id).where(RegisteredCase.agency_id == agency.id, RegisteredCase.reference == reference)
    )
    if taken is not None:
        raise Conflict("your agency has already registered a case with this reference")
    digest = _key(session) if parts else None
    case = RegisteredCase(
        agency=agency,
        reference=reference,
        title=data.title,
        opened_at=(data.opened_at or instant).astimezone(UTC),
        created_at=instant,
        created_by=actor.user_id,
        subject_count=len(parts),
    )
    try:
        # A savepoint: a registration racing this one with the same reference loses here (the
        # unique constraint) as a 409, not a 500, and the transaction stays usable for its refusal.
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("your agency has already registered a case with this reference") from exc
    if digest is not None:
        session.add_all(CaseSubject(case_id=case.id, shape=shape_of(p), digest=digest(p)) for p in parts)
        session.flush()
    # The title is the partner's free text and may name people: not on the trail.
    record_event(session, actor, AuditAction.CASE_REGISTER, case.id, {"reference": reference, "subjects": len(parts)})
    return case


def _load(session: Session, case_id: uuid.UUID, actor: Actor, *, for_update: bool = False) -> RegisteredCase:
    """Another agency's case does not exist for a partner (404, never 403)."""
    query = select(RegisteredCase).where(RegisteredCase.id == case_id)
    if for_update:
        query = query.with_for_update(of=RegisteredCase)
    case = session.scalars(query).first()
    if case is None or (actor.is_partner and case.agency.code != actor.agency_code):
        raise NotFound("no such case")
    return case


def close(session: Session, actor: Actor, case_id: uuid.UUID) -> RegisteredCase:
    """From now on the reference names no open case (queries under it are unregistered)."""
    case = _load(session, case_id, actor, for_update=True)
    if case.closed_at is not None:
        raise Conflict("the case is already closed")
    case.closed_at, case.closed_by = now(session), actor.user_id
    session.flush()
    record_event(session, actor, AuditAction.CASE_CLOSE, case.id, {"reference": case.reference})
    return case


def visible(session: Session, actor: Actor, case_id: uuid.UUID) -> RegisteredCase:
    case = _load(session, case_id, actor)
    record_event(session, actor, AuditAction.CASE_READ, case.id)
    return case


def listing(
    session: Session, actor: Actor, *, limit: int, cursor: str | None, agency: str | None = None
) -> Page[RegisteredCase]:
    """Newest case first. A partner sees its own agency's cases, whatever ``agency`` says;
    governance and oversight see every agency's, or one agency's with ``agency``."""
    query = select(RegisteredCase).join(Agency, Agency.id == RegisteredCase.agency_id)
    if actor.is_partner:
        query = query.where(Agency.code == actor.agency_code)
    elif agency is not None:
        query = query.where(Agency.code == agency)
    page = keyset_page(
        session, query, at=RegisteredCase.created_at, ident=RegisteredCase.id, limit=limit, cursor=cursor,
        newest_first=True,
    )  # fmt: skip
    details: dict[str, Any] = {"results": len(page.items)} | ({"agency": agency} if agency else {})
    record_event(session, actor, AuditAction.CASE_READ, None, details)
    return page


def describe(case: RegisteredCase) -> dict[str, Any]:
    return {
        "id": str(case.id),
        "agency": case.agency.code,
        "reference": case.reference,
        "title": case.title,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": None if case.closed_at is None else case.closed_at.isoformat(),
        "subjects": case.subject_count,
    }


# --- the gate's view of a case --------------------------------------------------------------


@dataclass(frozen=True)
class CaseStanding:
    """What the gate knows of a PARS-Case-Reference: an open registered case of the agency or
    not, how many subjects it names, and their (shape, hash) pairs."""

    registered: bool
    subjects: int = 0
    hashes: frozenset[tuple[str, str]] = frozenset()

    @property
    def shapes(self) -> frozenset[str]:
        return frozenset(shape for shape, _ in self.hashes)


UNREGISTERED = CaseStanding(registered=False)

_case, _subject, _agency = (cast(Table, m.__table__) for m in (RegisteredCase, CaseSubject, Agency))
# The agency's open case of that reference: at most one ((agency, reference) is unique).
_OPEN: ColumnElement[bool] = and_(
    _agency.c.id == _case.c.agency_id,
    _agency.c.code == bindparam("agency"),
    _case.c.reference == bindparam("reference"),
    _case.c.closed_at.is_(None),
)
# A case's standing as two columns, so that the gate reads it in its agreement statement (one
# round trip less on every partner query that names a case): the subject count (NULL: no such
# open case) and the subjects' "shape:digest" pairs, space separated (a shape is parts joined by
# "+", a digest hex: neither holds a space or a colon). Uncorrelated, so they never bind to a
# statement's own agencies row. Parameters: ``agency``, ``reference`` (stripped).
# The separator as SQL text: given as a string, it is a parameter rendered into the statement at
# every execution, and the gate reads these columns with every partner query.
_SPACE = cast(str, literal_column("' '"))
STANDING_COLUMNS = (
    select(_case.c.subject_count).where(_OPEN).correlate(None).scalar_subquery(),
    select(func.aggregate_strings(_subject.c.shape + ":" + _subject.c.digest, _SPACE))
    .where(_subject.c.case_id == _case.c.id, _OPEN)
    .correlate(None)
    .scalar_subquery(),
)
_STANDING = select(*STANDING_COLUMNS)


def standing_of(columns: Sequence[Any]) -> CaseStanding:
    """The `CaseStanding` of the two `STANDING_COLUMNS` as read."""
    subjects, pairs = columns
    if subjects is None:
        return UNREGISTERED
    hashes = frozenset((shape, digest) for shape, _, digest in (pair.partition(":") for pair in (pairs or "").split()))
    return CaseStanding(registered=True, subjects=int(subjects), hashes=hashes)


def standing(session: Session, agency: str, reference: str) -> CaseStanding:
    return standing_of(session.execute(_STANDING, {"agency": agency, "reference": reference.strip()}).one())


def explains(session: Session, case: CaseStanding, arrests: Iterable[Arrest]) -> bool:
    """Whether one of the people arrested (as named at that arrest) is a subject of the case."""
    if not case.hashes:
        return False
    digest = _key(session)
    shapes = case.shapes
    people = {(a.last_key, a.first_key, a.dob) for a in arrests}
    for last, first, dob in people:
        parts = {"last": last, "first": first or "", "dob": dob.isoformat()}
        for shape in shapes:
            wanted = shape.split("+")
            if (
                all(parts.get(name) for name in wanted)
                and (shape, digest({n: parts[n] for n in wanted})) in case.hashes
            ):
                return True
    return False
