"""Lists of the Management API: Auth0's ``page``, ``per_page`` and ``include_totals``.

Without ``include_totals`` a list is a JSON array; with it, an object holding
the array under the resource's name, with ``start``, ``limit`` and ``total``.
Query parameters an endpoint does not know are refused, as Auth0 does, so a
misspelt filter never silently returns everything.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scopegate.authserver.errors import ManagementApiError, safe_text
from scopegate.authserver.records import Page

__all__ = ["MAX_PER_PAGE", "listing", "paging"]

MAX_PER_PAGE = 100
_PAGING = frozenset({"page", "per_page", "include_totals"})


def _query_error(message: str) -> ManagementApiError:
    return ManagementApiError(400, "invalid_query_string", f"Query validation error: {message}")


def _integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # Length first: int() refuses (ValueError) a string of thousands of digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and low <= int(raw) <= high):
        raise _query_error(f"'{name}' must be an integer from {low} to {high}.")
    return int(raw)


def paging(request: Request, filters: frozenset[str] = frozenset()) -> tuple[Page, bool]:
    """Auth0's ``page``, ``per_page`` and ``include_totals``; unknown parameters are refused."""
    for name in request.query_params:
        if name not in _PAGING and name not in filters:
            raise _query_error(f"'Additional properties not allowed: {safe_text(name)}'.")
    page = Page(
        _integer(request, "page", 0, 0, 1_000_000),
        _integer(request, "per_page", 50, 1, MAX_PER_PAGE),
    )
    totals = request.query_params.get("include_totals", "false")
    if totals not in ("true", "false"):
        raise _query_error("'include_totals' must be true or false.")
    return page, totals == "true"


def listing(
    key: str, items: list[dict[str, Any]], total: int, page: Page, totals: bool
) -> Response:
    """The list as an array, or with ``include_totals`` as Auth0's paged object."""
    if not totals:
        return JSONResponse(items)
    return JSONResponse({key: items, "start": page.offset, "limit": page.size, "total": total})
