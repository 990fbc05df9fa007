"""`pars oversight scan`, `pars report transparency` (CONTRACT §1) and `pars report annual`, as Typer sub-apps that
`pars.cli` mounts; and ``run_scan``, which `pars demo` calls so alerts exist when it ends."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, inspect

from pars.actors import SYSTEM
from pars.audit import AuditAction, record_event
from pars.audit.chain import checkpoint_policy
from pars.audit.signing import AuditKeyError
from pars.clock import Clock, SystemClock
from pars.db import command_engine, make_session_factory
from pars.errors import DomainError
from pars.oversight.reports import annual
from pars.oversight.reports import service as reports
from pars.oversight.reports.annual_render import PdfUnavailable, to_html, write_pdf
from pars.oversight.reports.service import ReportFormat
from pars.oversight.scan import ScanResult, rebuild, scan
from pars.settings import Settings
from pars.terminal import console, err, settings_or_exit
from pars.work import command_work

oversight_app = typer.Typer(help="Misuse detection over the audit trail.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for oversight bodies and the public.", no_args_is_help=True)


def _engine(settings: Settings) -> Engine:
    engine = command_engine(settings)
    if not inspect(engine).has_table("oversight_cursor"):
        err.print("[red]The database is not initialised or not upgraded: run `pars init` first.[/red]")
        raise typer.Exit(2)
    return engine


def run_scan(settings: Settings, engine: Engine, *, clock: Clock | None = None, from_start: bool = False) -> ScanResult:
    """Every entry not yet scanned, in batches; with ``from_start``, the whole trail again."""
    clock = clock or SystemClock()
    if from_start:
        with command_work(settings, engine, clock) as session:
            rebuild(session)
    result = scan(make_session_factory(engine), clock, settings, policy=checkpoint_policy(settings))
    with command_work(settings, engine, clock) as session:
        details = {"entries": result.entries, "queries": result.queries, "raised": result.raised,
                   "updated": result.updated, "through_seq": result.through, "from_start": from_start}  # fmt: skip
        record_event(session, SYSTEM, AuditAction.OVERSIGHT_SCAN, None, details)
    return result


@oversight_app.command("scan")
def scan_command(
    from_start: Annotated[
        bool, typer.Option("--rebuild", help="forget the tallies and scan the whole trail again (after new thresholds)")
    ] = False,
) -> None:
    """Run the misuse detectors over the audit entries not yet scanned."""
    settings = settings_or_exit()
    engine = _engine(settings)
    try:
        result = run_scan(settings, engine, from_start=from_start)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    if result.busy:
        console.print("Another scanner is running; it will cover the new entries.")
    console.print(
        f"Scanned {result.entries} entries ({result.queries} queries) through seq {result.through}: "
        f"{result.raised} alerts raised, {result.updated} updated."
    )


@report_app.command("transparency")
def transparency_command(
    start: Annotated[str, typer.Option("--from", help="first day (YYYY-MM-DD, city time) or an instant with offset")],
    end: Annotated[str, typer.Option("--to", help="last day, inclusive, or an instant (exclusive)")],
    form: Annotated[ReportFormat, typer.Option("--format", help="html, csv or json")] = ReportFormat.JSON,
    out: Annotated[Path | None, typer.Option("--out", help="the file to write (default: standard output)")] = None,
) -> None:
    """Write the transparency report for a period (CONTRACT §10)."""
    settings = settings_or_exit()
    engine = _engine(settings)
    try:
        with command_work(settings, engine, SystemClock()) as session:
            report, text = reports.transparency(session, SYSTEM, start=start, end=end, zone=settings.zone, form=form)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    content = text if text is not None else json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(content)
        return
    out.write_text(content, encoding="utf-8")
    err.print(f"Wrote the transparency report for {start} to {end} to {out}.")


@report_app.command("annual")
def annual_command(
    year: Annotated[int, typer.Option("--year", help="the calendar year, city time (the current one: so far)")],
    out: Annotated[Path, typer.Option("--out", help="the file to write: report.pdf or report.html")],
) -> None:
    """Write the annual report for the city council (agreements, sharing, violations, complaints,
    disparate impact), small numbers suppressed as on the public page."""
    form = out.suffix.lower()
    if form not in (".pdf", ".html", ".htm"):
        err.print(f"[red]--out must name a .pdf or an .html file, not {out}.[/red]")
        raise typer.Exit(2)
    if (
        out.is_dir()
        or not out.parent.is_dir()
        or not os.access(out.parent, os.W_OK)
        or (out.exists() and not os.access(out, os.W_OK))
    ):
        err.print(f"[red]Cannot write {out}: its folder must exist and be writable.[/red]")
        raise typer.Exit(2)
    settings = settings_or_exit()
    engine = _engine(settings)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("Opening the trail", total=None)

            def step(text: str) -> None:
                progress.update(task, description=text)

            with command_work(settings, engine, SystemClock()) as session:
                report = annual.produce(session, SYSTEM, year, zone=settings.zone, step=step)
            step("Laying out the report")
            html = to_html(report)
            pages = None
            if form == ".pdf":
                step("Writing the PDF")
                pages = write_pdf(html, out)
            else:
                out.write_text(html, encoding="utf-8")
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    except (AuditKeyError, PdfUnavailable, OSError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    size = "" if pages is None else f", {pages} pages"
    err.print(f"Wrote the annual report for {year} to {out}{size}.")
