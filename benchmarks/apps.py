"""Every app variant the suite measures: the same endpoint, guarded in different ways.

Each variant serves ``GET /api/private-scoped`` and answers with the same small
JSON object; only the way the bearer token is checked differs. The peers
(hand-written Starlette backend, FastAPI tutorial dependency, flask-jwt-extended)
make the checks scopegate makes: HS256 signature, audience, issuer, ``exp``
with 5 s leeway, and the ``sample-scope`` scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from benchmarks.common import DECODE_KWARGS, MESSAGE, PATH, SCOPE, SECRET, make_settings

Kind = Literal["asgi", "wsgi"]
# What a row is, for the table and the chart: the framework alone, a reference floor,
# scopegate, or a peer (the usual alternative, hand-written or a library).
Role = Literal["bare", "reference", "scopegate", "peer"]


@dataclass(frozen=True)
class Variant:
    """One app variant: its table label, its framework (the baseline group) and a builder."""

    name: str
    label: str
    framework: str
    kind: Kind
    build: Callable[[], Any]
    protected: bool = True
    role: Role = "scopegate"


class PassThrough:
    """A pure ASGI middleware that does nothing: the floor cost of any middleware layer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


# -- Starlette ---------------------------------------------------------------------------


def starlette_bare() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"message": MESSAGE})

    return Starlette(routes=[Route(PATH, endpoint)])


def starlette_passthrough() -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"message": MESSAGE})

    return Starlette(routes=[Route(PATH, endpoint)], middleware=[Middleware(PassThrough)])


def _starlette_scopegate(**settings: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from scopegate.asgi import BearerAuthMiddleware
    from scopegate.starlette import require_scope

    @require_scope(SCOPE)
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"message": MESSAGE})

    return Starlette(
        routes=[Route(PATH, endpoint)],
        middleware=[Middleware(BearerAuthMiddleware, settings=make_settings(**settings))],
    )


def starlette_scopegate() -> Any:
    return _starlette_scopegate()


def starlette_scopegate_nocache() -> Any:
    return _starlette_scopegate(cache_maxsize=0)


def starlette_pyjwt() -> Any:
    """The hand-written baseline: Starlette's AuthenticationMiddleware with a PyJWT backend."""
    from starlette.applications import Starlette
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        AuthenticationError,
        SimpleUser,
        requires,
    )
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    class JWTBackend(AuthenticationBackend):
        async def authenticate(
            self, conn: HTTPConnection
        ) -> tuple[AuthCredentials, SimpleUser] | None:
            authorization = conn.headers.get("authorization")
            if not authorization:
                return None
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer":
                return None
            try:
                payload = jwt.decode(token, SECRET, **DECODE_KWARGS)
            except jwt.PyJWTError as exc:
                raise AuthenticationError("Invalid token") from exc
            return AuthCredentials(payload.get("scope", "").split()), SimpleUser(payload["sub"])

    @requires(SCOPE)
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"message": MESSAGE})

    return Starlette(
        routes=[Route(PATH, endpoint)],
        middleware=[Middleware(AuthenticationMiddleware, backend=JWTBackend())],
    )


# -- FastAPI -----------------------------------------------------------------------------


def fastapi_bare() -> Any:
    app = FastAPI()

    @app.get(PATH)
    async def endpoint():  # type: ignore[no-untyped-def]
        return {"message": MESSAGE}

    return app


def fastapi_passthrough_dependency() -> Any:
    app = FastAPI()
    app.add_middleware(PassThrough)

    async def nothing() -> None:
        return None

    @app.get(PATH, dependencies=[Depends(nothing)])
    async def endpoint():  # type: ignore[no-untyped-def]
        return {"message": MESSAGE}

    return app


def fastapi_scopegate() -> Any:
    from scopegate.asgi import BearerAuthMiddleware
    from scopegate.fastapi import require_scope

    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware, settings=make_settings())

    @app.get(PATH, dependencies=[Security(require_scope(SCOPE))])
    async def endpoint():  # type: ignore[no-untyped-def]
        return {"message": MESSAGE}

    return app


def fastapi_scopegate_decorator() -> Any:
    from scopegate.asgi import BearerAuthMiddleware
    from scopegate.fastapi import require_scope

    app = FastAPI()
    app.add_middleware(BearerAuthMiddleware, settings=make_settings())

    @app.get(PATH)
    @require_scope(SCOPE)
    async def endpoint():  # type: ignore[no-untyped-def]
        return {"message": MESSAGE}

    return app


def _fastapi_tutorial(*, sync: bool) -> Any:
    """The FastAPI/Auth0 tutorial shape: HTTPBearer plus jwt.decode in a dependency."""
    bearer = HTTPBearer()

    def check(security_scopes: SecurityScopes, token: str) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = jwt.decode(token, SECRET, **DECODE_KWARGS)
        except jwt.PyJWTError as exc:
            raise HTTPException(
                401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"}
            ) from exc
        if not set(payload.get("scope", "").split()).issuperset(security_scopes.scopes):
            raise HTTPException(403, detail="Missing required scope")
        return payload

    if sync:

        def verify(
            security_scopes: SecurityScopes,
            credentials: HTTPAuthorizationCredentials = Depends(bearer),  # noqa: B008
        ) -> dict[str, Any]:
            return check(security_scopes, credentials.credentials)

    else:

        async def verify(  # type: ignore[misc]
            security_scopes: SecurityScopes,
            credentials: HTTPAuthorizationCredentials = Depends(bearer),  # noqa: B008
        ) -> dict[str, Any]:
            return check(security_scopes, credentials.credentials)

    app = FastAPI()

    @app.get(PATH)
    async def endpoint(payload: dict = Security(verify, scopes=[SCOPE])):  # type: ignore[no-untyped-def,type-arg]  # noqa: B008
        return {"message": MESSAGE}

    return app


def fastapi_tutorial() -> Any:
    return _fastapi_tutorial(sync=True)


def fastapi_tutorial_async() -> Any:
    return _fastapi_tutorial(sync=False)


# -- Flask -------------------------------------------------------------------------------


def flask_bare() -> Any:
    from flask import Flask

    app = Flask("bench_flask_bare")

    @app.get(PATH)
    def endpoint() -> dict[str, str]:
        return {"message": MESSAGE}

    return app


def flask_passthrough() -> Any:
    from flask import Flask

    app = Flask("bench_flask_passthrough")
    inner = app.wsgi_app

    def passthrough(environ: Any, start_response: Any) -> Any:
        return inner(environ, start_response)

    app.wsgi_app = passthrough  # type: ignore[method-assign]

    @app.get(PATH)
    def endpoint() -> dict[str, str]:
        return {"message": MESSAGE}

    return app


def flask_scopegate() -> Any:
    from flask import Flask

    from scopegate.flask import require_scope
    from scopegate.wsgi import BearerAuthMiddleware

    app = Flask("bench_flask_scopegate")
    app.wsgi_app = BearerAuthMiddleware(app.wsgi_app, settings=make_settings())  # type: ignore[method-assign]

    @app.get(PATH)
    @require_scope(SCOPE)
    def endpoint() -> dict[str, str]:
        return {"message": MESSAGE}

    return app


def flask_extension() -> Any:
    from flask import Flask

    from scopegate.flask import ScopeGate, require_scope

    app = Flask("bench_flask_extension")
    ScopeGate(app, settings=make_settings())

    @app.get(PATH)
    @require_scope(SCOPE)
    def endpoint() -> dict[str, str]:
        return {"message": MESSAGE}

    return app


def flask_jwt_extended() -> Any:
    from flask import Flask
    from flask_jwt_extended import JWTManager, get_jwt, jwt_required

    app = Flask("bench_flask_jwt_extended")
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=DECODE_KWARGS["algorithms"],
        JWT_DECODE_AUDIENCE=DECODE_KWARGS["audience"],
        JWT_DECODE_ISSUER=DECODE_KWARGS["issuer"],
        JWT_DECODE_LEEWAY=DECODE_KWARGS["leeway"],
        JWT_TOKEN_LOCATION=["headers"],
    )
    JWTManager(app)

    @app.get(PATH)
    @jwt_required()  # type: ignore[untyped-decorator]
    def endpoint() -> Any:
        if SCOPE not in get_jwt().get("scope", "").split():
            return {"msg": "Missing required scope"}, 403
        return {"message": MESSAGE}

    return app


# -- the registry ------------------------------------------------------------------------

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant(
            "starlette_bare", "Starlette (bare)", "Starlette", "asgi", starlette_bare, False, "bare"
        ),
        Variant(
            "starlette_passthrough",
            "Starlette + a pass-through ASGI middleware (reference: the floor of any middleware)",
            "Starlette",
            "asgi",
            starlette_passthrough,
            False,
            role="reference",
        ),
        Variant(
            "starlette_scopegate",
            "Starlette + BearerAuthMiddleware + require_scope (cache hit)",
            "Starlette",
            "asgi",
            starlette_scopegate,
        ),
        Variant(
            "starlette_scopegate_nocache",
            "Starlette + BearerAuthMiddleware + require_scope (cache off)",
            "Starlette",
            "asgi",
            starlette_scopegate_nocache,
        ),
        Variant(
            "starlette_pyjwt",
            "Starlette AuthenticationMiddleware + PyJWT backend + @requires (hand-written)",
            "Starlette",
            "asgi",
            starlette_pyjwt,
            role="peer",
        ),
        Variant("fastapi_bare", "FastAPI (bare)", "FastAPI", "asgi", fastapi_bare, False, "bare"),
        Variant(
            "fastapi_passthrough_dependency",
            "FastAPI + pass-through middleware + a no-op async dependency (reference: the floor)",
            "FastAPI",
            "asgi",
            fastapi_passthrough_dependency,
            False,
            role="reference",
        ),
        Variant(
            "fastapi_scopegate",
            "FastAPI + middleware + Security(require_scope(...))",
            "FastAPI",
            "asgi",
            fastapi_scopegate,
        ),
        Variant(
            "fastapi_scopegate_decorator",
            "FastAPI + middleware + @require_scope decorator",
            "FastAPI",
            "asgi",
            fastapi_scopegate_decorator,
        ),
        Variant(
            "fastapi_tutorial",
            "FastAPI tutorial: HTTPBearer + jwt.decode (sync def dependency)",
            "FastAPI",
            "asgi",
            fastapi_tutorial,
            role="peer",
        ),
        Variant(
            "fastapi_tutorial_async",
            "FastAPI tutorial, async def dependency (for reference)",
            "FastAPI",
            "asgi",
            fastapi_tutorial_async,
            role="peer",
        ),
        Variant("flask_bare", "Flask (bare)", "Flask", "wsgi", flask_bare, False, "bare"),
        Variant(
            "flask_passthrough",
            "Flask + a pass-through WSGI wrapper (reference: the floor of any middleware)",
            "Flask",
            "wsgi",
            flask_passthrough,
            False,
            role="reference",
        ),
        Variant(
            "flask_scopegate",
            "Flask + WSGI BearerAuthMiddleware + require_scope (cache hit)",
            "Flask",
            "wsgi",
            flask_scopegate,
        ),
        Variant(
            "flask_extension",
            "Flask + ScopeGate extension + require_scope (cache hit)",
            "Flask",
            "wsgi",
            flask_extension,
        ),
        Variant(
            "flask_jwt_extended",
            "Flask + flask-jwt-extended @jwt_required (peer)",
            "Flask",
            "wsgi",
            flask_jwt_extended,
            role="peer",
        ),
    ]
}

BASELINES = {"Starlette": "starlette_bare", "FastAPI": "fastapi_bare", "Flask": "flask_bare"}


def make_app(name: str) -> Any:
    """Build the variant called ``name`` (a key of :data:`VARIANTS`)."""
    return VARIANTS[name].build()
