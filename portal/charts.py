"""Charts as SVG made on the server: the same markup goes into web pages and PDFs (no chart
JavaScript). Each function returns a Markup <svg> that scales to its container's width.

Text is escaped; numbers on the chart go through the caller's `value_format`, so they follow
the page's locale (`|number`, `|money` in templates; i18n.money / format_decimal in code).
Each chart carries a <title> for screen readers; pages show the figures as a table too.
"""

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

PALETTE = ("#1d4f73", "#e07b39", "#4f9d69", "#8e5ea2", "#c44e52", "#6c757d", "#d4a72c")
WIDTH = 640
FONT = 'font-family="DejaVu Sans, Noto Sans CJK SC, sans-serif"'


def _nice_step(maximum: float, steps: int = 4) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) so that `steps` gridlines cover `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _shorten(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" {FONT} font-size="11">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(names: Sequence[str], y: int) -> list[str]:
    parts, x = [], 50
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(_shorten(name, 30))}</text>')
        x += 24 + 7 * min(len(str(name)), 30)
    return parts


def columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    value_format: Callable[[float], str] = lambda v: f"{v:g}",
    stacked: bool = False,
    height: int = 240,
) -> Markup:
    """Vertical columns per label (e.g. per month), one colour per series, side by side or stacked."""
    labels = list(labels)
    series = [(name, [float(v or 0) for v in values]) for name, values in series]
    if stacked:
        maximum = max(
            (sum(values[i] for _, values in series) for i in range(len(labels))), default=0
        )
    else:
        maximum = max((v for _, values in series for v in values), default=0)
    step = _nice_step(maximum)
    if all(float(v).is_integer() for _, values in series for v in values):
        step = max(1.0, step)  # counts: no gridline at half a complaint
    top = step * max(1, math.ceil(maximum / step)) if maximum > 0 else step * 4
    left, right, plot_top = 70, WIDTH - 10, 12
    legend_y = height - 6 if len(series) > 1 else None
    plot_bottom = height - (44 if legend_y else 26)
    plot_height = plot_bottom - plot_top
    body = []
    # Gridlines and their values.
    value = 0.0
    while value <= top + step / 2:
        y = plot_bottom - plot_height * value / top
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">'
            f"{escape(value_format(value))}</text>"
        )
        value += step
    slot = (right - left) / max(1, len(labels))
    group = slot * 0.8
    bar = group if stacked else group / max(1, len(series))
    label_every = max(1, math.ceil(len(labels) / 14))  # keep axis labels legible
    for i, label in enumerate(labels):
        x0 = left + slot * i + (slot - group) / 2
        base = plot_bottom
        for s, (name, values) in enumerate(series):
            colour = PALETTE[s % len(PALETTE)]
            bar_height = plot_height * values[i] / top
            x = x0 if stacked else x0 + bar * s
            y = (base - bar_height) if stacked else (plot_bottom - bar_height)
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{bar_height:.1f}" fill="{colour}">'
                f"<title>{escape(label)} · {escape(name)}: {escape(value_format(values[i]))}</title></rect>"
            )
            if stacked:
                base -= bar_height
        if i % label_every == 0:
            body.append(
                f'<text x="{x0 + group / 2:.1f}" y="{plot_bottom + 14}" text-anchor="middle" '
                f'fill="#444">{escape(_shorten(label, 10))}</text>'
            )
    body.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{right}" y2="{plot_bottom}" stroke="#888"/>'
    )
    if legend_y:
        body.extend(_legend([name for name, _ in series], legend_y))
    return _svg(height, title, body)


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    value_format: Callable[[float], str] = lambda v: f"{v:g}",
    maximum: float | None = None,
    colour: str = PALETTE[0],
) -> Markup:
    """Horizontal bars, one per (label, value) row: categories, locations, coverage in percent."""
    items = [(str(label), float(value or 0)) for label, value in items]
    row, label_width, value_width = 22, 170, 90
    height = max(row, row * len(items)) + 8
    top = maximum if maximum else max((v for _, v in items), default=0) or 1
    plot_left, plot_right = label_width + 8, WIDTH - value_width
    body = []
    for i, (label, value) in enumerate(items):
        y = 4 + row * i
        width = (plot_right - plot_left) * min(value, top) / top
        body.append(
            f'<text x="{label_width}" y="{y + 15}" text-anchor="end">{escape(_shorten(label, 26))}</text>'
        )
        body.append(
            f'<rect x="{plot_left}" y="{y + 3}" width="{plot_right - plot_left}" height="{row - 6}" fill="#eef1f4"/>'
        )
        body.append(
            f'<rect x="{plot_left}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(value_format(value))}</title></rect>"
        )
        body.append(f'<text x="{plot_right + 6}" y="{y + 15}">{escape(value_format(value))}</text>')
    return _svg(height, title, body)
