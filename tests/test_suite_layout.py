"""The suite's own rules: fixtures in conftest.py, which nothing imports; helpers in modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODULES = sorted(TESTS.rglob("*.py"))
# How the copies began: a loop over os.environ deleting, or a dict comprehension skipping, these.
PASTED = (
    'if name.startswith("SCOPEGATE_"):',
    'if name.upper().startswith("SCOPEGATE_"):',
    'if not name.startswith("SCOPEGATE_")}',
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(TESTS)))
def test_nothing_imports_a_conftest(path: Path) -> None:
    """pytest advises against it: conftest.py holds fixtures, helpers.py the shared helpers."""
    conftests = {name for name in imported_modules(path) if name.split(".")[-1] == "conftest"}
    assert not conftests, f"{path.name} imports {sorted(conftests)}: import from helpers instead"


def test_the_environment_is_cleared_in_one_place() -> None:
    """One autouse fixture in conftest.py clears SCOPEGATE_*; no module pastes its own."""
    pasted = [
        str(path.relative_to(TESTS))
        for path in MODULES
        if path.name not in ("helpers.py", "test_suite_layout.py")
        and any(pattern in path.read_text(encoding="utf-8") for pattern in PASTED)
    ]
    assert pasted == []


def test_the_check_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "test_x.py"
    module.write_text("import os\nfrom conftest import SECRET\nfrom .local import x\n")
    assert imported_modules(module) == {"os", "conftest"}


ROOT = TESTS.parent
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/pytest"


def test_ci_runs_the_readmes_test_command() -> None:
    """CI runs exactly what the README tells a developer to run (coverage floor included)."""
    readme = [
        line.split("   #")[0].rstrip()
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith(TEST_COMMAND)
    ]
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(TEST_COMMAND)
    ]
    assert len(ci) == 1
    assert readme, "the README shows no test command"
    assert set(readme) == set(ci)
    assert "--cov-branch" in ci[0]
    assert "--cov-fail-under=" in ci[0]
