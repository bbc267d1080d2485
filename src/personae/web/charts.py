"""Simple horizontal bar charts as SVG, rendered on the server (no script, no inline style)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 180
BAR_WIDTH = 300


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


def bars(counts: Mapping[str, int]) -> list[Bar]:
    top = max(counts.values(), default=0)
    return [
        Bar(label, value, i * (BAR_HEIGHT + GAP), round(BAR_WIDTH * value / top) if top else 0)
        for i, (label, value) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    ]


def bar_chart(title: str, counts: Mapping[str, int]) -> Markup:
    """An accessible SVG bar chart (role img, title and a text alternative) of ``counts``."""
    rows = bars(counts)
    if not rows:
        return Markup("<p>{}: none in this period.</p>").format(title)
    height = len(rows) * (BAR_HEIGHT + GAP)
    width = LABEL_WIDTH + BAR_WIDTH + 60
    summary = ", ".join(f"{r.label.replace('_', ' ')} {r.value}" for r in rows)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}: {escape(summary)}">',
        f"<title>{escape(title)}</title>",
    ]
    for r in rows:
        mid = r.y + BAR_HEIGHT // 2 + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{mid}" text-anchor="end">'
            f"{escape(r.label.replace('_', ' '))}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{r.y}" width="{r.width}" '
            f'height="{BAR_HEIGHT}"></rect>'
            f'<text x="{LABEL_WIDTH + r.width + 6}" y="{mid}">{r.value}</text>'
        )
    parts.append("</svg>")
    # Every label and the title went through escape() above.
    return Markup("".join(parts))  # noqa: S704
