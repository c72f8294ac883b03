"""Query strings of the Management API, as Auth0 documents them, and the lists they shape.

* Offset pages: ``page`` (from 0) and ``per_page`` (at most 100). Without
  ``include_totals=true`` a list is a JSON array; with it, an object holding
  the array under the resource's name with ``start``, ``limit`` and ``total``.
* Checkpoints (client grants): ``from`` (an id the previous answer gave as
  ``next``) and ``take``; with ``include_totals=true`` the answer is
  ``{"client_grants": [...], "next": ...}``, ``next`` absent on the last page.
* Field selection: ``fields=a,b`` keeps those fields (``include_fields=true``,
  the default) or drops them (``include_fields=false``).
* Filters: each endpoint's own (``identifiers`` on resource servers,
  ``client_id``/``audience``/... on client grants, ``app_type``/... on clients).

A parameter an endpoint does not document is refused, as Auth0 does, so a
misspelt filter never silently returns everything; a documented one this
server cannot honour (a Lucene ``q``) is refused with a message that says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scopegate.authserver.errors import ManagementApiError, safe_text
from scopegate.authserver.storage.records import Page

MAX_PER_PAGE = 100
_MAX_IDENTIFIERS = 10
_PAGING = frozenset({"page", "per_page", "include_totals"})
_FIELDS = frozenset({"fields", "include_fields"})
_CHECKPOINT = frozenset({"from", "take"})


def query_error(message: str) -> ManagementApiError:
    """A 400 ``invalid_query_string``, worded as Auth0 words it."""
    return ManagementApiError(400, "invalid_query_string", f"Query validation error: {message}")


@dataclass(frozen=True, slots=True)
class Fields:
    """Which fields of each object to send back (``fields``/``include_fields``)."""

    names: frozenset[str] = frozenset()
    include: bool = True

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if not self.names:
            return dict(body)
        return {key: value for key, value in body.items() if (key in self.names) == self.include}


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Checkpoint pagination: start at the object with id ``start`` (None: the first)."""

    start: str | None
    take: int


@dataclass(frozen=True, slots=True)
class Query:
    """A list request's parameters, checked."""

    page: Page
    totals: bool
    fields: Fields
    checkpoint: Checkpoint | None
    params: Mapping[str, list[str]]

    def one(self, name: str) -> str | None:
        values = self.params.get(name)
        return None if not values else values[0]

    def comma_list(self, name: str) -> list[str]:
        """A comma-separated query value (``fields=a,b``): items trimmed, empty ones dropped."""
        return [item.strip() for item in (self.one(name) or "").split(",") if item.strip()]

    def boolean(self, name: str) -> bool | None:
        value = self.one(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise query_error(f"'{name}' must be true or false.")
        return value == "true"


def _integer(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    # Length first: int() refuses (ValueError) a string of thousands of digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and low <= int(raw) <= high):
        raise query_error(f"'{name}' must be an integer from {low} to {high}.")
    return int(raw)


def read_query(
    request: Request,
    filters: Iterable[str] = (),
    *,
    paging: bool = True,
    fields: bool = False,
    checkpoint: bool = False,
    repeatable: Iterable[str] = (),
    unsupported: Mapping[str, str] | None = None,
) -> Query:
    """The documented parameters of one endpoint; 400 for any other.

    Args:
        request: the request.
        filters: the endpoint's own filter parameters.
        paging: it takes ``page``, ``per_page`` and ``include_totals``.
        fields: it takes ``fields`` and ``include_fields``.
        checkpoint: it takes ``from`` and ``take``.
        repeatable: parameters that may appear more than once (``identifiers``).
        unsupported: documented parameters refused here, with the reason.
    """
    allowed = set(filters) | (_PAGING if paging else set()) | (_FIELDS if fields else set())
    allowed |= _CHECKPOINT if checkpoint else set()
    multi = set(repeatable)
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if unsupported and name in unsupported:
            raise query_error(f"'{safe_text(name)}' is not supported here: {unsupported[name]}.")
        if name not in allowed:
            raise query_error(f"'Additional properties not allowed: {safe_text(name)}'.")
        if name in params and name not in multi:
            raise query_error(f"'{safe_text(name)}' must not appear more than once.")
        params.setdefault(name, []).append(value)
    query = Query(Page(), False, Fields(), None, params)
    page = Page(
        _integer(query.one("page"), "page", 0, 0, 1_000_000),
        _integer(query.one("per_page"), "per_page", 50, 1, MAX_PER_PAGE),
    )
    found_checkpoint = None
    if checkpoint and _CHECKPOINT & params.keys():
        if {"page", "per_page"} & params.keys():
            raise query_error("use 'page' and 'per_page', or 'from' and 'take', not both.")
        start = query.one("from") or None
        found_checkpoint = Checkpoint(start, _integer(query.one("take"), "take", 50, 1, 100))
    selection = Fields()
    if fields and "fields" in params:
        names = frozenset(query.comma_list("fields"))
        selection = Fields(names, query.boolean("include_fields") is not False)
    elif fields:
        query.boolean("include_fields")  # still checked
    for name in multi:
        if len(params.get(name, ())) > _MAX_IDENTIFIERS:
            raise query_error(f"'{name}' may appear at most {_MAX_IDENTIFIERS} times.")
    return Query(page, query.boolean("include_totals") is True, selection, found_checkpoint, params)


def listing(key: str, items: list[dict[str, Any]], total: int, query: Query) -> Response:
    """The list as an array, or with ``include_totals`` as Auth0's paged object."""
    items = [query.fields.apply(item) for item in items]
    if not query.totals:
        return JSONResponse(items)
    page = query.page
    return JSONResponse({key: items, "start": page.offset, "limit": page.size, "total": total})


def checkpoint_listing(
    key: str, items: list[dict[str, Any]], next_id: str | None, query: Query
) -> Response:
    """A checkpoint page: an array, or with ``include_totals`` the items and ``next``."""
    items = [query.fields.apply(item) for item in items]
    if not query.totals:
        return JSONResponse(items)
    body: dict[str, Any] = {key: items}
    if next_id is not None:
        body["next"] = next_id
    return JSONResponse(body)
