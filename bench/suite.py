"""`make bench`: every benchmark area, on SQLite and on PostgreSQL, into one table.

    .venv/bin/python bench/suite.py [--only AREA[,AREA]] [--quick] [--out PATH]

Only a full run (every area, full sizes: `make bench`) writes bench/results.json, the file
docs/performance.md is generated from (bench/report.py); `--quick` or `--only` write
bench/results-partial.json (not committed) unless `--out` says otherwise, and never
bench/results.json. The results record the commit, the machine, the load average before and
after, and every figure's raw runs.

Each area is a module of bench/ exposing ``figures(url, *, quick=False) -> list[Figure]``; the
suite gives it a fresh, empty database of each kind it runs on (a temporary SQLite file; a new
PostgreSQL database on the local server, dropped afterwards), collects its figures, writes them
with the machine's description to the results file, and prints the Markdown table on stdout.
Progress goes to stderr. An area that is missing or fails is named in the table's notes and the
results file, and the others still run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402 - bench modules run as scripts, next to each other
import seed  # noqa: E402
from figures import Figure  # noqa: E402

DATABASES = ("sqlite", "postgresql")
RESULTS = HERE / "results.json"
PARTIAL = HERE / "results-partial.json"


@dataclass(frozen=True)
class Area:
    name: str
    module: str
    databases: tuple[str, ...] = DATABASES  # "-" : runs once, on its own


# In the order they run: the quick, self-contained ones first.
AREAS = (
    Area("gate", "gate_peers", ("-",)),
    Area("governance", "partner_search"),
    Area("intake", "intake"),
    Area("audit", "audit_chain"),
    Area("feed", "feed"),
    Area("oversight", "oversight"),
    Area("impact", "impact"),
    Area("load", "load", ("postgresql",)),
    Area("growth", "growth"),
)

err = Console(stderr=True)


def commit() -> str:
    """The commit measured, with "+dirty" when the working tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True)  # noqa: S607
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,  # noqa: S607
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty else "")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine(databases: dict[str, str]) -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "databases": databases,
    }


def run_area(area: Area, kind: str, workdir: Path, *, quick: bool, status: Callable[[str], None]) -> list[Figure]:
    """The area's figures on a fresh database of `kind` (raises when the module is missing)."""
    module = importlib.import_module(area.module)
    figures = getattr(module, "figures", None)
    if figures is None:
        raise LookupError(f"bench/{area.module}.py does not expose figures(url, *, quick=False) yet")
    kwargs: dict[str, Any] = {"quick": quick}
    if "progress" in inspect.signature(figures).parameters:
        kwargs["progress"] = status
    if kind == "-":
        return list(figures(f"sqlite:///{workdir}/{area.name}.db", **kwargs))
    with seed.database(kind, workdir) as url:
        return list(figures(url, **kwargs))


def run_all(
    areas: list[Area], *, quick: bool, postgres_down: str | None
) -> tuple[list[Figure], list[str], list[dict[str, Any]]]:
    """Every (area, database) in turn, with progress on stderr; an area that is missing or
    fails becomes a problem line and the others still run."""
    figures: list[Figure] = []
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    jobs = [(a, kind) for a in areas for kind in a.databases]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as progress,
        # Whatever the areas print (server logs, library chatter) goes to stderr; stdout is the table.
        contextlib.redirect_stdout(sys.stderr),
    ):
        overall = progress.add_task(f"bench: {len(jobs)} runs", total=len(jobs))
        for area, kind in jobs:
            label = f"{area.name} ({kind})"
            task = progress.add_task(label, total=None)
            if kind == "postgresql" and postgres_down is not None:
                problems.append(f"{label}: skipped, PostgreSQL is not reachable ({postgres_down})")
                progress.remove_task(task)
                progress.advance(overall)
                continue
            area_started = time.perf_counter()
            workdir = Path(tmp) / f"{area.name}-{kind}"
            workdir.mkdir()

            def status(text: str, task: Any = task, label: str = label) -> None:
                progress.update(task, description=f"{label}: {text}")

            try:
                got = run_area(area, kind, workdir, quick=quick, status=status)
            except LookupError as exc:
                problems.append(f"{label}: not measured: {exc}")
                got = []
            except Exception as exc:  # noqa: BLE001 - one failing area must not stop the others
                last = (str(exc).strip().splitlines() or [""])[-1]
                problems.append(f"{label}: failed: {type(exc).__name__}: {last}")
                err.print(f"{label} failed", style="red")
                err.print(traceback.format_exc(), markup=False, highlight=False)
                got = []
            seconds = time.perf_counter() - area_started
            figures.extend(got)
            records.append({"area": area.name, "database": kind, "seconds": round(seconds, 1), "figures": len(got)})
            progress.remove_task(task)
            progress.advance(overall)
            err.print(f"{label}: {len(got)} figures in {seconds:.0f} s")
    return figures, problems, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", default=None, help="comma-separated areas: " + ", ".join(a.name for a in AREAS))
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results.json for a full run, "
                        "bench/results-partial.json otherwise")  # fmt: skip
    args = parser.parse_args()
    full = not args.quick and not args.only
    out_path = args.out or (RESULTS if full else PARTIAL)
    if not full and out_path.resolve() == RESULTS.resolve():
        parser.error("bench/results.json holds full runs only (no --quick, no --only)")
    wanted = set(args.only.split(",")) if args.only else {a.name for a in AREAS}
    unknown = wanted - {a.name for a in AREAS}
    if unknown:
        parser.error(f"unknown area(s): {', '.join(sorted(unknown))}")
    areas = [a for a in AREAS if a.name in wanted]

    versions = {"sqlite": f"SQLite {sqlite3.sqlite_version}"}
    postgres_down = seed.postgres_available()
    if postgres_down is None:
        with seed.database("postgresql", Path(tempfile.gettempdir())) as url:
            versions["postgresql"] = seed.database_version(url)
    load_before, measured = load_average(), commit()  # the commit as the run starts
    started = time.perf_counter()
    figures, problems, records = run_all(areas, quick=args.quick, postgres_down=postgres_down)
    total = time.perf_counter() - started
    out = {
        "machine": machine(versions),
        "commit": measured,
        "command": " ".join(["bench/suite.py", *sys.argv[1:]]),
        "full": full,
        "quick": args.quick,
        "load_average": {
            "before": load_before,
            "after": load_average(),
            "meaning": "1, 5 and 15 minute load averages (os.getloadavg)",
        },
        "seconds": round(total, 1),
        "areas": records,
        "problems": problems,
        "figures": [f.as_json() for f in figures],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    err.print(f"results written to {out_path}")
    print(report.render(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
