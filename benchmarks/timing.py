"""Interleaved timing: every case runs once per round, so machine noise hits all alike.

Each case is a function that performs ``n`` operations and returns the elapsed
seconds. The runner warms every case up, sizes its batch so that one batch takes
about ``batch_seconds``, then runs ``rounds`` rounds. In each round every group
runs in turn, and within a group every case runs one batch back to back, in an
order rotated from round to round; so a case and its baseline are always
measured within a few tens of milliseconds of each other. A case's result is
the median over rounds of its per-operation time; a ratio is the median over
rounds of (case / baseline) measured in the same round, which cancels most of
the drift of a shared machine.

Batches are timed in process CPU time by default: on a shared machine, time
spent descheduled while another process runs is not charged to the code under
test (threads the code uses, such as a thread pool, are still counted). Wall
time is available for an idle machine.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

Batch = Callable[[int], float]
T = TypeVar("T")

CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
_clock = CLOCKS["cpu"]


def use_clock(name: str) -> None:
    """Time batches with process CPU time (``cpu``, the default) or wall time (``wall``)."""
    global _clock
    _clock = CLOCKS[name]


def clock() -> Callable[[], float]:
    """The clock batches are timed with; a batch reads it once, before its loop."""
    return _clock


@dataclass
class Case:
    """One measured row: a key, and a function timing ``n`` operations."""

    key: str
    run: Batch
    group: str = ""
    label: str = ""  # for progress messages
    n: int = 1
    samples: list[float] = field(default_factory=list)  # seconds per operation, one per round

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples) * 1e6

    def quartiles_us(self) -> tuple[float, float]:
        if len(self.samples) < 2:
            return self.median_us, self.median_us
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0] * 1e6, q[2] * 1e6


def calibrate(case: Case, batch_seconds: float, warmup_seconds: float) -> None:
    """Warm the case up and choose its batch size."""
    n, elapsed, spent = 1, 0.0, 0.0
    while spent < warmup_seconds:
        elapsed = case.run(n)
        spent += elapsed
        if elapsed < warmup_seconds / 10:
            n *= 2
    per_op = elapsed / n
    case.n = max(1, int(batch_seconds / per_op))


def run_rounds(
    cases: Sequence[Case],
    rounds: int,
    *,
    batch_seconds: float = 0.02,
    warmup_seconds: float = 0.3,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Warm up, then measure every case ``rounds`` times, interleaved.

    ``progress`` is told about each case warmed up and each round done, with an
    estimate of the time left.
    """
    say = progress or (lambda message: None)
    for i, case in enumerate(cases, 1):
        say(f"[in-process] warm-up {i}/{len(cases)}: {case.label or case.key}")
        calibrate(case, batch_seconds, warmup_seconds)
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(case.group, []).append(case)
    # Everything built so far lives to the end: keep it out of every collection.
    gc.collect()
    gc.freeze()
    started = time.monotonic()
    try:
        for r in range(rounds):
            for members in _rotated(list(groups.values()), r):
                for case in _rotated(members, r):
                    gc.collect()  # nobody pays for the garbage another case left behind
                    case.samples.append(case.run(case.n) / case.n)
            elapsed = time.monotonic() - started
            left = elapsed / (r + 1) * (rounds - r - 1)
            say(
                f"[in-process] round {r + 1}/{rounds} done: {len(cases)} rows in "
                f"{len(groups)} groups, {elapsed:.0f} s so far, about {left:.0f} s left"
            )
    finally:
        gc.unfreeze()


def _rotated(items: Sequence[T], shift: int) -> list[T]:
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def ratio(case: Case, baseline: Case) -> float:
    """Median over rounds of case/baseline, each pair measured in the same round."""
    return statistics.median(c / b for c, b in zip(case.samples, baseline.samples, strict=True))
