"""The JWS compact serialization, read exactly: three canonical base64url segments of UTF-8 JSON.

RFC 7515 §3.1 and §7.1: ``BASE64URL(header) . BASE64URL(payload) . BASE64URL(signature)``;
RFC 7515 §2: base64url *without* padding; RFC 7519 §7.2 and RFC 8259: the header
and the claims are UTF-8 JSON objects. This module owns those rules, so that
the answer does not depend on the PyJWT version installed:

- exactly three segments, each only of the base64url alphabet, no ``=``, and no
  non-zero trailing bits: every segment has exactly one spelling, so one token
  cannot be sent (and cached) under many;
- UTF-8 only: a UTF-16 or UTF-32 segment, one with a byte order mark, or
  invalid UTF-8 is malformed (``json.loads`` on bytes would guess an encoding);
- JSON only: ``NaN``, ``Infinity``, ``-Infinity`` (and numbers too large for a
  float, which Python reads as infinity) are not JSON; a string holding an
  unpaired surrogate (``"\\ud800"``) is not Unicode text; a duplicate member
  name is ambiguous (RFC 7515 §5.2, RFC 7519 §4).

Why our own code, next to PyJWT: PyJWT's reader pads and decodes leniently
(``base64.urlsafe_b64decode``) and parses with plain ``json.loads``; PyJWT
still does the cryptography (:mod:`scopegate._verifier` calls its algorithm
classes on the signing input returned here). Nothing here imports PyJWT.

Each broken rule raises :class:`~scopegate.errors.InvalidTokenError` with
``TokenFailure.MALFORMED`` and a :class:`~scopegate.errors.FailureDetail`.
"""

from __future__ import annotations

import binascii
import json
import math
import re
from typing import Any, NamedTuple

from scopegate.errors import FailureDetail, InvalidTokenError, TokenFailure

__all__ = ["CompactJWS", "decode_segment", "load_object", "split_compact", "split_segments"]

_COMPACT = re.compile(r"([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\Z")
# The last character of a segment of length 4n+2 (4n+3) carries 4 (2) padding
# bits, which must be zero: only these characters leave them so.
_LAST_OF_2 = frozenset("AQgw")
_LAST_OF_3 = frozenset("AEIMQUYcgkosw048")
# A \uD800-\uDFFF escape: the only way an unpaired surrogate enters a str via JSON.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SEGMENTS = ("header", "payload", "signature")
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class CompactJWS(NamedTuple):
    """A compact JWS, split and decoded; the payload still bytes until the signature is checked."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def _malformed(rule: str, segment: str | None = None, found: Any = None) -> InvalidTokenError:
    return InvalidTokenError(
        TokenFailure.MALFORMED, detail=FailureDetail(rule, segment, found=found)
    )


def decode_segment(text: str, segment: str) -> bytes:
    """The one decoding of a canonical unpadded base64url segment (alphabet already checked).

    ``segment`` names it in the failure detail (``header``, ``payload``, ``signature``).
    """
    remainder = len(text) % 4
    if remainder == 1 or (
        remainder and text[-1] not in (_LAST_OF_2 if remainder == 2 else _LAST_OF_3)
    ):
        raise _malformed("base64url", segment)
    try:
        # base64.urlsafe_b64decode, without its four layers of Python (a quarter of the
        # cost of a proof's two segments): the alphabet and the padding bits are checked
        # above and the padding is exact, so nothing is skipped or guessed (3.10 has no
        # strict_mode).
        data = text.encode("ascii").translate(_URLSAFE_TO_STANDARD)
        return binascii.a2b_base64(data + b"==="[: -remainder % 4])
    except binascii.Error as exc:  # pragma: no cover - ruled out by the checks above
        raise _malformed("base64url", segment) from exc


def split_segments(token: str) -> tuple[str, str, str]:
    """The three segments of ``token``, each only of the base64url alphabet, still encoded.

    For a caller that decodes some segments only (:mod:`scopegate._dpop` keeps
    checked headers by their encoded text); :func:`decode_segment` decodes one.

    Raises:
        InvalidTokenError: ``MALFORMED``, unless exactly three such segments.
    """
    match = _COMPACT.match(token)
    if match is None:
        count = token.count(".") + 1
        if count != 3:
            raise _malformed("segments", found=count)
        bad = next(
            name
            for name, text in zip(_SEGMENTS, token.split("."), strict=True)
            if not re.fullmatch(r"[A-Za-z0-9_-]*", text)
        )
        raise _malformed("base64url", bad)
    header_text, payload_text, signature_text = match.groups()
    return str(header_text), str(payload_text), str(signature_text)


def split_compact(token: str) -> CompactJWS:
    """Split ``token`` into its segments, decode them and parse the header.

    Raises:
        InvalidTokenError: ``MALFORMED``, for anything that is not exactly one
            canonical compact JWS with a JSON object as header.
    """
    header_text, payload_text, signature_text = split_segments(token)
    header = load_object(decode_segment(header_text, "header"), "header")
    payload = decode_segment(payload_text, "payload")
    signature = decode_segment(signature_text, "signature")
    signing_input = token[: len(header_text) + len(payload_text) + 1].encode("ascii")
    return CompactJWS(header, payload, signing_input, signature)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for index, name in enumerate(names) if name in names[:index])
        raise ValueError(f"duplicate member name {duplicate!r}")
    return result


# One decoder for every segment: json.loads with hooks would build a new one per call.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique, parse_constant=_no_constant, parse_float=_finite
)


def load_object(raw: bytes, segment: str = "payload") -> dict[str, Any]:
    """``raw`` as a JSON object: UTF-8, no BOM, strict JSON, unique names, no lone surrogates.

    Raises:
        InvalidTokenError: ``MALFORMED`` with the reason in the detail.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("utf-8", segment) from None
    if text.startswith("\ufeff"):
        raise _malformed("bom", segment)
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _malformed("json", segment, "nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, our hooks, and int digit limits
        found = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise _malformed("json", segment, found) from None
    if not isinstance(value, dict):
        raise _malformed("object", segment, type(value).__name__)
    if _SURROGATE_ESCAPE.search(text) is not None:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed("surrogate", segment) from None
    return value
