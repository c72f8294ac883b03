"""Architecture: layers point one way, the core needs no web framework, the public API is tidy.

ARCHITECTURE.md, "Layers": errors <- bearer <- token/scopes <- settings/claims <- verifier
<- protector <- adapters (asgi, starlette, fastapi, wsgi, flask).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

import scopegate
from subprocess_probe import import_without, run_python

PACKAGE = Path(scopegate.__file__).resolve().parent
FRAMEWORKS = {"starlette", "fastapi", "flask", "werkzeug"}

# Layer of each core module. Within a layer, only the edges listed in SAME_LAYER
# are allowed. The token cache sits beside settings and claims: it knows only
# AccessToken and is owned by the verifier. jws (the compact serialization) is
# sans-IO like bearer; guards (route claim checks) sits beside the verifier.
LAYERS = {
    "_errors_base": -2,
    "_errors_token": -1,
    "_errors_dpop": -1,
    "_errors_unavailable": -1,
    "errors": 0,
    "_bearer": 1,
    "_jws": 1,
    "_request_url": 1,
    "_settings_env": 1,
    "_htu": 1,
    "_signature": 1,
    "_challenge": 2,
    "_scopes": 2,
    "_token": 2,
    "_jwk": 2,
    "_keysource": 2,
    "_dpop": 2,
    "_nonce": 2,
    "_settings": 3,
    "_settings_dpop": 2,
    "_settings_rules": 2,
    "_claims": 3,
    "_claimset": 3,
    "_cache": 3,
    "_replay": 3,
    "_verifier": 4,
    "_dpop_policy": 4,
    "_guards": 4,
    "_jwks_flow": 3,
    "_jwks": 4,
    "_protector": 5,
    "_environ": 6,
}
# jwk (key selection, pure) sits low so settings can check a static public_key with it;
# keysource is the seam the verifier and protector see; jwks (fetching, httpx) is loaded
# by the verifier only when a key source is configured; jwks_flow (its sans-IO rules: the
# requests a refresh makes, redirects, discovery, max-age) is loaded only by jwks.
# dpop (proof rules, sans-IO) sits beside jwk, whose thumbprint and algorithm table it
# uses, and beside nonce (stateless server nonces); replay (the jti stores) beside cache.
# _environ (the WSGI request steps the WSGI middleware and the Flask extension share) sits
# on the protector, below the adapters.
# errors re-exports its parts, which sit below it: errors_base (the root, BearerError and its
# rendering) under the token failures, the DPoP errors (which reuse FailureDetail) and the 503s.
# settings_env (variable names, list syntax) needs nothing; settings_rules (the validators'
# bodies) checks a static public_key with jwk, as settings did before the rules moved out.
# htu (the htu normalisation, standard library only) and signature (a JWS signature check
# prepared on one cryptography key, for DPoP proofs) are sans-IO leaves beside jws.
SAME_LAYER = {
    ("_token", "_scopes"),
    ("_claims", "_settings"),
    ("_verifier", "_jwks"),
    ("_dpop", "_jwk"),
    ("_dpop", "_nonce"),
    ("_settings_rules", "_jwk"),
    ("_errors_dpop", "_errors_token"),
}
ADAPTERS = ("asgi", "starlette", "fastapi", "wsgi", "flask")


def imported_modules(module: str) -> set[str]:
    """Every absolute module name ``scopegate.<module>`` imports, anywhere in the file."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the scopegate package
                base = "scopegate" + (f".{base}" if base else "")
            names.add(base)
            if base == "scopegate":  # "from scopegate import errors" imports a submodule
                names.update(
                    f"scopegate.{alias.name}"
                    for alias in node.names
                    if (PACKAGE / f"{alias.name}.py").exists()
                )
    return names


def scopegate_imports(module: str) -> set[str]:
    return {
        name.split(".")[1] for name in imported_modules(module) if name.startswith("scopegate.")
    }


def test_every_core_module_exists() -> None:
    assert sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem in LAYERS) == sorted(
        LAYERS
    )


@pytest.mark.parametrize("module", list(LAYERS))
def test_core_imports_only_lower_layers(module: str) -> None:
    violations = {
        target
        for target in scopegate_imports(module)
        if target not in LAYERS
        or not (LAYERS[target] < LAYERS[module] or (module, target) in SAME_LAYER)
    }
    assert violations == set(), f"scopegate.{module} imports from a layer above it"


@pytest.mark.parametrize("module", [*LAYERS, "__init__"])
def test_core_imports_no_framework_and_no_adapter(module: str) -> None:
    names = imported_modules(module)
    assert {name.split(".")[0] for name in names} & FRAMEWORKS == set()
    assert {name.split(".")[1] for name in names if name.startswith("scopegate.")} & set(
        ADAPTERS
    ) == set()
    assert "scopegate" not in names or module == "__init__"  # the package would import it all


@pytest.mark.parametrize(
    ("blocked", "settings", "message"),
    [
        pytest.param(
            "cryptography",
            "identifier='a', jwks_uri='https://tenant.example/.well-known/jwks.json'",
            "MissingExtraError | scopegate: RS256 needs cryptography: "
            "pip install 'scopegate[jwks]'",
            id="cryptography",
        ),
        pytest.param(
            "httpx",
            "identifier='a', issuer='https://tenant.example/'",
            "MissingExtraError | scopegate: fetching keys for RS256 needs httpx: "
            "pip install 'scopegate[jwks]'",
            id="httpx",
        ),
    ],
)
def test_asymmetric_settings_without_the_extra_name_the_pip_command(
    blocked: str, settings: str, message: str
) -> None:
    printed = run_python(
        f"import sys\nsys.modules[{blocked!r}] = None\nimport scopegate\n"
        f"try:\n    scopegate.Settings(_env_file=None, {settings})\n"
        "except ImportError as exc:\n    print(type(exc).__name__, '|', exc)\n"
    )
    assert printed == message


def test_the_core_loads_no_jwks_dependency_for_a_secret() -> None:
    loaded = run_python(
        "import scopegate, sys\n"
        "v = scopegate.TokenVerifier(scopegate.Settings(_env_file=None, identifier='a', "
        "signing_secret='x' * 32))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx' "
        "or m in {'scopegate._jwk', 'scopegate._jwks'}))"
    )
    assert loaded == "[]"


def test_layer_check_sees_imports() -> None:
    assert scopegate_imports("_verifier") >= {"_claims", "errors", "_settings", "_token"}
    assert scopegate_imports("_protector") >= {"_bearer", "_verifier"}


def test_importing_the_core_loads_no_framework() -> None:
    loaded = run_python(
        "import scopegate, scopegate._bearer, scopegate._claims, scopegate.errors, "
        "scopegate._scopes, scopegate._settings, scopegate._token, scopegate._verifier, "
        "scopegate._protector, sys; print(sorted(m for m in sys.modules if m.split('.')[0] "
        "in {'starlette','fastapi','flask','werkzeug'}))"
    )
    assert loaded == "[]"


@pytest.mark.parametrize(
    ("blocked", "module", "message"),
    [
        pytest.param(
            "fastapi",
            "scopegate.fastapi",
            "scopegate.fastapi needs FastAPI: pip install 'scopegate[fastapi]'",
            id="fastapi",
        ),
        pytest.param(
            "flask",
            "scopegate.flask",
            "scopegate.flask needs Flask: pip install 'scopegate[flask]'",
            id="flask",
        ),
    ],
)
def test_missing_extra_names_the_pip_command(blocked: str, module: str, message: str) -> None:
    assert import_without(blocked, module) == f"ImportError | {message}"


def ruff_sort_key(name: str) -> tuple[int, str]:
    """RUF022's isort-style order: CONSTANTS, then Classes, then everything else."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_package_all_is_sorted_and_complete() -> None:
    assert scopegate.__all__ == sorted(scopegate.__all__)
    assert len(set(scopegate.__all__)) == len(scopegate.__all__)
    missing = [name for name in scopegate.__all__ if not hasattr(scopegate, name)]
    assert missing == []
    assert {
        "AccessToken",
        "BearerError",
        "ConfigurationError",
        "InvalidTokenError",
        "Settings",
        "TokenVerifier",
    } <= set(scopegate.__all__)


@pytest.mark.parametrize("name", [*LAYERS, *ADAPTERS])
def test_module_all_is_sorted_and_exists(name: str) -> None:
    module: ModuleType = importlib.import_module(f"scopegate.{name}")
    exported = module.__all__
    assert exported == sorted(exported, key=ruff_sort_key)
    assert len(set(exported)) == len(exported)
    assert [item for item in exported if not hasattr(module, item)] == []


# Above the core and the adapters: tools built on the core (no web framework),
# and applications (command line, client, local authorization server, demo)
# that nothing below them may import.
TOOLS = ("testing", "explain", "pytest_plugin")
APPLICATIONS = ("cli", "client", "authserver", "demo")


def test_every_module_has_a_place() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    placed = {*LAYERS, *ADAPTERS, *TOOLS, "__init__", "__main__"}
    assert modules == placed, "place each new module in a layer here (and in ARCHITECTURE.md)"
    assert packages == set(APPLICATIONS)


# The one exception: the scopegate_dpop_key fixture hands out the client's own
# DPoPKey, imported inside the fixture (never when the plugin loads, which
# happens in every pytest run, with or without httpx); only that module.
LAZY_APPLICATION_IMPORTS = {"pytest_plugin": {"scopegate.client._dpop"}}


@pytest.mark.parametrize("module", [*LAYERS, *ADAPTERS, *TOOLS])
def test_nothing_below_the_applications_imports_them(module: str) -> None:
    allowed = LAZY_APPLICATION_IMPORTS.get(module, set())
    names = {name for name in imported_modules(module) if name not in allowed}
    assert {name.split(".")[1] for name in names if name.startswith("scopegate.")} & set(
        APPLICATIONS
    ) == set()


def test_the_pytest_plugin_loads_no_application() -> None:
    loaded = run_python(
        "import scopegate.pytest_plugin, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[:2] in (['scopegate', 'client'], ['scopegate', 'cli'])))"
    )
    assert loaded == "[]"


@pytest.mark.parametrize("module", ["testing", "explain"])
def test_tools_import_no_framework_and_no_adapter(module: str) -> None:
    names = imported_modules(module)
    assert {name.split(".")[0] for name in names} & FRAMEWORKS == set()
    assert scopegate_imports(module) & set(ADAPTERS) == set()


def test_client_needs_no_web_framework() -> None:
    loaded = run_python(
        "import scopegate.client, sys; print(sorted(m for m in sys.modules if m.split('.')[0] "
        "in {'starlette','fastapi','flask','werkzeug'}))"
    )
    assert loaded == "[]"


# The local authorization server's parts (ARCHITECTURE.md, "The applications"): its errors and
# credentials below storage, storage below the HTTP surface, and the process
# (bootstrap, TLS, the app's wiring, serving) on top. Within a part, anything goes.
AUTHSERVER = PACKAGE / "authserver"
AUTHSERVER_PARTS = {
    "errors": 0,
    "credentials": 0,
    "signing": 0,
    "storage": 1,
    "http": 2,
    "bootstrap": 3,
    "tls": 3,
    "app": 4,
    "server": 5,
    "__init__": 5,
    "__main__": 6,
}


def _authserver_part(name: str) -> str:
    """``storage`` for ``scopegate.authserver.storage.grants``, ``app`` for ``...app``."""
    return name.split(".")[2] if name.count(".") >= 2 else "__init__"


AUTHSERVER_MODULES = sorted(
    str(path.relative_to(PACKAGE).with_suffix("")) for path in AUTHSERVER.rglob("*.py")
)


def test_every_authserver_module_has_a_part() -> None:
    parts = {
        path.relative_to(AUTHSERVER).parts[0].removesuffix(".py")
        for path in AUTHSERVER.rglob("*.py")
    }
    assert parts == set(AUTHSERVER_PARTS), "place each new part of the authserver here"


@pytest.mark.parametrize("module", AUTHSERVER_MODULES)
def test_authserver_parts_import_only_downward(module: str) -> None:
    own = module.split("/")[1].removesuffix(".py") if "/" in module else "__init__"
    level = AUTHSERVER_PARTS[own]
    upward = {
        name
        for name in imported_modules(module)
        if name.startswith("scopegate.authserver")
        and AUTHSERVER_PARTS[_authserver_part(name)] > level
    }
    assert upward == set()
