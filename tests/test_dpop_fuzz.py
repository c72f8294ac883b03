"""Hypothesis: no proof, however odd, makes ProofVerifier.verify raise anything but its two errors;
normalize_htu is idempotent and equal for equivalent spellings."""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dpop_helpers import ALGORITHMS, METHOD, NOW, URL, b64url, make_proof, private_key, public_jwk
from scopegate._dpop import DPoPProof, ProofVerifier, normalize_htu
from scopegate._nonce import NonceSource
from scopegate.errors import InvalidDPoPProofError, UseDPoPNonceError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VERIFIER = ProofVerifier(algorithms=ALGORITHMS, clock=lambda: NOW, leeway=5)
NONCE_VERIFIER = ProofVerifier(
    algorithms=["ES256"], clock=lambda: NOW, nonces=NonceSource(secret=b"s", clock=lambda: NOW)
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(verifier: ProofVerifier, proof: Any, **request: Any) -> DPoPProof | None:
    """The verified proof, or None when refused with one of the two errors (anything else fails)."""
    request = {"method": METHOD, "url": URL, **request}
    try:
        return verifier.verify(proof, **request)
    except (InvalidDPoPProofError, UseDPoPNonceError):
        return None


B64 = st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=60)


@FAST
@given(st.text(max_size=300))
def test_any_text(proof: str) -> None:
    outcome(VERIFIER, proof)


@FAST
@given(B64, B64, B64)
def test_any_three_segments(header: str, payload: str, signature: str) -> None:
    outcome(VERIFIER, f"{header}.{payload}.{signature}")


@FAST
@given(JSON, JSON)
def test_any_json_segments(header: Any, payload: Any) -> None:
    proof = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}.AA"
    outcome(VERIFIER, proof)


CLAIM_NAMES = st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce", "exp"])
CLAIM_VALUES = (
    st.sampled_from([METHOD, URL, NOW, NOW - 300, NOW + 6, "", "GET", "https://api.example/"])
    | st.sampled_from([10**400, -(10**400), 1e308, NOW + 0.5])
    | st.integers()
    | JSON
)


@FAST
@given(st.dictionaries(CLAIM_NAMES, CLAIM_VALUES, max_size=7), st.text(max_size=30) | st.none())
def test_signed_proofs_with_fuzzed_claims(claims: dict[str, Any], token: str | None) -> None:
    full = {"jti": "j", "htm": METHOD, "htu": URL, "iat": NOW, **claims}
    proof = make_proof(claims=full)
    outcome(VERIFIER, proof, access_token=token)
    outcome(NONCE_VERIFIER, proof, access_token=token, jkt=token)


HEADER_NAMES = st.sampled_from(["typ", "alg", "jwk", "crit", "kid"])
JWK_VALUES = st.dictionaries(
    st.sampled_from(["kty", "crv", "x", "y", "n", "e", "d", "alg", "k"]),
    st.sampled_from(["EC", "RSA", "OKP", "oct", "P-256", "Ed25519", "AQAB", "AA", ""]) | JSON,
    max_size=6,
)


@FAST
@given(
    st.dictionaries(HEADER_NAMES, JSON | JWK_VALUES | st.sampled_from(ALGORITHMS), max_size=5),
    st.sampled_from(ALGORITHMS),
)
def test_signed_proofs_with_fuzzed_headers(header: dict[str, Any], sign_as: str) -> None:
    proof = make_proof(sign_as, header=header)
    outcome(VERIFIER, proof)


@FAST
@given(JWK_VALUES, st.sampled_from(["ES256", "RS256", "EdDSA"]), st.booleans())
def test_fuzzed_jwk_on_a_valid_header(jwk: dict[str, Any], alg: str, merge: bool) -> None:
    base = public_jwk(private_key("Ed25519" if alg == "EdDSA" else alg)) if merge else {}
    outcome(VERIFIER, make_proof(alg, header={"jwk": {**base, **jwk}}))


@FAST
@given(st.text(max_size=40), st.text(max_size=80), st.text(max_size=40), st.text(max_size=50))
def test_any_request(method: str, url: str, token: str, jkt: str) -> None:
    outcome(VERIFIER, make_proof(), method=method, url=url, access_token=token, jkt=jkt)


# --- normalize_htu ---------------------------------------------------------------------------

URI_CHARS = st.text(alphabet=string.printable + "é€%", max_size=60)


@FAST
@given(st.sampled_from(["http://", "https://", "HTTPS://", "", "ftp://"]), URI_CHARS)
def test_normalize_htu_raises_only_value_error_and_is_idempotent(prefix: str, rest: str) -> None:
    try:
        normalized = normalize_htu(prefix + rest)
    except ValueError:
        return
    assert normalize_htu(normalized) == normalized
    assert "?" not in normalized
    assert "#" not in normalized
    assert normalized.isascii()


UNRESERVED = string.ascii_letters + string.digits + "-._~"
SEGMENT = st.text(alphabet=UNRESERVED + "!$&'()*+,;=:@", min_size=1, max_size=8).filter(
    lambda segment: segment not in (".", "..")
)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """A canonical URI and an equivalent spelling of it (RFC 3986 §6.2.2, §6.2.3)."""
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(
        st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,5}){0,2}", fullmatch=True)
    )
    port = draw(st.sampled_from([None, 8080, 8443]))
    segments = draw(st.lists(SEGMENT, max_size=4))
    canonical_path = "/" + "/".join(segments)
    authority = host + (f":{port}" if port else "")
    canonical = f"{scheme}://{authority}{canonical_path}"

    def spell(segment: str) -> str:
        out = []
        for char in segment:
            if char in UNRESERVED and draw(st.booleans()):
                hexed = f"{ord(char):02X}"
                out.append("%" + (hexed.lower() if draw(st.booleans()) else hexed))
            else:
                out.append(char)
        return "".join(out)

    spelled: list[str] = []
    for segment in segments:
        if draw(st.booleans()):
            spelled.append(".")
        if draw(st.booleans()):
            spelled += ["junk", ".."]
        spelled.append(spell(segment))
    default = {"http": 80, "https": 443}[scheme]
    port_text = f":{port}" if port else draw(st.sampled_from(["", ":", f":{default}"]))
    path = "/" + "/".join(spelled) if spelled else draw(st.sampled_from(["", "/"]))
    scheme_text = scheme.upper() if draw(st.booleans()) else scheme
    host_text = host.upper() if draw(st.booleans()) else host
    tail = draw(st.sampled_from(["", "?q=1", "#frag", "?a#b"]))
    return canonical, f"{scheme_text}://{host_text}{port_text}{path}{tail}"


@FAST
@given(spellings())
def test_equivalent_spellings_normalize_equal(pair: tuple[str, str]) -> None:
    canonical, spelled = pair
    assume(not spelled.split("?")[0].split("#")[0].endswith(("/.", "/..")))
    assert normalize_htu(spelled) == normalize_htu(canonical) == canonical
