"""Inline SVG charts for the owner console: pure functions from numbers to an SVG string.

No JavaScript, no external files or fonts: the console puts the string straight into its page.
Every chart
- scales to its container (viewBox + width 100%) and stays legible on a 320 px phone screen;
- is an image with an accessible name and a text summary (role="img", aria-label, <title>,
  <desc>), so a screen reader gets the numbers without the picture;
- gives each bar its own <title>, which browsers show on hover (and long-press on phones);
- draws text in `currentColor`, so it follows the page's light or dark theme;
- escapes every label: customers' questions can end up in one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

__all__ = ["PATH_COLORS", "PATH_LABELS", "bar_chart", "daily_chart", "hbar_chart",
           "paths_chart", "short_date"]

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PATH_COLORS = {"approved": "#009E73", "composed": "#56B4E9", "generated": "#0072B2",
               "extractive": "#E69F00", "dont_know": "#999999", "refused": "#D55E00",
               "tool": "#CC79A7", "handoff": "#F0E442"}
# What an owner reads: how the agent came to its reply, in plain words.
PATH_LABELS = {"approved": "Your approved answer", "composed": "From your facts",
               "generated": "Written by the model", "extractive": "A sentence from your content",
               "dont_know": "Didn't know", "refused": "Refused", "tool": "A tool's answer",
               "handoff": "For a person"}
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
_BAR = "#0072B2"
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
# Characters XML 1.0 cannot hold even escaped (controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    """Any label as safe XML text (and attribute) content."""
    return escape(_NOT_XML.sub("", str(value)), quote=True)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _xy(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above `value` (at least 2: whole-number ticks)."""
    if value <= 2:
        return 2.0
    base = 10 ** math.floor(math.log10(value))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= value)


def _clip(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "…"


def _svg(width: int, height: int, title: str, summary: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
            f'aria-label="{_text(title)}. {_text(summary)}" {_FONT} font-size="11" '
            f'style="max-width:100%;height:auto">'
            f"<title>{_text(title)}</title><desc>{_text(summary)}</desc>"
            + "".join(body) + "</svg>")


def short_date(iso: str) -> str:
    """'2024-05-03' -> 'May 3' (axis labels); anything else is returned as it is."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.strftime('%b')} {day.day}"


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "",
              ticks: Sequence[str] | None = None, color: str = _BAR) -> str:
    """Vertical bars, one per label, with a value axis; `ticks` are the (short) axis labels,
    `labels` the full ones used in each bar's hover title."""
    if len(labels) != len(values):
        raise ValueError("labels and values must have the same length")
    ticks = list(ticks) if ticks is not None else list(labels)
    width, height = 360, 200
    left, right, top, bottom = 34, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(values)
    unit_s = f" {unit}" if unit else ""
    if n == 0 or max(values, default=0) <= 0:
        summary = "No data yet." if n == 0 else f"No {unit or 'activity'} in this period."
        return _svg(width, height, title, summary, [
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="currentColor" '
            f'fill-opacity=".7">{_text(summary)}</text>'])
    peak = max(range(n), key=lambda i: values[i])
    summary = (f"{_num(sum(values))}{unit_s} in total over {n} "
               f"{'entry' if n == 1 else 'entries'}; highest: {_num(values[peak])} on "
               f"{labels[peak]}.")
    if n <= 62:  # a month or two: every value in the text alternative
        summary += " " + "; ".join(f"{lab}: {_num(v)}" for lab, v in zip(labels, values))
    scale = _nice_max(max(values))
    body = []
    for tick in (0.0, scale / 2, scale):  # grid lines with their values
        y = top + plot_h - tick / scale * plot_h
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{_xy(y)}" y2="{_xy(y)}" '
                    f'stroke="currentColor" stroke-opacity=".15"/>'
                    f'<text x="{left - 4}" y="{_xy(y + 4)}" text-anchor="end" '
                    f'fill="currentColor" fill-opacity=".7">{_num(tick)}</text>')
    slot = plot_w / n
    gap = min(slot * 0.2, 4.0)
    for i, (label, value) in enumerate(zip(labels, values)):
        h = value / scale * plot_h
        body.append(f'<rect x="{_xy(left + i * slot + gap / 2)}" y="{_xy(top + plot_h - h)}" '
                    f'width="{_xy(max(slot - gap, 0.5))}" height="{_xy(h)}" fill="{color}" '
                    f'rx="{_xy(min(2.0, slot / 4))}">'
                    f"<title>{_text(label)}: {_num(value)}{_text(unit_s)}</title></rect>")
    # At most ~6 axis labels, always including the last (today, on a daily chart).
    step = max(1, math.ceil(n / 6))
    free_until = float(width)  # left edge of the label drawn last (labels go right to left)
    for i in range(n - 1, -1, -step):
        x, anchor = left + i * slot + slot / 2, "middle"
        label_w = 6.5 * len(_clip(ticks[i], 8))  # ~6.5 px a character at the default size
        if x > width - right - 22:  # a centred label would run off the right edge
            x, anchor = width - right, "end"
        start = x - label_w if anchor == "end" else x - label_w / 2
        if start + label_w > free_until - 4:
            continue  # would touch its right-hand neighbour
        free_until = start
        body.append(f'<text x="{_xy(x)}" y="{height - 8}" text-anchor="{anchor}" '
                    f'fill="currentColor" fill-opacity=".7">{_text(_clip(ticks[i], 8))}</text>')
    return _svg(width, height, title, summary, body)


def daily_chart(days: Sequence[tuple[str, float]], *, title: str, unit: str = "") -> str:
    """A bar per (ISO date, value), e.g. conversations per day; axis labels like 'May 3'."""
    return bar_chart([d for d, _ in days], [v for _, v in days], title=title, unit=unit,
                     ticks=[short_date(d) for d, _ in days])


def hbar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "",
               colors: Mapping[str, str] | None = None,
               names: Mapping[str, str] | None = None) -> str:
    """Horizontal bars, one row per (key, value): name on the left, value and share on the
    right. `names` maps keys to display names, `colors` keys to fills."""
    width, row, top = 360, 26, 6
    label_w, value_w = 112, 62
    height = top * 2 + row * max(len(items), 1)
    total = sum(v for _, v in items)
    unit_s = f" {unit}" if unit else ""
    if not items or total <= 0:
        return _svg(width, max(height, 40), title, "No data yet.", [
            f'<text x="{width / 2}" y="24" text-anchor="middle" fill="currentColor" '
            f'fill-opacity=".7">No data yet.</text>'])
    plot_w = width - label_w - value_w
    peak = max(v for _, v in items)
    body, parts = [], []
    for i, (key, value) in enumerate(items):
        name = (names or {}).get(key, key)
        share = value / total
        parts.append(f"{name}: {_num(value)} ({share:.0%})")
        y = top + i * row
        fill = (colors or {}).get(key, _PALETTE[i % len(_PALETTE)])
        w = value / peak * plot_w if peak else 0.0
        body.append(f'<text x="{label_w - 6}" y="{_xy(y + row / 2 + 4)}" text-anchor="end" '
                    f'fill="currentColor">{_text(_clip(name, 18))}</text>'
                    f'<rect x="{label_w}" y="{y + 4}" width="{_xy(max(w, 1.0 if value else 0))}" '
                    f'height="{row - 8}" fill="{_text(fill)}" rx="2">'
                    f"<title>{_text(name)}: {_num(value)}{_text(unit_s)} ({share:.0%})</title>"
                    f"</rect>"
                    f'<text x="{_xy(label_w + w + 4)}" y="{_xy(y + row / 2 + 4)}" '
                    f'fill="currentColor" fill-opacity=".8">{_num(value)} · {share:.0%}</text>')
    summary = f"{_num(total)}{unit_s} in total. " + "; ".join(parts) + "."
    return _svg(width, height, title, summary, body)


def paths_chart(counts: Mapping[str, int], *, title: str = "How questions were answered") -> str:
    """How turns were answered (approved, generated, quoted, didn't know, refused)."""
    order = [p for p in PATH_COLORS if p in counts] + [p for p in counts if p not in PATH_COLORS]
    return hbar_chart([(p, counts[p]) for p in order], title=title, unit="turns",
                      colors=PATH_COLORS, names=PATH_LABELS)
