"""The stored answers of requests sent with an `Idempotency-Key` (CONTRACT §3)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pars.db import Base


class IdempotencyKey(Base):
    """One key of one user. The key itself is not stored: ``key_hash`` finds the row, and the
    answer is sealed with a key derived from the client's key (`pars.api.idempotency`), so the
    table alone reveals neither the records nor the API keys that answers may carry.

    The row is inserted (claiming the key) and completed with the answer in the transaction of
    the change itself: a committed row always has its answer."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[int | None]
    media_type: Mapped[str | None] = mapped_column(String(100))
    answer: Mapped[bytes | None] = mapped_column(LargeBinary)
