"""The ``htu`` of a DPoP proof compared as RFC 3986 §6 says: :func:`normalize_htu`.

RFC 9449 §4.3 point 9: the proof's ``htu`` must equal the request's URI,
ignoring query and fragment, after syntax-based and scheme-based
normalisation (RFC 3986 §6.2.2, §6.2.3). The one owner of that rule;
:mod:`scopegate._dpop` compares with it.

Our own code: ``urllib.parse`` does no RFC 3986 §6 normalisation (no dot
segments, no percent-encoding case) and silently drops tabs and newlines from
a URL, and no dependency of scopegate offers it. Sans-IO, standard library only.
"""

from __future__ import annotations

import re

__all__ = ["normalize_htu"]

# RFC 3986 Appendix B, anchored; the authority is required (an absolute http(s) URI).
_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?\Z", re.S)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# pchar without pct-encoded (RFC 3986 §3.3), plus "/": kept as they are in a path.
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=]+\Z")
_IP_LITERAL = re.compile(r"\[[0-9A-Za-z:.]+\]\Z")
_HEX = frozenset("0123456789ABCDEFabcdef")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*\Z")


def _normalize_path(path: str) -> str:
    """Percent-encodings uppercased, unreserved ones decoded, other characters encoded."""
    if _PLAIN_PATH.match(path):  # nothing to change: the common case
        return path
    out: list[str] = []
    index, length = 0, len(path)
    while index < length:
        char = path[index]
        if char == "%":
            pair = path[index + 1 : index + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise ValueError("a % in the path is not a percent-encoding")
            decoded = chr(int(pair, 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + pair.upper())
            index += 3
            continue
        if char in _PATH_SAFE:
            out.append(char)
        else:
            # Not allowed in a URI path: its UTF-8 percent-encoding (RFC 3987 §3.1),
            # so a raw and an encoded spelling of one path compare equal.
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        index += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if len(output) > 0:
                output.pop()
        elif segment != ".":
            output.append(segment)
    result = "/" + "/".join(output)
    # A path ending in "." or ".." names a directory: keep its trailing slash.
    if path.endswith(("/.", "/..")) and not result.endswith("/"):
        result += "/"
    return result


def normalize_htu(uri: str) -> str:
    """An absolute http(s) URI normalised for comparison (RFC 3986 §6.2.2, §6.2.3), no query.

    Scheme and host lowercased, the default port dropped (and an empty one),
    percent-encodings uppercased and unreserved ones decoded, dot segments
    removed, an empty path made ``/``; the query and the fragment are dropped
    (RFC 9449 §4.3 point 9). ``https://Server.example:443/a/../b%7e?x`` becomes
    ``https://server.example/b~``.

    Raises:
        ValueError: not an absolute http or https URI with a host, a user-info
            part, a bad port, a stray ``%`` or a control character.
    """
    if not isinstance(uri, str) or _CONTROL.search(uri) is not None:
        raise ValueError("not a URI")
    match = _URI.match(uri)
    if match is None or match.group(2) is None:
        raise ValueError("not an absolute URI with an authority")
    scheme = match.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("not an http or https URI")
    authority, path = match.group(3), match.group(4)
    if "@" in authority:
        raise ValueError("a user-info part is not allowed")
    if authority.startswith("["):
        close = authority.find("]")
        host, rest = authority[: close + 1], authority[close + 1 :]
        if close < 0 or not _IP_LITERAL.match(host) or (rest and not rest.startswith(":")):
            raise ValueError("a bad IP literal")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_ = authority.partition(":")
        port_text = port_text_ if colon else None
        if not _REG_NAME.match(host):
            raise ValueError("a bad host")
    host = host.lower()
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
            raise ValueError("a bad port")
        port = int(port_text)
        if port != _DEFAULT_PORTS[scheme]:
            host = f"{host}:{port}"
    path = _remove_dot_segments(_normalize_path(path or "/"))
    return f"{scheme}://{host}{path}"
