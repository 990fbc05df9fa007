"""One measured figure of `make bench`, with its ceiling and its target, as every bench module
reports it.

Each area module (bench/gate_peers.py, bench/feed.py, bench/audit_chain.py, ...) exposes a
function returning ``list[Figure]``; bench/suite.py runs them, writes the results file, and
bench/report.py turns bench/results.json into docs/performance.md's table.

A *ceiling* is the same kind of figure for the least work that could answer the same request on
the same setup, measured in the same run (a bare INSERT + COMMIT endpoint for a booking, the
city's search for a partner's, a bare NOTIFY round trip for a feed delivery). ``vs_ceiling`` is
value / ceiling: for a rate the share of the ceiling reached, for a time how many times the
ceiling's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Figure:
    area: str  # "gate", "governance", "intake", "feed", "audit", "oversight", "memory", "load", "growth"
    name: str  # what was measured, e.g. "bookings/s, 16 connections"
    value: float
    unit: str  # "ms", "/s", "MB", "s", "×"
    database: str  # "sqlite", "postgresql" or "-" when no database is involved
    target: float | None = None
    # "higher": the value must be at least the target; "lower": at most.
    better: Literal["higher", "lower"] = "higher"
    runs: int = 1  # how many repeated runs the figure comes from
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    ceiling: float | None = None  # in the same unit, measured in the same run
    ceiling_name: str = ""  # what the ceiling is
    cpu: float | None = None  # the CPU time beside a wall time (same unit), or the CPU-time ratio
    statistic: str = ""  # how the runs make the value; default: "median of N" or "single run"
    # A goal stated against the ceiling (value / ceiling at least this for "higher", at most for
    # "lower"), instead of or beside an absolute target.
    target_vs_ceiling: float | None = None

    @property
    def met(self) -> bool | None:
        checks = []
        if self.target is not None:
            checks.append(self.value >= self.target if self.better == "higher" else self.value <= self.target)
        relative = self.vs_ceiling
        if self.target_vs_ceiling is not None and relative is not None:
            limit = self.target_vs_ceiling
            checks.append(relative >= limit if self.better == "higher" else relative <= limit)
        return all(checks) if checks else None

    @property
    def ratio(self) -> float | None:
        """How far the value is from its target, > 1 when it is better than the target."""
        if self.target is None or self.value == 0:
            return None
        return self.value / self.target if self.better == "higher" else self.target / self.value

    @property
    def vs_ceiling(self) -> float | None:
        if self.ceiling is None or self.ceiling == 0:
            return None
        return self.value / self.ceiling

    @property
    def stat(self) -> str:
        if self.statistic:
            return self.statistic
        return "single run" if self.runs == 1 else f"median of {self.runs}"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met, "ratio": self.ratio, "vs_ceiling": self.vs_ceiling,
                "stat": self.stat}  # fmt: skip
