"""Run scopegate's benchmark suite and print its results as one Markdown table.

    python benchmarks/run.py              # the full suite (a few minutes)
    python benchmarks/run.py --quick      # fewer rounds, 100k tokens for memory, short e2e
    python benchmarks/run.py --rounds 31  # more rounds for steadier medians

See benchmarks/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.apps import BASELINES, VARIANTS
from benchmarks.common import MESSAGE, mint
from benchmarks.e2e import E2E_VARIANTS, run_e2e
from benchmarks.inprocess import AsgiDriver, WsgiDriver
from benchmarks.keys import BASELINE_OF, KEY_ROWS, key_batches, refresh_p99
from benchmarks.timing import Case, ratio, run_rounds, use_clock
from benchmarks.verifier import VERIFIER_ROWS, verifier_batches

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "scopegate",
    "PyJWT",
    "cryptography",
    "httpx",
    "cachetools",
    "starlette",
    "fastapi",
    "pydantic",
    "anyio",
    "Flask",
    "Werkzeug",
    "flask-jwt-extended",
    "uvicorn",
    "h11",
    "gunicorn",
]
FLAT_MIB = 2.0  # "flat": at most this much growth between the last two memory checkpoints
MEMORY_LIMIT_MIB = 64.0


@dataclass(frozen=True)
class Target:
    """A target on a ratio: ``value <= limit`` (or ``>=`` when ``at_least``)."""

    limit: float
    at_least: bool = False
    unit: str = "x"

    def describe(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.limit:g}{self.unit}"

    def verdict(self, value: float) -> str:
        met = value >= self.limit if self.at_least else value <= self.limit
        if met:
            return f"{self.describe()}: **met**"
        gap = abs(value - self.limit)
        return f"{self.describe()}: **missed** by {gap:.2f}{self.unit}"


# Targets on the ratio to the group's baseline (lower is better for µs per request).
RATIO_TARGETS = {
    "starlette_scopegate": Target(1.15),
    "fastapi_scopegate": Target(1.3),
    "fastapi_scopegate_decorator": Target(1.3),
    "flask_scopegate": Target(1.15),
    "verify_miss": Target(1.15),
    "rs256_miss": Target(1.15),
    "es256_miss": Target(1.15),
}
# The hand-written baseline must be at least this many times slower than scopegate's hit.
SPEEDUP_TARGET = ("starlette_pyjwt", "starlette_scopegate", Target(4.0, at_least=True))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> list[str]:
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    cpu = platform.processor() or platform.machine()
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- command: `{shlex.join(['python', 'benchmarks/run.py', *sys.argv[1:]])}`",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}, {platform.platform()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- packages: {', '.join(versions)}",
    ]


def sanity_check(name: str, driver: AsgiDriver | WsgiDriver, app: Any, token: str) -> None:
    status, body = driver.request(app, f"Bearer {token}")
    if status != 200 or MESSAGE.encode() not in body:
        raise RuntimeError(f"{name}: a valid token got {status} {body[:200]!r}")
    if VARIANTS[name].protected:
        status, _ = driver.request(app, None)
        if status not in (401, 403):
            raise RuntimeError(f"{name}: a request without a token got {status}")
        status, _ = driver.request(app, f"Bearer {mint(scope='other-scope')}")
        if status != 403:
            raise RuntimeError(f"{name}: a token without the scope got {status}")


def build_cases(token: str, asgi: AsgiDriver, wsgi: WsgiDriver, stack: ExitStack) -> list[Case]:
    cases = []
    for name, variant in VARIANTS.items():
        app = variant.build()
        driver = asgi if variant.kind == "asgi" else wsgi
        sanity_check(name, driver, app, token)
        cases.append(Case(name, driver.batch(app, f"Bearer {token}"), variant.framework))
    cases.extend(Case(key, batch, "verifier") for key, batch in verifier_batches().items())
    cases.extend(
        Case(key, batch, f"keys-{KEY_ROWS[key][0]}") for key, batch in key_batches(stack).items()
    )
    return cases


def run_memory(count: int) -> dict[str, Any]:
    checkpoints = ",".join(str(c) for c in (10_000, 100_000, 1_000_000) if c <= count)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "benchmarks.memory",
            "--count",
            str(count),
            "--checkpoints",
            checkpoints,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=900,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _row(group: str, label: str, result: str, vs: str, spread: str, target: str) -> str:
    return f"| {group} | {label} | {result} | {vs} | {spread} | {target} |"


def table(
    cases: dict[str, Case],
    memory: dict[str, Any] | None,
    e2e: dict[str, dict[str, Any]] | None,
    refresh: dict[str, Any] | None = None,
) -> list[str]:
    lines = [
        "| group | row | median | x baseline | IQR | target |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, variant in VARIANTS.items():
        case = cases[name]
        base = cases[BASELINES[variant.framework]]
        rel = ratio(case, base)
        low, high = case.quartiles_us()
        target = ""
        if name in RATIO_TARGETS:
            target = RATIO_TARGETS[name].verdict(rel)
        slow, fast, speedup = SPEEDUP_TARGET
        if name == slow:
            value = ratio(case, cases[fast])
            target = f"{value:.2f}x slower than scopegate (hit); " + speedup.verdict(value)
        lines.append(
            _row(
                f"{variant.framework} in-process",
                variant.label,
                f"{case.median_us:.1f} µs",
                "baseline" if case is base else f"{rel:.2f}x",
                f"{low:.1f}-{high:.1f} µs",
                target,
            )
        )
    base = cases["jwt_decode"]
    for key, label in VERIFIER_ROWS.items():
        case = cases[key]
        rel = ratio(case, base)
        low, high = case.quartiles_us()
        target = RATIO_TARGETS[key].verdict(rel) if key in RATIO_TARGETS else ""
        lines.append(
            _row(
                "verifier",
                label,
                f"{case.median_us:.2f} µs",
                "baseline" if case is base else f"{rel:.2f}x",
                f"{low:.2f}-{high:.2f} µs",
                target,
            )
        )
    hs_hit = cases["verify_hit"]
    for key, (alg, label) in KEY_ROWS.items():
        case = cases[key]
        base = cases[BASELINE_OF[alg]]
        rel = ratio(case, base)
        low, high = case.quartiles_us()
        target = RATIO_TARGETS[key].verdict(rel) if key in RATIO_TARGETS else ""
        if key.endswith("_hit"):
            same = ratio(case, hs_hit)  # per-round ratios: every row runs in every round
            target = f"{same:.2f}x the HS256 hit (same: ~1.00x)"
        lines.append(
            _row(
                f"verifier {alg}",
                label,
                f"{case.median_us:.2f} µs",
                "baseline" if case is base else f"{rel:.2f}x",
                f"{low:.2f}-{high:.2f} µs",
                target,
            )
        )
    if refresh is not None:
        steady, busy = refresh["steady"], refresh["refreshing"]
        for name, result in (("steady (no refresh)", steady), ("JWKS refresh in flight", busy)):
            target = ""
            if result is busy:
                target = (
                    f"p99 {refresh['p99_ratio']:.2f}x steady (median of per-round ratios, "
                    f"{refresh['rounds']} alternating rounds); not raised: "
                    f"**{'met' if refresh['p99_ratio'] <= 1.2 else 'missed'}** (≤ 1.2x)"
                )
            lines.append(
                _row(
                    "JWKS refresh under load",
                    f"authenticate_async, {refresh['workers']} concurrent loops, RS256, "
                    f"cache off: {name}; {result['fetches']} fetches of "
                    f"{refresh['delay_ms']:.0f} ms each",
                    f"p99 {result['p99_ms']:.3f} ms (median over rounds)",
                    f"p50 {result['p50_ms']:.3f} ms",
                    f"{result['count']:,.0f} requests",
                    target,
                )
            )
    if memory is not None:
        points = memory["points"]
        full = points[-1]
        for i, point in enumerate(points):
            target = ""
            if point is full:
                ok = full["growth_mib"] < MEMORY_LIMIT_MIB
                target = f"growth < {MEMORY_LIMIT_MIB:g} MiB: **{'met' if ok else 'missed'}**"
                if i > 0:
                    drift = full["rss_mib"] - points[i - 1]["rss_mib"]
                    flat = drift <= FLAT_MIB
                    target += (
                        f"; {drift:+.1f} MiB since {points[i - 1]['tokens']:,} tokens "
                        f"(flat = ≤ {FLAT_MIB:g} MiB): **{'met' if flat else 'missed'}**"
                    )
            lines.append(
                _row(
                    "memory",
                    f"RSS after {point['tokens']:,} distinct tokens "
                    f"(cache_maxsize={memory['cache_maxsize']:,}; {point['cached']:,} cached)",
                    f"{point['rss_mib']:.1f} MiB",
                    f"+{point['growth_mib']:.1f} MiB over "
                    f"{memory['baseline_rss_mib']:.1f} MiB at start",
                    f"{point['seconds']:.0f} s elapsed",
                    target,
                )
            )
    if e2e is not None:
        for name, result in e2e.items():
            variant = VARIANTS[name]
            rounds = result["rps_rounds"]
            is_base = BASELINES[variant.framework] == name
            lines.append(
                _row(
                    f"{variant.framework} on {result['server']}",
                    variant.label,
                    f"{result['rps']:,.0f} req/s; server CPU {result['cpu_us']:.0f} µs/req",
                    "baseline"
                    if is_base
                    else f"req/s {result['ratio']:.2f}x; CPU/req {result['cpu_ratio']:.2f}x",
                    f"{min(rounds):,.0f}-{max(rounds):,.0f} req/s; p50 {result['p50_ms']:.2f} ms",
                    "",
                )
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="scopegate benchmarks", formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a shorter run (memory: 100k tokens)")
    parser.add_argument(
        "--rounds", type=int, default=None, help="in-process rounds (default 41, 11 with --quick)"
    )
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="time in-process batches in process CPU time (default) or wall time",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    parser.add_argument("--no-e2e", action="store_true", help="skip the real-server run")
    args = parser.parse_args(argv)
    rounds = args.rounds or (11 if args.quick else 41)
    started = time.monotonic()
    use_clock(args.clock)

    token = mint(jti="bench")
    asgi, wsgi = AsgiDriver(), WsgiDriver()
    log("building and checking every variant...")
    stack = ExitStack()
    cases = build_cases(token, asgi, wsgi, stack)
    log(f"in-process: {len(cases)} rows x {rounds} rounds, interleaved")
    run_rounds(
        cases,
        rounds,
        batch_seconds=0.02,
        warmup_seconds=0.2 if args.quick else 0.5,
        progress=log,
    )
    asgi.close()
    stack.close()

    log("JWKS refresh under load...")
    refresh = refresh_p99(seconds=1.5 if args.quick else 3.0)

    memory = None
    if not args.no_memory:
        count = 100_000 if args.quick else 1_000_000
        log(f"memory: verifying {count:,} distinct tokens in a subprocess...")
        memory = run_memory(count)

    e2e = None
    if not args.no_e2e:
        log(f"end to end: {len(E2E_VARIANTS)} servers on 127.0.0.1...")
        e2e = run_e2e(
            rounds=2 if args.quick else 5, seconds=1.0 if args.quick else 2.0, progress=log
        )

    output = [
        "# scopegate benchmarks",
        "",
        *machine(),
        f"- in-process: {rounds} interleaved rounds after warm-up; median µs per request "
        f"({'process CPU' if args.clock == 'cpu' else 'wall'} time); "
        "x baseline = median over rounds of (row / baseline in the same round); "
        "IQR = 25th-75th percentile of the per-round values",
        "- end to end: 1 uvicorn worker or 1 gunicorn gthread worker (4 threads) on 127.0.0.1, "
        "8 keep-alive connections from benchmarks/loadgen.py in another process; "
        "median over rounds of req/s and of the server's CPU time per request "
        "(ratios: median over rounds of row / bare in the same round)",
        f"- wall time: {time.monotonic() - started:.0f} s",
        "",
        *table({case.key: case for case in cases}, memory, e2e, refresh),
    ]
    print("\n".join(output))


if __name__ == "__main__":
    main()
