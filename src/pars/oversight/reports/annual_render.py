"""The annual report as a printable page (print CSS: A4, each part on a new page, tables that
keep their header) and as a PDF through WeasyPrint, which lays out that same page without a
browser (it needs the system's Pango, 1.44 or later)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from pars.oversight.public import ADDITIVE, MEASURES
from pars.oversight.public_render import LABELS, charts, scope_words
from pars.oversight.reports.charts import paired_bars

_templates = Environment(
    loader=PackageLoader("pars.oversight", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
)


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it loads are missing; the HTML prints from a browser."""


def to_html(report: dict[str, Any]) -> str:
    impact_rows = [
        r for r in report["disparate_impact"]
        if r["race"] != "all" and r["arrest_share"] is not None and r["disclosure_share"] is not None
    ]  # fmt: skip
    drawn = charts(report)
    if impact_rows:
        drawn["impact"] = paired_bars(
            [(f"{r['race']} / {r['ethnicity']}", r["arrest_share"], r["disclosure_share"]) for r in impact_rows],
            ("share of arrests", "share of people disclosed"),
            label="Share of arrests against share of people disclosed to partners, by race and ethnicity",
        )
    return _templates.get_template("annual.html").render(
        report=report, charts=drawn, labels=LABELS, measures=MEASURES, additive=ADDITIVE, scope=scope_words
    )


def write_pdf(html: str, target: Path) -> int:
    """Lays the page out as a PDF at ``target``; returns its number of pages."""
    try:
        # Imported here, not with the module: it loads Pango and the fonts (about a second), which
        # only this command needs, and its absence must not stop `pars` from starting.
        import weasyprint  # noqa: PLC0415
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(f"WeasyPrint cannot run here ({exc}); write --out report.html and print it") from exc
    document = weasyprint.HTML(string=html).render()
    document.write_pdf(target)
    return len(document.pages)
