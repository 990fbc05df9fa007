"""The `pars` command (CONTRACT §1)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from pars import worker as worker_module
from pars.audit import commands as audit_commands
from pars.audit.signing import AuditKeyError
from pars.auth.bootstrap import bootstrap
from pars.auth.commands import users_app
from pars.clock import SystemClock
from pars.db import DatabaseWait, command_engine, missed_deadline
from pars.feed import bus as nats_bus
from pars.migrate import upgrade
from pars.oversight.commands import oversight_app, report_app, run_scan
from pars.settings import PrivateTargets, Settings, lease_floor, parse_duration
from pars.terminal import console, err, settings_or_exit
from pars.work import command_work

# The exit status of a command that ran past a database deadline or could not reach the
# database (EX_TEMPFAIL): what it was doing was rolled back; running it again is safe.
EXIT_DATABASE_BUSY = 75


def database_problem(exc: OperationalError, settings: Settings) -> str:
    """What to tell the operator; never the statement or its values, only which wait ran out."""
    match missed_deadline(exc):
        case DatabaseWait.LOCK:
            return (f"The database is busy: another connection holds a lock this command needs, and it was not "
                    f"released within PARS_DATABASE_COMMAND_LOCK_TIMEOUT={settings.database_command_lock_timeout:g}s. "
                    f"What the command was doing was rolled back; run it again once the lock is released.")  # fmt: skip
        case DatabaseWait.STATEMENT:
            return (f"A database statement ran past PARS_DATABASE_COMMAND_STATEMENT_TIMEOUT="
                    f"{settings.database_command_statement_timeout:g}s and was cancelled. What the command was "
                    f"doing was rolled back; raise the setting for this run if the work is that long.")  # fmt: skip
        case None:
            cause = getattr(exc, "orig", None) or exc
            name = type(cause).__name__
            return f"The database could not be used ({name}): is PARS_DATABASE_URL right and the server up?"


class _Pars(typer.Typer):
    """`pars`: a database that is busy or unreachable ends a command with a message saying so
    and exit status 75, not a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except OperationalError as exc:
            err.print(f"[red]{database_problem(exc, settings_or_exit())}[/red]", highlight=False)
            raise SystemExit(EXIT_DATABASE_BUSY) from None


app = _Pars(help="PARS: Preliminary Arraignment Reporting System.", no_args_is_help=True)


def initialise(settings: Settings, engine: Engine) -> str | None:
    """Migrates to the newest schema, makes sure the audit signing key exists (mode 0600), and
    bootstraps a new database; returns a new admin key."""
    upgrade(engine)
    try:
        if audit_commands.prepare_key(settings, engine):
            console.print(f"Created the audit signing key {settings.audit_key_file} (mode 0600).")
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    with command_work(settings, engine, SystemClock()) as session:
        return bootstrap(session, admin_key=settings.admin_key)


def _is_new(engine: Engine) -> bool:
    return not inspect(engine).has_table("agencies")


@app.command()
def init() -> None:
    """Create or upgrade the database; on a new one, create the administrator and print its key once."""
    settings = settings_or_exit()
    engine = command_engine(settings)
    key = initialise(settings, engine)
    if key is None:
        console.print("Database is up to date.")
    elif settings.admin_key:
        console.print("Database created; the administrator's key is PARS_ADMIN_KEY.")
    else:
        console.print("Database created. The administrator's API key (shown only now):")
        console.print(key, soft_wrap=True, highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="do not run the background worker here")] = False,
) -> None:
    """Serve the HTTP API and the documentation at /docs."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from pars.app import create_app  # noqa: PLC0415 - keeps `pars --help` fast

    settings = settings_or_exit()
    engine = command_engine(settings)
    if _is_new(engine):
        key = initialise(settings, engine)
        if key and not settings.admin_key:
            console.print(f"New database. The administrator's API key (shown only now): {key}", highlight=False)
    engine.dispose()
    try:
        application = create_app(settings)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if not no_worker:
        worker_module.attach(application, settings)
    # With PARS_NATS_URL: commits here wake other nodes, and other nodes' commits wake this one.
    nats_bus.attach(application, settings, wake_worker=not no_worker)
    console.print(f"PARS on http://{host}:{port}  (sign in there; API documentation: http://{host}:{port}/docs)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def worker(
    lease: Annotated[
        str | None,
        typer.Option(help="how long a claimed delivery stays this worker's, e.g. 60s (PARS_WEBHOOK_LEASE_SECONDS)"),
    ] = None,
    poll: Annotated[float, typer.Option(help="seconds between looks at the database when nothing wakes it")] = 1.0,
) -> None:
    """Run only the background worker (feed delivery); any number may run against one PostgreSQL."""
    settings = settings_or_exit()
    lease_time: timedelta | None = None
    if lease is not None:
        try:
            lease_time = parse_duration(lease)
        except ValueError as exc:
            err.print(f"[red]--lease: {exc}[/red]")
            raise typer.Exit(2) from exc
        floor = lease_floor(settings.webhook_deadline_seconds)
        if lease_time.total_seconds() < floor:
            err.print(f"[red]--lease must be at least {floor:g}s: a lease must outlive every attempt "
                      f"(PARS_WEBHOOK_DEADLINE_SECONDS={settings.webhook_deadline_seconds:g})[/red]")  # fmt: skip
            raise typer.Exit(2)
    engine = command_engine(settings)
    if _is_new(engine):
        initialise(settings, engine)
    engine.dispose()
    worker_module.run_in_foreground(settings, lease=lease_time, poll=poll)


@app.command()
def demo(
    arrests: Annotated[int, typer.Option(help="how many arrests to create", min=0)] = 500,
    keys_file: Annotated[Path, typer.Option("--keys-file", help="where to write the demo users' keys")] = Path(
        "demo-keys.json"
    ),
    seed: Annotated[int, typer.Option(help="random seed; the same seed builds the same world")] = 2018,
    receiver: Annotated[
        bool, typer.Option("--receiver", help="then run a webhook receiver that prints the partners' events")
    ] = False,
    port: Annotated[int, typer.Option(help="the receiver's port on 127.0.0.1 (demo subscriptions point there)")] = 9000,
) -> None:
    """Fill the database with the demonstration world and write demo-keys.json."""
    from pars.demo.receiver import run_receiver  # noqa: PLC0415 - the demo is not needed to serve
    from pars.demo.world import build_world  # noqa: PLC0415 - the demo is not needed to serve

    settings = settings_or_exit()
    engine = command_engine(settings)
    initialise(settings, engine)
    build_world(settings, engine, arrests=arrests, keys_file=keys_file, seed=seed, console=console, receiver_port=port)
    result = run_scan(settings, engine)  # so the demo's alerts are there from the start
    console.print(f"Misuse detectors: {result.raised} alerts raised over the demo's history.")
    audit_commands.seal(settings, engine, work=command_work)  # a signed checkpoint over the history just written
    if receiver:
        if settings.webhook_private_targets == PrivateTargets.DENY:
            console.print("The receiver is on 127.0.0.1: serve with PARS_WEBHOOK_PRIVATE_TARGETS=loopback to reach it.")
        run_receiver(settings, engine, port=port, console=console)


audit_app = typer.Typer(
    help="The audit trail: verify it, export a period for an outside auditor.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(oversight_app, name="oversight")
app.add_typer(report_app, name="report")
app.add_typer(users_app, name="users")


@audit_app.command("verify")
def audit_verify(
    public_key: Annotated[
        str | None, typer.Option(help="trust this public key (hex) instead of the key file's, e.g. a published one")
    ] = None,
) -> None:
    """Recompute the whole chain and check every checkpoint; exit 1 naming the first bad entry."""
    settings = settings_or_exit()
    try:
        status = audit_commands.verify(settings, console, work=command_work, public_key=public_key)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    raise typer.Exit(status)


@audit_app.command("export")
def audit_export(
    start: Annotated[str, typer.Option("--from", help="first day (YYYY-MM-DD, city time) or an instant with offset")],
    end: Annotated[str, typer.Option("--to", help="last day, inclusive, or an instant (exclusive)")],
    out: Annotated[Path | None, typer.Option("--out", help="the JSON Lines file to write")] = None,
) -> None:
    """Write a period of the trail as JSON Lines, with its hashes and signed checkpoints."""
    settings = settings_or_exit()
    try:
        status = audit_commands.export(settings, console, work=command_work, start=start, end=end, out=out)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    raise typer.Exit(status)


if __name__ == "__main__":
    app()
