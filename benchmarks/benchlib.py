"""Pure helpers of the benchmark harness: statistics, parsing, targets, tables.

Nothing here starts a process or opens a socket, so ``tests/test_benchmarks.py``
can check it by feeding values.  ``run.py`` does the I/O and calls these.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from typing import Iterable, Optional, Sequence

#: The implementations compared, in the order the table shows them: our
#: package, the reference release, the two peers, and the ceiling (a bare
#: asyncio Protocol with canned answers, see servers/ceiling_server.py).
IMPLS: tuple[str, ...] = ("ours", "ref", "aiohttp", "uvicorn", "ceiling")


def median(values: Iterable[float]) -> Optional[float]:
    """Median of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return float(statistics.median(present))


def ratio(ours: Optional[float], peer: Optional[float]) -> Optional[float]:
    """``ours / peer``, or None when either is missing or ``peer`` is zero."""
    if ours is None or peer is None or peer == 0:
        return None
    return ours / peer


_UNITS = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}


def _number(text: str) -> float:
    """``'12.5k'`` -> 12500.0 (wrk abbreviates large counts)."""
    match = re.fullmatch(r"([0-9.]+)([kKmMgG]?)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk number: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclasses.dataclass
class WrkResult:
    """What one wrk run reports."""

    requests_per_sec: float
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


def parse_wrk(output: str) -> WrkResult:
    """Read wrk's text report.

    Raises ValueError naming the output when it has no ``Requests/sec`` line
    (wrk could not connect, or it was not wrk).
    """
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    total = re.search(r"^\s*([0-9]+) requests in ", output, re.M)
    if rps is None or total is None:
        raise ValueError(f"no Requests/sec in wrk output: {output[-400:]!r}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def parse_proc_status(text: str) -> dict[str, int]:
    """``/proc/PID/status`` memory lines (``VmRSS``, ``VmHWM``...) in bytes."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        match = re.fullmatch(r"(Vm\w+|Rss\w+):\s+(\d+) kB", line.strip())
        if match:
            values[match.group(1)] = int(match.group(2)) * 1024
    return values


def parse_key_values(line: str) -> dict[str, float]:
    """A driver's result line ``RESULT a=1.5 b=2`` -> ``{'a': 1.5, 'b': 2.0}``."""
    if not line.startswith("RESULT"):
        raise ValueError(f"not a RESULT line: {line!r}")
    values: dict[str, float] = {}
    for item in line.split()[1:]:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"item without '=' in {line!r}: {item!r}")
        values[key] = float(value)
    return values


@dataclasses.dataclass(frozen=True)
class Goal:
    """A target of issue 14: ours compared with the best of some peers.

    ``ours / best(peers)`` must be at least ``bound`` when higher is better
    (best = the highest peer figure), at most ``bound`` otherwise (best =
    the lowest).  A goal whose peers all lack a figure fails.
    """

    peers: tuple[str, ...]
    bound: float

    def describe(self, higher_is_better: bool) -> str:
        who = self.peers[0] if len(self.peers) == 1 else "best(" + ",".join(self.peers) + ")"
        return f"ours/{who} {'>=' if higher_is_better else '<='} {self.bound:.2f}x"


@dataclasses.dataclass(frozen=True)
class Metric:
    """One row of the table: a figure every implementation gets.

    ``higher_is_better`` decides which way "ours/peer" reads; ``goals``
    are the targets on ours/peer ratios (all must hold); ``limit`` is a
    bound on our own figure instead (for "memory stays flat", "no stall"),
    read the same way.
    """

    workload: str
    name: str
    unit: str
    higher_is_better: bool = True
    goals: tuple[Goal, ...] = ()
    limit: Optional[float] = None


def best(values: Iterable[Optional[float]], higher_is_better: bool) -> Optional[float]:
    """The best present figure (highest, or lowest when lower is better)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present) if higher_is_better else min(present)


def goal_ratio(metric: Metric, goal: Goal, rounds: dict[str, dict[int, float]],
               suffix: str = "") -> Optional[float]:
    """Median over rounds of ours / best(peers) for one goal.

    ``rounds`` maps an implementation name to its figure per round;
    ``suffix`` is appended to every name (``"+uvloop"`` for that table).
    Each round compares figures taken minutes apart at most, which
    cancels most of a busy machine's drift.
    """
    ours = rounds.get("ours" + suffix, {})
    ratios = []
    for r, value in ours.items():
        peer = best((rounds.get(p + suffix, {}).get(r) for p in goal.peers),
                    metric.higher_is_better)
        ratios.append(ratio(value, peer))
    return median(ratios)


def goal_met(metric: Metric, goal: Goal, value: Optional[float]) -> bool:
    if value is None:
        return False
    return value >= goal.bound if metric.higher_is_better else value <= goal.bound


def verdict(metric: Metric, ours: Optional[float], goal_values: Sequence[Optional[float]] = ()
            ) -> str:
    """'PASS', 'FAIL' or '' (no target) for one row.

    ``goal_values`` are the ratios :func:`goal_ratio` gave for each of the
    metric's goals; ``ours`` is our median, checked against ``limit``.  A
    missing figure fails: a workload that did not run has not met its target.
    """
    if metric.goals:
        ok = all(goal_met(metric, g, v) for g, v in zip(metric.goals, goal_values, strict=True))
    elif metric.limit is not None:
        if ours is None:
            return "FAIL"
        ok = ours <= metric.limit if not metric.higher_is_better else ours >= metric.limit
    else:
        return ""
    return "PASS" if ok else "FAIL"


def parse_importtime(stderr: str, prefix: str = "tornado") -> float:
    """Microseconds that ``python -X importtime`` gives the top-level imports
    whose names start with ``prefix`` (their cumulative column, added up).

    Raises ValueError when there is no such line (the import failed).
    """
    total = 0.0
    found = False
    for line in stderr.splitlines():
        match = re.fullmatch(r"import time:\s+(\d+) \|\s+(\d+) \| (\S.*)", line.rstrip())
        if match and match.group(3).startswith(prefix):
            total += float(match.group(2))
            found = True
    if not found:
        raise ValueError(f"no top-level {prefix} import in: {stderr[-400:]!r}")
    return total


def fmt(value: Optional[float], digits: int = 0) -> str:
    """A figure for the table; '-' when missing, thousands separated."""
    if value is None:
        return "-"
    if digits == 0 and abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.{digits}f}"
    return f"{value:.{max(digits, 2) if abs(value) < 10 else max(digits, 1)}f}"


def fmt_ratio(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(map(len, column)) for column in zip(headers, *rows, strict=True)]


def _padded(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with columns padded to their widest cell."""
    widths = _column_widths(headers, rows)
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([_padded(headers, widths), rule] + [_padded(r, widths) for r in rows])


def render_rst_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The same table as an reStructuredText simple table.

    A blank first cell would make docutils read the row as a continuation of
    the previous one, so it becomes ``..`` (an empty comment).
    """
    rows = [[(r[0] or ".."), *r[1:]] for r in rows]
    widths = _column_widths(headers, rows)
    border = "  ".join("=" * w for w in widths)
    body = [_padded(r, widths) for r in rows]
    return "\n".join([border, _padded(headers, widths), border, *body, border])


def interleave(impls: Sequence[str], round_index: int) -> list[str]:
    """The order implementations run in during one round.

    Rotating the start each round keeps any drift (thermal, page cache, a
    neighbour's load) from always favouring the same implementation, while
    every round still gives each one a turn.
    """
    if not impls:
        return []
    k = round_index % len(impls)
    return list(impls[k:]) + list(impls[:k])


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """The nearest-rank percentile (0-100) of the values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(pct / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def paired_ratio(ours: dict[int, float], peer: dict[int, float]) -> Optional[float]:
    """Median over rounds of ``ours[r] / peer[r]``, for the rounds both ran.

    On a machine shared with other work the load drifts; two runs of the
    same round are minutes apart at most, so their ratio cancels most of
    that drift, where the ratio of two medians would not.
    """
    return median(ratio(ours[r], peer[r]) for r in ours if r in peer)


def cpu_seconds_from_stat(text: str, ticks_per_second: int) -> float:
    """User + system CPU seconds of a process from ``/proc/PID/stat``."""
    # the command name (field 2) is in parentheses and may contain spaces
    fields = text[text.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / ticks_per_second
