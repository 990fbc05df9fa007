"""Domain errors. Services raise these; one exception handler turns them into problem+json.

An error may carry a *refusal*: the audit entry to write after the failed transaction rolled back
(CONTRACT §3: a failed request changes nothing, but its refusal is audited).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Only for annotations: the audit package imports these errors, so importing it here at
    # run time would be a cycle.
    from sqlalchemy.orm import Session

    from pars.actions import AuditAction


class OutsideUnitOfWork(RuntimeError):
    """A session used without what its unit of work gives it (``pars.work``): the clock, the
    audit checkpoint policy and its signer, or the actor. A bug in the caller, never a default."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"this session has no {what}: open it with pars.work.unit_of_work (or pars.work.bind), "
            f"which is given the clock, the audit checkpoint policy and the actor"
        )


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class Refusal:
    action: AuditAction
    target: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # What the refusal itself must change, written with its entry after the rollback: a failed
    # sign-in counts towards locking the key even though the request changed nothing else.
    aftermath: Callable[[Session], None] | None = None


class DomainError(Exception):
    """``members`` are extra members of the problem body (RFC 9457 extensions), for a client to
    act on, such as ``{"reason": "ambiguous", "persons": 3}``. They are shown to the caller as
    they are: only public values, never protected data (a name, a date of birth, a key)."""

    status: int = 500
    title: str = "Internal error"

    def __init__(
        self, detail: str, *, refusal: Refusal | None = None, members: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.refusal = refusal
        self.members: dict[str, Any] = dict(members or {})


class BadRequest(DomainError):
    status, title = 400, "Bad request"


class Unauthenticated(DomainError):
    status, title = 401, "Not authenticated"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class InvalidTransition(Conflict):
    title = "Step not allowed in this state"


class Invalid(DomainError):
    status, title = 422, "Invalid input"

    def __init__(self, errors: list[FieldError], *, refusal: Refusal | None = None) -> None:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(detail, refusal=refusal)
        self.errors = errors

    @classmethod
    def one(cls, field_name: str, message: str) -> Invalid:
        return cls([FieldError(field_name, message)])


class TooManyRequests(DomainError):
    status, title = 429, "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, refusal: Refusal | None = None) -> None:
        super().__init__(detail, refusal=refusal)
        self.retry_after = retry_after
