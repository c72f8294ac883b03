"""The demo's transcript: every HTTP exchange as it happens, secrets and tokens abbreviated.

:meth:`Transcript.record` is an httpx ``response`` event hook, so it sees each
request a client sends, including the token requests that
:class:`~scopegate.client.ClientCredentialsAuth` makes on its own. Shown:
the request line, ``Authorization``, ``DPoP`` and ``Content-Type``, the body,
the status, ``WWW-Authenticate`` and the response body. Client secrets, signing secrets and
tokens show their first 12 characters only; so do a JWK's modulus and a
certificate (:data:`LONG_FIELDS`), not secret but too long to read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import parse_qsl

import httpx

SECRET_FIELDS = frozenset(
    {"access_token", "client_secret", "signing_secret", "refresh_token", "id_token"}
)
# Public, but a page wide: an RSA modulus, a PEM certificate (the signing-key answers).
LONG_FIELDS = frozenset({"n", "cert", "x5c"})
SHOWN = 12
JWT_TAIL = 6
BODY_LIMIT = 600


def abbreviate(value: str, ellipsis: str = "\u2026") -> str:
    """The first 12 characters and an ellipsis; only the ellipsis for a short value.

    A JWT also keeps the last 6 characters of its signature: every token starts
    with the same header, and the tail tells them apart.
    """
    if len(value) < 2 * SHOWN:
        return ellipsis
    tail = value[-JWT_TAIL:] if value.count(".") == 2 and len(value) > 4 * SHOWN else ""
    return value[:SHOWN] + ellipsis + tail


def redact(value: Any, ellipsis: str = "\u2026") -> Any:
    """``value`` (parsed JSON) with every secret (and long) field abbreviated, at any depth."""
    if isinstance(value, dict):
        return {
            key: _shorten(item, ellipsis)
            if key in SECRET_FIELDS or key in LONG_FIELDS
            else redact(item, ellipsis)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, ellipsis) for item in value]
    return value


def _shorten(item: Any, ellipsis: str) -> Any:
    if isinstance(item, str):
        return abbreviate(item, ellipsis)
    if isinstance(item, list):
        return [_shorten(each, ellipsis) for each in item]
    return redact(item, ellipsis)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, as the demo checks it."""

    method: str
    url: str
    status: int
    challenge: str | None


class Transcript:
    """Prints to ``out`` as the demo runs, and keeps each exchange for the checks.

    Attributes:
        exchanges: every exchange recorded so far, in order.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.exchanges: list[Exchange] = []
        try:
            "\u2026\u2192".encode(out.encoding or "ascii")
        except (UnicodeEncodeError, LookupError, AttributeError):
            self.ellipsis, self.arrow = "...", "->"
        else:
            self.ellipsis, self.arrow = "\u2026", "\u2192"

    def line(self, text: str = "") -> None:
        print(text, file=self.out)
        self.out.flush()

    def lines(self, texts: Iterable[str], indent: str = "  ") -> None:
        for text in texts:
            self.line(indent + text if text else "")

    # -- rendering -----------------------------------------------------------

    def _authorization(self, value: str) -> str:
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() in ("bearer", "dpop"):
            return f"{scheme} {abbreviate(credentials.strip(), self.ellipsis)}"
        return f"{scheme} {self.ellipsis}"

    def _body(self, content: bytes, content_type: str | None) -> str | None:
        if not content:
            return None
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        text = content.decode("utf-8", "replace")
        if media_type == "application/x-www-form-urlencoded":
            # Shown decoded, for reading: the values as the server reads them.
            text = "&".join(
                f"{name}={abbreviate(value, self.ellipsis) if name in SECRET_FIELDS else value}"
                for name, value in parse_qsl(text, keep_blank_values=True)
            )
        elif media_type == "application/json" or media_type.endswith("+json"):
            try:
                parsed = json.loads(text)
            except ValueError:
                pass
            else:
                text = json.dumps(redact(parsed, self.ellipsis), separators=(",", ":"))
                text = text.replace("\\u2026", self.ellipsis)
        if len(text) > BODY_LIMIT:
            text = text[:BODY_LIMIT] + self.ellipsis
        return text

    def render(self, response: httpx.Response) -> list[str]:
        """The lines that show one exchange (``>`` sent, ``<`` received)."""
        request = response.request
        lines = [f"> {request.method} {request.url}"]
        lines += _headers(
            ">",
            request.headers,
            {
                "Authorization": self._authorization,
                "DPoP": lambda proof: abbreviate(proof, self.ellipsis),
            },
        )
        sent = self._body(request.content, request.headers.get("content-type"))
        if sent is not None:
            lines.append(f"> Content-Type: {request.headers.get('content-type')}")
            lines.append(f"> {sent}")
        lines.append(f"< {response.status_code} {response.reason_phrase}")
        lines += _headers("<", response.headers, {"WWW-Authenticate": str})
        received = self._body(response.content, response.headers.get("content-type"))
        if received is not None:
            lines.append(f"< {received}")
        return lines

    def record(self, response: httpx.Response) -> None:
        """The httpx ``response`` event hook: print the exchange and keep it."""
        response.read()
        self.lines(self.render(response), indent="    ")
        self.line()
        self.exchanges.append(
            Exchange(
                response.request.method,
                str(response.request.url),
                response.status_code,
                response.headers.get("www-authenticate"),
            )
        )


def _headers(
    marker: str, headers: httpx.Headers, shown: Mapping[str, Callable[[str], str]]
) -> list[str]:
    """A line for each of the ``shown`` headers present, its value as its function shows it."""
    return [
        f"{marker} {name}: {show(headers[name])}" for name, show in shown.items() if name in headers
    ]
