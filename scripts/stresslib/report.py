"""The stress run's results and its one summary table."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass, field

from stresslib.attacks import AttacksResult
from stresslib.attacks import rows as attack_rows
from stresslib.faults import DamageCase, KillsResult, WorkerKillResult
from stresslib.load import LiveSwap, LoadResult, RebuildRun
from stresslib.mix import BAD_INPUTS

#: Generous guard on the time from ``searchapp serve`` to its first answer.
READY_LIMIT_S = 5.0


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _versions(result: LoadResult) -> str:
    v = result.versions
    return f"A {_n(v.get('A', 0))}, B {_n(v.get('B', 0))}, same in both {_n(v.get('either', 0))}"


def _bad_failures(result: LoadResult | None) -> int:
    if result is None:
        return 0
    bad = {path for path, _ in BAD_INPUTS}
    return sum(1 for f in result.failures if f.path in bad)


@dataclass
class Report:
    started: dt.datetime
    mode: str
    settings: dict
    seed: int
    workers: int
    finished: dt.datetime | None = None
    seconds: float = 0.0
    states: dict = field(default_factory=dict)
    pool: int = 0
    references: dict = field(default_factory=dict)
    ready_after: float | None = None
    live_swap: LiveSwap | None = None
    load: LoadResult | None = None
    rebuild_load: LoadResult | None = None
    rebuilds: list[RebuildRun] = field(default_factory=list)
    incremental_load: LoadResult | None = None
    incremental_runs: list[RebuildRun] = field(default_factory=list)
    fds: tuple[list[int], list[int]] = ([], [])
    worker_kills: WorkerKillResult | None = None
    kills: KillsResult | None = None
    damage: list[DamageCase] = field(default_factory=list)
    server_log: str = ""
    attacks: AttacksResult | None = None

    # ----- the checks: (name, passed, details) -----

    def rows(self) -> list[tuple[str, bool, str]]:
        rows = [self._load_row(), self._rebuild_row(), self._incremental_row()]
        rows += self._fault_rows()
        rows += [self._bad_inputs_row(), self._lost_row(), self._ready_row(), self._swap_row()]
        rows += attack_rows(self.attacks)
        rows.append(self._log_row())
        return rows

    def _load_row(self) -> tuple[str, bool, str]:
        r = self.load
        name = f"load held ({self.settings['clients']} clients, {self.settings['duration']:.0f} s)"
        if r is None:
            return name, False, "not run"
        ok = r.failed == 0 and r.mismatched == 0 and r.requests > 0
        detail = (
            f"{_n(r.requests)} requests, {r.failed} failed, {r.mismatched} wrong; "
            f"{r.rps:.0f} req/s, p50 {r.p50:.0f} ms, p99 {r.p99:.0f} ms"
        )
        if r.failures:
            detail += "; e.g. " + r.describe_failures(2)
        return name, ok, detail

    def _rebuild_row(self) -> tuple[str, bool, str]:
        r = self.rebuild_load
        name = (
            f"load held during rebuild loop ({r.seconds:.0f} s)"
            if r
            else "load held during rebuild loop"
        )
        if r is None:
            return name, False, "not run"
        failed_runs = [x for x in self.rebuilds if x.returncode != 0]
        swaps = len(r.builds_seen)
        both = r.versions.get("A", 0) > 0 and r.versions.get("B", 0) > 0
        ok = r.failed == 0 and r.mismatched == 0 and not failed_runs and both and swaps >= 2
        by_version = {v: sum(1 for x in self.rebuilds if x.version == v) for v in ("A", "B")}
        secs = [x.seconds for x in self.rebuilds]
        detail = (
            f"{_n(r.requests)} requests, {r.failed} failed, {r.mismatched} mixed or partial, "
            f"{r.empty} empty; {len(self.rebuilds)} rebuilds (A {by_version['A']}, "
            f"B {by_version['B']}, {len(failed_runs)} failed"
            + (f", {min(secs):.1f}-{max(secs):.1f} s each" if len(secs) > 1 else "")
            + f"), {swaps} builds seen by /healthz; answers matching {_versions(r)}; "
            f"{_n(r.invariant_checks)} stats/marker/stable answers each exactly A's or B's; "
            f"{r.rps:.0f} req/s, p50 {r.p50:.0f} ms, p99 {r.p99:.0f} ms; worker open files "
            f"{self.fds[0]} before, {self.fds[1]} after"
        )
        if not both or swaps < 2:
            detail += "; NO SWAP SEEN UNDER LOAD (use a longer --duration)"
        if r.failures:
            detail += "; e.g. " + r.describe_failures(3)
        if failed_runs:
            detail += "; failed run: " + failed_runs[0].output[-200:]
        return name, ok, detail

    def _incremental_row(self) -> tuple[str, bool, str]:
        r = self.incremental_load
        if r is None:
            return "load held during incremental loop", False, "not run"
        name = f"load held during incremental loop ({r.seconds:.0f} s)"
        failed_runs = [x for x in self.incremental_runs if x.returncode != 0]
        both = r.versions.get("A", 0) > 0 and r.versions.get("B", 0) > 0
        ok = r.failed == 0 and r.mismatched == 0 and not failed_runs and both
        detail = (
            f"{_n(r.requests)} requests, {r.failed} failed, {r.mismatched} mixed or partial "
            f"(totals, facets, stats), {r.empty} empty; {len(self.incremental_runs)} incremental "
            f"runs A <-> B ({len(failed_runs)} failed); answers matching {_versions(r)}; "
            f"{r.rps:.0f} req/s, p50 {r.p50:.0f} ms, p99 {r.p99:.0f} ms"
        )
        if r.failures:
            detail += "; e.g. " + r.describe_failures(3)
        return name, ok, detail

    def _fault_rows(self) -> list[tuple[str, bool, str]]:
        rows = []
        k = self.kills
        if k is not None:
            counts = ", ".join(f"{n} {what}" for what, n in sorted(k.counts().items()))
            next_ok = sum(t.next_ok for t in k.trials)
            detail = (
                f"{len(k.trials)} runs ({sum(t.mode == 'rebuild' for t in k.trials)} --rebuild, "
                f"{sum(t.mode == 'incremental' for t in k.trials)} incremental after edits), "
                f"SIGKILL to the indexer at 0.02-1.02x a run's length: index afterwards {counts}; "
                f"readable and old-or-new {len(k.trials) - len(k.bad)}/{len(k.trials)}; "
                f"next run completed {next_ok}/{len(k.trials)}; leftover builds "
                f"{sum(t.leftovers for t in k.trials)}, build processes outliving the kill "
                f"{sum(t.orphans for t in k.trials)}"
            )
            if k.bad:
                detail += f"; BAD: {k.bad[0]}"
            rows.append((f"  indexer SIGKILL x{len(k.trials)}", not k.bad, detail))
        if self.damage:
            good = [d for d in self.damage if d.ok]
            first = self.damage[0]
            last = (first.serve.output.strip().splitlines() or [""])[-1]
            message = re.sub(r"\s+", " ", last.replace(str(first.index_dir), "<index>"))[:160]
            detail = (
                f"{len(good)}/{len(self.damage)} ways ({', '.join(d.how for d in self.damage)}): "
                f"serve exit {sorted({d.serve.returncode for d in self.damage}, key=str)}, "
                f"search exit {sorted({d.search.returncode for d in self.damage}, key=str)}, "
                f"no traceback, message: {message!r}; index --rebuild repaired "
                f"{sum(d.repair_ok and d.repaired_state_ok for d in self.damage)}"
            )
            name = f"  damaged index x{len(self.damage)}"
            rows.append((name, len(good) == len(self.damage), detail))
        w = self.worker_kills
        if w is not None:
            replaced = [x.replaced_after for x in w.kills if x.replaced_after is not None]
            span = ""
            if replaced:
                low, high = f"{min(replaced):.2f}", f"{max(replaced):.2f}"
                span = f" in {low} s" if low == high else f" in {low}-{high} s"
            detail = (
                f"{len(replaced)}/{len(w.kills)} replaced{span}"
                + f"; failed requests per kill {[x.failed for x in w.kills]} (bound: the "
                f"connections the worker held {[x.bound for x in w.kills]}; in flight on all "
                f"workers "
                f"{[x.in_flight for x in w.kills]}), {w.failed_outside_kills} other failures, "
                f"{w.load.mismatched} wrong answers, {_n(w.load.requests)} requests"
            )
            rows.append((f"  worker SIGKILL x{len(w.kills)} under load", w.ok, detail))
        total = (len(k.trials) if k else 0) + len(self.damage) + (len(w.kills) if w else 0)
        survived = sum(1 for _, ok, _ in rows if ok)
        head = (
            "faults survived",
            survived == len(rows),
            f"{total} faults: "
            + ", ".join(name.strip() for name, _, _ in rows)
            + f" ({survived}/{len(rows)} kinds passed)",
        )
        return [head, *rows]

    def _bad_inputs_row(self) -> tuple[str, bool, str]:
        results = [r for r in (self.load, self.rebuild_load, self.incremental_load) if r]
        if self.worker_kills:
            results.append(self.worker_kills.load)
        sent = sum(r.bad_inputs for r in results)
        failed = sum(_bad_failures(r) for r in results)
        statuses: dict[str, int] = {}
        for path, _ in BAD_INPUTS:
            status = self.references.get("A", {}).get(path, "?").split()[0]
            statuses[status] = statuses.get(status, 0) + 1
        hostile = "binary, GBK, empty, headerless and 200 KB hostile source files in both versions"
        return (
            "bad inputs tried",
            failed == 0 and sent > 0,
            f"{len(BAD_INPUTS)} hostile requests (answers "
            + ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items()))
            + f"), sent {_n(sent)} times under load, {failed} answered otherwise than on a "
            f"quiet server, 0 5xx in the references; {hostile}",
        )

    def _lost_row(self) -> tuple[str, bool, str]:
        lost_kills = sum(t.lost for t in self.kills.trials) if self.kills else 0
        empty = sum(r.empty for r in (self.load, self.rebuild_load, self.incremental_load) if r)
        repaired_wrong = sum(1 for d in self.damage if not d.repaired_state_ok)
        lost = lost_kills + empty + repaired_wrong
        return (
            "documents lost",
            lost == 0,
            f"{lost} (chunks missing after indexer kills {lost_kills}, empty answers under "
            f"load {empty}, repairs not equal to a clean build {repaired_wrong})",
        )

    def _ready_row(self) -> tuple[str, bool, str]:
        ok = self.ready_after is not None and self.ready_after < READY_LIMIT_S
        value = f"{self.ready_after:.2f} s" if self.ready_after is not None else "never"
        return "serve start to first answer", ok, f"{value} (limit {READY_LIMIT_S:.0f} s)"

    def _swap_row(self) -> tuple[str, bool, str]:
        s = self.live_swap
        if s is None:
            return "rebuild seen without restart", False, "not run"
        ok = s.returncode == 0 and s.seen_after is not None and s.same_processes
        seen = f"{s.seen_after:.2f} s" if s.seen_after is not None else "never"
        return (
            "rebuild seen without restart",
            ok,
            f"A -> B rebuild ({s.rebuild_seconds:.1f} s) shown by /healthz {seen} after it "
            f"ended; same master and workers: {s.same_processes}",
        )

    def _log_row(self) -> tuple[str, bool, str]:
        lines = self.server_log.splitlines()
        tracebacks = sum("Traceback" in line for line in lines)
        errors = [line for line in lines if "[ERROR]" in line and "was sent SIGKILL" not in line]
        timeouts = sum("WORKER TIMEOUT" in line for line in lines)
        return (
            "server log",
            not tracebacks and not errors and not timeouts,
            f"{tracebacks} tracebacks, {timeouts} worker timeouts, {len(errors)} errors other "
            "than the worker kills" + (f"; e.g. {errors[0][:150]}" if errors else ""),
        )

    # ----- output -----

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.rows())

    def table(self) -> str:
        a, b = self.states.get("A", {}), self.states.get("B", {})
        s = self.settings
        head = [
            f"searchapp stress run, {self.started:%Y-%m-%d %H:%M} UTC, {self.mode} "
            f"({s['duration']:.0f} s load phases, {s['clients']} clients, "
            f"{self.workers} workers, seed {self.seed}), {self.seconds:.0f} s in all",
            f"corpus: A {a.get('stats', {}).get('articles')} articles / {a.get('docs')} chunks, "
            f"B {b.get('stats', {}).get('articles')} / {b.get('docs')}; "
            f"request pool: {self.pool} distinct paths",
            "",
        ]
        rows = self.rows()
        width = max(len(name) for name, _, _ in rows)
        lines = [f"{'check':<{width}}  result  details", f"{'-' * width}  ------  {'-' * 72}"]
        for name, ok, detail in rows:
            wrapped = textwrap.wrap(detail, 96) or [""]
            lines.append(f"{name:<{width}}  {'PASS' if ok else 'FAIL':<6}  {wrapped[0]}")
            lines += [f"{'':<{width}}          {more}" for more in wrapped[1:]]
        failed = sum(1 for _, ok, _ in rows if not ok)
        lines.append("")
        lines.append("all checks passed" if not failed else f"{failed} check(s) FAILED")
        return "\n".join(head + lines)
