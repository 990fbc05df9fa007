"""`make bench`'s own checks, fast: the published figures are the results file's, only a full run
may write that file, and the gate comparison gives every engine the same work and the same
answers (gate_peers raises before timing anything otherwise)."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def bench() -> Iterator[dict[str, ModuleType]]:
    """bench/ is not a package: its modules are put on the path here (and imported by name, so
    the type checker treats them as the scripts they are)."""
    sys.path.insert(0, str(BENCH))
    try:
        yield {name: importlib.import_module(name) for name in ("report", "suite", "gate_peers")}
    finally:
        sys.path.remove(str(BENCH))


def test_the_documented_figures_are_those_of_results_json(bench: dict[str, ModuleType]) -> None:
    report = bench["report"]
    results = json.loads((BENCH / "results.json").read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert report.section(doc) == report.render(results), "run .venv/bin/python bench/report.py"
    # And figure by figure, not only as a block of text: every row carries its value.
    rows = [line for line in report.section(doc).splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(results["figures"])
    for line, figure in zip(rows, results["figures"], strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1] == figure["name"]
        assert cells[3] == report.with_unit(figure["value"], figure["unit"])


def test_results_json_comes_from_a_full_run_only(bench: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch) -> None:
    results = json.loads((BENCH / "results.json").read_text(encoding="utf-8"))
    if "full" in results:  # files written before the rule did not say
        assert results["full"] is True and results["quick"] is False
        assert results["load_average"]["before"] and results["load_average"]["after"]
        assert results["commit"]
    monkeypatch.setattr(sys, "argv", ["suite.py", "--only", "gate", "--out", str(BENCH / "results.json")])
    with pytest.raises(SystemExit):
        bench["suite"].main()


def test_the_gate_peers_do_the_same_work_and_agree(bench: dict[str, ModuleType]) -> None:
    figures = bench["gate_peers"].memory_figures(150, 2, None)
    names = [f.name for f in figures]
    for variant in ("conversion timed", "records prebuilt"):
        what = f"decide+project in memory, 150 records, {variant}"
        assert [n for n in names if n.endswith(what)] == [
            f"PARS compiled grant: {what}",
            f"Cedar (cedarpy, batch): {what}",
            f"pycasbin ABAC: {what}",
            f"PARS speed-up over Cedar (cedarpy, batch): {what}",
            f"PARS speed-up over pycasbin ABAC: {what}",
        ]
    timed = [f for f in figures if f.unit == "ms"]
    assert all(f.runs == 2 and f.value > 0 and f.cpu is not None and f.cpu > 0 for f in timed)
    assert all(set(f.extra["seconds"]) == {"wall", "cpu"} for f in timed)
    disclosed = {f.extra["disclosed"] for f in timed}
    assert len(disclosed) == 1 and 0 < disclosed.pop() < 150  # same records everywhere; some, not all
