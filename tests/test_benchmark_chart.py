"""benchmarks/chart.py: the SVG drawn from a run's results is well-formed and says what it shows.

The chart module is loaded from its file, as ``python benchmarks/chart.py``
runs it: it must need only the standard library (not the benchmark apps, nor
flask-jwt-extended from the ``bench`` extra).
"""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from subprocess_probe import run_python

CHART = Path(__file__).resolve().parent.parent / "benchmarks" / "chart.py"
SVG = "{http://www.w3.org/2000/svg}"
X = "\N{MULTIPLICATION SIGN}"  # what the chart writes after a ratio


def load_chart() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_chart", CHART)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(key: str, ratio: float, role: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "key": key,
        "label": f"{key} (long label)",
        "short": key,
        "role": role,
        "ratio": ratio,
        "median_us": 10.0 * ratio,
        "target": None,
        "met": None,
    }
    values.update(extra)
    return values


RESULTS: dict[str, Any] = {
    "meta": {
        "machine": ["- date: 2026-12-01 22:00 UTC", "- python: CPython 3.11.7"],
        "rounds": 11,
        "clock": "cpu",
        "quick": True,
    },
    "groups": [
        {
            "section": "in-process",
            "title": "Starlette, in-process",
            "measure": "CPU time per request",
            "baseline": "bare",
            "rows": [
                row("bare", 1.0, "bare"),
                row("floor", 1.01, "reference"),
                row("hit", 1.12, "scopegate", target={"limit": 1.15, "at_least": False}, met=True),
                row("peer <&>", 6.2, "peer"),
            ],
        },
        {
            "section": "e2e",
            "title": "FastAPI on uvicorn",
            "measure": "server CPU time per request",
            "baseline": "fastapi_bare",
            "rows": [
                {**row("fastapi_bare", 1.0, "bare"), "cpu_us": 214.0},
                {
                    **row(
                        "fastapi_scopegate",
                        1.27,
                        "scopegate",
                        target={"limit": 1.15, "at_least": False},
                        met=False,
                    ),
                    "cpu_us": 272.0,
                },
            ],
        },
    ],
    "memory": None,
}


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def target_lines(root: ET.Element) -> list[ET.Element]:
    return [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray") is not None]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())  # noqa: S314 - our own output, not untrusted XML


def test_render_is_well_formed_svg() -> None:
    root = parse(load_chart().render(RESULTS))
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width", "0")) > 0
    assert float(root.get("height", "0")) > 0


def test_every_row_is_labelled_with_its_ratio() -> None:
    shown = texts(parse(load_chart().render(RESULTS)))
    for label in ["bare", "floor", "hit", "peer <&>", "fastapi_bare", "fastapi_scopegate"]:
        assert label in shown
    assert shown.count(f"1.00{X} (baseline)") == 2
    assert f"1.01{X}" in shown
    assert f"6.20{X}" in shown  # beyond the axis: cut short, but labelled with its value


@pytest.mark.parametrize(
    ("label", "verdict"),
    [
        pytest.param(f"1.12{X}", f"target ≤ 1.15{X}: met", id="met"),
        pytest.param(f"1.27{X}", f"target ≤ 1.15{X}: missed", id="missed"),
    ],
)
def test_targets_are_marked_with_their_verdict(label: str, verdict: str) -> None:
    root = parse(load_chart().render(RESULTS))
    assert f"{label} · {verdict}" in texts(root)
    # One dashed marker per targeted row, plus the legend's.
    assert len(target_lines(root)) == 3


def test_marker_sits_at_the_target_on_the_axis() -> None:
    chart = load_chart()
    root = parse(chart.render(RESULTS))
    limit = chart.axis_limit(RESULTS["groups"])
    x0 = chart.MARGIN + chart.LABEL_WIDTH + 10
    expected = x0 + 1.15 * chart.BAR_WIDTH / limit
    markers = target_lines(root)[1:]
    assert [float(line.get("x1", "0")) for line in markers] == pytest.approx([expected] * 2, 0.01)


def test_axis_is_capped() -> None:
    assert load_chart().axis_limit(RESULTS["groups"]) == 2.5


def test_command_line_redraws_from_json(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS), encoding="utf-8")
    svg = tmp_path / "results.svg"
    load_chart().main([str(results), str(svg)])
    assert parse(svg.read_text(encoding="utf-8")).tag == f"{SVG}svg"


def test_chart_needs_only_the_standard_library() -> None:
    loaded = run_python(
        "import importlib.util, sys\n"
        "for name in ('flask_jwt_extended', 'fastapi', 'flask', 'starlette', 'scopegate'):\n"
        "    sys.modules[name] = None\n"
        f"spec = importlib.util.spec_from_file_location('chart', {str(CHART)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(sorted(name for name in sys.modules if name.startswith('benchmarks')))\n"
    )
    assert loaded == "[]"


AT_MOST = {"limit": 1.1, "at_least": False}
AT_LEAST = {"limit": 4.0, "at_least": True}


@pytest.mark.parametrize(
    ("value", "target", "shown"),
    [
        pytest.param(1.2345, None, "1.23", id="no-target"),
        pytest.param(1.0969, AT_MOST, "1.10", id="met-rounds-up-to-the-limit"),
        pytest.param(1.1031, AT_MOST, "1.103", id="missed-but-rounds-to-the-limit"),
        pytest.param(1.1061, AT_MOST, "1.11", id="missed-visibly"),
        pytest.param(3.996, AT_LEAST, "3.996", id="at-least-missed-but-rounds-to-it"),
        pytest.param(4.004, AT_LEAST, "4.00", id="at-least-met"),
    ],
)
def test_figure_never_hides_a_verdict(
    value: float, target: dict[str, Any] | None, shown: str
) -> None:
    assert load_chart().figure(value, target) == shown
