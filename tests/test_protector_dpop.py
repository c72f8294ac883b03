"""BearerProtector on the DPoP scheme: any proof, however broken, is a 401, never a crash.

Property-based over the whole request path (scheme parsing, the one proof, the
token, the proof check, the binding, the replay store), sync and async, plus
the cases an adapter could get wrong (no request target, a refused proof that
keeps its jti unspent).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.dpop import ORIGIN, bound, proof
from helpers import IDENTIFIER, SECRET
from scopegate import Settings
from scopegate._protector import BearerProtector
from scopegate._request_url import RequestTarget
from scopegate.errors import BearerError, DPoPFailure, InvalidDPoPProofError

TARGET = RequestTarget("GET", "http", "testserver", "", "/api/private")
TOKEN = bound()()
VALID = proof()(TOKEN)


def protector(**options: Any) -> BearerProtector[Any]:
    values = Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER, **options)
    return BearerProtector(values, publish=lambda token: token)


PROTECTOR = protector()


def outcome(dpop: list[str]) -> BearerError | None:
    try:
        PROTECTOR.authenticate([f"DPoP {TOKEN}"], dpop=dpop, target=lambda: TARGET)
    except BearerError as error:
        return error
    return None


def mutate(value: str, position: int, char: str) -> str:
    position %= len(value)
    return value[:position] + char + value[position + 1 :]


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.text(max_size=200),
            st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
            st.builds(mutate, st.just(VALID), st.integers(0, 10_000), st.characters()),
        ),
        max_size=2,
    )
)
def test_any_proof_is_refused_with_a_401_or_accepted_once(values: list[str]) -> None:
    error = outcome(values)
    if error is None:  # only the valid proof itself (or a no-op mutation of it) passes
        assert len(values) == 1
        return
    assert error.status_code == 401
    assert error.error in ("invalid_dpop_proof", "invalid_token")
    assert error.scheme == "DPoP"
    assert error.description.isprintable()


def test_a_valid_proof_passes_once_sync_and_async() -> None:
    guard = protector()
    fresh = proof()(TOKEN)
    access = guard.authenticate([f"DPoP {TOKEN}"], dpop=[fresh], target=lambda: TARGET)
    assert access.confirmation is not None
    with pytest.raises(InvalidDPoPProofError) as info:
        guard.authenticate([f"DPoP {TOKEN}"], dpop=[fresh], target=lambda: TARGET)
    assert info.value.failure is DPoPFailure.REPLAYED
    other = proof()(TOKEN)
    coroutine = guard.authenticate_async([f"DPoP {TOKEN}"], dpop=[other], target=lambda: TARGET)
    assert asyncio.run(coroutine).confirmation == access.confirmation
    with pytest.raises(InvalidDPoPProofError) as info:
        asyncio.run(
            guard.authenticate_async([f"DPoP {TOKEN}"], dpop=[other], target=lambda: TARGET)
        )
    assert info.value.failure is DPoPFailure.REPLAYED


def test_an_adapter_without_a_target_cannot_accept_dpop() -> None:
    with pytest.raises(InvalidDPoPProofError) as info:
        protector().authenticate([f"DPoP {TOKEN}"], dpop=[proof()(TOKEN)])
    assert info.value.failure is DPoPFailure.URI


def test_the_target_is_only_built_for_dpop() -> None:
    def target() -> RequestTarget:
        raise AssertionError("a Bearer request built its URL")

    from conformance.tokens import mint

    assert protector().authenticate([f"Bearer {mint()}"], target=target) is not None


def test_the_published_object_is_reused_for_the_same_dpop_header() -> None:
    calls: list[Any] = []

    def publish(token: Any) -> Any:
        calls.append(token)
        return object()

    guard = BearerProtector(
        Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER), publish=publish
    )
    header = f"DPoP {TOKEN}"
    first = guard.authenticate(
        [header], cache_key=header, dpop=[proof()(TOKEN)], target=lambda: TARGET
    )
    second = guard.authenticate(
        [header], cache_key=header, dpop=[proof()(TOKEN)], target=lambda: TARGET
    )
    assert first is second
    assert len(calls) == 2  # the anonymous object, then this token once
    assert guard.cached(header) is None  # never answered without a proof


def test_the_origin_of_the_conformance_proofs() -> None:
    assert f"{TARGET.scheme}://{TARGET.host}" == ORIGIN


def _known_header_guard(clock: Any = None) -> tuple[BearerProtector[Any], str, str]:
    """A protector that has accepted one DPoP request with ``TOKEN``'s header (now known).

    Returns the protector, the header and the proof it accepted (fresh: a proof built at
    import time would be older than ``dpop_max_age`` by the time a long suite reaches it).
    """
    from scopegate._verifier import TokenVerifier

    values = Settings.explicit(signing_secret=SECRET, identifier=IDENTIFIER)
    verifier = None if clock is None else TokenVerifier(values, clock=clock)
    guard = BearerProtector(values, publish=lambda token: token, verifier=verifier)
    header = f"DPoP {TOKEN}"
    used = proof()(TOKEN)
    guard.authenticate([header], cache_key=header, dpop=[used], target=lambda: TARGET)
    return guard, header, used


@pytest.mark.parametrize(
    ("dpop", "failure"),
    [
        pytest.param(lambda used: [used], DPoPFailure.REPLAYED, id="replayed"),
        pytest.param(lambda used: [], DPoPFailure.MISSING, id="no-proof"),
        pytest.param(lambda used: [proof()(TOKEN), proof()(TOKEN)], DPoPFailure.MULTIPLE, id="two"),
        pytest.param(lambda used: [proof(method="POST")(TOKEN)], DPoPFailure.METHOD, id="method"),
        pytest.param(lambda used: [proof(with_ath=False)(TOKEN)], DPoPFailure.ATH, id="no-ath"),
        pytest.param(lambda used: [proof(age=10_000)(TOKEN)], DPoPFailure.IAT, id="old"),
    ],
)
def test_a_known_dpop_header_still_has_every_proof_checked(dpop: Any, failure: Any) -> None:
    guard, header, used = _known_header_guard()

    def sync() -> Any:
        return guard.authenticate(
            [header], cache_key=header, dpop=dpop(used), target=lambda: TARGET
        )

    def in_a_loop() -> Any:
        return asyncio.run(
            guard.authenticate_async(
                [header], cache_key=header, dpop=dpop(used), target=lambda: TARGET
            )
        )

    for run in (sync, in_a_loop):
        with pytest.raises(InvalidDPoPProofError) as info:
            run()
        assert (info.value.failure, info.value.scheme, info.value.status_code) == (
            failure,
            "DPoP",
            401,
        )


def test_a_known_dpop_header_is_bound_to_its_key_and_expires_with_its_token() -> None:
    from scopegate.errors import InvalidTokenError, TokenFailure

    offset = [0.0]
    guard, header, _ = _known_header_guard(clock=lambda: time.time() + offset[0])
    with pytest.raises(InvalidTokenError) as info:
        guard.authenticate(
            [header], cache_key=header, dpop=[proof(key="other-ec")(TOKEN)], target=lambda: TARGET
        )
    assert (info.value.failure, info.value.scheme) == (TokenFailure.DPOP_BINDING, "DPoP")
    assert guard.authenticate(
        [header], cache_key=header, dpop=[proof()(TOKEN)], target=lambda: TARGET
    ).confirmation
    offset[0] = 86_400 + 3600  # past the token's exp (a day) and any leeway
    with pytest.raises(InvalidTokenError) as info:
        guard.authenticate([header], cache_key=header, dpop=[proof()(TOKEN)], target=lambda: TARGET)
    assert info.value.failure is TokenFailure.EXPIRED
