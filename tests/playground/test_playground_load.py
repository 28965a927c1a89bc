"""The playground server as it is run: ``fukaku playground`` in a child process, several tabs training at
once (benchmarks/bench_playground_load.py, bounded to a few seconds: every client gets updates and the
probe is always answered; no timing thresholds; nothing written to disk), on IPv6 loopback (the Host
``[::1]:port``), and the command's port handling."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import socket
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")
pytest.importorskip("websockets")

from fukaku.cli import main  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_playground_load.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_playground_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_playground_load_every_session_gets_updates_and_the_probe_answers(tmp_path):
    bench = _load_bench()
    places = {name: tmp_path / name for name in ("cwd", "home", "data", "cache", "tmp")}
    for folder in places.values():
        folder.mkdir()
    env = {**os.environ, "HOME": str(places["home"]), "FUKAKU_DATA": str(places["data"]),
           "XDG_CACHE_HOME": str(places["cache"]), "TMPDIR": str(places["tmp"])}
    r = asyncio.run(bench.run_load(sessions=4, seconds=3, port=0, cwd=str(places["cwd"]), env=env))
    assert r["errors"] == [], r["errors"]
    assert [p for folder in places.values() for p in folder.rglob("*")] == []   # nothing written to disk
    assert len(r["updates"]) == 4 and min(r["updates"]) >= 2, r["updates"]   # the run's reply and training updates
    assert r["epochs_total"] >= 4 and r["updates_per_second"]["min"] > 0
    assert r["probe"]["count"] >= 2 and r["probe"]["errors"] == 0
    assert r["server_peak_rss_mb"] > 0 and r["server_exit"] is not None      # measured, then ended
    assert "updates/s per session" in bench.report(r)


def test_playground_port_in_use_and_out_of_range(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port)]) == 1
        err = capsys.readouterr().err
        assert f"cannot listen on 127.0.0.1 port {port}" in err and "--port" in err
    for bad in ("-1", "65536"):
        assert main(["playground", "--port", bad]) == 2
        assert "--port must be 1-65535 (or 0: a free one)" in capsys.readouterr().err


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_playground_on_ipv6_loopback_accepts_its_bracketed_host():
    """`fukaku playground --host ::1`: the browser's Host is `[::1]:port`, which Starlette's
    TrustedHostMiddleware refused; ours serves it, its WebSocket too, and still refuses a foreign Host."""
    import httpx
    from websockets.asyncio.client import connect

    bench = _load_bench()

    async def main():
        with tempfile.TemporaryFile() as errors:
            proc, port = await bench.start_server(2, 0, "::1", errors)
            base = f"http://[::1]:{port}"
            try:
                async with httpx.AsyncClient(trust_env=False) as http:
                    assert (await http.get(f"{base}/api/limits")).status_code == 200
                    foreign = await http.get(f"{base}/api/limits", headers={"host": "rebound.example"})
                    assert foreign.status_code == 400
                    sid = (await http.post(f"{base}/api/sessions", json={"points": 40})).json()["id"]
                async with connect(f"ws://[::1]:{port}/api/sessions/{sid}/ws", origin=base, proxy=None) as ws:
                    return json.loads(await ws.recv())
            finally:
                await bench.stop_server(proc)

    assert asyncio.run(main())["type"] == "snapshot"
