"""What `pars audit …` and `pars init` do for the trail; ``pars.cli`` only declares the commands.

Verification and export read through an engine that takes no write lock on SQLite (a plain
``BEGIN IMMEDIATE``-free connection), so a long verification never stalls requests; their own
audit entries are written afterwards, in a short unit of work of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.actors import SYSTEM
from pars.audit.chain import request_checkpoint
from pars.audit.export import export_period
from pars.audit.models import AuditCheckpoint
from pars.audit.periods import parse_bound
from pars.audit.service import record_event
from pars.audit.signing import AuditKeyError, create_key_file, key_id_of, load_signer
from pars.audit.verify import Verification, verify_trail
from pars.clock import Clock, SystemClock
from pars.db import command_engine
from pars.errors import Invalid
from pars.settings import Settings

# A trail this long gets a progress bar.
PROGRESS_FROM = 20_000


def prepare_key(settings: Settings, engine: Engine) -> bool:
    """`pars init`: creates the signing key when there is none (True when it did) and checks
    that the one there is private. Refuses to make a new key for a trail whose checkpoints an
    earlier key signed: they could never be verified again, so the old key must be restored."""
    path = settings.audit_key_file
    if not path.exists():
        with Session(engine) as session:
            signed_by = session.scalar(select(AuditCheckpoint.key_id).limit(1))
        if signed_by is not None:
            raise AuditKeyError(
                f"the audit signing key {path} is missing, and this trail's checkpoints were signed by key "
                f"{signed_by}: restore that key file (PARS does not rotate keys)"
            )
    created = create_key_file(path)
    load_signer(path)
    return created


# A command's unit of work (`pars.work.command_work`), handed in by the caller: this package sits
# below the unit of work, which writes its entries.
CommandWork = Callable[[Settings, Engine, Clock], AbstractContextManager[Session]]


def seal(settings: Settings, engine: Engine, *, work: CommandWork, clock: Clock | None = None) -> None:
    """Signs a checkpoint over the whole trail now (after the demo wrote its history)."""
    with work(settings, engine, clock or SystemClock()) as session:
        request_checkpoint(session)


def _reader(settings: Settings) -> Engine:
    # pysqlite's own transaction handling opens no transaction for a SELECT, so the reads take
    # no lock; each statement still sees one consistent snapshot (WAL), which is all that
    # verification needs (see audit.verify).
    if settings.is_sqlite:
        return create_engine(settings.database_url)
    return command_engine(settings)


class _Progress:
    """A Rich progress bar that appears only once the work turns out to be large."""

    def __init__(self, console: Console, label: str) -> None:
        self.bar = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console, transient=True
        )
        self.task = self.bar.add_task(label, total=None)
        self.started = False

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_: object) -> None:
        if self.started:
            self.bar.stop()

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        if not self.started:
            self.bar.start()
            self.started = True
        self.bar.update(self.task, completed=done, total=total)


def verify(
    settings: Settings,
    console: Console,
    *,
    work: CommandWork,
    public_key: str | None = None,
    clock: Clock | None = None,
) -> int:
    """The exit status: 0 when the trail is intact, 1 when anything is wrong."""
    trusted = public_key or load_signer(settings.audit_key_file).public_key
    reader = _reader(settings)
    try:
        with Session(reader) as session, _Progress(console, "Verifying the audit trail") as progress:
            result = verify_trail(session, public_key=trusted, on_progress=progress)
    finally:
        reader.dispose()
    details = {"ok": result.ok, "entries": result.entries, "first_bad_seq": result.first_bad_seq, "via": "cli"}
    _record(settings, work, AuditAction.AUDIT_VERIFY, details, clock or SystemClock())
    _report(console, result, trusted)
    return 0 if result.ok else 1


def _report(console: Console, result: Verification, public_key: str) -> None:
    if result.ok:
        console.print(
            f"[green]The audit trail is intact:[/green] {result.entries} entries, {result.checkpoints} signed "
            f"checkpoints (key {key_id_of(public_key)}).",
            soft_wrap=True,
        )
        return
    console.print(f"[red]The audit trail is NOT intact.[/red] {result.entries} entries checked.")
    if result.first_bad_seq is not None:
        console.print(f"First bad entry: seq {result.first_bad_seq}.")
    for problem in result.problems:
        where = f"entry {problem.seq}" if problem.seq is not None else f"checkpoint {problem.checkpoint}"
        console.print(f"  {where}: {problem.reason}", highlight=False)
    if result.more_problems:
        console.print(f"  … and {result.more_problems} more.")


def export(
    settings: Settings,
    console: Console,
    *,
    work: CommandWork,
    start: str,
    end: str,
    out: Path | None,
    clock: Clock | None = None,
) -> int:
    clock = clock or SystemClock()
    try:
        period_start = parse_bound(start, zone=settings.zone, field="--from", end=False)
        period_end = parse_bound(end, zone=settings.zone, field="--to", end=True)
    except Invalid as exc:
        console.print(f"[red]{exc.detail}[/red]")
        return 2
    signer = load_signer(settings.audit_key_file)
    # The export is itself on the trail, and a checkpoint signed now covers everything exported.
    engine = command_engine(settings)
    try:
        with work(settings, engine, clock) as session:
            record_event(session, SYSTEM, AuditAction.AUDIT_EXPORT, None, {"from": start, "to": end, "via": "cli"})
            request_checkpoint(session)
    finally:
        engine.dispose()
    last_day = period_end - timedelta(microseconds=1)
    path = out or Path(f"pars-audit-{_stamp(period_start, settings)}-{_stamp(last_day, settings)}.jsonl")
    reader = _reader(settings)
    try:
        with (
            Session(reader) as session,
            path.open("w", encoding="utf-8") as handle,
            _Progress(console, "Exporting") as progress,
        ):
            summary = export_period(
                session, handle, start=period_start, end=period_end, public_key=signer.public_key,
                exported_at=clock.now(), on_progress=progress,
            )  # fmt: skip
    finally:
        reader.dispose()
    if summary.first_seq is None:
        console.print(f"No audit entries in that period; {path} holds only the header.")
    else:
        console.print(
            f"Wrote {path}: entries {summary.first_seq} to {summary.through_seq} ({summary.entries} lines, "
            f"period entries {summary.first_seq} to {summary.last_seq}) and {summary.checkpoints} signed checkpoints."
        )
    return 0


def _stamp(instant: datetime, settings: Settings) -> str:
    return instant.astimezone(settings.zone).strftime("%Y%m%d")


def _record(settings: Settings, work: CommandWork, action: AuditAction, details: dict[str, Any], clock: Clock) -> None:
    engine = command_engine(settings)
    try:
        with work(settings, engine, clock) as session:
            record_event(session, SYSTEM, action, None, details)
    finally:
        engine.dispose()
