"""The public figures (``pars.oversight.public``) as CSV and as a page: tables and server-drawn
SVG charts (``reports.charts``), autoescaped, no script, nothing loaded from elsewhere; it reads
at phone width (wide tables scroll inside their own box) and prints."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pars.oversight.public import ADDITIVE, ALL, MEASURES, TOTAL, number
from pars.oversight.reports.charts import Series, grouped_bars

_templates = Environment(
    loader=PackageLoader("pars.oversight", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
)
AGREEMENT_COLUMNS = (
    "agency", "agreement_state", "agreement_in_force_from", "agreement_in_force_until", "version", "status",
    "title", "document_ref", "effective_from", "expires_at", "in_force_from", "in_force_until", "purposes",
    "channels", "fields", "scope", "require_case_reference", "require_registered_case", "daily_query_limit",
    "votes", "suspensions", "terminated_at", "termination_reason",
)  # fmt: skip
LABELS = {
    "queries": "Queries", "refused": "Refused", "records_disclosed": "Records disclosed",
    "persons_disclosed": "People disclosed", "alerts": "Misuse alerts", "alerts_reviewed": "Alerts reviewed",
    "detainers_received": "Detainer requests", "detainers_honoured": "Detainers honoured",
}  # fmt: skip


def to_csv(figures: dict[str, Any]) -> str:
    """Two tables, one after the other with a blank line between: the counts (one row per
    agency and month, then the agency's ``total`` row; agency ``ALL`` is every partner agency
    together, without people, who are not summed across agencies), and the agreements (one row
    per version, with the agreement's state, suspensions and termination repeated on each)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    reasons = sorted({r for a in figures["agencies"] for r in a["totals"]["refused_by_reason"]})
    writer.writerow(["agency", "month", *MEASURES, *(f"refused:{r}" for r in reasons)])
    for agency in figures["agencies"]:
        for month in [*agency["months"], {"month": TOTAL, **agency["totals"]}]:
            by_reason = month["refused_by_reason"]
            counts = [*(month[m] for m in MEASURES), *(by_reason.get(r, 0) for r in reasons)]
            writer.writerow([agency["agency"], month["month"], *counts])
    everyone = figures["all_agencies"]
    if everyone is not None:
        for month in [*everyone["months"], {"month": TOTAL, **everyone["totals"]}]:
            row = [month.get(m, "") if m in ADDITIVE else "" for m in MEASURES]
            writer.writerow([ALL.upper(), month["month"], *row, *("" for _ in reasons)])
    writer.writerow([])
    writer.writerow(AGREEMENT_COLUMNS)
    for agreement in figures["agreements"]:
        suspensions = "; ".join(
            f"{s['from']} to {s['until'] or 'now'}: {s['reason'] or ''}" for s in agreement["suspensions"]
        )
        for version in agreement["versions"]:
            votes = "; ".join(f"{v['agency']} {v['vote']} {v['at']}" for v in version["votes"])
            writer.writerow([
                agreement["agency"], agreement["state"], agreement["in_force_from"], agreement["in_force_until"],
                version["version"], version["status"], version["title"], version["document_ref"] or "",
                version["effective_from"], version["expires_at"], version["in_force_from"] or "",
                version["in_force_until"] or "", " ".join(version["purposes"]), " ".join(version["channels"]),
                " ".join(version["fields"]), json.dumps(version["scope"], sort_keys=True),
                version["require_case_reference"], version["require_registered_case"],
                "" if version["daily_query_limit"] is None else version["daily_query_limit"], votes, suspensions,
                agreement["terminated_at"] or "", agreement["termination_reason"] or "",
            ])  # fmt: skip
    return out.getvalue()


def charts(figures: dict[str, Any]) -> dict[str, Markup]:
    """Queries and records disclosed per month, one bar per agency; a hidden count draws no bar
    (a grey mark on the axis says so)."""
    months, agencies = figures["months"], figures["agencies"]
    if not months:
        return {}
    return {
        "queries": grouped_bars(
            months,
            [Series(a["agency"], [number(m["queries"]) for m in a["months"]]) for a in agencies],
            label="Queries per month by partner agency (refused ones included)",
            ident="public-queries",
        ),
        "records": grouped_bars(
            months,
            [Series(a["agency"], [number(m["records_disclosed"]) for m in a["months"]]) for a in agencies],
            label="Records disclosed per month by partner agency",
            ident="public-records",
        ),
    }


def to_html(figures: dict[str, Any]) -> str:
    return _templates.get_template("public.html").render(
        figures=figures, charts=charts(figures), labels=LABELS, measures=MEASURES, additive=ADDITIVE,
        period=_period(figures), scope=scope_words,
    )  # fmt: skip


def _period(figures: dict[str, Any]) -> dict[str, str] | None:
    if figures["period"] is None:
        return None
    start = datetime.fromisoformat(figures["period"]["from"])
    months = figures["months"]
    last = start.replace(year=int(months[-1][:4]), month=int(months[-1][5:])) if months else start
    published = figures["published_at"][:16].replace("T", " ")
    return {"from": f"{start:%B %Y}", "to": f"{last:%B %Y}", "published": published}


def scope_words(scope: dict[str, Any] | None) -> str:
    """An agreement's scope in words: which records it covers (a record is in scope when one of
    its charges matches every charge restriction and its status is listed)."""
    if not scope or not any(scope.values()):
        return "every record (no restriction by charge or status)"
    keys = [key for key in ("titles", "sections", "grades") if scope.get(key)]
    parts = [f"{key} {', '.join(str(v) for v in scope[key])}" for key in keys]
    text = "records with a charge of " + ", ".join(parts) if parts else "records"
    if scope.get("statuses"):
        text += " in status " + ", ".join(scope["statuses"])
    return text
