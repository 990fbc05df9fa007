"""The transparency report as CSV (one row per agency and month) and as a printable HTML page
with server-drawn charts (Jinja2, autoescaped; nothing loaded from elsewhere)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from pars.oversight import words
from pars.oversight.reports.charts import Series, grouped_bars, paired_bars

SCALARS = (
    "queries", "refused", "ambiguous_refusals", "records_disclosed", "persons_disclosed", "alerts",
    "alerts_reviewed", "alerts_open", "detainers_received", "detainers_honoured",
)  # fmt: skip
EVIDENCE_SHOWN = 12
ALERTS_SHOWN = 15

_templates = Environment(
    loader=PackageLoader("pars.oversight", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
)
words.install(_templates)  # codes in plain words on the page (issue 15); CSV and JSON keep the codes


def to_csv(report: dict[str, Any]) -> str:
    """One row per agency and month: the scalar counts, then one ``field:<name>``,
    ``purpose:<name>``, ``refused:<reason>`` and ``alerts:<rule>`` column for every field, purpose,
    refusal reason and alert rule that occurs in the report."""
    groups = ("fields", "purposes", "refused_by_reason", "alerts_by_rule")
    prefixes = ("field", "purpose", "refused", "alerts")
    names = {g: sorted({n for a in report["agencies"] for m in a["months"] for n in m[g]}) for g in groups}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    extra = [f"{prefix}:{n}" for g, prefix in zip(groups, prefixes, strict=True) for n in names[g]]
    writer.writerow(["agency", "month", *SCALARS, *extra])
    for agency in report["agencies"]:
        for month in agency["months"]:
            writer.writerow([
                agency["agency"], month["month"], *(month[name] for name in SCALARS),
                *(month[g].get(n, 0) for g in groups for n in names[g]),
            ])  # fmt: skip
    return out.getvalue()


def to_html(report: dict[str, Any]) -> str:
    agencies = report["agencies"]
    months = [m["month"] for m in agencies[0]["months"]] if agencies else []
    queries = grouped_bars(
        months,
        [
            Series(a["agency"], [m["queries"] for m in a["months"]], [m["refused"] for m in a["months"]])
            for a in agencies
        ],
        label="Queries per month by partner agency; the hatched part of each bar was refused",
        ident="queries",
    )
    records = grouped_bars(
        months,
        [Series(a["agency"], [m["records_disclosed"] for m in a["months"]]) for a in agencies],
        label="Records disclosed per month by partner agency",
        ident="records",
    )
    impact_rows = [r for r in report["disparate_impact"] if r["arrests"] or r["persons_disclosed"]]
    # A share beside a hidden count would give the count back (share × total): not drawn.
    drawn_rows = [r for r in impact_rows if not r["suppressed"]]
    impact = paired_bars(
        [(f"{r['race']} / {r['ethnicity']}", r["arrest_share"], r["disclosure_share"]) for r in drawn_rows],
        ("share of arrests", "share of people disclosed"),
        label="Share of arrests against share of people disclosed to partners, by race and ethnicity",
    )
    return _templates.get_template("transparency.html").render(
        report=report,
        period=_period(report),
        charts={"queries": queries, "records": records, "impact": impact},
        alerts=_alerts_by_agency(report["alerts"]),
        impact_rows=impact_rows,
        evidence_shown=EVIDENCE_SHOWN,
        alerts_shown=ALERTS_SHOWN,
    )


def _period(report: dict[str, Any]) -> dict[str, str]:
    start = datetime.fromisoformat(report["period"]["from"])
    end = datetime.fromisoformat(report["period"]["to"])
    # The period's end is exclusive: a period "to" midnight ends with the day before.
    last = end - timedelta(microseconds=1)
    return {
        "from": f"{start:%B} {start.day}, {start.year}",
        "to": f"{last:%B} {last.day}, {last.year}",
        "generated": report["generated_at"][:16].replace("T", " "),
    }


def _alerts_by_agency(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per agency: counts by rule and severity, and its alerts, most severe first."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alert in alerts:
        grouped[alert["agency"]].append(alert)
    order = {"high": 0, "medium": 1, "low": 2}
    result = []
    for agency in sorted(grouped):
        items = sorted(grouped[agency], key=lambda a: (order.get(a["severity"], 3), a["window_start"]))
        rules: dict[str, dict[str, int]] = defaultdict(lambda: {"high": 0, "medium": 0, "low": 0, "open": 0})
        for alert in items:
            rules[alert["rule"]][alert["severity"]] += 1
            rules[alert["rule"]]["open"] += not alert["reviewed"]
        result.append({"agency": agency, "rules": dict(sorted(rules.items())), "items": items, "total": len(items)})
    return result
