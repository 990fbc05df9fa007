"""Bar charts drawn as SVG on the server: the report page needs no script, font or style from
anywhere, prints as it shows, and reads the same with scripts off. Every bar carries a
``<title>`` with its exact value, and every chart a text label, for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Distinguishable in colour and in grey print; refused parts are drawn hatched.
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021", "#5b5b5b")
FONT = "font-family:Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Series:
    name: str
    # None: a number that is not published (small-cell suppression): no bar, a mark on the axis.
    values: Sequence[float | None]
    # The part of each value drawn hatched on top of the solid part (refused of queries, say).
    hatched: Sequence[float] | None = None


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    ident: str,
    width: int = 720,
    height: int = 260,
) -> Markup:
    """Vertical bars: one group per category (month), one bar per series (agency). ``ident``
    keeps the hatch pattern's id unique on a page with several charts."""
    left, right, top, bottom = 56, 12, 12, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    group_w = plot_w / max(1, len(categories))
    bar_w = max(2.0, (group_w * 0.8) / max(1, len(series)))
    parts = [_open(width, height, label), _hatch_pattern(ident)]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_number(value)}</text>')
    for i, category in enumerate(categories):
        x0 = left + group_w * i + group_w * 0.1
        for j, item in enumerate(series):
            shown = item.values[i]
            x = x0 + bar_w * j
            if shown is None:
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - 3:.1f}" width="{bar_w - 1:.1f}" height="3" fill="#999">'
                    f"<title>{escape(item.name)}, {escape(category)}: not published</title></rect>"
                )
                continue
            value = shown
            hatched = item.hatched[i] if item.hatched is not None else 0
            solid_h = plot_h * (value - hatched) / peak
            hatch_h = plot_h * hatched / peak
            y = top + plot_h - solid_h
            colour = PALETTE[j % len(PALETTE)]
            title = f"{escape(item.name)}, {escape(category)}: {_number(value)}"
            if hatched:
                title += f" ({_number(hatched)} refused)"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{solid_h:.1f}" fill="{colour}">'
                f"<title>{title}</title></rect>"
            )
            if hatch_h:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y - hatch_h:.1f}" width="{bar_w - 1:.1f}" height="{hatch_h:.1f}" '
                    f'fill="url(#hatch-{ident})" stroke="{colour}" stroke-width="0.8"><title>{title}</title></rect>'
                )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(category)}</text>'
        )
    hatch = ident if any(s.hatched for s in series) else None
    parts.append(_legend([s.name for s in series], left, height - 28, hatch=hatch))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside was escaped above


def paired_bars(
    rows: Sequence[tuple[str, float, float]], names: tuple[str, str], *, label: str, width: int = 720
) -> Markup:
    """Horizontal pairs of bars (shares from 0 to 1), one pair per row: a group's share of
    arrests against its share of the people disclosed."""
    left, right, top, row_h = 290, 60, 10, 34
    height = top + row_h * len(rows) + 40
    plot_w = width - left - right
    peak = _nice_max(max((max(a, b) for _, a, b in rows), default=0))
    parts = [_open(width, height, label)]
    for i, (name, first, second) in enumerate(rows):
        y = top + row_h * i
        shown = name if len(name) <= 46 else name[:45] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" font-size="11">{escape(shown)}'
            f"<title>{escape(name)}</title></text>"
        )
        for j, value in enumerate((first, second)):
            bar_w = plot_w * value / peak
            colour = PALETTE[j]
            parts.append(
                f'<rect x="{left}" y="{y + 4 + 13 * j}" width="{bar_w:.1f}" height="12" fill="{colour}">'
                f"<title>{escape(name)}, {escape(names[j])}: {value:.1%}</title></rect>"
            )
            parts.append(f'<text x="{left + bar_w + 4:.1f}" y="{y + 14 + 13 * j}" font-size="10">{value:.1%}</text>')
    parts.append(_legend(list(names), left, height - 22))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside was escaped above


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{height}" width="100%" style="max-width:{width}px;{FONT}"><title>{escape(label)}</title>'
    )


def _hatch_pattern(ident: str) -> str:
    return (
        f'<defs><pattern id="hatch-{ident}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/></pattern></defs>'
    )


def _legend(names: Sequence[str], x: int, y: int, *, hatch: str | None = None) -> str:
    parts = []
    for i, name in enumerate(names):
        left = x + 120 * i
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{left + 16}" y="{y + 10}" font-size="11">{escape(name)}</text>')
    if hatch is not None:
        left = x + 120 * len(names)
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="url(#hatch-{hatch})" stroke="#555"/>')
        parts.append(f'<text x="{left + 16}" y="{y + 10}" font-size="11">refused</text>')
    return "".join(parts)
