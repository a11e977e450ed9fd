"""orderlink's benchmarks, in one command, with a baseline measured in the same run.

    python bench/run.py            # full: 5 rounds of 10 s; 100k and 1M bindings; scale-out
    python bench/run.py --quick    # under two minutes: 2 rounds of 2 s, c32, PostgreSQL too

The server under test is pinned to CPU 0 and wrk (the load generator, from Debian: `apt-get
install wrk`) to CPU 1. Every scenario is warmed up, then run several rounds at 1 and 32
connections; the median round is reported. Every orderlink figure is also given as a ratio to
the baseline (bench/baseline.py: a minimal hand-written ASGI + stdlib sqlite3 deleteByFilter)
measured in the same run, so results compare across noisy machines. The scale-out section runs
1 and 2 workers on PostgreSQL + Redis against 1 worker on SQLite (unpinned: the workers, the
database and wrk share the machine). Results also go to bench/results/<time>.json (full runs,
kept in git: docs/performance.md cites them) or bench/results/quick/<time>.json (ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
CODE = "benchbenchbench1"  # the webhook bench/populate.py stores
HOOK = f"/rest/1/{CODE}/"
SERVER_CPU, LOAD_CPU = "0", "1"
# A benchmark runs a method continuously for minutes: it would use up the 480-second
# operating-time window as a portal would, so that limit is off, as is the request-rate one.
UNLIMITED = ("--no-rate-limit", "--operating-limit", "0")
# The journal of every call (the test kit, journal.py) is on by default; the "journal off"
# scenarios show what it costs a call, against the same baseline in the same run.
NO_JOURNAL = ("--journal-limit", "0")
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass
class Result:
    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rounds: list[float] = field(default_factory=list)
    unit_per_request: int = 1  # batch: bindings per request

    @property
    def per_second(self) -> float:
        return self.rps * self.unit_per_request


@dataclass
class Run:
    rounds: int
    seconds: float
    warmup: float = 2.0
    results: list[Result] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)

    def measure(
        self,
        name: str,
        url: str,
        script: str,
        *,
        connections: int,
        env: dict[str, str],
        restore: Callable[[], None] | None = None,
        unit: int = 1,
        pinned: bool = True,
    ) -> Result:
        wrk(url, script, connections, self.warmup, env, pinned)
        runs = []
        for _ in range(self.rounds):
            if restore is not None:
                restore()
            runs.append(wrk(url, script, connections, self.seconds, env, pinned))
        return self.record(name, connections, runs, unit)

    def record(
        self,
        name: str,
        connections: int,
        runs: list[tuple[float, float, float, int]],
        unit: int = 1,
    ) -> Result:
        runs = sorted(runs, key=lambda r: r[0])
        median = runs[len(runs) // 2]
        result = Result(name, connections, *median, [r[0] for r in runs], unit)
        self.results.append(result)
        print(
            f"  {name:<40} c{connections:<3} {result.per_second:>9.0f}/s  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}",
            flush=True,
        )
        return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def on_cpu(cpu: str, command: list[str], pinned: bool = True) -> list[str]:
    return ["taskset", "-c", cpu, *command] if pinned and shutil.which("taskset") else command


@contextlib.contextmanager
def server(command: list[str], port: int, pinned: bool = True) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        on_cpu(SERVER_CPU, command, pinned), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_answering(f"http://127.0.0.1:{port}{HOOK}crm.orderentity.getFields", process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.post(url, json={}, timeout=1).status_code in (200, 400):
                return time.monotonic() - began
        time.sleep(0.005)
    raise RuntimeError(f"no answer from {url}")


def orderlink(database: str, port: int, *flags: str) -> list[str]:
    return [
        sys.executable, "-m", "orderlink", "serve", "--database", database,
        "--port", str(port), "--log-level", "warning", *flags,
    ]  # fmt: skip


def baseline(database: Path, port: int) -> list[str]:
    return [
        sys.executable, str(HERE / "baseline.py"), "--database", f"sqlite:///{database}",
        "--port", str(port),
    ]  # fmt: skip


def wrk(
    url: str, script: str, connections: int, seconds: float, env: dict[str, str], pinned: bool
) -> tuple[float, float, float, int]:
    command = on_cpu(
        LOAD_CPU,
        [
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
            "-s", str(SCENARIOS / script), url,
        ],
        pinned,
    )  # fmt: skip
    out = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **env}, check=True
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError("wrk printed no rate:\n" + out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (
        float(found.group(1)),
        _latency(out, "50%"),
        _latency(out, "99%"),
        (int(errors.group(1)) if errors else 0),
    )


def _latency(out: str, label: str) -> float:
    found = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", out)
    if not found:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def restore_sqlite(database: Path) -> Callable[[], None]:
    """Put the bindings back as populated (order i bound to deal i): a run deletes some and
    re-binds others."""

    def restore() -> None:
        conn = sqlite3.connect(database, timeout=30)
        with conn:
            conn.execute("UPDATE bindings SET owner_id = order_id WHERE owner_id <> order_id")
            conn.execute(
                "INSERT OR IGNORE INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
                "SELECT portal_id, id, 2, id FROM orders"
            )
        conn.close()

    return restore


def restore_postgres(url: str) -> Callable[[], None]:
    base, _, schema = url.partition("?schema=")

    def restore() -> None:
        import asyncpg

        async def go() -> None:
            conn = await asyncpg.connect(base)
            try:
                await conn.execute(
                    f"UPDATE {schema}.bindings SET owner_id = order_id WHERE owner_id <> order_id"
                )
                await conn.execute(
                    f"INSERT INTO {schema}.bindings (portal_id, order_id, owner_type_id, owner_id) "
                    f"SELECT portal_id, id, 2, id FROM {schema}.orders ON CONFLICT DO NOTHING"
                )
            finally:
                await conn.close()

        asyncio.run(go())

    return restore


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(database: Path, tries: int = 3) -> float:
    """Seconds from process start to the first answered REST request (median of `tries`)."""
    times = []
    for _ in range(tries):
        port = free_port()
        began = time.monotonic()
        process = subprocess.Popen(
            orderlink(f"sqlite:///{database}", port, "--no-rate-limit"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_answering(f"http://127.0.0.1:{port}{HOOK}crm.orderentity.getFields", process)
            times.append(time.monotonic() - began)
        finally:
            process.terminate()
            process.wait(timeout=15)
    return statistics.median(times)


def populate(database: Path, bindings: int) -> None:
    subprocess.run(
        [sys.executable, str(HERE / "populate.py"), "--database", str(database),
         "--bindings", str(bindings)],
        check=True,
    )  # fmt: skip


def core(
    run: Run, work: Path, small: Path, connections: tuple[int, ...], *, quick: bool = False
) -> None:
    """One pinned core, SQLite, 100k bindings: the baseline and every orderlink scenario (in a
    quick run, the journal's cost on deleteByFilter alone)."""
    env = {"ORDERS": "100000"}
    for c in connections:
        deletes(run, work, small, c, env)
        db = work / f"ol-other-{c}.db"
        shutil.copy(small, db)
        port = free_port()
        with server(orderlink(f"sqlite:///{db}", port, *UNLIMITED), port):
            url = f"http://127.0.0.1:{port}{HOOK}"
            for label, script, scenario_env, unit in (
                ("add", "add.lua", {}, 1),
                ("batch of 50 adds (bindings/s)", "batch_add.lua", {}, 50),
                ("getFields", "getfields.lua", {}, 1),
                ("list docs filter, 100k", "list.lua", {"MODE": "docs"}, 1),
                ("list cursor page, 100k", "list.lua", {"MODE": "cursor"}, 1),
            ):
                run.measure(
                    label, url, script, connections=c, env={**env, **scenario_env}, unit=unit,
                    restore=restore_sqlite(db),
                )  # fmt: skip
        if quick:
            continue
        port = free_port()
        with server(orderlink(f"sqlite:///{db}", port, *UNLIMITED, *NO_JOURNAL), port):
            url = f"http://127.0.0.1:{port}{HOOK}"
            for label, script, scenario_env in (
                ("add, journal off", "add.lua", {}),
                ("list docs filter, 100k, journal off", "list.lua", {"MODE": "docs"}),
            ):
                run.measure(
                    label, url, script, connections=c, env={**env, **scenario_env},
                    restore=restore_sqlite(db),
                )  # fmt: skip


def deletes(run: Run, work: Path, small: Path, connections: int, env: dict[str, str]) -> None:
    """deleteByFilter on the baseline and on orderlink (limits off, then counting but never
    refusing: what the limiter costs; and with the journal off: what it costs). All four
    servers run at once and their rounds alternate, so drifting machine load touches each the
    same."""
    variants = {
        "deleteByFilter": UNLIMITED,
        "deleteByFilter, journal off": (*UNLIMITED, *NO_JOURNAL),
        "deleteByFilter, limiter on": (
            "--bucket-size", "1000000000", "--drain-rate", "1e6", "--operating-limit", "1e9",
        ),
    }  # fmt: skip
    with contextlib.ExitStack() as stack:
        targets = []
        base_db = work / f"baseline-{connections}.db"
        shutil.copy(small, base_db)
        port = free_port()
        stack.enter_context(server(baseline(base_db, port), port))
        targets.append(("baseline deleteByFilter", port, "single", base_db))
        for label, flags in variants.items():
            db = work / f"ol-{len(targets)}-{connections}.db"
            shutil.copy(small, db)
            port = free_port()
            stack.enter_context(server(orderlink(f"sqlite:///{db}", port, *flags), port))
            targets.append((label, port, "pair", db))
        rounds: dict[str, list[tuple[float, float, float, int]]] = {t[0]: [] for t in targets}
        for _name, port, mode, _db in targets:  # warm-up
            url = f"http://127.0.0.1:{port}{HOOK}"
            wrk(url, "deletebyfilter.lua", connections, run.warmup, {**env, "MODE": mode}, True)
        for _ in range(run.rounds):
            for name, port, mode, db in targets:
                restore_sqlite(db)()
                url = f"http://127.0.0.1:{port}{HOOK}"
                rounds[name].append(
                    wrk(url, "deletebyfilter.lua", connections, run.seconds,
                        {**env, "MODE": mode}, True)
                )  # fmt: skip
        for name, measured in rounds.items():
            run.record(name, connections, measured)


def million(run: Run, work: Path, connections: tuple[int, ...]) -> None:
    big = work / "1m.db"
    populate(big, 1_000_000)
    port = free_port()
    with server(orderlink(f"sqlite:///{big}", port, *UNLIMITED), port) as process:
        url = f"http://127.0.0.1:{port}{HOOK}"
        for c in connections:
            for label, mode in (
                ("list docs filter, 1M", "docs"),
                ("list cursor page, 1M", "cursor"),
            ):
                run.measure(
                    label, url, "list.lua", connections=c, env={"ORDERS": "1000000", "MODE": mode}
                )
        run.extra["rss_mb_1m"] = rss_mb(process.pid)
    print(f"  RSS with 1M bindings after the list runs: {run.extra['rss_mb_1m']:.0f} MB")


def scale_out(run: Run, work: Path, small: Path) -> None:
    """deleteByFilter and list with 1 and 2 workers on PostgreSQL + Redis, 1 worker on SQLite."""
    schema = f"bench_{secrets.token_hex(4)}"
    url = f"{POSTGRES}?schema={schema}"
    subprocess.run(
        [sys.executable, "-m", "orderlink", "db", "copy", "--from", f"sqlite:///{small}",
         "--to", url],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    env = {"ORDERS": "100000"}
    setups: list[tuple[str, str, tuple[str, ...], Callable[[], None]]] = []
    sqlite_db = work / "scale-sqlite.db"
    shutil.copy(small, sqlite_db)
    setups.append(("SQLite, 1 worker", f"sqlite:///{sqlite_db}", (), restore_sqlite(sqlite_db)))
    for workers in (1, 2):
        shared = ("--redis", REDIS, "--workers", str(workers))
        setups.append((f"PostgreSQL + Redis, {workers} worker(s)", url, shared,
                       restore_postgres(url)))  # fmt: skip
    # Limits shared through Redis but never refusing (a continuous benchmark would use up the
    # 480 s operating-time window of a method within minutes, exactly as on a portal).
    limits = ("--bucket-size", "1000000000", "--drain-rate", "1e6", "--operating-limit", "0")
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=False, capture_output=True)
    try:
        for label, database, flags, restore in setups:
            port = free_port()
            with server(orderlink(database, port, *limits, *flags), port, pinned=False):
                hook = f"http://127.0.0.1:{port}{HOOK}"
                run.measure(
                    f"scale: deleteByFilter, {label}", hook, "deletebyfilter.lua",
                    connections=32, env={**env, "MODE": "pair"}, restore=restore, pinned=False,
                )  # fmt: skip
                run.measure(
                    f"scale: list docs filter, {label}", hook, "list.lua",
                    connections=32, env={**env, "MODE": "docs"}, pinned=False,
                )  # fmt: skip
    finally:
        drop = f"DROP SCHEMA IF EXISTS {schema} CASCADE"
        subprocess.run(["psql", POSTGRES, "-q", "-c", drop], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="under two minutes")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--no-scale", action="store_true", help="skip PostgreSQL + Redis")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    # --quick: 2 rounds of 2 s after a 1 s warm-up, so every target's ratio is shown in under
    # two minutes with the PostgreSQL scale-out included.
    run = Run(
        args.rounds or (2 if args.quick else 5),
        args.seconds or (2.0 if args.quick else 10.0),
        1.0 if args.quick else 2.0,
    )
    connections = (32,) if args.quick else (1, 32)
    print(
        f"orderlink benchmarks: {run.rounds} rounds x {run.seconds:g} s, "
        f"server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="orderlink-bench-") as tmp:
        work = Path(tmp)
        small = work / "100k.db"
        populate(small, 100_000)
        core(run, work, small, connections, quick=args.quick)
        run.extra["cold_start_s"] = cold_start(small, tries=1 if args.quick else 3)
        print(f"  cold start (process start -> first answer): {run.extra['cold_start_s']:.3f} s")
        if not args.quick:
            million(run, work, connections)
        if not args.no_scale:  # issue 17's PostgreSQL targets: in a quick run too
            scale_out(run, work, small)
    report(run, quick=args.quick)


def report(run: Run, *, quick: bool) -> None:
    print("\nRatios to the baseline's deleteByFilter req/s at the same connection count:")
    baselines = {r.connections: r.rps for r in run.results if r.name.startswith("baseline")}
    for r in run.results:
        if r.name.startswith(("baseline", "scale:")):
            continue
        print(f"  {r.name:<40} c{r.connections:<3} {r.per_second / baselines[r.connections]:6.2f}x")
    adds = {r.connections: r.per_second for r in run.results if r.name == "add"}
    for r in run.results:
        if r.name.startswith("batch"):
            print(
                f"  batch of 50 adds vs single adds, c{r.connections}: "
                f"{r.per_second / adds[r.connections]:.1f}x bindings/s"
            )
    by_name = {(r.name, r.connections): r.per_second for r in run.results}
    for on, off in (
        ("deleteByFilter", "deleteByFilter, journal off"),
        ("add", "add, journal off"),
        ("list docs filter, 100k", "list docs filter, 100k, journal off"),
    ):
        for c in sorted({r.connections for r in run.results}):
            if (on, c) in by_name and (off, c) in by_name:
                print(
                    f"  {on}, journal on vs off, c{c}: {by_name[(on, c)] / by_name[(off, c)]:.2f}"
                )
    limited = "deleteByFilter, limiter on"
    for c in sorted({r.connections for r in run.results}):
        if (limited, c) in by_name and ("deleteByFilter", c) in by_name:
            print(
                f"  deleteByFilter, limiter on vs off, c{c}: "
                f"{by_name[(limited, c)] / by_name[('deleteByFilter', c)]:.2f}"
            )
    scale = {r.name: r.per_second for r in run.results if r.name.startswith("scale:")}
    for scenario in ("deleteByFilter", "list docs filter"):
        sqlite = scale.get(f"scale: {scenario}, SQLite, 1 worker")
        for workers in (1, 2):
            postgres = scale.get(f"scale: {scenario}, PostgreSQL + Redis, {workers} worker(s)")
            if sqlite and postgres:
                print(
                    f"  {scenario}, PostgreSQL + Redis, {workers} worker(s) vs SQLite: "
                    f"{postgres / sqlite:.2f}x"
                )
    out = HERE / "results" / ("quick" if quick else "")
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    payload = {
        "when": stamp,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version},
        "rounds": run.rounds,
        "seconds": run.seconds,
        "results": [asdict(r) | {"per_second": r.per_second} for r in run.results],
        "extra": run.extra,
    }
    (out / f"{stamp}.json").write_text(json.dumps(payload, indent=2))
    print(f"\nwritten to {(out / f'{stamp}.json').relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
