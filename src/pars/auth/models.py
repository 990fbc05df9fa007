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
