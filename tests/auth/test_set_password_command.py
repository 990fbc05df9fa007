"""`pars users set-password USER_ID` (CONTRACT §1): the password is asked for twice at the
terminal, never taken from the command line, and stored only as its argon2id hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pars.actions import AuditAction
from pars.audit.models import AuditEntry
from pars.auth import commands as auth_commands
from pars.auth.models import Credentials, User
from pars.auth.signin import check_password, set_password
from pars.cli import app
from pars.clock import SystemClock
from pars.errors import Forbidden, Refusal
from pars.work import bind

runner = CliRunner()


def _env(tmp_path: Path) -> dict[str, str | None]:
    return {
        "PARS_DATABASE_URL": f"sqlite:///{tmp_path / 'pars.db'}",
        "PARS_AUDIT_KEY_FILE": str(tmp_path / "pars-audit.key"),
        "PARS_ADMIN_KEY": None,
    }


def _admin_id(tmp_path: Path) -> str:
    with Session(create_engine(f"sqlite:///{tmp_path / 'pars.db'}")) as session:
        return str(session.scalars(select(User.id)).one())


def test_set_password_asks_twice_and_stores_a_hash(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    user_id = _admin_id(tmp_path)
    password = "a long enough passphrase"
    result = runner.invoke(
        app, ["users", "set-password", user_id, "--username", "admin"], input=f"{password}\n{password}\n", env=env
    )
    assert result.exit_code == 0, result.output
    assert "Password set for" in result.output
    assert password not in result.output  # hidden input, never echoed
    with Session(create_engine(env["PARS_DATABASE_URL"] or "")) as session:
        stored = session.scalars(select(Credentials)).one()
        assert stored.username == "admin"
        assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
        bind(session, SystemClock(), policy=None)  # it only reads
        assert check_password(session, "admin", password).user_id == stored.user_id


def test_set_password_refuses_a_short_password_and_changes_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    result = runner.invoke(app, ["users", "set-password", _admin_id(tmp_path)], input="short\nshort\n", env=env)
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    with Session(create_engine(env["PARS_DATABASE_URL"] or "")) as session:
        assert session.scalars(select(Credentials)).all() == []


def test_set_password_needs_a_user_id(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    result = runner.invoke(app, ["users", "set-password", "ppd.booking"], input="x\nx\n", env=env)
    assert result.exit_code == 2 and "is not a user id" in result.output
    unknown = runner.invoke(
        app,
        ["users", "set-password", "00000000-0000-0000-0000-000000000000"],
        input="a long enough passphrase\na long enough passphrase\n",
        env=env,
    )
    assert unknown.exit_code == 1 and "no such user" in unknown.output


def test_a_refused_command_is_on_the_audit_trail_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command's unit of work is the API's: a refusal rolls the act back and is audited in its
    own transaction (the commands once used a unit of work that dropped refusals). No command
    refuses today, so the service is made to: it sets the password, then refuses."""
    env = _env(tmp_path)
    assert runner.invoke(app, ["init"], env=env).exit_code == 0

    def refusing(session: Session, *args: Any, **kwargs: Any) -> Credentials:
        set_password(session, *args, **kwargs)
        raise Forbidden("not now", refusal=Refusal(AuditAction.AUTH_DENIED, None, {"channel": "cli"}))

    monkeypatch.setattr(auth_commands, "set_password", refusing)
    password = "a long enough passphrase"
    result = runner.invoke(
        app, ["users", "set-password", _admin_id(tmp_path)], input=f"{password}\n{password}\n", env=env
    )
    assert result.exit_code == 1 and "not now" in result.output
    with Session(create_engine(env["PARS_DATABASE_URL"] or "")) as session:
        assert session.scalars(select(Credentials)).all() == []
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last is not None
        assert (last.action, last.outcome, last.details) == ("auth.denied", "refused", {"channel": "cli"})
        assert last.actor_id is None  # the command acts as the system
