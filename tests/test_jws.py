"""scopegate._jws: exactly one spelling per segment, and UTF-8 JSON objects only."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopegate._jws import load_object, split_compact
from scopegate.errors import FailureDetail, InvalidTokenError, TokenFailure

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HEADER = {"alg": "HS256"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: bytes, payload: bytes, signature: bytes) -> str:
    return f"{b64url(header)}.{b64url(payload)}.{b64url(signature)}"


def detail_of(call: Any, *args: Any) -> FailureDetail:
    with pytest.raises(InvalidTokenError) as raised:
        call(*args)
    assert raised.value.failure is TokenFailure.MALFORMED
    assert raised.value.detail is not None
    return raised.value.detail


@given(payload=st.binary(max_size=64), signature=st.binary(max_size=70))
def test_canonical_segments_decode_to_their_bytes(payload: bytes, signature: bytes) -> None:
    header = json.dumps(HEADER).encode()
    token = compact(header, payload, signature)
    jws = split_compact(token)
    assert (jws.header, jws.payload, jws.signature) == (HEADER, payload, signature)
    assert jws.signing_input == token.rpartition(".")[0].encode()


@given(
    signature=st.binary(min_size=1, max_size=70).filter(lambda b: len(b) % 3), bit=st.integers(1, 3)
)
def test_every_other_spelling_of_a_segment_is_refused(signature: bytes, bit: int) -> None:
    canonical = b64url(signature)
    spare = 4 if len(canonical) % 4 == 2 else 2  # bits the last character does not carry
    last = ALPHABET.index(canonical[-1])
    variant = last | (bit % (1 << spare) or 1)
    respelled = canonical[:-1] + ALPHABET[variant]
    assert base64.urlsafe_b64decode(respelled + "==") == signature  # the same bytes...
    token = f"{b64url(json.dumps(HEADER).encode())}.e30.{respelled}"
    assert detail_of(split_compact, token) == FailureDetail("base64url", "signature")  # ...refused


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        pytest.param("a.b", FailureDetail("segments", found=2), id="two-segments"),
        pytest.param("a.b.c.d", FailureDetail("segments", found=4), id="four-segments"),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9.e30.c2ln=", FailureDetail("base64url", "signature"), id="padding"
        ),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9.e3+.c2ln", FailureDetail("base64url", "payload"), id="plus"
        ),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9.e30.c2l/", FailureDetail("base64url", "signature"), id="slash"
        ),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9.e30.c2lnA", FailureDetail("base64url", "signature"), id="4n+1"
        ),
        pytest.param(
            ".e30.c2ln", FailureDetail("json", "header", found="Expecting value"), id="empty-header"
        ),
        pytest.param(
            "W10.e30.c2ln", FailureDetail("object", "header", found="list"), id="header-array"
        ),
    ],
)
def test_malformed_serializations(token: str, detail: FailureDetail) -> None:
    assert detail_of(split_compact, token) == detail


JSON_OBJECTS = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=6,
)


@settings(max_examples=200)
@given(value=JSON_OBJECTS, ascii_only=st.booleans())
def test_any_json_object_round_trips(value: dict[str, Any], ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in json.dumps(value, ensure_ascii=False)):
        detail_of(load_object, raw)  # a lone surrogate is never text, escaped or raw
        return
    assert load_object(raw) == value


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        pytest.param("{}".encode("utf-16"), FailureDetail("utf-8", "payload"), id="utf-16-bom"),
        pytest.param(
            '{"a":1}'.encode("utf-16-le"),
            FailureDetail(
                "json", "payload", found="Expecting property name enclosed in double quotes"
            ),
            id="utf-16-le",
        ),
        pytest.param('{"a":1}'.encode("utf-32"), FailureDetail("utf-8", "payload"), id="utf-32"),
        pytest.param(b"\xef\xbb\xbf{}", FailureDetail("bom", "payload"), id="utf-8-bom"),
        pytest.param(
            b'{"a":"\xed\xa0\x80"}', FailureDetail("utf-8", "payload"), id="encoded-surrogate"
        ),
        pytest.param(
            b'{"a":NaN}', FailureDetail("json", "payload", found="NaN is not JSON"), id="nan"
        ),
        pytest.param(
            b'{"a":[Infinity]}',
            FailureDetail("json", "payload", found="Infinity is not JSON"),
            id="infinity",
        ),
        pytest.param(
            b'{"a":{"b":-Infinity}}',
            FailureDetail("json", "payload", found="-Infinity is not JSON"),
            id="minus-infinity",
        ),
        pytest.param(
            b'{"a":1e400}',
            FailureDetail("json", "payload", found="1e400 is too large for a number"),
            id="overflow",
        ),
        pytest.param(
            b'{"a":1,"a":1}',
            FailureDetail("json", "payload", found="duplicate member name 'a'"),
            id="duplicate",
        ),
        pytest.param(
            b'{"o":{"b":1,"b":2}}',
            FailureDetail("json", "payload", found="duplicate member name 'b'"),
            id="nested-duplicate",
        ),
        pytest.param(b'{"a":"\\ud800"}', FailureDetail("surrogate", "payload"), id="lone-high"),
        pytest.param(b'{"\\uDC00":1}', FailureDetail("surrogate", "payload"), id="lone-low-name"),
        pytest.param(
            b'{"a":"\\udc00\\ud800"}', FailureDetail("surrogate", "payload"), id="reversed-pair"
        ),
        pytest.param(b"[]", FailureDetail("object", "payload", found="list"), id="array"),
        pytest.param(b"1", FailureDetail("object", "payload", found="int"), id="number"),
        pytest.param(
            b"[" * 100_000, FailureDetail("json", "payload", found="nested too deeply"), id="deep"
        ),
    ],
)
def test_not_exact_json(raw: bytes, detail: FailureDetail) -> None:
    assert detail_of(load_object, raw) == detail


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        pytest.param(b'{"a":"\\ud83d\\ude00"}', {"a": "\U0001f600"}, id="surrogate-pair"),
        pytest.param(b'{"a":"\\\\ud800"}', {"a": "\\ud800"}, id="escaped-backslash"),
        pytest.param(b' {"a":1.5} ', {"a": 1.5}, id="whitespace-and-float"),
        pytest.param('{"é":"ü"}'.encode(), {"é": "ü"}, id="utf-8-text"),
    ],
)
def test_exact_json(raw: bytes, value: dict[str, Any]) -> None:
    assert load_object(raw) == value
