"""Small inline SVG charts for the hub's pages: grouped bars and lines, with axis labels, a
legend and accessible titles, drawn as text (no script, no external file).

A chart takes categories (the x axis, e.g. months) and series of values. A value of None is
not drawn: the pages pass None where a count is shown as "<5" or a share is withheld, so a
chart never reveals what the table hides — a bar chart draws a grey stub titled with the
`hidden` mark ("<5"), a line breaks, a horizontal bar writes the mark. Every bar and point
carries a <title> with its value, and the whole chart a <title> and a <desc>; the pages also
show the same numbers in a table.

Numbers are formatted by the caller's `number` function (the page's language).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Colour-blind-safe colours (Okabe–Ito, then Tol's); lines also differ by marker shape.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
           "#882255", "#44aa99", "#999933", "#332288")
MARKERS = ("circle", "square", "diamond", "triangle")
WIDTH, HEIGHT = 640, 304
LEFT, RIGHT, TOP = 56, 12, 40  # the title is written above the plot
LEGEND_ROW = 18
X_LABELS = 34  # room under the axis for category labels and the axis title


@dataclass(frozen=True)
class Series:
    """One row of values, one per category; None = not shown."""

    label: str
    values: tuple[float | None, ...]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top` (steps of 1, 2 or 5 × 10^k)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _legend_columns(series: Sequence[Series]) -> int:
    longest = max((len(one.label) for one in series), default=0)
    return 1 if longest > 40 else 2 if longest > 22 else 3


def _legend_rows(series: Sequence[Series]) -> int:
    return 0 if len(series) < 2 else math.ceil(len(series) / _legend_columns(series))


def _frame(title: str, desc: str, ident: str, height: int) -> str:
    return (f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" '
            f'font-family="system-ui,sans-serif" font-size="12">'
            f'<title id="{ident}-t">{_e(title)}</title><desc id="{ident}-d">{_e(desc)}</desc>'
            f'<text x="8" y="20" font-size="14" font-weight="bold" fill="#222" '
            f'aria-hidden="true">{_e(title if len(title) <= 78 else title[:77] + "…")}</text>')


def _axes(categories: Sequence[str], ticks: list[float], plot_bottom: float,
          number: Callable[[float], str], x_title: str, y_title: str,
          centre: Callable[[int], float]) -> list[str]:
    top_value = ticks[-1]
    parts = []
    for tick in ticks:
        y = plot_bottom - (tick / top_value) * (plot_bottom - TOP)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">'
                     f'{_e(number(tick))}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{plot_bottom}" x2="{WIDTH - RIGHT}" '
                 f'y2="{plot_bottom}" stroke="#555"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}" stroke="#555"/>')
    # At most ~12 labels fit; beyond that every other one.
    every = max(1, math.ceil(len(categories) / 12))
    size = 12 if len(categories) <= 8 else 10
    for index, category in enumerate(categories):
        if index % every:
            continue
        parts.append(f'<text x="{centre(index):.1f}" y="{plot_bottom + 15}" '
                     f'text-anchor="middle" font-size="{size}" fill="#333">{_e(category)}'
                     "</text>")
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{plot_bottom + 30}" '
                 f'text-anchor="middle" fill="#333">{_e(x_title)}</text>')
    middle = (TOP + plot_bottom) / 2
    parts.append(f'<text x="14" y="{middle:.1f}" text-anchor="middle" fill="#333" '
                 f'transform="rotate(-90 14 {middle:.1f})">{_e(y_title)}</text>')
    return parts


def _legend(series: Sequence[Series], y: float, shapes: bool = False) -> list[str]:
    if len(series) < 2:
        return []
    parts = []
    columns = _legend_columns(series)
    column = (WIDTH - LEFT - RIGHT) / columns
    fits = int((column - 22) / 6.6)  # characters of 12 px text that fit in a column
    for index, one in enumerate(series):
        x = LEFT + (index % columns) * column
        row_y = y + (index // columns) * LEGEND_ROW
        colour = PALETTE[index % len(PALETTE)]
        if shapes:
            parts.append(_marker(MARKERS[index % len(MARKERS)], x + 6, row_y - 4, colour,
                                 one.label))
        else:
            parts.append(f'<rect x="{x:.1f}" y="{row_y - 10:.1f}" width="12" height="12" '
                         f'fill="{colour}"/>')
        label = one.label if len(one.label) <= fits else one.label[:fits - 1] + "…"
        parts.append(f'<text x="{x + 16:.1f}" y="{row_y:.1f}" fill="#222">'
                     f'<title>{_e(one.label)}</title>{_e(label)}</text>')
    return parts


def _top(series: Sequence[Series], floor: float) -> float:
    values = [v for one in series for v in one.values if v is not None]
    return max([floor, *values])


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *,
              number: Callable[[float], str], x_title: str, y_title: str, ident: str,
              hidden: str = "<5", desc: str = "") -> str:
    """Grouped vertical bars: one group per category, one bar per series."""
    legend_rows = _legend_rows(series)
    height = HEIGHT + legend_rows * LEGEND_ROW
    plot_bottom = HEIGHT - X_LABELS - 8
    ticks = nice_ticks(_top(series, 1.0))
    plot_height = plot_bottom - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(categories))
    bar = slot * 0.8 / max(1, len(series))

    def centre(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    parts = [_frame(title, desc or title, ident, height),
             *_axes(categories, ticks, plot_bottom, number, x_title, y_title, centre)]
    for s_index, one in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for c_index, value in enumerate(one.values[:len(categories)]):
            x = LEFT + slot * c_index + slot * 0.1 + bar * s_index
            label = f"{one.label}, {categories[c_index]}: "
            if value is None:  # a grey stub: something, not how much (the table says "<5")
                parts.append(f'<rect x="{x:.1f}" y="{plot_bottom - 3}" width="{bar:.1f}" '
                             f'height="3" fill="#aaa"><title>{_e(label + hidden)}</title>'
                             "</rect>")
                continue
            h = (value / ticks[-1]) * plot_height
            parts.append(f'<rect x="{x:.1f}" y="{plot_bottom - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}">'
                         f'<title>{_e(label + number(value))}</title></rect>')
    parts.extend(_legend(series, HEIGHT + 4))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, categories: Sequence[str], series: Sequence[Series], *,
               number: Callable[[float], str], x_title: str, y_title: str, ident: str,
               top: float | None = None, desc: str = "") -> str:
    """Lines over the categories, one per series; a None value breaks the line. `top` fixes
    the y axis's top (e.g. 1 for shares)."""
    legend_rows = _legend_rows(series)
    height = HEIGHT + legend_rows * LEGEND_ROW
    plot_bottom = HEIGHT - X_LABELS - 8
    ticks = nice_ticks(top if top is not None else _top(series, 1.0))
    plot_height = plot_bottom - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(categories))

    def centre(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    parts = [_frame(title, desc or title, ident, height),
             *_axes(categories, ticks, plot_bottom, number, x_title, y_title, centre)]
    for s_index, one in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        marker = MARKERS[s_index % len(MARKERS)]
        runs: list[list[tuple[float, float]]] = [[]]
        for c_index, value in enumerate(one.values[:len(categories)]):
            x = centre(c_index)
            label = f"{one.label}, {categories[c_index]}: "
            if value is None:  # not shown: the line breaks here
                runs.append([])
                continue
            y = plot_bottom - (min(value, ticks[-1]) / ticks[-1]) * plot_height
            runs[-1].append((x, y))
            parts.append(_marker(marker, x, y, colour, label + number(value)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                             'stroke-width="2"/>')
    parts.extend(_legend(series, HEIGHT + 4, shapes=True))
    parts.append("</svg>")
    return "".join(parts)


def _marker(shape: str, x: float, y: float, colour: str, label: str) -> str:
    tip = f"<title>{_e(label)}</title>"
    if shape == "square":
        return (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
                f'fill="{colour}">{tip}</rect>')
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},'
                f'{y + 5:.1f} {x - 5:.1f},{y:.1f}" fill="{colour}">{tip}</polygon>')
    if shape == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} '
                f'{x - 5:.1f},{y + 4:.1f}" fill="{colour}">{tip}</polygon>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tip}</circle>'


HBAR_ROW = 24
HBAR_LABEL = 210  # room at the left for the category names
HBAR_NAME = 30  # characters of a name that fit there (11 px text); longer ones are cut


def hbar_chart(title: str, categories: Sequence[str], values: Sequence[float | None], *,
               number: Callable[[float], str], ident: str, hidden: str = "<5",
               top: float | None = None, marks: Sequence[float | None] | None = None,
               mark_label: str = "", desc: str = "") -> str:
    """One horizontal bar per category, its value written at its end; long lists of areas
    read better this way than as columns. `marks` draws a tick on each row (a target)."""
    rows = len(categories)
    marked = marks is not None and any(mark is not None for mark in marks)
    height = TOP + rows * HBAR_ROW + (44 if marked else 24)
    right = WIDTH - RIGHT - 60
    ticks = nice_ticks(top if top is not None else max([1.0, *(v for v in values
                                                                if v is not None)]))
    span = right - HBAR_LABEL

    def x_of(value: float) -> float:
        return HBAR_LABEL + (min(value, ticks[-1]) / ticks[-1]) * span

    parts = [_frame(title, desc or title, ident, height)]
    bottom = TOP + rows * HBAR_ROW
    for tick in ticks:
        x = x_of(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle" '
                     f'fill="#333">{_e(number(tick))}</text>')
    for index, (category, value) in enumerate(zip(categories, values, strict=True)):
        y = TOP + index * HBAR_ROW
        name = category if len(category) <= HBAR_NAME else category[:HBAR_NAME - 1] + "…"
        parts.append(f'<text x="{HBAR_LABEL - 6}" y="{y + 16}" text-anchor="end" '
                     f'font-size="11" fill="#222"><title>{_e(category)}</title>{_e(name)}'
                     "</text>")
        shown = hidden if value is None else number(value)
        if value is not None:
            width = x_of(value) - HBAR_LABEL
            parts.append(f'<rect x="{HBAR_LABEL}" y="{y + 4}" width="{width:.1f}" '
                         f'height="{HBAR_ROW - 8}" fill="{PALETTE[0]}">'
                         f'<title>{_e(category)}: {_e(shown)}</title></rect>')
            end = HBAR_LABEL + width
        else:
            end = HBAR_LABEL
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 16}" fill="#222">{_e(shown)}</text>')
        mark = marks[index] if marks is not None and index < len(marks) else None
        if mark is not None:
            x = x_of(mark)
            parts.append(f'<line x1="{x:.1f}" y1="{y + 1}" x2="{x:.1f}" y2="{y + HBAR_ROW - 1}" '
                         f'stroke="{PALETTE[1]}" stroke-width="3">'
                         f'<title>{_e(mark_label)}: {_e(number(mark))}</title></line>')
    parts.append(f'<line x1="{HBAR_LABEL}" y1="{TOP}" x2="{HBAR_LABEL}" y2="{bottom}" '
                 'stroke="#555"/>')
    if marks is not None and any(mark is not None for mark in marks):
        key_y = bottom + 34
        parts.append(f'<line x1="{HBAR_LABEL}" y1="{key_y - 11}" x2="{HBAR_LABEL}" '
                     f'y2="{key_y + 1}" stroke="{PALETTE[1]}" stroke-width="3"/>')
        parts.append(f'<text x="{HBAR_LABEL + 8}" y="{key_y}" fill="#222">'
                     f'{_e(mark_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
