"""The commands (CONTRACT §1): `pars init` makes the signing key, `pars audit verify` exits 0 on
an intact trail and 1 naming the first bad entry; a missing or unsafe key stops the start-up."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from pars.app import create_app
from pars.audit.signing import AuditKeyError, Signer, create_key_file
from pars.cli import app
from pars.settings import Settings
from tests.audit.conftest import tampering

runner = CliRunner()


def _env(url: str, key: Path) -> dict[str, str | None]:
    # None: unset, so a PARS_ADMIN_KEY in the developer's environment does not leak in.
    return {"PARS_DATABASE_URL": url, "PARS_AUDIT_KEY_FILE": str(key), "PARS_ADMIN_KEY": None}


def test_init_creates_a_private_key_and_a_first_checkpoint(tmp_path: Path) -> None:
    url, key = f"sqlite:///{tmp_path / 'pars.db'}", tmp_path / "keys" / "pars-audit.key"
    result = runner.invoke(app, ["init"], env=_env(url, key))
    assert result.exit_code == 0, result.output
    assert "Created the audit signing key" in result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = runner.invoke(app, ["init"], env=_env(url, key))
    assert again.exit_code == 0 and "Created" not in again.output
    verified = runner.invoke(app, ["audit", "verify"], env=_env(url, key))
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output and "1 signed checkpoints" in verified.output


def test_init_refuses_a_key_others_can_read(tmp_path: Path) -> None:
    url, key = f"sqlite:///{tmp_path / 'pars.db'}", tmp_path / "pars-audit.key"
    create_key_file(key)
    key.chmod(0o644)
    result = runner.invoke(app, ["init"], env=_env(url, key))
    assert result.exit_code == 2
    assert "readable by other accounts" in result.output


def test_init_refuses_a_new_key_for_a_trail_signed_by_another(tmp_path: Path) -> None:
    url, key = f"sqlite:///{tmp_path / 'pars.db'}", tmp_path / "pars-audit.key"
    assert runner.invoke(app, ["init"], env=_env(url, key)).exit_code == 0
    key.unlink()
    result = runner.invoke(app, ["init"], env=_env(url, key))
    assert result.exit_code == 2 and "restore that key file" in result.output
    assert not key.exists()


def test_the_app_does_not_start_without_its_key(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="does not exist"):
        create_app(Settings(database_url=database_url, audit_key_file=tmp_path / "missing.key"))


def test_verify_exits_1_and_names_the_altered_entry(db: Engine, database_url: str, audit_key_file: Path) -> None:
    env = _env(database_url, audit_key_file)
    assert runner.invoke(app, ["audit", "verify"], env=env).exit_code == 0
    with tampering(db) as conn:
        conn.execute(text("UPDATE audit_entries SET details = '{\"x\": 1}' WHERE seq = 2"))
    result = runner.invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 1
    assert "First bad entry: seq 2." in result.output
    assert "entry 2: altered" in result.output


def test_verify_against_a_published_public_key(
    db: Engine, database_url: str, audit_key_file: Path, signer: Signer
) -> None:
    env = _env(database_url, audit_key_file)
    trusted = runner.invoke(app, ["audit", "verify", "--public-key", signer.public_key], env=env)
    assert trusted.exit_code == 0, trusted.output
    other = runner.invoke(app, ["audit", "verify", "--public-key", "ab" * 32], env=env)
    assert other.exit_code == 1 and "not by the trusted key" in other.output
