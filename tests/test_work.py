"""The unit of work (`pars.work`): the one place that commits, and what it hands every session
(clock, checkpoint policy with its signer, actor) with no silent default."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.actors import CityActor
from pars.audit import Outcome, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.auth.schemas import AgencyIn
from pars.auth.service import create_agency
from pars.clock import FrozenClock, now
from pars.db import make_session_factory
from pars.errors import Forbidden, OutsideUnitOfWork, Refusal
from pars.permissions import Role
from pars.sharing.keyed import Domain, hasher
from pars.work import Keep, bind, refuse, unit_of_work

SRC = Path(__file__).parents[1] / "src" / "pars"

# Modules that may end a transaction themselves, each with the reason. Empty: the idempotency
# middleware commits through `pars.work.HandedOver`, the idle session's end is committed by the
# request's unit of work (`pars.work.Keep`), the audit verifier and exports only read.
MAY_COMMIT: dict[str, str] = {}

CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))


def _ends_a_transaction(path: Path) -> list[int]:
    """Lines calling ``.commit()`` or ``.rollback()`` on anything (a session, a connection)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"commit", "rollback"}
    ]


def test_only_the_unit_of_work_commits_or_rolls_back() -> None:
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "work.py" or path.parent != SRC
        if (lines := _ends_a_transaction(path))
    }
    assert {name: lines for name, lines in found.items() if name not in MAY_COMMIT} == {}
    # The check sees what it is looking for (a copy of the boundary itself is found).
    assert _ends_a_transaction(SRC / "work.py")


def _refused(reason: str) -> Forbidden:
    return Forbidden("no", refusal=Refusal(AuditAction.AUTH_DENIED, None, {"reason": reason}))


def _trail(session: Session, reason: str) -> list[tuple[str, str]]:
    session.expire_all()
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    return [(e.action, e.outcome) for e in entries if e.details.get("reason") == reason]


def test_a_refusal_rolls_the_act_back_and_is_on_the_trail(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy, session: Session
) -> None:
    def act() -> None:
        with unit_of_work(make_session_factory(db), clock, policy=policy, actor=CLERK) as work:
            create_agency(work, CLERK, AgencyIn(code="ZZA", name="gone", kind="partner"))
            raise _refused("raised")

    with pytest.raises(Forbidden):
        act()
    assert session.scalars(select(Agency).where(Agency.code == "ZZA")).first() is None
    assert _trail(session, "raised") == [("auth.denied", Outcome.REFUSED)]


def test_a_refusal_answered_by_the_caller_is_kept_even_when_the_rest_fails(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy, session: Session
) -> None:
    """A page shows its form again (`refuse`) and goes on; if what follows fails, the refusal is
    still written, and neither the refused act nor what followed it stays."""

    def act() -> None:
        with unit_of_work(make_session_factory(db), clock, policy=policy, actor=CLERK) as work:
            create_agency(work, CLERK, AgencyIn(code="ZZB", name="refused", kind="partner"))
            refuse(work, _refused("answered"))
            create_agency(work, CLERK, AgencyIn(code="ZZC", name="after", kind="partner"))
            raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError, match="rendering failed"):
        act()
    codes = set(session.scalars(select(Agency.code).where(Agency.code.in_(["ZZB", "ZZC"]))))
    assert codes == set()
    assert _trail(session, "answered") == [("auth.denied", Outcome.REFUSED)]


def test_keep_commits_what_was_done_and_lets_the_exception_through(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy, session: Session
) -> None:
    class Over(Keep):
        pass

    def act() -> None:
        with unit_of_work(make_session_factory(db), clock, policy=policy) as work:
            record_event(work, CLERK, AuditAction.AUTH_SIGN_OUT, None, {"reason": "kept"})
            raise Over

    with pytest.raises(Over):
        act()
    assert _trail(session, "kept") == [("auth.sign_out", Outcome.OK)]


def test_a_session_without_a_clock_fails_loudly(db: Engine) -> None:
    with make_session_factory(db)() as bare, pytest.raises(OutsideUnitOfWork, match="no clock"):
        now(bare)


def test_a_session_without_the_signer_cannot_hash_a_subject(db: Engine, clock: FrozenClock) -> None:
    """The search subject is never silently left out: no signer is a bug that stops the search."""
    with make_session_factory(db)() as unsigned:
        bind(unsigned, clock, policy=None)
        with pytest.raises(OutsideUnitOfWork, match="checkpoint policy"):
            hasher(unsigned, Domain.SEARCH_SUBJECT)
