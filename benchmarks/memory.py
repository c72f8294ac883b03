"""Memory: resident set size while one verifier checks a stream of distinct tokens.

Run in its own process (``python -m benchmarks.memory``) so nothing else the
suite allocated is counted. Tokens differ only in ``jti``, are minted a few
microseconds each without PyJWT, and are dropped once verified, so the only
thing that can grow is the verifier's cache (default size unless told). The
RSS is read from ``/proc/self/status`` after a full garbage collection at each
checkpoint; the result is printed as one JSON object on stdout, and the progress
(every 100,000 tokens and at each checkpoint) on stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from typing import Any

from benchmarks.common import cheap_tokens, make_settings
from scopegate import TokenVerifier

MIB = 1024 * 1024
PROGRESS_EVERY = 100_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_bytes() -> int:
    """The current resident set size (peak size where /proc is unavailable)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure(count: int, checkpoints: list[int], cache_maxsize: int | None) -> dict[str, Any]:
    settings = (
        make_settings() if cache_maxsize is None else make_settings(cache_maxsize=cache_maxsize)
    )
    verifier = TokenVerifier(settings)
    cache = verifier.cache
    # Warm every code path before the baseline, so imports and caches of the
    # interpreter are not counted as the token cache's.
    for token in cheap_tokens(10, start=10**11):
        verifier.verify(token)
    if cache is not None:
        cache.clear()
    gc.collect()
    baseline = rss_bytes()
    points: list[dict[str, Any]] = []
    marks = sorted(c for c in checkpoints if c <= count)
    done = 0
    start = time.perf_counter()
    for mark in marks:
        while done < mark:
            step = min(mark, (done // PROGRESS_EVERY + 1) * PROGRESS_EVERY) - done
            for token in cheap_tokens(step, start=done):
                verifier.verify(token)
            done += step
            if done < mark:
                log(f"[memory] {done:,} tokens ({time.perf_counter() - start:.0f} s)")
        gc.collect()
        rss = rss_bytes()
        elapsed = time.perf_counter() - start
        log(f"[memory] {mark:,} tokens: {rss / MIB:.1f} MiB RSS ({elapsed:.0f} s)")
        points.append(
            {
                "tokens": mark,
                "rss_mib": rss / MIB,
                "growth_mib": (rss - baseline) / MIB,
                "cached": len(cache) if cache is not None else 0,
                "seconds": elapsed,
            }
        )
    return {
        "cache_maxsize": settings.cache_maxsize,
        "baseline_rss_mib": baseline / MIB,
        "points": points,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--checkpoints", default="10000,100000,1000000")
    parser.add_argument("--cache-maxsize", type=int, default=None)
    args = parser.parse_args(argv)
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    if args.count not in checkpoints:
        checkpoints.append(args.count)
    print(json.dumps(measure(args.count, checkpoints, args.cache_maxsize)))


if __name__ == "__main__":
    main()
