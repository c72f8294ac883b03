"""Draw a benchmark run as an SVG chart: the ratio to the bare framework, per variant.

    python benchmarks/chart.py results.json results.svg

``results.json`` is what ``python benchmarks/run.py --json results.json`` wrote
(``run.py`` also draws the chart itself, ``--svg``). One horizontal bar per
row, grouped as the table is (each framework in-process, the verifier, the
token-cache hit, each framework end to end): the length is the row's ratio to
its group's baseline, the colour says what the row is (the bare framework, a
reference floor, scopegate, a peer), a dashed line marks the row's target and
the label gives the ratio and the verdict. Ratios beyond the axis are cut
short, with a break in the bar, and labelled with their value.

The SVG is written by hand (no plotting dependency) and this module imports
only the standard library, so it can be loaded and tested without the
benchmark apps or their extras.

The input is a dict::

    {"meta": {"machine": [str, ...], "rounds": int, "clock": "cpu", "quick": bool},
     "groups": [{"section": "in-process" | "verifier" | "cache" | "e2e",
                 "title": str, "measure": str, "baseline": row key,
                 "rows": [{"key": str, "label": str, "short": str (optional),
                           "role": "bare" | "reference" | "scopegate" | "peer",
                           "ratio": float, "median_us" or "cpu_us": float,
                           "target": {"limit": float, "at_least": bool} | None,
                           "met": bool | None}, ...]}, ...]}
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

TIMES = "\N{MULTIPLICATION SIGN}"
FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
COLOURS = {
    "bare": "#4b5563",
    "reference": "#cbd5e1",
    "scopegate": "#2563eb",
    "peer": "#f59e0b",
}
ROLE_NAMES = {
    "bare": "bare framework (baseline)",
    "reference": "reference floor",
    "scopegate": "scopegate",
    "peer": "peer",
}
MET, MISSED, TARGET, GRID, TEXT, MUTED = (
    "#15803d",
    "#b91c1c",
    "#111827",
    "#e5e7eb",
    "#111827",
    "#6b7280",
)

MARGIN = 20
LABEL_WIDTH = 330  # right edge of the row labels
BAR_WIDTH = 430
VALUE_WIDTH = 270  # room right of the bars for the ratio and the verdict
WIDTH = MARGIN + LABEL_WIDTH + 10 + BAR_WIDTH + VALUE_WIDTH + MARGIN
ROW_HEIGHT = 22
BAR_HEIGHT = 14
CAP = 2.5  # the axis never goes beyond this ratio; longer bars are cut


def _text(x: float, y: float, content: str, **attributes: Any) -> str:
    attrs = "".join(
        f" {name.rstrip('_').replace('_', '-')}={quoteattr(str(value))}"
        for name, value in attributes.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{attrs}>{escape(content)}</text>'


def figure(value: float, target: dict[str, Any] | None = None) -> str:
    """A ratio to two decimals, or three where two would hide a target's verdict.

    1.1031 against ``≤ 1.10`` is missed, and "1.10" would read as met.
    """
    text = f"{value:.2f}"
    if target is not None:
        limit, at_least = target["limit"], target["at_least"]
        met = value >= limit if at_least else value <= limit
        shown = float(text)
        if met != (shown >= limit if at_least else shown <= limit):
            text = f"{value:.3f}"
    return text


def _times(value: float, target: dict[str, Any] | None = None) -> str:
    return f"{figure(value, target)}{TIMES}"


def axis_limit(groups: list[dict[str, Any]]) -> float:
    """The right end of the axis: the largest ratio or target, capped, up to a half step."""
    values = [1.0]
    for group in groups:
        for row in group["rows"]:
            if row.get("ratio") is not None:
                values.append(row["ratio"])
            if row.get("target"):
                values.append(row["target"]["limit"])
    return min(CAP, math.ceil(max(values) * 2 + 0.2) / 2)


def _absolute(row: dict[str, Any]) -> str:
    if "cpu_us" in row:
        return f"{row['cpu_us']:.0f} µs"
    if "median_us" in row:
        value = row["median_us"]
        return f"{value:.2f} µs" if value < 10 else f"{value:.1f} µs"
    return ""


def _verdict(row: dict[str, Any]) -> tuple[str, str] | None:
    target = row.get("target")
    if not target:
        return None
    sign = "≥" if target["at_least"] else "≤"
    met = row.get("met")
    word = "met" if met else "missed"
    return f"target {sign} {target['limit']:.2f}{TIMES}: {word}", MET if met else MISSED


def _subtitle(meta: dict[str, Any]) -> str:
    parts = []
    for line in meta.get("machine", []):
        line = line.lstrip("- ").replace("`", "")
        if line.startswith(("date:", "python:", "machine:")):
            parts.append(line.split(": ", 1)[1])
    if meta.get("rounds"):
        parts.append(f"{meta['rounds']} interleaved rounds")
    if meta.get("clock"):
        parts.append("process CPU time" if meta["clock"] == "cpu" else "wall time")
    if meta.get("quick"):
        parts.append("--quick run")
    return " · ".join(parts)


def _legend(y: float) -> list[str]:
    parts, x = [], float(MARGIN)
    for role, name in ROLE_NAMES.items():
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="2" '
            f'fill="{COLOURS[role]}"/>'
        )
        parts.append(_text(x + 17, y, name, fill=TEXT))
        x += 17 + 7 * len(name) + 18
    parts.append(
        f'<line x1="{x + 6:.1f}" y1="{y - 12:.1f}" x2="{x + 6:.1f}" y2="{y + 3:.1f}" '
        f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="3,2"/>'
    )
    parts.append(_text(x + 14, y, "target (issue 9)", fill=TEXT))
    return parts


def _group(group: dict[str, Any], top: float, limit: float) -> tuple[list[str], float]:
    """The SVG of one group whose header starts at ``top``; returns it and the next top."""
    x0 = MARGIN + LABEL_WIDTH + 10
    scale = BAR_WIDTH / limit
    rows = [row for row in group["rows"] if row.get("ratio") is not None]
    base = next((row for row in rows if row["key"] == group["baseline"]), None)
    title = group["title"]
    note = f"ratio of {group['measure']} to {base.get('short') or base['label']}" if base else ""
    if base is not None and _absolute(base):
        note += f" = {_absolute(base)}"
    parts = [
        _text(MARGIN, top + 14, title, font_size=14, font_weight="600", fill=TEXT),
        _text(MARGIN + 8.2 * len(title) + 12, top + 14, note, fill=MUTED),
    ]
    y = top + 26
    height = ROW_HEIGHT * len(rows)
    step = 0.5 if limit <= 4 else 1.0
    tick = 0.0
    while tick <= limit + 1e-9:
        x = x0 + tick * scale
        colour = MUTED if tick == 1.0 else GRID
        parts.append(
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + height:.1f}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        parts.append(
            _text(
                x,
                y + height + 12,
                f"{tick:g}{TIMES}",
                font_size=10,
                fill=MUTED,
                text_anchor="middle",
            )
        )
        tick += step
    for row in rows:
        ratio = row["ratio"]
        role = row.get("role", "scopegate")
        middle = y + ROW_HEIGHT / 2
        label = row.get("short") or row["label"]
        parts.append(_text(MARGIN + LABEL_WIDTH, middle + 4, label, fill=TEXT, text_anchor="end"))
        clipped = ratio > limit
        length = min(ratio, limit) * scale
        tooltip = f"{row['label']}: {_times(ratio)}"
        if _absolute(row):
            tooltip += f" ({_absolute(row)})"
        parts.append(
            f'<rect x="{x0:.1f}" y="{middle - BAR_HEIGHT / 2:.1f}" width="{max(length, 1):.1f}" '
            f'height="{BAR_HEIGHT}" rx="2" fill="{COLOURS.get(role, COLOURS["scopegate"])}">'
            f"<title>{escape(tooltip)}</title></rect>"
        )
        if clipped:  # a white break near the end says "longer than drawn"
            bx = x0 + length - 14
            parts.append(
                f'<path d="M{bx:.1f},{middle + 9:.1f} l5,-18 M{bx + 5:.1f},{middle + 9:.1f} '
                f'l5,-18" stroke="#ffffff" stroke-width="2.5"/>'
            )
        value = (
            _times(ratio, row.get("target"))
            if row["key"] != group["baseline"]
            else f"1.00{TIMES} (baseline)"
        )
        start = x0 + length + 6
        words = ""
        verdict = _verdict(row)
        if verdict is not None:
            text, colour = verdict
            limit_x = x0 + min(row["target"]["limit"], limit) * scale
            parts.append(
                f'<line x1="{limit_x:.1f}" y1="{middle - BAR_HEIGHT / 2 - 3:.1f}" '
                f'x2="{limit_x:.1f}" y2="{middle + BAR_HEIGHT / 2 + 3:.1f}" stroke="{TARGET}" '
                f'stroke-width="2" stroke-dasharray="3,2"/>'
            )
            # The label starts after whichever is further right: the bar or the marker.
            start = max(start, limit_x + 6)
            words = f' <tspan fill="{colour}">· {escape(text)}</tspan>'
        parts.append(
            f'<text x="{start:.1f}" y="{middle + 4:.1f}" fill="{TEXT}" font-weight="600">'
            f"{escape(value)}{words}</text>"
        )
        y += ROW_HEIGHT
    return parts, y + 26


def render(results: dict[str, Any]) -> str:
    """The SVG document (a string) for one run's results."""
    groups = [group for group in results["groups"] if group["rows"]]
    limit = axis_limit(groups)
    body = [
        _text(
            MARGIN,
            30,
            "scopegate: cost relative to the bare framework (shorter is better)",
            font_size=18,
            font_weight="700",
            fill=TEXT,
        ),
        _text(MARGIN, 50, _subtitle(results.get("meta", {})), font_size=11, fill=MUTED),
        *_legend(76),
    ]
    top = 96.0
    for group in groups:
        parts, top = _group(group, top, limit)
        body.extend(parts)
    height = math.ceil(top)
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family={quoteattr(FONT)} font-size="12" '
            'role="img" aria-labelledby="title">',
            '<title id="title">scopegate benchmark: ratio to the bare framework per variant'
            "</title>",
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Draw benchmarks/run.py --json output as SVG.")
    parser.add_argument("results", type=Path, help="the JSON written by run.py --json")
    parser.add_argument("svg", type=Path, help="where to write the chart")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    args.svg.write_text(render(results), encoding="utf-8")


if __name__ == "__main__":
    main()
