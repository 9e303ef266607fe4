"""Charts as inline SVG, drawn on the server (no JavaScript, no CDN): a sparkline and a time
series with an optional expected band and marked points. Every chart carries a title and a
text description for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

_W, _H, _PAD = 640, 180, 36


def _scale(
    values: Sequence[float | None], extra: Sequence[float | None] = ()
) -> tuple[float, float]:
    known = [v for v in (*values, *extra) if v is not None]
    if not known:
        return 0.0, 1.0
    low, high = min(known), max(known)
    if high == low:
        return low - 1 if low else 0.0, high + 1
    return low, high


def sparkline(
    values: Sequence[float | None], label: str, width: int = 120, height: int = 28
) -> Markup:
    low, high = _scale(values)
    n = max(len(values) - 1, 1)
    points = [
        f"{i * width / n:.1f},{height - 2 - (v - low) / (high - low) * (height - 4):.1f}"
        for i, v in enumerate(values)
        if v is not None
    ]
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><polyline fill="none" stroke="currentColor" '
        f'stroke-width="1.5" points="{" ".join(points)}"/></svg>'
    )


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.1%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def series_chart(
    title: str,
    dates: Sequence[str],
    values: Sequence[float | None],
    *,
    low: Sequence[float | None] = (),
    high: Sequence[float | None] = (),
    marks: Sequence[int] = (),
    bad: Sequence[int] = (),
    percent: bool = False,
) -> Markup:
    """``values`` over ``dates``; ``low``/``high``: the expected band (shaded); ``marks``: indexes
    marked with a dashed line (schema changes); ``bad``: indexes drawn as red points (failures)."""
    n = len(values)
    y0, y1 = _scale(values, [*low, *high])
    inner_w, inner_h = _W - 2 * _PAD, _H - 2 * _PAD

    def x(i: int) -> float:
        return _PAD + (i * inner_w / (n - 1) if n > 1 else inner_w / 2)

    def y(v: float) -> float:
        return _PAD + inner_h - (v - y0) / (y1 - y0) * inner_h

    ident = "c" + format(abs(hash((title, n))) % 10**8, "d")
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-labelledby="{ident}t {ident}d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}t">{escape(title)}</title>',
    ]
    known = [v for v in values if v is not None]
    summary = (
        f"{n} points from {dates[0]} to {dates[-1]}; last {_fmt(known[-1], percent)}, "
        f"min {_fmt(min(known), percent)}, max {_fmt(max(known), percent)}"
        if known and dates
        else "no values"
    )
    parts.append(f'<desc id="{ident}d">{escape(summary)}</desc>')
    parts.append(
        f'<line class="axis" x1="{_PAD}" y1="{_PAD + inner_h}" x2="{_W - _PAD}" '
        f'y2="{_PAD + inner_h}"/>'
    )
    for value in (y0, y1):
        parts.append(
            f'<text class="tick" x="{_PAD - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(value, percent))}</text>"
        )
    if dates:
        parts.append(
            f'<text class="tick" x="{_PAD}" y="{_H - 8}">{escape(dates[0])}</text>'
            f'<text class="tick" x="{_W - _PAD}" y="{_H - 8}" text-anchor="end">'
            f"{escape(dates[-1])}</text>"
        )
    if low and high:
        upper = [(i, h) for i, h in enumerate(high) if h is not None]
        lower = [(i, lo) for i, lo in enumerate(low) if lo is not None]
        if upper and lower:
            ring = [f"{x(i):.1f},{y(v):.1f}" for i, v in upper] + [
                f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(lower)
            ]
            parts.append(f'<polygon class="band" points="{" ".join(ring)}"/>')
    for i in marks:
        parts.append(
            f'<line class="mark" x1="{x(i):.1f}" y1="{_PAD}" x2="{x(i):.1f}" '
            f'y2="{_PAD + inner_h}"><title>schema change {escape(dates[i])}</title></line>'
        )
    points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values) if v is not None]
    parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    for i in bad:
        point = values[i]
        if point is not None:
            parts.append(
                f'<circle class="bad" cx="{x(i):.1f}" cy="{y(point):.1f}" r="3">'
                f"<title>{escape(dates[i])}: {escape(_fmt(point, percent))}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
