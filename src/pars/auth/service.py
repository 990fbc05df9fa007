"""Agencies, users and keys (CONTRACT §2), and turning a bearer key into an Actor."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pars.actors import Actor, AnyActor, CityActor, PartnerActor
from pars.audit import AuditAction, record_event
from pars.auth import lockout
from pars.auth.keys import digest, key_id_of, new_key
from pars.auth.models import Agency, ApiKey, User
from pars.auth.schemas import AgencyIn, UserIn
from pars.clock import now
from pars.db import reader
from pars.errors import Conflict, Invalid, NotFound, Refusal, Unauthenticated
from pars.pagination import Page, decode_cursor, encode_cursor
from pars.permissions import CITY_ROLES, Role

SYSTEM_AGENCY = "PARS"


def actor_for(user: User) -> AnyActor:
    """A stored user as an actor, of the kind its agency is."""
    return _actor(user.id, user.agency.code, user.agency.kind, user.roles, user.name)


def _actor(user_id: uuid.UUID, agency_code: str, agency_kind: str, roles: list[str], name: str) -> AnyActor:
    """The one place a user's stored columns become an actor."""
    kind = PartnerActor if agency_kind == "partner" else CityActor
    return kind(user_id, agency_code, frozenset(Role(r) for r in roles), name=name)


# The key, its user and agency in one statement, as columns: no ORM objects for the common case.
_KEY_LOOKUP = (
    select(
        ApiKey.id,
        ApiKey.revoked_at,
        ApiKey.locked_until,
        ApiKey.first_used_at,
        ApiKey.failures,
        User.id.label("user_id"),
        User.name,
        User.roles,
        Agency.code,
        Agency.kind,
    )
    .join(User, User.id == ApiKey.user_id)
    .join(Agency, Agency.id == User.agency_id)
    .where(ApiKey.digest == bindparam("digest"))
)


def authenticate(session: Session, key: str | None) -> AnyActor:
    """Missing, unknown, revoked or locked key: 401. A failure is audited (never with the key
    itself, only its public key id); a wrong secret for a known key id counts towards its lock."""
    if not key:
        raise Unauthenticated("an API key is required: Authorization: Bearer <key>")
    instant = now(session)
    with reader(session) as read:
        found = read.execute(_KEY_LOOKUP, {"digest": digest(key)}).first()
    if found is None:
        raise _wrong_key(session, key, instant)
    if found.revoked_at is not None:
        raise Unauthenticated(
            "the API key is not valid",
            refusal=Refusal(AuditAction.AUTH_FAILED, str(found.user_id), {"reason": "revoked key"}),
        )
    if found.first_used_at is not None and not found.failures and found.locked_until is None:
        # Nothing to audit or reset (`lockout.note_success`): the usual request.
        return _actor(found.user_id, found.code, found.kind, found.roles, found.name)
    row = session.get_one(ApiKey, found.id)
    if lockout.is_locked(row, instant):
        raise _locked(row)
    actor = actor_for(row.user)
    lockout.note_success(session, actor, row)
    return actor


def _wrong_key(session: Session, key: str, instant: datetime) -> Unauthenticated:
    key_id = key_id_of(key)
    known = None if key_id is None else session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if known is None or known.revoked_at is not None:
        return Unauthenticated(
            "the API key is not valid", refusal=Refusal(AuditAction.AUTH_FAILED, None, {"reason": "unknown key"})
        )
    if lockout.is_locked(known, instant):
        return _locked(known)
    return Unauthenticated(
        "the API key is not valid",
        refusal=Refusal(
            AuditAction.AUTH_FAILED,
            str(known.user_id),
            {"reason": "wrong secret", "key_id": key_id},
            aftermath=lockout.count_failure(known.id, known.user_id, key_id),
        ),
    )


def _locked(row: ApiKey) -> Unauthenticated:
    assert row.locked_until is not None
    until = row.locked_until.isoformat(timespec="seconds")
    return Unauthenticated(
        f"this API key is locked after {lockout.LOCK_AFTER} failed attempts in a row; it can be used again at {until}",
        refusal=Refusal(AuditAction.AUTH_FAILED, str(row.user_id), {"reason": "locked", "key_id": row.key_id}),
    )


def create_agency(session: Session, actor: Actor, data: AgencyIn) -> Agency:
    if session.scalars(select(Agency).where(Agency.code == data.code)).first() is not None:
        raise Conflict(f"an agency with code {data.code} exists")
    if data.kind == "partner" and data.stakeholder:
        raise Invalid.one("stakeholder", "only city agencies can be stakeholders")
    agency = Agency(**data.model_dump(), created_at=now(session))
    session.add(agency)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request created the same code
        raise Conflict(f"an agency with code {data.code} exists") from exc
    record_event(session, actor, AuditAction.ADMIN_AGENCY_CREATE, agency.code, data.model_dump())
    return agency


def list_agencies(session: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[Agency]:
    query = select(Agency).order_by(Agency.code)
    if cursor is not None:
        query = query.where(Agency.code > str(decode_cursor(cursor)[0]))
    rows = list(session.scalars(query.limit(limit + 1)))
    record_event(session, actor, AuditAction.ADMIN_AGENCY_LIST)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor([rows[-1].code]) if more else None)


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.code == code)).first()


def create_user(session: Session, actor: Actor, data: UserIn, *, api_key: str | None = None) -> tuple[User, str]:
    """Returns the user and its new key, which is never stored or shown again."""
    agency = agency_by_code(session, data.agency)
    if agency is None:
        raise Invalid.one("agency", f"no agency with code {data.agency}")
    roles = set(data.roles)
    if agency.kind == "partner" and roles != {Role.PARTNER}:
        raise Invalid.one("roles", "users of a partner agency have the role partner only")
    if agency.kind == "city" and not roles <= CITY_ROLES:
        raise Invalid.one("roles", "the role partner is only for users of partner agencies")
    user = User(agency=agency, name=data.name, roles=sorted(roles), created_at=now(session))
    session.add(user)
    session.flush()
    key = issue_key(session, actor, user, key=api_key)
    record_event(
        session, actor, AuditAction.ADMIN_USER_CREATE, user.id, {"agency": agency.code, "roles": sorted(roles)}
    )
    return user, key


def issue_key(session: Session, actor: Actor, user: User, *, key: str | None = None) -> str:
    key = key or new_key()
    session.add(ApiKey(user_id=user.id, digest=digest(key), key_id=key_id_of(key), created_at=now(session)))
    session.flush()
    record_event(session, actor, AuditAction.ADMIN_KEY_ISSUE, user.id)
    return key


def revoke_keys(session: Session, actor: Actor, user_id: uuid.UUID) -> None:
    """Revokes every live key of the user at once; the next request with one is a 401."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    instant = now(session)
    keys = session.scalars(select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)))
    revoked = 0
    for key in keys:
        key.revoked_at = instant
        revoked += 1
    record_event(session, actor, AuditAction.ADMIN_KEY_REVOKE, user_id, {"keys": revoked})


def user_names(session: Session, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Names of the given users (e.g. who voted), for city readers; unknown ids are left out."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())
