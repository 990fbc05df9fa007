"""`pars audit export`: a period as JSON Lines that an outside auditor verifies offline with the
procedure published in docs/audit.md, which this test runs as written."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.audit import AuditAction, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.commands import export
from pars.audit.models import AuditEntry
from pars.audit.signing import Signer
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.settings import Settings
from pars.work import command_work, unit_of_work
from tests.audit.conftest import CLERK

DOCS = Path(__file__).parents[2] / "docs" / "audit.md"
MARCH_10 = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def _procedure() -> Any:
    """The offline verification snippet from docs/audit.md, loaded as the auditor would run it."""
    text = DOCS.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert code is not None
    namespace: dict[str, Any] = {"__name__": "offline_verification"}
    exec(compile(code.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own published snippet
    return namespace["verify_export"]


@pytest.fixture
def history(db: Engine, checkpoints: Callable[..., CheckpointPolicy]) -> None:
    """Entries of March 9, 10 and 11, recorded out of time order (as the demo does)."""
    factory, policy = make_session_factory(db), checkpoints(entries=4)
    days = [0, 1, 2, 1, 0, 1, 2, 1, 1, 2, 0, 1, 2, 2, 2, 2, 2]
    for index, offset in enumerate(days):
        with unit_of_work(factory, FrozenClock(MARCH_10 + timedelta(days=offset - 1)), policy=policy) as session:
            record_event(session, CLERK, AuditAction.ARREST_READ, uuid.uuid4(), {"i": index, "day": 9 + offset})


def _export(
    settings: Settings, clock: FrozenClock, path: Path, start: str = "2026-03-10", end: str = "2026-03-10"
) -> int:
    return export(settings, Console(quiet=True), work=command_work, start=start, end=end, out=path, clock=clock)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_export_verifies_offline(
    history: None, settings: Settings, clock: FrozenClock, signer: Signer, tmp_path: Path
) -> None:
    path = tmp_path / "march10.jsonl"
    assert _export(settings, clock, path) == 0
    records = _lines(path)
    header, anchor = records[0], records[1]
    assert header["type"] == "pars.audit.export" and header["encoding"] == "pars-audit-v1"
    assert header["period"] == {"from": "2026-03-10T04:00:00.000000Z", "to": "2026-03-11T04:00:00.000000Z"}
    entries = [r for r in records if r["type"] == "entry"]
    assert [e["seq"] for e in entries] == list(range(header["first_seq"], header["through_seq"] + 1))
    assert anchor == {"type": "anchor", "seq": header["first_seq"] - 1, "hash": entries[0]["prev_hash"]}
    in_period = [e for e in entries if e["in_period"]]
    assert sorted(e["details"]["i"] for e in in_period) == [1, 3, 5, 7, 8, 11]
    assert {e["details"]["day"] for e in entries if not e["in_period"]} <= {9, 11}
    assert any(r["type"] == "checkpoint" and r["size"] >= header["last_seq"] for r in records)
    assert _procedure()(str(path), signer.public_key) == []


@pytest.mark.parametrize("kind", ["altered", "removed", "forged"])
def test_the_offline_procedure_catches_a_tampered_export(
    history: None, settings: Settings, clock: FrozenClock, signer: Signer, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "export.jsonl"
    _export(settings, clock, path)
    lines = _lines(path)
    index = [i for i, line in enumerate(lines) if line["type"] == "entry"][1]
    seq = lines[index]["seq"]
    if kind == "altered":
        lines[index] = {**lines[index], "details": {"i": 99}}
        expected = f"entry {seq} was altered"
    elif kind == "removed":
        del lines[index]
        expected = f"entry {seq} is missing"
    else:
        lines[-1] = {**lines[-1], "signature": "00" * 64}
        expected = f"checkpoint {lines[-1]['size']} is not signed by the trusted key"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    assert expected in _procedure()(str(path), signer.public_key)


def test_another_public_key_is_not_trusted(
    history: None, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    _export(settings, clock, path)
    found = _procedure()(str(path), "ab" * 32)
    assert found and all("not signed by the trusted key" in p or "no signed checkpoint" in p for p in found)


def test_an_empty_period_has_only_a_header(
    history: None, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "empty.jsonl"
    assert _export(settings, clock, path, start="2025-01-01", end="2025-01-31") == 0
    (header,) = _lines(path)
    assert header["first_seq"] is None and header["through_seq"] is None


def test_the_export_is_itself_audited_and_bad_dates_are_refused(
    history: None, settings: Settings, clock: FrozenClock, tmp_path: Path, session: Session
) -> None:
    _export(settings, clock, tmp_path / "x.jsonl", start="2026-03-10T00:00:00+00:00", end="2026-03-12")
    (entry,) = [e for e in _audit(session) if e[0] == "audit.export"]
    assert entry[1] == {"from": "2026-03-10T00:00:00+00:00", "to": "2026-03-12", "via": "cli"}
    assert _export(settings, clock, tmp_path / "y.jsonl", start="March", end="2026-03-12") == 2


def _audit(session: Session) -> list[tuple[str, dict[str, Any]]]:
    session.expire_all()
    return [(e.action, e.details) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
