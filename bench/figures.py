"""One measured figure of `make bench`, with its target, as every bench module reports it.

Each area module (bench/gate_peers.py, bench/feed.py, bench/audit_chain.py, ...) exposes a
function returning ``list[Figure]``; bench/suite.py runs them, writes bench/results.json and
prints the Markdown table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Figure:
    area: str  # "gate", "governance", "intake", "feed", "audit", "oversight", "memory", "load", "growth"
    name: str  # what was measured, e.g. "bookings/s, 16 clients"
    value: float
    unit: str  # "ms", "/s", "MB", "s", "×"
    database: str  # "sqlite", "postgresql" or "-" when no database is involved
    target: float | None = None
    # "higher": the value must be at least the target; "lower": at most.
    better: Literal["higher", "lower"] = "higher"
    runs: int = 1  # how many repeated runs the median is over
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target

    @property
    def ratio(self) -> float | None:
        """How far the value is from its target, > 1 when it is better than the target."""
        if self.target is None or self.value == 0:
            return None
        return self.value / self.target if self.better == "higher" else self.target / self.value

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met, "ratio": self.ratio}
