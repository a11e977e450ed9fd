"""orderlink's benchmarks, in one command, with a baseline measured in the same run.

    python bench/run.py            # full: 5 rounds of 10 s, 100k and 1M bindings
    python bench/run.py --quick    # under a minute: 2 rounds of 3 s, 100k bindings

The server under test is pinned to CPU 0 and wrk (the load generator, from Debian: `apt-get
install wrk`) to CPU 1. Every scenario is warmed up, then run several rounds at 1 and 32
connections; the median round is reported. Every orderlink figure is also given as a ratio to the
baseline (bench/baseline.py: a minimal hand-written ASGI + stdlib sqlite3 deleteByFilter) measured
in the same run, so results compare across noisy machines. Results also go to
bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
CODE = "benchbenchbench1"  # the webhook bench/populate.py stores
HOOK = f"/rest/1/{CODE}/"
SERVER_CPU, LOAD_CPU = "0", "1"


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if shutil.which("taskset") else command


@contextlib.contextmanager
def server(command: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        pinned(SERVER_CPU, command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_answering(f"http://127.0.0.1:{port}{HOOK}crm.orderentity.getFields", process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.post(url, json={}, timeout=1).status_code in (200, 400):
                return time.monotonic() - began
        time.sleep(0.005)
    raise RuntimeError(f"no answer from {url}")


def orderlink_command(database: Path, port: int, *flags: str) -> list[str]:
    return [
        sys.executable, "-m", "orderlink", "serve", "--database", f"sqlite:///{database}",
        "--port", str(port), "--log-level", "warning", *flags,
    ]  # fmt: skip


def baseline_command(database: Path, port: int) -> list[str]:
    return [sys.executable, str(HERE / "baseline.py"), "--database", f"sqlite:///{database}",
            "--port", str(port)]  # fmt: skip


def wrk(
    url: str, script: str, connections: int, seconds: float, env: dict[str, str]
) -> tuple[float, float, float, int]:
    command = pinned(
        LOAD_CPU,
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s",
         str(SCENARIOS / script), url],
    )  # fmt: skip
    out = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **env}, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _latency(out, "50%")
    p99 = _latency(out, "99%")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(errors.group(1)) if errors else 0


def _latency(out: str, label: str) -> float:
    found = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", out)
    if not found:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def restore_bindings(database: Path) -> None:
    """Put back every binding a run left deleted (each order i is bound to deal i)."""
    conn = sqlite3.connect(database, timeout=30)
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
            "SELECT portal_id, id, 2, id FROM orders"
        )
    conn.close()


def measure(
    name: str,
    url: str,
    script: str,
    *,
    connections: int,
    rounds: int,
    seconds: float,
    env: dict[str, str],
    database: Path | None = None,
    unit: int = 1,
) -> Result:
    wrk(url, script, connections, min(2.0, seconds), env)  # warm-up
    runs = []
    for _ in range(rounds):
        if database is not None:
            restore_bindings(database)
        runs.append(wrk(url, script, connections, seconds, env))
    runs.sort(key=lambda r: r[0])
    median = runs[len(runs) // 2]
    result = Result(name, connections, *median, rounds=[r[0] for r in runs], unit_per_request=unit)
    print(
        f"  {name:<34} c{connections:<3} {result.per_second:>9.0f}/s  p50 {result.p50_ms:6.2f} ms"
        f"  p99 {result.p99_ms:6.2f} ms  errors {result.errors}",
        flush=True,
    )
    return result


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
            orderlink_command(database, port, "--no-rate-limit"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="under a minute: 2 rounds of 3 s, 100k"
    )
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    rounds = args.rounds or (2 if args.quick else 5)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    connections = (32,) if args.quick else (1, 32)
    results: list[Result] = []
    extra: dict[str, float] = {}
    print(f"orderlink benchmarks: {rounds} rounds x {seconds:g} s, server on CPU {SERVER_CPU}, "
          f"wrk on CPU {LOAD_CPU}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="orderlink-bench-") as tmp:
        work = Path(tmp)
        small = work / "100k.db"
        populate(small, 100_000)
        env = {"ORDERS": "100000"}
        for c in connections:
            base_db = work / f"baseline-{c}.db"
            shutil.copy(small, base_db)
            port = free_port()
            with server(baseline_command(base_db, port), port):
                results.append(
                    measure(
                        "baseline deleteByFilter",
                        f"http://127.0.0.1:{port}{HOOK}",
                        "deletebyfilter.lua",
                        connections=c,
                        rounds=rounds,
                        seconds=seconds,
                        env={**env, "MODE": "single"},
                    )
                )
            variants = {
                "deleteByFilter": ("--no-rate-limit",),
                "deleteByFilter, limiter on": (
                    "--bucket-size",
                    "1000000000",
                    "--drain-rate",
                    "1000000",
                ),
            }
            for label, flags in variants.items():
                db = work / f"ol-{c}.db"
                shutil.copy(small, db)
                port = free_port()
                with server(orderlink_command(db, port, *flags), port):
                    results.append(
                        measure(
                            label,
                            f"http://127.0.0.1:{port}{HOOK}",
                            "deletebyfilter.lua",
                            connections=c,
                            rounds=rounds,
                            seconds=seconds,
                            env={**env, "MODE": "pair"},
                            database=db,
                        )
                    )
            db = work / f"ol-other-{c}.db"
            shutil.copy(small, db)
            port = free_port()
            with server(orderlink_command(db, port, "--no-rate-limit"), port):
                url = f"http://127.0.0.1:{port}{HOOK}"
                for label, script, scenario_env, unit in (
                    ("add", "add.lua", {}, 1),
                    ("batch of 50 adds (bindings/s)", "batch_add.lua", {}, 50),
                    ("getFields", "getfields.lua", {}, 1),
                    ("list docs filter, 100k", "list.lua", {"MODE": "docs"}, 1),
                    ("list cursor page, 100k", "list.lua", {"MODE": "cursor"}, 1),
                ):
                    results.append(
                        measure(
                            label,
                            url,
                            script,
                            connections=c,
                            rounds=rounds,
                            seconds=seconds,
                            env={**env, **scenario_env},
                            unit=unit,
                        )
                    )
        extra["cold_start_s"] = cold_start(small)
        print(f"  cold start (process start -> first answer): {extra['cold_start_s']:.3f} s")
        if not args.quick:
            big = work / "1m.db"
            populate(big, 1_000_000)
            port = free_port()
            with server(orderlink_command(big, port, "--no-rate-limit"), port) as process:
                url = f"http://127.0.0.1:{port}{HOOK}"
                for c in connections:
                    for label, mode in (
                        ("list docs filter, 1M", "docs"),
                        ("list cursor page, 1M", "cursor"),
                    ):
                        results.append(
                            measure(
                                label,
                                url,
                                "list.lua",
                                connections=c,
                                rounds=rounds,
                                seconds=seconds,
                                env={"ORDERS": "1000000", "MODE": mode},
                            )
                        )
                extra["rss_mb_1m"] = rss_mb(process.pid)
                print(f"  RSS with 1M bindings after the list runs: {extra['rss_mb_1m']:.0f} MB")
    report(results, extra, rounds, seconds)


def report(results: list[Result], extra: dict[str, float], rounds: int, seconds: float) -> None:
    print("\nRatios to the baseline's deleteByFilter req/s at the same connection count:")
    baselines = {r.connections: r.rps for r in results if r.name.startswith("baseline")}
    for r in results:
        if r.name.startswith("baseline"):
            continue
        ratio = r.per_second / baselines[r.connections]
        print(f"  {r.name:<34} c{r.connections:<3} {ratio:6.2f}x")
    adds = {r.connections: r.per_second for r in results if r.name == "add"}
    for r in results:
        if r.name.startswith("batch"):
            print(f"  batch of 50 adds vs single adds, c{r.connections}: "
                  f"{r.per_second / adds[r.connections]:.1f}x bindings/s")  # fmt: skip
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    payload = {
        "when": stamp,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version},
        "rounds": rounds,
        "seconds": seconds,
        "results": [asdict(r) | {"per_second": r.per_second} for r in results],
        "extra": extra,
    }
    (out / f"{stamp}.json").write_text(json.dumps(payload, indent=2))
    print(f"\nwritten to bench/results/{stamp}.json")


if __name__ == "__main__":
    main()
