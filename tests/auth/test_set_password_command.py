"""`pars users set-password USER_ID` (CONTRACT §1): the password is asked for twice at the
terminal, never taken from the command line, and stored only as its argon2id hash."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pars.auth.models import Credentials, User
from pars.auth.signin import check_password
from pars.cli import app
from pars.clock import SystemClock

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
        session.info["clock"] = SystemClock()
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
