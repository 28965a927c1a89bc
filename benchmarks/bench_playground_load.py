"""The playground server under load (issue 12): many browser tabs training at once on one machine.

Starts the real server (``python -m fukaku playground --port P --max-sessions N``; ``--port 0``: a free
one, read from the URL it prints), then N concurrent clients, each as a tab would: create a session
(``POST /api/sessions``), open its WebSocket with the page's Origin, send ``{"action": "run"}`` and count
the snapshots (heat-map updates) that arrive for ``--seconds``. Meanwhile a probe asks ``GET /api/limits``
every 0.5 s: its latency is how responsive the server stays. Reports updates per second per session
(median, min) and in total, the epochs trained, the probe's latency (median, p95, max), the server's peak
and final resident memory (VmHWM, VmRSS from /proc), its CPU use, the machine's load, and any errors.
The clients close their sockets and the server is terminated at the end, whatever happened.

Usage: ``python benchmarks/bench_playground_load.py [--sessions 50] [--seconds 60] [--port 0] [--json]``
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

PROBE_PERIOD = 0.5  # seconds between two GET /api/limits
SERVER_START_TIMEOUT = 60.0


def _proc_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of a process, in kB (empty where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmHWM", "VmRSS")}
    except OSError:
        return {}


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by a process (None where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def start_server(sessions: int, port: int, host: str, stderr, cwd: str | None = None,
                       env: dict[str, str] | None = None) -> tuple[asyncio.subprocess.Process, int]:
    """``fukaku playground`` in a child process (its errors to the file ``stderr``; in ``cwd`` with ``env``
    when given) and the port it serves on, read from the URL it prints."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fukaku", "playground", "--host", host, "--port", str(port),
        "--max-sessions", str(sessions), stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=cwd, env=env)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), SERVER_START_TIMEOUT)).decode()
    except asyncio.TimeoutError:
        line = ""
    found = re.search(r"serving on http://\S+:(\d+)/", line)
    if found is None:
        await stop_server(proc)
        stderr.seek(0)
        raise RuntimeError(f"the playground server did not start: {line!r} {stderr.read().decode()[-2000:]}")
    return proc, int(found.group(1))


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    """Terminate the server (SIGTERM: uvicorn shuts down), killing it after 15 s."""
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def _client(http: httpx.AsyncClient, base: str, origin: str, seconds: float, ready: asyncio.Event,
                  start: asyncio.Event, stats: dict[str, Any]) -> None:
    """One tab: create a session, open its socket (``ready``), wait for ``start``, run, count the snapshots
    until ``seconds`` have passed, pause, close the socket, delete the session."""
    try:
        r = await http.post(f"{base}/api/sessions", json={})
        if r.status_code != 201:
            stats["errors"].append(f"POST /api/sessions: {r.status_code} {r.text[:200]}")
            return
        sid = r.json()["id"]
        ws_url = base.replace("http://", "ws://", 1) + f"/api/sessions/{sid}/ws"
        async with connect(ws_url, origin=origin, proxy=None, open_timeout=60, max_size=2**24) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), SERVER_START_TIMEOUT))
            if first.get("type") != "snapshot":
                stats["errors"].append(f"first message: {str(first)[:200]}")
            ready.set()
            await start.wait()  # every tab connected: they run together
            await ws.send(json.dumps({"action": "run"}))
            deadline = time.perf_counter() + seconds
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), left))
                except asyncio.TimeoutError:
                    break
                if message.get("type") == "snapshot":
                    stats["updates"] += message.get("running", False)
                    stats["epoch"] = message["epoch"]
                else:
                    stats["errors"].append(f"message: {str(message)[:200]}")
            await ws.send(json.dumps({"action": "pause"}))
        r = await http.delete(f"{base}/api/sessions/{sid}")
        if r.status_code != 204:
            stats["errors"].append(f"DELETE /api/sessions/{sid}: {r.status_code}")
    finally:
        ready.set()  # also when it failed: the others need not wait for it


async def _probe(http: httpx.AsyncClient, base: str, stop: asyncio.Event, latencies: list[float],
                 errors: list[str]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            r = await http.get(f"{base}/api/limits", timeout=30)
            if r.status_code != 200:
                errors.append(f"probe: {r.status_code}")
            else:
                latencies.append(time.perf_counter() - t0)
        except httpx.HTTPError as exc:
            errors.append(f"probe: {type(exc).__name__} {exc}")
        await asyncio.sleep(max(0.0, PROBE_PERIOD - (time.perf_counter() - t0)))


def netloc(host: str, port: int) -> str:
    """``host:port`` as a URL writes it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def run_load(sessions: int = 50, seconds: float = 60.0, port: int = 0, host: str = "127.0.0.1",
                   cwd: str | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the load test and return its measurements (see the module docstring); ``cwd`` and ``env``: the
    server's working folder and environment (default: this process's)."""
    load_before = os.getloadavg()
    server_errors = tempfile.TemporaryFile()
    proc, port = await start_server(sessions, port, host, server_errors, cwd, env)
    base = f"http://{netloc(host, port)}"
    per_client = [{"updates": 0, "epoch": 0, "errors": []} for _ in range(sessions)]
    latencies: list[float] = []
    probe_errors: list[str] = []
    limits = httpx.Limits(max_connections=sessions + 8)
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=60, limits=limits) as http, \
                httpx.AsyncClient(trust_env=False, timeout=30) as prober:
            start, stop = asyncio.Event(), asyncio.Event()
            cpu0 = _cpu_seconds(proc.pid)
            probe = asyncio.create_task(_probe(prober, base, stop, latencies, probe_errors))
            ready = [asyncio.Event() for _ in per_client]
            clients = [asyncio.create_task(_client(http, base, base, seconds, r, start, s))
                       for r, s in zip(ready, per_client)]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), SERVER_START_TIMEOUT * 2)
            t0 = time.perf_counter()
            start.set()
            results = await asyncio.gather(*clients, return_exceptions=True)
            wall = time.perf_counter() - t0
            stop.set()
            await probe
            cpu1 = _cpu_seconds(proc.pid)
            memory = _proc_status(proc.pid)
    finally:
        await stop_server(proc)
        server_errors.seek(0)
        logged = server_errors.read().decode(errors="replace").strip()
        server_errors.close()
    for stats, result in zip(per_client, results):
        if isinstance(result, BaseException):
            stats["errors"].append(f"client: {type(result).__name__} {result}")
    rates = [s["updates"] / seconds for s in per_client]
    return {
        "sessions": sessions, "seconds": seconds, "wall_seconds": wall, "cpus": os.cpu_count(),
        "load_average_before": load_before[0], "load_average_after": os.getloadavg()[0],
        "updates": [s["updates"] for s in per_client],
        "updates_per_second": {"median": statistics.median(rates), "min": min(rates), "total": sum(rates)},
        "epochs_total": sum(s["epoch"] for s in per_client),
        "probe": {"count": len(latencies), "errors": len(probe_errors),
                  "median_ms": 1e3 * statistics.median(latencies) if latencies else None,
                  "p95_ms": 1e3 * _percentile(latencies, 0.95) if latencies else None,
                  "max_ms": 1e3 * max(latencies) if latencies else None},
        "server_cpu_percent": None if cpu0 is None or cpu1 is None else 100 * (cpu1 - cpu0) / wall,
        "server_peak_rss_mb": memory.get("VmHWM", 0) / 1024, "server_rss_end_mb": memory.get("VmRSS", 0) / 1024,
        "server_exit": proc.returncode,
        "errors": [e for s in per_client for e in s["errors"]] + probe_errors
        + ([f"server stderr: {logged[-2000:]}"] if logged else []),
    }


def report(r: dict[str, Any]) -> str:
    u, p = r["updates_per_second"], r["probe"]
    lines = [
        f"{r['sessions']} sessions x {r['seconds']:g} s on {r['cpus']} CPUs (load average "
        f"{r['load_average_before']:.2f} before, {r['load_average_after']:.2f} after; includes this client process)",
        f"updates/s per session: median {u['median']:.2f}, min {u['min']:.2f}; total {u['total']:.1f}/s",
        f"epochs trained in total: {r['epochs_total']}",
        f"probe GET /api/limits every {PROBE_PERIOD} s: {p['count']} answered, {p['errors']} failed; latency median "
        + (f"{p['median_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms, max {p['max_ms']:.1f} ms" if p["count"] else "n/a"),
        f"server: peak RSS {r['server_peak_rss_mb']:.0f} MB, RSS at the end {r['server_rss_end_mb']:.0f} MB, CPU "
        + ("n/a" if r["server_cpu_percent"] is None else f"{r['server_cpu_percent']:.0f} % of one core"),
        f"errors: {len(r['errors'])}" + "".join(f"\n  {e}" for e in r["errors"][:10]),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50, help="concurrent sessions (default: 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they train (default: 60)")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: 0, a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON too")
    args = parser.parse_args()
    result = asyncio.run(run_load(args.sessions, args.seconds, args.port, args.host))
    print(report(result))
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
