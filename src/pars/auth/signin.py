"""Signing in to the web pages: a password (argon2id) and a TOTP second factor (CJIS Security
Policy 5.6.2.2 advanced authentication), with the same lock as API keys (5 failures in a row lock
sign-in for 10 minutes), and browser sessions that end after 30 minutes without activity.

The services raise `Unauthenticated` with a refusal, like `authenticate` does for keys: the
request's transaction rolls back, and the refusal's entry and its aftermath (the failure count)
are written in the transaction that follows.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.auth.lockout import LOCK_AFTER, failure_counter
from pars.auth.models import Credentials, User, WebSession
from pars.auth.service import actor_for
from pars.clock import now
from pars.errors import Invalid, NotFound, Refusal, Unauthenticated

PASSWORD_MIN_LENGTH = 12
IDLE_LIMIT = timedelta(minutes=30)
# From a right password to the second factor: long enough to open an authenticator app.
SECOND_FACTOR_WITHIN = timedelta(minutes=5)
ISSUER = "PARS"

STAGE_PASSWORD = "password"  # noqa: S105 - a stage name, not a password
STAGE_SIGNED_IN = "signed_in"

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) parameters


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- passwords ---------------------------------------------------------------------------------


def password_problems(password: str) -> list[str]:
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"a password has at least {PASSWORD_MIN_LENGTH} characters")
    if password.strip() != password:
        problems.append("a password does not start or end with spaces")
    return problems


def set_password(
    session: Session, actor: Actor, user_id: uuid.UUID, password: str, *, username: str | None = None
) -> Credentials:
    """Gives a user a (new) password, and optionally a user name to sign in with. A new password
    ends the user's open browser sessions and clears a sign-in lock."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    problems = password_problems(password)
    if problems:
        raise Invalid.one("password", "; ".join(problems))
    credentials = session.get(Credentials, user_id) or Credentials(user_id=user_id, failures=0)
    if username is not None:
        taken = session.scalars(select(Credentials).where(Credentials.username == username)).first()
        if taken is not None and taken.user_id != user_id:
            raise Invalid.one("username", f"the user name {username} is taken")
        credentials.username = username
    instant = now(session)
    credentials.password_hash = _hasher.hash(password)
    credentials.password_set_at = instant
    credentials.failures = 0
    credentials.locked_until = None
    session.add(credentials)
    _end_sessions(session, user_id, instant)
    record_event(session, actor, AuditAction.ADMIN_PASSWORD_SET, user_id, {"username": credentials.username})
    return credentials


def _end_sessions(session: Session, user_id: uuid.UUID, instant: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=instant)
        .execution_options(synchronize_session=False)
    )


def check_password(session: Session, login: str, password: str) -> Credentials:
    """The first factor. `login` is the user name or the user id. Every failure reads the same to
    the person signing in; the trail tells them apart."""
    login = login.strip()
    credentials = _find(session, login)
    instant = now(session)
    if credentials is None or credentials.password_hash is None:
        reason = "unknown user" if credentials is None else "no password set"
        target = None if credentials is None else str(credentials.user_id)
        raise _wrong(Refusal(AuditAction.AUTH_FAILED, target, {"channel": "web", "reason": reason}))
    if _locked(credentials, instant):
        raise _locked_error(credentials)
    try:
        _hasher.verify(credentials.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise _failure(credentials, "wrong password") from None
    if _hasher.check_needs_rehash(credentials.password_hash):
        credentials.password_hash = _hasher.hash(password)
    return credentials


def _find(session: Session, login: str) -> Credentials | None:
    condition = Credentials.username == login
    with suppress(ValueError):  # not a user id: the user name alone
        condition = or_(condition, Credentials.user_id == uuid.UUID(login))
    return session.scalars(select(Credentials).where(condition)).first()


def _locked(credentials: Credentials, instant: datetime) -> bool:
    return credentials.locked_until is not None and credentials.locked_until > instant


def _wrong(refusal: Refusal) -> Unauthenticated:
    return Unauthenticated("the user name or password is not right", refusal=refusal)


def _locked_error(credentials: Credentials) -> Unauthenticated:
    assert credentials.locked_until is not None
    return SignInLocked(
        credentials.locked_until,
        refusal=Refusal(AuditAction.AUTH_FAILED, str(credentials.user_id), {"channel": "web", "reason": "locked"}),
    )


class SignInLocked(Unauthenticated):
    def __init__(self, until: datetime, *, refusal: Refusal) -> None:
        super().__init__(
            f"this account is locked after {LOCK_AFTER} failed sign-ins in a row; it can sign in again at "
            f"{until.isoformat(timespec='seconds')}",
            refusal=refusal,
        )
        self.until = until


def _failure(credentials: Credentials, reason: str) -> Unauthenticated:
    refusal = Refusal(
        AuditAction.AUTH_FAILED,
        str(credentials.user_id),
        {"channel": "web", "reason": reason},
        aftermath=_count_failure(credentials.user_id),
    )
    if reason == "wrong password":
        return _wrong(refusal)
    return Unauthenticated("the code is not right; codes change every 30 seconds", refusal=refusal)


def _count_failure(user_id: uuid.UUID) -> Callable[[Session], None]:
    def end_sessions(session: Session) -> None:
        _end_sessions(session, user_id, now(session))

    return failure_counter(
        Credentials, Credentials.user_id == user_id, user_id, {"channel": "web"}, on_lock=end_sessions
    )


# --- the second factor -------------------------------------------------------------------------


def sealing_key(signing_key_bytes: bytes) -> bytes:
    """The AES key that seals TOTP secrets, derived from the audit signing key (outside the
    database: a copy of the database alone does not give anyone's second factor)."""
    return hashlib.sha256(b"pars.totp-seal.v1\0" + signing_key_bytes).digest()


def _seal(secret: str, key: bytes) -> str:
    nonce = secrets.token_bytes(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, secret.encode(), b"pars-totp")).decode()


def _unseal(sealed: str, key: bytes) -> str:
    raw = base64.b64decode(sealed)
    return AESGCM(key).decrypt(raw[:12], raw[12:], b"pars-totp").decode()


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an authenticator by hand
    uri: str  # otpauth://, for the QR code


def pending_enrolment(session: Session, credentials: Credentials, key: bytes) -> Enrolment:
    """The authenticator to enrol: the same one on every visit until a code from it is confirmed."""
    if credentials.totp_enrolled_at is not None:
        raise Invalid.one("code", "an authenticator is already enrolled")
    if credentials.totp_sealed is None:
        credentials.totp_sealed = _seal(pyotp.random_base32(), key)
        session.flush()
    secret = _unseal(credentials.totp_sealed, key)
    label = credentials.username or str(credentials.user_id)
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER))


def check_code(session: Session, credentials: Credentials, code: str, key: bytes) -> None:
    """The second factor: a code from the enrolled (or being enrolled) authenticator, each code
    accepted once; one step of clock drift either way is allowed."""
    if _locked(credentials, now(session)):
        raise _locked_error(credentials)
    if credentials.totp_sealed is None:
        raise Invalid.one("code", "no authenticator to check the code against; start the sign-in again")
    totp = pyotp.TOTP(_unseal(credentials.totp_sealed, key))
    instant = now(session)
    code = code.replace(" ", "").strip()
    step = _matching_step(totp, code, instant)
    if step is None or (credentials.totp_last_step is not None and step <= credentials.totp_last_step):
        raise _failure(credentials, "wrong code")
    credentials.totp_last_step = step
    credentials.failures = 0
    credentials.locked_until = None
    if credentials.totp_enrolled_at is None:
        credentials.totp_enrolled_at = instant
        record_event(session, actor_for(credentials.user), AuditAction.AUTH_TOTP_ENROL, credentials.user_id)


def _matching_step(totp: pyotp.TOTP, code: str, instant: datetime) -> int | None:
    if not (code.isdigit() and len(code) == totp.digits):
        return None
    step = int(instant.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


# --- browser sessions ----------------------------------------------------------------------------


def open_session(session: Session, user_id: uuid.UUID, stage: str) -> str:
    """A new browser session at `stage`; returns the cookie's token (only its digest is kept)."""
    token = secrets.token_urlsafe(32)
    instant = now(session)
    session.add(
        WebSession(digest=token_digest(token), user_id=user_id, stage=stage, created_at=instant, last_seen_at=instant)
    )
    session.flush()
    return token


def finish_sign_in(session: Session, pending: WebSession) -> str:
    """The second factor was right: the half-signed-in session ends and a signed-in one starts,
    under a new token (a token seen before the sign-in is never the signed-in one)."""
    instant = now(session)
    pending.ended_at = instant
    token = open_session(session, pending.user_id, STAGE_SIGNED_IN)
    record_event(session, actor_for(pending.user), AuditAction.AUTH_SIGN_IN, pending.user_id, {"channel": "web"})
    return token


class SessionOver(Exception):
    """No usable browser session: never signed in, signed out, or idle too long."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "none", "idle", "ended", "expired"


def resume(session: Session, token: str | None, stage: str) -> WebSession:
    """The browser session behind a cookie, at `stage`; its idle clock restarts."""
    if not token:
        raise SessionOver("none")
    row = session.scalars(select(WebSession).where(WebSession.digest == token_digest(token))).first()
    if row is None or row.stage != stage:
        raise SessionOver("none")
    if row.ended_at is not None:
        raise SessionOver("ended")
    instant = now(session)
    limit = IDLE_LIMIT if stage == STAGE_SIGNED_IN else SECOND_FACTOR_WITHIN
    since = row.last_seen_at if stage == STAGE_SIGNED_IN else row.created_at
    if instant - since > limit:
        row.ended_at = instant
        record_event(session, actor_for(row.user), AuditAction.AUTH_SIGN_OUT, row.user_id, {"reason": "idle"})
        raise SessionOver("idle" if stage == STAGE_SIGNED_IN else "expired")
    row.last_seen_at = instant
    return row


def seconds_left(session: Session, token: str | None) -> int:
    """Seconds until a signed-in session locks for idleness, without restarting its clock: a page
    asks before warning, since another tab of the same browser may have kept the session alive."""
    if not token:
        return 0
    row = session.scalars(select(WebSession).where(WebSession.digest == token_digest(token))).first()
    if row is None or row.stage != STAGE_SIGNED_IN or row.ended_at is not None:
        return 0
    return max(0, int((row.last_seen_at + IDLE_LIMIT - now(session)).total_seconds()))


def sign_out(session: Session, token: str | None) -> None:
    if not token:
        return
    row = session.scalars(select(WebSession).where(WebSession.digest == token_digest(token))).first()
    if row is None or row.ended_at is not None:
        return
    row.ended_at = now(session)
    record_event(session, actor_for(row.user), AuditAction.AUTH_SIGN_OUT, row.user_id, {"reason": "signed out"})
