"""Docstring examples in src/ are plain code blocks (``Example::``), not doctests that never run."""

from __future__ import annotations

from pathlib import Path

import pytest

import scopegate

PACKAGE = Path(scopegate.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE)) for p in SOURCES])
def test_no_doctest_prompts(path: Path) -> None:
    prompts = [
        number
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.lstrip().startswith(">>>")
    ]
    assert prompts == [], f"{path.name}: use 'Example::' and an indented block, not '>>>'"
