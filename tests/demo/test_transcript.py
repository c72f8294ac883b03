"""The demo's transcript: abbreviations, redaction, rendering; and the tampered token."""

from __future__ import annotations

import base64
import io

import httpx
import pytest

from scopegate import Settings, TokenVerifier
from scopegate.demo.flow import tamper
from scopegate.demo.transcript import Transcript, abbreviate, redact
from scopegate.errors import InvalidTokenError, TokenFailure
from scopegate.testing import mint_token, test_settings

SECRET = "A" * 12 + "b" * 52


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(SECRET, "AAAAAAAAAAAA\u2026", id="secret"),
        pytest.param("short-secret", "\u2026", id="short"),
        pytest.param("x" * 23, "\u2026", id="under-twice-shown"),
        pytest.param("x" * 24, "xxxxxxxxxxxx\u2026", id="twice-shown"),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9." + "p" * 40 + ".signature-tail",
            "eyJhbGciOiJI\u2026e-tail",
            id="jwt",
        ),
    ],
)
def test_abbreviate(value: str, expected: str) -> None:
    assert abbreviate(value) == expected


def test_redact_reaches_every_secret_field() -> None:
    body = {
        "client_secret": SECRET,
        "nested": [{"signing_secret": SECRET, "name": SECRET}],
        "access_token": SECRET,
        "scope": "a b",
    }
    assert redact(body, "...") == {
        "client_secret": "AAAAAAAAAAAA...",
        "nested": [{"signing_secret": "AAAAAAAAAAAA...", "name": SECRET}],
        "access_token": "AAAAAAAAAAAA...",
        "scope": "a b",
    }


def test_redact_shortens_a_jwk_modulus_and_a_certificate() -> None:
    """Not secret, but a page wide: the JWK Set and the signing-key answers stay readable."""
    body = {
        "keys": [{"kty": "RSA", "n": SECRET, "e": "AQAB", "kid": "k1", "x5c": [SECRET, SECRET]}],
        "cert": "-----BEGIN CERTIFICATE-----\n" + SECRET,
    }
    assert redact(body, "...") == {
        "keys": [
            {
                "kty": "RSA",
                "n": "AAAAAAAAAAAA...",
                "e": "AQAB",
                "kid": "k1",
                "x5c": ["AAAAAAAAAAAA...", "AAAAAAAAAAAA..."],
            }
        ],
        "cert": "-----BEGIN C...",
    }


class Utf8(io.StringIO):
    encoding = "utf-8"


def exchange(request: httpx.Request, response: httpx.Response) -> tuple[list[str], Transcript]:
    response.request = request
    transcript = Transcript(Utf8())
    return transcript.render(response), transcript


def test_a_token_request_and_its_answer() -> None:
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "abc", "client_secret": SECRET},
    )
    response = httpx.Response(
        200, json={"access_token": SECRET, "token_type": "Bearer", "expires_in": 60}
    )
    lines, _ = exchange(request, response)
    assert lines == [
        "> POST http://127.0.0.1:1/oauth/token",
        "> Content-Type: application/x-www-form-urlencoded",
        "> grant_type=client_credentials&client_id=abc&client_secret=AAAAAAAAAAAA\u2026",
        "< 200 OK",
        '< {"access_token":"AAAAAAAAAAAA\u2026","token_type":"Bearer","expires_in":60}',
    ]


def test_a_rejection() -> None:
    request = httpx.Request("GET", "http://api/x", headers={"Authorization": f"Bearer {SECRET}"})
    error = InvalidTokenError(TokenFailure.EXPIRED)
    response = httpx.Response(
        401,
        headers=dict(error.response_headers("api")),
        content=error.json_bytes(),
    )
    lines, _ = exchange(request, response)
    assert lines == [
        "> GET http://api/x",
        "> Authorization: Bearer AAAAAAAAAAAA\u2026",
        "< 401 Unauthorized",
        '< WWW-Authenticate: Bearer realm="api", error="invalid_token", '
        'error_description="The access token has expired"',
        '< {"error":"invalid_token","error_description":"The access token has expired"}',
    ]


def test_a_dpop_request_shows_its_token_and_proof_abbreviated() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9." + "t" * 40 + ".token-tail"
    proof = "eyJ0eXAiOiJkcG9wK2p3dCJ9." + "p" * 40 + ".proof-tail"
    request = httpx.Request(
        "GET", "http://api/x", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
    )
    lines, _ = exchange(request, httpx.Response(200))
    assert lines == [
        "> GET http://api/x",
        "> Authorization: DPoP eyJhbGciOiJS\u2026n-tail",
        "> DPoP: eyJ0eXAiOiJk\u2026f-tail",
        "< 200 OK",
    ]


def test_other_schemes_and_long_bodies() -> None:
    request = httpx.Request("GET", "http://api/x", headers={"Authorization": "Basic dXNlcjpwdw=="})
    response = httpx.Response(200, text="z" * 1000, headers={"content-type": "text/plain"})
    lines, _ = exchange(request, response)
    assert lines[1] == "> Authorization: Basic \u2026"
    assert lines[-1] == "< " + "z" * 600 + "\u2026"


def test_record_keeps_each_exchange() -> None:
    transcript = Transcript(Utf8())
    response = httpx.Response(403, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    response.request = httpx.Request("GET", "http://api/x")
    transcript.record(response)
    assert [(e.method, e.url, e.status, e.challenge) for e in transcript.exchanges] == [
        ("GET", "http://api/x", 403, 'Bearer realm="api"')
    ]
    assert isinstance(transcript.out, io.StringIO)
    assert "< 403 Forbidden" in transcript.out.getvalue()


def test_an_ascii_stream_gets_ascii_marks() -> None:
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    transcript = Transcript(ascii_out)
    assert (transcript.ellipsis, transcript.arrow) == ("...", "->")


def payload(token: str) -> bytes:
    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.mark.parametrize("seed", range(20))
def test_tamper_changes_the_payload_and_breaks_the_signature(seed: int) -> None:
    settings: Settings = test_settings()
    token = mint_token(settings, scopes=["sample-scope"], subject=f"client-{seed}@clients")
    tampered, index, old, new = tamper(token)
    position = len(token.split(".")[0]) + 1 + index
    assert [i for i, (a, b) in enumerate(zip(token, tampered, strict=True)) if a != b] == [position]
    assert token[position] == old
    assert tampered[position] == new
    assert payload(tampered) != payload(token)
    with pytest.raises(InvalidTokenError) as caught:
        TokenVerifier(settings).verify(tampered)
    assert caught.value.failure is TokenFailure.SIGNATURE
