from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pars.db import Base


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    ori: Mapped[str | None] = mapped_column(String(9))
    kind: Mapped[str] = mapped_column(String(8))  # "city" | "partner"
    stakeholder: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column()
    created_at: Mapped[datetime]

    agency: Mapped[Agency] = relationship(lazy="joined")


class ApiKey(Base):
    """A bearer key, stored only as its SHA-256 digest (see ``auth.keys`` for why not argon2).

    ``key_id`` is the public part of the key (``pars_<key_id>_<secret>``): it names the key a
    wrong secret was tried against, so failures can be counted and the key locked. Keys issued
    before it existed, and an administrator key given as ``PARS_ADMIN_KEY`` in another form,
    have none and are found by digest only.
    """

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    first_used_at: Mapped[datetime | None]
    # Failed attempts in a row since the last success or lock; five lock the key.
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class Credentials(Base):
    """What a person signs in to the web pages with (CJIS 5.6 advanced authentication): a
    password, stored only as its argon2id hash, and a TOTP authenticator, whose shared secret is
    stored sealed (AES-GCM under a key derived from the audit signing key, which lives outside
    the database). ``username`` is an optional name to sign in with besides the user id.

    Failures count towards a lock like an API key's (5 in a row lock sign-in for 10 minutes).
    ``totp_last_step`` is the last time step accepted, so a code can be used only once.
    """

    __tablename__ = "credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_set_at: Mapped[datetime | None]
    totp_sealed: Mapped[str | None] = mapped_column(String(200))
    totp_enrolled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class WebSession(Base):
    """A browser's sign-in. The cookie holds a random token; only its SHA-256 digest is stored.

    ``stage`` is how far the sign-in got: ``password`` (the password was right, the second
    factor is next), then ``signed_in``. A session idle longer than the idle limit is over.
    """

    __tablename__ = "web_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
