"""The public API is exactly the README's "Public API" table, and everything else is internal.

A name in a public module's ``__all__`` is a promise; the table in the README is where a user
reads it. This keeps the two the same list, and keeps every other module out of sight: core
internals are underscore modules, and the applications (command line, authorization server,
demo) export nothing from their modules but their package entry points.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import scopegate

README = Path(__file__).resolve().parents[1] / "README.md"
PACKAGE = Path(scopegate.__file__).resolve().parent
APPLICATIONS = ("cli", "authserver", "demo")
# Modules that are neither public nor underscore-named, and why.
ENTRY_POINTS = {
    "__init__",  # each package's own face
    "__main__",  # python -m scopegate
    "pytest_plugin",  # loaded by pytest through the pytest11 entry point, never imported
}


def readme_table() -> dict[str, list[str]]:
    """``{module: [names]}`` from the rows of the README's "## Public API" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Public API\n", 1)[1].split("\n## ", 1)[0]
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`scopegate"):
            continue
        table[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[1])
    return table


TABLE = readme_table()


def test_the_table_lists_the_public_modules() -> None:
    assert sorted(TABLE) == [
        "scopegate",
        "scopegate.asgi",
        "scopegate.client",
        "scopegate.errors",
        "scopegate.explain",
        "scopegate.fastapi",
        "scopegate.flask",
        "scopegate.starlette",
        "scopegate.testing",
        "scopegate.wsgi",
    ]


@pytest.mark.parametrize("module", sorted(TABLE))
def test_public_module_exports_exactly_its_row(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(TABLE[module])
    assert [name for name in imported.__all__ if not hasattr(imported, name)] == []


def _module_names() -> list[str]:
    return sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for path in PACKAGE.rglob("*.py")
    )


def _has_all(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets)
        for node in tree.body
    )


@pytest.mark.parametrize("module", _module_names())
def test_every_other_module_is_internal(module: str) -> None:
    if module in TABLE:
        return
    parts = module.split(".")
    path = PACKAGE.parent.joinpath(*parts).with_suffix(".py")
    if len(parts) > 2 and parts[1] in APPLICATIONS:
        # An application's modules export nothing; its package __init__ may name an entry point.
        assert parts[-1] == "__init__" or not _has_all(path), f"{module} exports names"
        return
    private = any(part.startswith("_") and part not in {"__init__", "__main__"} for part in parts)
    assert private or parts[-1] in ENTRY_POINTS, f"{module} looks public: make it _{parts[-1]}"
    if parts[-1] == "pytest_plugin":
        assert not _has_all(path)  # fixtures are requested by name, never imported


def test_internals_the_issue_named_are_gone_from_the_public_modules() -> None:
    import scopegate.flask
    import scopegate.wsgi

    for module, name in [
        (scopegate.flask, "settings_from_config"),
        (scopegate.flask, "error_response"),
        (scopegate.wsgi, "ENVIRON_PROTECTOR"),
        (scopegate.wsgi, "environ_path"),
    ]:
        assert not hasattr(module, name), f"{module.__name__}.{name}"
