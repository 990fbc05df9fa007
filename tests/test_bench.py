"""A smoke test of `make bench`: the gate comparison at a small size. The three engines must
agree record for record and field for field before anything is timed (gate_peers raises
otherwise), and the figures carry the names and targets the suite's table shows."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_gate_peers_agree_and_report_speed_ups() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import gate_peers  # noqa: PLC0415 - bench/ is not a package; it is put on the path here

        figures = gate_peers.figures(records=200, runs=5)
    finally:
        sys.path.remove(str(BENCH))
    names = [f.name for f in figures]
    assert names == [
        "PARS decide+project, 200 records",
        "Cedar (cedarpy, batch) decide+project, 200 records",
        "PARS speed-up over Cedar (cedarpy, batch)",
        "pycasbin ABAC decide+project, 200 records",
        "PARS speed-up over pycasbin ABAC",
    ]
    assert all(f.area == "gate" and f.runs == 5 and f.value > 0 for f in figures)
    speed_ups = [f for f in figures if f.unit == "×"]
    assert [f.target for f in speed_ups] == [10, 10]
    assert 0 < figures[0].extra["disclosed"] < 200  # the scope lets some records out, not all
