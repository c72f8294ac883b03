"""Run scopegate's benchmark suite: a Markdown table on stdout, a chart as SVG.

    python benchmarks/run.py              # the full suite (a few minutes)
    python benchmarks/run.py --quick      # fewer rounds, 100k tokens for memory, short e2e
    python benchmarks/run.py --rounds 31  # more rounds for steadier medians
    python benchmarks/run.py --json results.json --svg results.svg

Progress goes to stderr as it runs (variant, round, time left). Every target is
printed as met or missed with its ratio, in the table and in a summary after it.
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

from benchmarks import chart
from benchmarks.apps import BASELINES, VARIANTS
from benchmarks.cache import CACHE_BASELINE, CACHE_ROWS, cache_batches
from benchmarks.common import MESSAGE, mint
from benchmarks.dpop import DPOP_ROWS, dpop_batches, dpop_results, dpop_table_rows, dpop_verdicts
from benchmarks.e2e import run_e2e
from benchmarks.inprocess import AsgiDriver, WsgiDriver
from benchmarks.keys import BASELINE_OF, KEY_ROWS, key_batches, refresh_p99
from benchmarks.timing import Case, ratio, run_rounds, use_clock
from benchmarks.verifier import VERIFIER_ROWS, verifier_batches

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SVG = ROOT / "benchmarks" / "results.svg"
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
        return f"{'≥' if self.at_least else '≤'} {self.limit:.2f}{self.unit}"

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def verdict(self, value: float) -> str:
        """``met``, or ``missed by`` the gap (Markdown bold)."""
        if self.met(value):
            return "**met**"
        gap = abs(value - self.limit)
        return f"**missed** by {gap:.{2 if gap >= 0.01 else 3}f}{self.unit}"

    def as_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "at_least": self.at_least}

    def figure(self, value: float) -> str:
        """The ratio as printed beside this target (three decimals where two would mislead)."""
        return f"{chart.figure(value, self.as_json())}{self.unit}"


# Targets on the in-process ratio to the group's baseline (lower is better), issue 9.
RATIO_TARGETS = {
    "starlette_scopegate": Target(1.15),
    "fastapi_scopegate": Target(1.3),
    "fastapi_scopegate_decorator": Target(1.3),
    "flask_scopegate": Target(1.1),
    "flask_extension": Target(1.2),
    "verify_miss": Target(1.1),
    # issue 10: RS256 / ES256 on a miss, against jwt.decode with the same key.
    "rs256_miss": Target(1.15),
    "es256_miss": Target(1.15),
}
# Targets on the end-to-end ratio of server CPU time per request to the bare server.
E2E_TARGETS = {
    "starlette_scopegate": Target(1.03),
    "fastapi_scopegate": Target(1.15),
    "flask_scopegate": Target(1.03),
}
# The hand-written baseline must be at least this many times slower than scopegate's hit.
SPEEDUP_TARGET = ("starlette_pyjwt", "starlette_scopegate", Target(4.0, at_least=True))
# The RS256 / ES256 hit never touches a key: it is compared with the HS256 hit (no limit).
HIT_REFERENCE = "verify_hit"
# A JWKS refresh in flight must not raise the p99 of the other requests (issue 10).
REFRESH_TARGET = Target(1.2)
# The chart's row labels: its group titles already name the framework.
CHART_LABELS = {
    "starlette_bare": "bare Starlette",
    "starlette_passthrough": "pass-through ASGI middleware (floor)",
    "starlette_scopegate": "scopegate middleware + require_scope, hit",
    "starlette_scopegate_nocache": "scopegate middleware + require_scope, cache off",
    "starlette_pyjwt": "AuthenticationMiddleware + PyJWT (hand-written)",
    "fastapi_bare": "bare FastAPI",
    "fastapi_passthrough_dependency": "pass-through middleware + no-op dependency (floor)",
    "fastapi_scopegate": "scopegate middleware + Security(require_scope)",
    "fastapi_scopegate_decorator": "scopegate middleware + @require_scope",
    "fastapi_tutorial": "tutorial: HTTPBearer + jwt.decode (sync def)",
    "fastapi_tutorial_async": "tutorial, async def dependency",
    "flask_bare": "bare Flask",
    "flask_passthrough": "pass-through WSGI wrapper (floor)",
    "flask_scopegate": "scopegate WSGI middleware + require_scope",
    "flask_extension": "scopegate ScopeGate extension + require_scope",
    "flask_jwt_extended": "flask-jwt-extended @jwt_required",
    "jwt_decode": "jwt.decode, same checks",
    "verify_hit": "TokenVerifier.verify, cache hit",
    "verify_miss": "TokenVerifier.verify, cache miss",
    "verify_nocache": "TokenVerifier.verify, cache off",
    "cache_ordereddict": "hand-written OrderedDict LRU (former)",
    "cache_tokencache": "TokenCache: cachetools.LRUCache",
    "cache_tlru": "cachetools.TLRUCache",
    "rs256_decode": "jwt.decode, same key and checks",
    "rs256_miss": "TokenVerifier.verify, JWKS, cache miss",
    "rs256_hit": "TokenVerifier.verify, cache hit",
    "es256_decode": "jwt.decode, same key and checks",
    "es256_miss": "TokenVerifier.verify, JWKS, cache miss",
    "es256_hit": "TokenVerifier.verify, cache hit",
}
VERIFIER_BASELINE = "jwt_decode"
VERIFIER_ROLES = {"jwt_decode": "bare"}
CACHE_ROLES = {"cache_ordereddict": "bare", "cache_tlru": "peer"}
KEY_ROLES = dict.fromkeys(BASELINE_OF.values(), "bare")


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
    """Every timed row; the JWK Set servers of the key rows live as long as ``stack``."""
    cases = []
    for name, variant in VARIANTS.items():
        log(f"[setup] building and checking {variant.label}")
        app = variant.build()
        driver = asgi if variant.kind == "asgi" else wsgi
        sanity_check(name, driver, app, token)
        batch = driver.batch(app, f"Bearer {token}")
        cases.append(Case(name, batch, variant.framework, variant.label))
    log("[setup] verifier and token-cache rows")
    for key, batch in verifier_batches().items():
        cases.append(Case(key, batch, "verifier", VERIFIER_ROWS[key]))
    # The cache rows share the verifier's timing group: interleaved with its rows.
    for key, batch in cache_batches().items():
        cases.append(Case(key, batch, "verifier", CACHE_ROWS[key]))
    log("[setup] RS256 and ES256 rows (minting tokens, JWK Set servers on 127.0.0.1)")
    for key, batch in key_batches(stack).items():
        alg, label = KEY_ROWS[key]
        cases.append(Case(key, batch, f"keys-{alg}", label))
    log("[setup] DPoP rows (signing ES256 and RS256 proofs)")
    for key, batch in dpop_batches().items():
        alg, label = DPOP_ROWS[key]
        cases.append(Case(key, batch, f"dpop-{alg}", label))
    return cases


def run_memory(count: int) -> dict[str, Any]:
    """The memory run in a subprocess; its progress lines go straight to our stderr."""
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
        stdout=subprocess.PIPE,
        check=True,
        timeout=900,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- the results: one JSON-able dict, rendered as the table and as the chart ----------------


def _target_fields(target: Target | None, value: float | None) -> dict[str, Any]:
    if target is None or value is None:
        return {"target": None, "met": None}
    return {"target": target.as_json(), "met": target.met(value)}


def _timed_row(
    case: Case, base: Case, label: str, role: str, target: Target | None
) -> dict[str, Any]:
    low, high = case.quartiles_us()
    value = 1.0 if case is base else ratio(case, base)
    return {
        "key": case.key,
        "label": label,
        "short": CHART_LABELS.get(case.key, label),
        "role": role,
        "median_us": case.median_us,
        "q1_us": low,
        "q3_us": high,
        "samples_us": [sample * 1e6 for sample in case.samples],
        "ratio": value,
        **_target_fields(target, None if case is base else value),
    }


def collect(
    cases: dict[str, Case],
    memory: dict[str, Any] | None,
    e2e: dict[str, dict[str, Any]] | None,
    meta: dict[str, Any],
    refresh: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything a run measured, as plain data: what ``--json`` writes and the chart reads.

    ``groups`` is a list of ``{"section", "title", "measure", "baseline", "rows"}``;
    each row has ``key``, ``label``, ``role`` (bare, reference, scopegate, peer),
    ``ratio`` (to the group's baseline, 1.0 for the baseline itself), ``target``
    (``{"limit", "at_least"}`` or None) and ``met``, plus the section's own figures.
    The RS256 / ES256 groups (section ``keys``) are against ``jwt.decode`` with the
    same key; their hit rows also carry ``vs_hs256_hit``, the ratio to the HS256 hit.
    ``refresh`` is what ``benchmarks.keys.refresh_p99`` measured (or None).
    """
    groups: list[dict[str, Any]] = []
    for framework, baseline in BASELINES.items():
        rows = []
        for name, variant in VARIANTS.items():
            if variant.framework != framework:
                continue
            row = _timed_row(
                cases[name], cases[baseline], variant.label, variant.role, RATIO_TARGETS.get(name)
            )
            slow, fast, speedup = SPEEDUP_TARGET
            if name == slow:
                value = ratio(cases[name], cases[fast])
                row["speedup"] = {
                    "over": fast,
                    "value": value,
                    "target": speedup.as_json(),
                    "met": speedup.met(value),
                }
            rows.append(row)
        groups.append(
            {
                "section": "in-process",
                "title": f"{framework}, in-process",
                "measure": "CPU time per request" if meta["clock"] == "cpu" else "time per request",
                "baseline": baseline,
                "rows": rows,
            }
        )
    for section, title, names, baseline, roles in (
        ("verifier", "verifier alone", VERIFIER_ROWS, VERIFIER_BASELINE, VERIFIER_ROLES),
        ("cache", "token cache hit", CACHE_ROWS, CACHE_BASELINE, CACHE_ROLES),
    ):
        rows = [
            _timed_row(
                cases[key],
                cases[baseline],
                label,
                roles.get(key, "scopegate"),
                RATIO_TARGETS.get(key),
            )
            for key, label in names.items()
        ]
        groups.append(
            {
                "section": section,
                "title": title,
                "measure": "time per call",
                "baseline": baseline,
                "rows": rows,
            }
        )
    for alg, baseline in BASELINE_OF.items():
        rows = []
        for key, (row_alg, label) in KEY_ROWS.items():
            if row_alg != alg:
                continue
            row = _timed_row(
                cases[key],
                cases[baseline],
                label,
                KEY_ROLES.get(key, "scopegate"),
                RATIO_TARGETS.get(key),
            )
            if key.endswith("_hit"):
                # per-round ratios across groups: every row runs in every round
                row["vs_hs256_hit"] = {
                    "over": HIT_REFERENCE,
                    "value": ratio(cases[key], cases[HIT_REFERENCE]),
                }
            rows.append(row)
        groups.append(
            {
                "section": "keys",
                "title": f"verifier {alg}",
                "measure": "time per call",
                "baseline": baseline,
                "rows": rows,
            }
        )
    if e2e is not None:
        for framework, baseline in BASELINES.items():
            rows = []
            server = ""
            for name, result in e2e.items():
                variant = VARIANTS[name]
                if variant.framework != framework:
                    continue
                server = result["server"]
                is_base = name == baseline
                value = 1.0 if is_base else result["cpu_ratio"]
                rows.append(
                    {
                        "key": name,
                        "label": variant.label,
                        "short": CHART_LABELS.get(name, variant.label),
                        "role": variant.role,
                        "ratio": value,
                        "cpu_us": result["cpu_us"],
                        "cpu_us_rounds": result["cpu_us_rounds"],
                        "rps": result["rps"],
                        "rps_rounds": result["rps_rounds"],
                        "rps_ratio": 1.0 if is_base else result["ratio"],
                        "p50_ms": result["p50_ms"],
                        **_target_fields(E2E_TARGETS.get(name), None if is_base else value),
                    }
                )
            if rows:
                groups.append(
                    {
                        "section": "e2e",
                        "title": f"{framework} on {server}",
                        "measure": "server CPU time per request",
                        "baseline": baseline,
                        "rows": rows,
                    }
                )
    if refresh is not None:
        refresh = {
            **refresh,
            "target": REFRESH_TARGET.as_json(),
            "met": REFRESH_TARGET.met(refresh["p99_ratio"]),
        }
    dpop = dpop_results(cases) if all(key in cases for key in DPOP_ROWS) else None
    return {"meta": meta, "groups": groups, "memory": memory, "refresh": refresh, "dpop": dpop}


def _row(group: str, label: str, result: str, vs: str, spread: str, target: str) -> str:
    return f"| {group} | {label} | {result} | {vs} | {spread} | {target} |"


def _ratio_cell(row: dict[str, Any]) -> str:
    return f"{chart.figure(row['ratio'], row['target'])}x"


def _target_cell(row: dict[str, Any], prefix: str = "") -> str:
    target = row["target"]
    if target is None:
        return ""
    goal = Target(target["limit"], target["at_least"])
    return f"{prefix}{goal.describe()}: {goal.verdict(row['ratio'])}"


def _memory_rows(memory: dict[str, Any]) -> list[str]:
    lines = []
    points = memory["points"]
    for i, point in enumerate(points):
        target = ""
        if i == len(points) - 1:
            ok = point["growth_mib"] < MEMORY_LIMIT_MIB
            target = f"growth < {MEMORY_LIMIT_MIB:g} MiB: **{'met' if ok else 'missed'}**"
            if i > 0:
                drift = point["rss_mib"] - points[i - 1]["rss_mib"]
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
    return lines


def _refresh_rows(refresh: dict[str, Any]) -> list[str]:
    lines = []
    steady, busy = refresh["steady"], refresh["refreshing"]
    for name, result in (("steady (no refresh)", steady), ("JWKS refresh in flight", busy)):
        target = ""
        if result is busy:
            value = refresh["p99_ratio"]
            target = (
                f"p99 {REFRESH_TARGET.figure(value)} steady (median of per-round ratios, "
                f"{refresh['rounds']} alternating rounds); not raised, "
                f"{REFRESH_TARGET.describe()}: {REFRESH_TARGET.verdict(value)}"
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
    return lines


def table(results: dict[str, Any]) -> list[str]:
    """The results as one Markdown table (JWKS refresh and memory rows after the timed ones)."""
    lines = [
        "| group | row | median | x baseline | IQR | target |",
        "|---|---|---:|---:|---:|---|",
    ]
    e2e_lines: list[str] = []
    for group in results["groups"]:
        baseline = group["baseline"]
        for row in group["rows"]:
            is_base = row["key"] == baseline
            if group["section"] == "e2e":
                rounds = row["rps_rounds"]
                e2e_lines.append(
                    _row(
                        group["title"],
                        row["label"],
                        f"{row['rps']:,.0f} req/s; server CPU {row['cpu_us']:.0f} µs/req",
                        "baseline"
                        if is_base
                        else f"req/s {row['rps_ratio']:.2f}x; CPU/req {_ratio_cell(row)}",
                        f"{min(rounds):,.0f}-{max(rounds):,.0f} req/s; p50 {row['p50_ms']:.2f} ms",
                        _target_cell(row, "CPU/req "),
                    )
                )
                continue
            digits = 1 if group["section"] == "in-process" else 2
            target = _target_cell(row)
            speedup = row.get("speedup")
            if speedup is not None:
                goal = Target(speedup["target"]["limit"], speedup["target"]["at_least"])
                target = (
                    f"{goal.figure(speedup['value'])} slower than scopegate (hit); "
                    f"{goal.describe()}: {goal.verdict(speedup['value'])}"
                )
            same = row.get("vs_hs256_hit")
            if same is not None:
                target = f"{same['value']:.2f}x the HS256 hit (same: ~1.00x)"
            lines.append(
                _row(
                    group["title"],
                    row["label"],
                    f"{row['median_us']:.{digits}f} µs",
                    "baseline" if is_base else _ratio_cell(row),
                    f"{row['q1_us']:.{digits}f}-{row['q3_us']:.{digits}f} µs",
                    target,
                )
            )
    if results.get("dpop") is not None:
        lines.extend(dpop_table_rows(results["dpop"]))
    if results.get("refresh") is not None:
        lines.extend(_refresh_rows(results["refresh"]))
    if results["memory"] is not None:
        lines.extend(_memory_rows(results["memory"]))
    return lines + e2e_lines


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Every ratio target of the run: (what, against what, the ratio, met)."""
    found = []
    for group in results["groups"]:
        base = next(row for row in group["rows"] if row["key"] == group["baseline"])
        for row in group["rows"]:
            if row["target"] is not None:
                goal = Target(row["target"]["limit"], row["target"]["at_least"])
                what = f"{group['title']}: {row['label']} {goal.describe()} {base['label']}"
                if group["section"] == "e2e":
                    what += " (server CPU per request)"
                found.append(
                    (what, goal.figure(row["ratio"]), goal.verdict(row["ratio"]), row["met"])
                )
            speedup = row.get("speedup")
            if speedup is not None:
                goal = Target(speedup["target"]["limit"], speedup["target"]["at_least"])
                what = f"{group['title']}: {row['label']} {goal.describe()} slower than scopegate"
                value = speedup["value"]
                found.append((what, goal.figure(value), goal.verdict(value), speedup["met"]))
    if results.get("dpop") is not None:
        found.extend(dpop_verdicts(results["dpop"]))
    return found


def summary(results: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| target | this run | verdict |", "|---|---:|---|"]
    lines += [f"| {what} | {value} | {verdict} |" for what, value, verdict, _ in verdicts(results)]
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
    parser.add_argument(
        "--svg",
        type=Path,
        default=DEFAULT_SVG,
        metavar="PATH",
        help=f"write the chart there (default {DEFAULT_SVG.relative_to(ROOT)})",
    )
    parser.add_argument("--no-svg", action="store_true", help="do not write the chart")
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the raw results there (python benchmarks/chart.py PATH OUT.svg redraws)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (11 if args.quick else 41)
    started = time.monotonic()
    use_clock(args.clock)

    token = mint(jti="bench")
    asgi, wsgi = AsgiDriver(), WsgiDriver()
    with ExitStack() as stack:  # the key rows' JWK Set servers
        cases = build_cases(token, asgi, wsgi, stack)
        log(f"[in-process] {len(cases)} rows x {rounds} rounds, interleaved")
        run_rounds(
            cases,
            rounds,
            batch_seconds=0.02,
            warmup_seconds=0.2 if args.quick else 0.5,
            progress=log,
        )
    asgi.close()

    log("[refresh] JWKS refresh under load: steady and refreshing phases, alternating")
    refresh = refresh_p99(seconds=1.5 if args.quick else 3.0)

    memory = None
    if not args.no_memory:
        count = 100_000 if args.quick else 1_000_000
        log(f"[memory] verifying {count:,} distinct tokens in a subprocess")
        memory = run_memory(count)

    e2e = None
    if not args.no_e2e:
        e2e = run_e2e(
            rounds=2 if args.quick else 5, seconds=1.0 if args.quick else 2.0, progress=log
        )

    meta = {
        "machine": machine(),
        "rounds": rounds,
        "clock": args.clock,
        "quick": args.quick,
        "wall_seconds": time.monotonic() - started,
    }
    results = collect({case.key: case for case in cases}, memory, e2e, meta, refresh)
    output = [
        "# scopegate benchmarks",
        "",
        *meta["machine"],
        f"- in-process: {rounds} interleaved rounds after warm-up; median µs per request "
        f"({'process CPU' if args.clock == 'cpu' else 'wall'} time); "
        "x baseline = median over rounds of (row / baseline in the same round); "
        "IQR = 25th-75th percentile of the per-round values",
        "- token cache hit: x baseline is against the hand-written OrderedDict LRU",
        "- verifier RS256 / ES256: x baseline is against jwt.decode with the same key; "
        "the hit rows also give their ratio to the HS256 hit",
        "- DPoP: per round, (DPoP request - Bearer header-cache hit) / one cryptography "
        "signature check of the proof's algorithm, median over rounds",
        "- JWKS refresh under load: p50/p99 wall-clock latency of authenticate_async, "
        "median over alternating rounds of a steady phase and one with a refresh in flight",
        "- end to end: 1 uvicorn worker or 1 gunicorn gthread worker (4 threads) on 127.0.0.1, "
        "8 keep-alive connections from benchmarks/loadgen.py in another process; "
        "median over rounds of req/s and of the server's CPU time per request "
        "(ratios: median over rounds of row / bare in the same round)",
        f"- wall time: {meta['wall_seconds']:.0f} s",
        "",
        *table(results),
        "",
        *summary(results),
    ]
    print("\n".join(output))

    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        log(f"[done] raw results written to {args.json}")
    if not args.no_svg:
        args.svg.write_text(chart.render(results), encoding="utf-8")
        log(f"[done] chart written to {args.svg}")
    found = verdicts(results)
    met = sum(1 for *_, ok in found if ok)
    log(f"[targets] {met} of {len(found)} met")
    for what, value, _, ok in found:
        log(f"  {'met   ' if ok else 'MISSED'} {value:>6}  {what}")


if __name__ == "__main__":
    main()
