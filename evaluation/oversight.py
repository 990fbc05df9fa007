"""Evaluation of the misuse detectors on seeded synthetic worlds (issue 12, part 4).

    .venv/bin/python evaluation/oversight.py [--seeds 1,2,3] [--weeks 6] [--small]
                                             [--json PATH] [--database sqlite|postgresql://…]

Each seed builds a fresh database and a Philadelphia-like world (``world.py``), plants misuse
episodes and lawful twins among busy lawful partners (``scenarios.py``), sends everything
through the real services (``run.py``), scans the trail with ``pars.oversight.scan.scan``,
and scores the alerts against the labels:

- an alert is *true* when its agency is a planted misuse episode's, its window overlaps the
  episode's time, and its user is the episode's (when both name one); otherwise *false*;
- per rule: planted (episodes that rule should catch), detected (those with an alert of that
  rule), recall; alerts, true, false, precision;
- pooled: an episode is detected by any alert; precision over all alerts;
- the alerts on each lawful twin (there should be none).

Progress goes to stderr; the Markdown tables to stdout; ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as bench/: modules side by side

import structlog
from run import AlertRow, WorldResult, progress, run_world
from scenarios import EXPECTED, TWINS, Episode
from world import temporary_workdir

CONTRACT_RULES = (
    "no_case_reference", "broad_search", "protected_field_probe", "volume_spike", "off_hours_bulk",
    "outside_scope_probe", "repeated_person_lookup", "demographic_skew", "refused_sweep", "case_reference_churn",
)  # fmt: skip


def matches(alert: AlertRow, episode: Episode) -> bool:
    same_user = alert.user is None or episode.user is None or alert.user == episode.user
    return alert.agency == episode.agency and alert.start < episode.end and alert.end > episode.start and same_user


@dataclass
class RuleScore:
    planted: int = 0
    detected: int = 0
    alerts: int = 0
    true: int = 0
    false: int = 0

    @property
    def recall(self) -> float | None:
        return self.detected / self.planted if self.planted else None

    @property
    def precision(self) -> float | None:
        return self.true / self.alerts if self.alerts else None

    def add(self, other: RuleScore) -> None:
        for name in ("planted", "detected", "alerts", "true", "false"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, Any]:
        return {
            "planted": self.planted, "detected": self.detected, "recall": _round(self.recall), "alerts": self.alerts,
            "true": self.true, "false": self.false, "precision": _round(self.precision),
        }  # fmt: skip


@dataclass
class Score:
    rules: dict[str, RuleScore] = field(default_factory=dict)
    pooled: RuleScore = field(default_factory=RuleScore)
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind → planted, detected, rules fired
    twins: list[dict[str, Any]] = field(default_factory=list)
    false_alerts: list[dict[str, Any]] = field(default_factory=list)


def score(result: WorldResult) -> Score:
    misuse = [e for e in result.episodes if not e.lawful]
    twins = [e for e in result.episodes if e.lawful]
    names = list(CONTRACT_RULES) + sorted({a.rule for a in result.alerts} - set(CONTRACT_RULES))
    out = Score(rules={name: RuleScore() for name in names})
    for episode in misuse:
        hits = [a for a in result.alerts if matches(a, episode)]
        fired = sorted({a.rule for a in hits})
        for rule in episode.rules:
            out.rules[rule].planted += 1
            out.rules[rule].detected += rule in fired
        out.pooled.planted += 1
        out.pooled.detected += bool(hits)
        kind = out.kinds.setdefault(episode.kind, {"planted": 0, "detected": 0, "by_expected": 0, "fired": {}})
        kind["planted"] += 1
        kind["detected"] += bool(hits)
        kind["by_expected"] += bool(set(fired) & set(episode.rules))
        for rule in fired:
            kind["fired"][rule] = kind["fired"].get(rule, 0) + 1
    for alert in result.alerts:
        true = any(matches(alert, e) for e in misuse)
        for tally in (out.rules[alert.rule], out.pooled):
            tally.alerts += 1
            tally.true += true
            tally.false += not true
        if not true:
            out.false_alerts.append(_alert_figures(alert, result.seed))
    for twin in twins:
        on = [a for a in result.alerts if matches(a, twin)]
        alerts = [_alert_figures(a, result.seed) for a in on]
        out.twins.append({"seed": result.seed, "twin": twin.kind, "agency": twin.agency, "user": twin.user,
                          "requests": twin.requests, "alerts": alerts})  # fmt: skip
    return out


def combine(scores: list[Score]) -> Score:
    total = Score()
    for one in scores:
        for name, rule in one.rules.items():
            total.rules.setdefault(name, RuleScore()).add(rule)
        total.pooled.add(one.pooled)
        for kind, figures in one.kinds.items():
            into = total.kinds.setdefault(kind, {"planted": 0, "detected": 0, "by_expected": 0, "fired": {}})
            for key in ("planted", "detected", "by_expected"):
                into[key] += figures[key]
            for rule, n in figures["fired"].items():
                into["fired"][rule] = into["fired"].get(rule, 0) + n
        total.twins.extend(one.twins)
        total.false_alerts.extend(one.false_alerts)
    return total


def _alert_figures(alert: AlertRow, seed: int) -> dict[str, Any]:
    return {
        "seed": seed, "rule": alert.rule, "agency": alert.agency, "user": alert.user, "severity": alert.severity,
        "window_start": alert.start.isoformat(), "window_end": alert.end.isoformat(), "summary": alert.summary,
    }  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown(total: Score, results: list[WorldResult], per_seed: list[Score]) -> str:
    lines = ["| rule | planted | detected | recall | alerts | true | false | precision |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, rule in total.rules.items():
        lines.append(f"| `{name}` | {rule.planted} | {rule.detected} | {_cell(rule.recall)} | {rule.alerts} | "
                     f"{rule.true} | {rule.false} | {_cell(rule.precision)} |")  # fmt: skip
    p = total.pooled
    lines.append(f"| **pooled** | **{p.planted}** | **{p.detected}** | **{_cell(p.recall)}** | **{p.alerts}** | "
                 f"**{p.true}** | **{p.false}** | **{_cell(p.precision)}** |")  # fmt: skip
    planted = sum(k["planted"] for k in total.kinds.values())
    expected = sum(k["by_expected"] for k in total.kinds.values())
    if planted:
        lines += ["", f"Episodes caught by one of the rules expected to catch them: {expected} of {planted} "
                      f"({expected / planted:.2f})."]  # fmt: skip
    lines += ["", "| planted kind | episodes | detected (any alert) | by an expected rule | rules that fired |",
              "|---|---:|---:|---:|---|"]  # fmt: skip
    for kind in EXPECTED:
        figures = total.kinds.get(kind)
        if figures is None:
            continue
        fired = ", ".join(f"`{r}` {n}" for r, n in sorted(figures["fired"].items())) or "none"
        lines.append(f"| {kind} | {figures['planted']} | {figures['detected']} | {figures['by_expected']} | {fired} |")
    lines += ["", "| lawful twin | seed | agency | requests | alerts on it |", "|---|---:|---|---:|---|"]
    for twin in sorted(total.twins, key=lambda t: (TWINS.index(t["twin"]), t["seed"])):
        alerts = ", ".join(f"`{a['rule']}`" for a in twin["alerts"]) or "none"
        lines.append(f"| {twin['twin']} | {twin['seed']} | {twin['agency']} | {twin['requests']} | {alerts} |")
    lines += ["", "| seed | arrests | partner queries | refused | alerts | recall | precision | seconds |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for result, one in zip(results, per_seed, strict=True):
        lines.append(f"| {result.seed} | {result.arrests} | {result.queries} | {result.refused} | "
                     f"{one.pooled.alerts} | {_cell(one.pooled.recall)} | {_cell(one.pooled.precision)} | "
                     f"{result.seconds:.0f} |")  # fmt: skip
    return "\n".join(lines)


def evaluate(
    seeds: list[int], *, weeks: int, small: bool, database: str
) -> tuple[Score, list[WorldResult], list[Score]]:
    results, per_seed = [], []
    with temporary_workdir() as workdir:
        for seed in seeds:
            result = run_world(seed, weeks=weeks, small=small, database=database, workdir=Path(workdir))
            results.append(result)
            per_seed.append(score(result))
            progress(f"seed {seed}: {len(result.alerts)} alerts, recall {_cell(per_seed[-1].pooled.recall)}, "
                     f"precision {_cell(per_seed[-1].pooled.precision)}, {result.seconds:.0f} s")  # fmt: skip
    return combine(per_seed), results, per_seed


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from the PATH, as make does
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent,
        )  # fmt: skip
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds, one world each (default 1,2,3)")
    parser.add_argument("--weeks", type=int, default=6, help="weeks of partner traffic with planted episodes")
    parser.add_argument("--small", action="store_true", help="a smaller city and fewer partners' users (tests)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (a temporary file per seed) or a PostgreSQL URL where a database per seed "
                             "is created and dropped")  # fmt: skip
    args = parser.parse_args(argv)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))  # stdout: the tables only
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.weeks < 2:
        parser.error("--weeks must be at least 2")
    total, results, per_seed = evaluate(seeds, weeks=args.weeks, small=args.small, database=args.database)
    print(markdown(total, results, per_seed))
    if args.json:
        figures = {
            "commit": _commit(), "seeds": seeds, "weeks": args.weeks, "small": args.small,
            "rules": {name: rule.figures() for name, rule in total.rules.items()},
            "pooled": total.pooled.figures(), "kinds": total.kinds, "twins": total.twins,
            "false_alerts": total.false_alerts,
            "per_seed": [
                {"seed": r.seed, "arrests": r.arrests, "queries": r.queries, "refused": r.refused,
                 "seconds": round(r.seconds, 1), **s.pooled.figures()}
                for r, s in zip(results, per_seed, strict=True)
            ],
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
