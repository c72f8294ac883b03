"""The verifier alone: ``TokenVerifier.verify`` (hit, miss, cache off) against ``jwt.decode``.

``jwt.decode`` is given the same checks scopegate makes (signature, algorithm
list, audience, issuer, ``exp`` required, leeway). A miss cycles through twice
as many distinct tokens as the cache holds, so with least-recently-used
eviction every call misses, decodes, and evicts an entry to store its result:
the full cost a first request pays.
"""

from __future__ import annotations

import itertools
from typing import Any

import jwt

from benchmarks.common import DECODE_KWARGS, SECRET, cheap_tokens, make_settings, mint
from benchmarks.timing import Batch, clock
from scopegate import TokenVerifier

VERIFIER_ROWS = {
    "jwt_decode": "jwt.decode, same checks (baseline)",
    "verify_hit": "TokenVerifier.verify, cache hit",
    "verify_miss": "TokenVerifier.verify, cache miss (full cache, evicting)",
    "verify_nocache": "TokenVerifier.verify, cache off",
}


def verifier_batches(cache_maxsize: int = 10_000) -> dict[str, Batch]:
    """Batch functions for each verifier row, checked once before they are returned."""
    pool = list(cheap_tokens(2 * cache_maxsize))
    hot = mint(jti="hot")
    key = SECRET
    kwargs: dict[str, Any] = DECODE_KWARGS

    decode_tokens = itertools.cycle(pool)

    def decode(n: int) -> float:
        decode_ = jwt.decode
        tokens = decode_tokens
        perf = clock()
        start = perf()
        for _ in range(n):
            decode_(next(tokens), key, **kwargs)
        return perf() - start

    hit_verifier = TokenVerifier(make_settings())
    hit_verifier.verify(hot)

    def hit(n: int) -> float:
        verify = hit_verifier.verify
        perf = clock()
        start = perf()
        for _ in range(n):
            verify(hot)
        return perf() - start

    miss_verifier = TokenVerifier(make_settings(cache_maxsize=cache_maxsize))
    miss_tokens = itertools.cycle(pool)

    def miss(n: int) -> float:
        verify = miss_verifier.verify
        tokens = miss_tokens
        perf = clock()
        start = perf()
        for _ in range(n):
            verify(next(tokens))
        return perf() - start

    off_verifier = TokenVerifier(make_settings(cache_maxsize=0))
    off_tokens = itertools.cycle(pool)

    def nocache(n: int) -> float:
        verify = off_verifier.verify
        tokens = off_tokens
        perf = clock()
        start = perf()
        for _ in range(n):
            verify(next(tokens))
        return perf() - start

    _check_misses(miss_verifier, pool, cache_maxsize)
    return {"jwt_decode": decode, "verify_hit": hit, "verify_miss": miss, "verify_nocache": nocache}


def _check_misses(verifier: TokenVerifier, pool: list[str], maxsize: int) -> None:
    """Prove the miss row misses: after a full pass, the next token is not cached."""
    for token in pool:
        verifier.verify(token)
    cache = verifier.cache
    assert cache is not None
    if len(cache) != maxsize or cache.get(pool[0]) is not None:
        raise RuntimeError("the cache-miss benchmark would hit the cache")
