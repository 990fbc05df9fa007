"""The public transparency figures and the annual report over a year of trail.

    .venv/bin/python bench/public.py [--url sqlite:///...] [--entries 200000] [--arrests 2000]

Builds the oversight bench's year of trail (bench/oversight.py: ten partner agencies, lawful
case-bound queries, a nightly sweep, refusals after an agreement ended, probes) and times:

- the public page's computation for twelve months (the transparency report's counts, the
  small-cell suppression over every published relation, the CSV and the page);
- a burst of 200 anonymous requests for a cold copy (``web.transparency.PublicFigures``): one
  computation, and the time until the last request has its answer;
- the annual report for the year: its figures, the page, and the PDF through WeasyPrint.

Not part of ``make bench``'s suite: run it on its own.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy.orm import Session

import oversight  # bench/oversight.py, side by side
from pars.db import make_engine
from pars.oversight.pages_public import PublicFigures, Snapshot
from pars.oversight.public import suppressed_counts
from pars.oversight.public_render import to_csv, to_html
from pars.oversight.reports.annual import annual_report
from pars.oversight.reports.annual_render import to_html as annual_html
from pars.oversight.reports.annual_render import write_pdf
from pars.oversight.reports.period import Period
from pars.oversight.reports.transparency import transparency_report

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 15, 17, tzinfo=UTC)


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = work()
    return result, time.perf_counter() - began


def run(url: str, entries: int, arrests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        total, _ = oversight.build(url, Path(tmp) / "audit.key", entries, arrests)
        engine = make_engine(url)
        period = Period(datetime(2025, 1, 1, tzinfo=ZONE), datetime(2026, 1, 1, tzinfo=ZONE))

        def public() -> Snapshot:
            with Session(engine) as session:
                report = transparency_report(session, period, zone=ZONE, now=NOW)
            counts = suppressed_counts(report)
            figures = {"published_at": NOW.isoformat(), "timezone": str(ZONE), "period": period.shown(ZONE),
                       "suppression": {"rule": ""}, "agreements": [], **counts}  # fmt: skip
            return Snapshot(time.monotonic(), figures, to_csv(figures), to_html(figures))

        snapshot, public_s = _timed(public)
        hidden = sum(
            isinstance(v, str) for a in snapshot.figures["agencies"] for m in a["months"] for v in m.values()
        ) - 12 * len(snapshot.figures["agencies"])  # the month labels are strings too

        async def burst() -> tuple[int, float]:
            cache = PublicFigures(public)
            began = time.perf_counter()
            async with anyio.create_task_group() as tasks:
                for _ in range(200):
                    tasks.start_soon(cache.get)
            return cache.computations, time.perf_counter() - began

        computations, burst_s = anyio.run(burst)

        with Session(engine) as session:
            report, annual_s = _timed(lambda: annual_report(session, 2025, zone=ZONE, now=NOW))
        page, page_s = _timed(lambda: annual_html(report))
        pages, pdf_s = _timed(lambda: write_pdf(page, Path(tmp) / "annual.pdf"))
        engine.dispose()
    return {
        "database": engine.dialect.name, "trail_entries": total, "public_computation_s": round(public_s, 2),
        "hidden_cells_of_agency_months": hidden, "burst_200_requests_computations": computations,
        "burst_200_requests_s": round(burst_s, 2), "annual_figures_s": round(annual_s, 2),
        "annual_page_s": round(page_s, 2), "annual_pdf_s": round(pdf_s, 2), "annual_pdf_pages": pages,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default=None, help="a database to fill (default: a temporary SQLite file)")
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--arrests", type=int, default=2_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = arguments.url or f"sqlite:///{tmp}/bench.db"
        print(json.dumps(run(url, arguments.entries, arguments.arrests), indent=2))


if __name__ == "__main__":
    main()
