"""fukaku.playground.server through Starlette's TestClient: the API, bad parameters, exports, the
WebSocket stream, a foreign Origin refused, the session limits, the page and its security headers, the
idle reaper, the Host check, and the compute lock that sessions share."""
from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

import fukaku as fk  # noqa: E402
from fukaku.playground.cli import LOOPBACK  # noqa: E402
from fukaku.playground.server import STATIC, SessionManager, create_app, page_policy, split_host  # noqa: E402

SMALL = {"points": 100}


@pytest.fixture
def client():
    with TestClient(create_app(max_sessions=3)) as c:
        yield c


def _create(client, config=SMALL):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_limits_validate_create_step_reset_delete(client):
    lim = client.get("/api/limits").json()
    assert lim["defaults"]["hidden"] == [4, 2] and lim["bounds"]["units"] == [1, 8]
    assert client.post("/api/validate", json={"hidden": [8, 8]}).json()["config"]["hidden"] == [8, 8]
    sid = _create(client)
    shown = client.get(f"/api/sessions/{sid}").json()
    assert shown["config"]["points"] == 100 and shown["running"] is False and shown["snapshot"]["epoch"] == 0
    snap = client.post(f"/api/sessions/{sid}/step", json={"epochs": 3}).json()
    assert snap["epoch"] == 3 and len(snap["curve"]["test"]) == 4
    assert len(client.get(f"/api/sessions/{sid}/data").json()["train"]["x"]) == 50
    snap = client.post(f"/api/sessions/{sid}/reset", json={"points": 40, "hidden": [2]}).json()
    assert snap["epoch"] == 0 and [len(layer) for layer in snap["layers"]] == [2, 2, 1]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    r = client.get(f"/api/sessions/{sid}")
    assert r.status_code == 404 and "create a new one" in r.json()["error"]


@pytest.mark.parametrize("body, field, words", [
    ({"hidden": [4] * 7}, "hidden", "at most 6 hidden layers"),
    ({"hidden": [20]}, "hidden", "between 1 and 8"),
    ({"learning_rate": 1e3}, "learning_rate", "between"),
    ({"batch_size": 0}, "batch_size", "between"),
    ({"points": 100000}, "points", "between 20 and 2000"),
    ({"noise": 3}, "noise", "between 0 and 0.5"),
    ({"train_ratio": 0}, "train_ratio", "between"),
    ({"activation": "cos"}, "activation", "not one of"),
])
def test_bad_parameters_get_422_with_a_clear_message(client, body, field, words):
    for path in ("/api/sessions", "/api/validate"):
        r = client.post(path, json=body)
        assert r.status_code == 422 and r.json()["field"] == field and words in r.json()["error"], r.text
    assert client.app.state.sessions.entries == {}


def test_bad_bodies_and_step_counts(client):
    r = client.post("/api/sessions", content=b"{not json")
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    sid = _create(client)
    for epochs in (0, 101, "3", True):
        r = client.post(f"/api/sessions/{sid}/step", json={"epochs": epochs})
        assert r.status_code == 422 and r.json()["field"] == "epochs"
    assert client.post("/api/sessions/nope/step", json={}).status_code == 404


def test_session_limit_and_idle_sessions_ended():
    with TestClient(create_app(max_sessions=2, idle_seconds=3600)) as client:
        first, _ = _create(client), _create(client)
        r = client.post("/api/sessions", json=SMALL)
        assert r.status_code == 503 and "maximum of 2 sessions" in r.json()["error"]
        client.app.state.sessions.idle_seconds = 0       # every session is now idle: room is made
        assert client.post("/api/sessions", json=SMALL).status_code == 201
        assert client.get(f"/api/sessions/{first}").status_code == 404


def test_cpu_budget_enforced():
    with TestClient(create_app(cpu_budget=1e-9)) as client:
        sid = _create(client)
        assert client.post(f"/api/sessions/{sid}/step", json={"epochs": 1}).status_code == 200  # spends it
        r = client.post(f"/api/sessions/{sid}/step", json={"epochs": 1})
        assert r.status_code == 429 and "budget" in r.json()["error"]
        with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
            ws.receive_json()
            ws.send_json({"action": "run"})
            message = ws.receive_json()
            assert message["type"] == "error" and "budget" in message["error"]


def test_export_checkpoint_loads_and_script_builds_the_same_network(client, tmp_path):
    sid = _create(client, {**SMALL, "features": ["x1", "x2", "x1*x2", "sin(x2)"], "hidden": [5, 3],
                           "activation": "relu", "batch_norm": True, "dropout": 0.2})
    client.post(f"/api/sessions/{sid}/step", json={"epochs": 5})
    r = client.get(f"/api/sessions/{sid}/export/checkpoint")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ckpt = fk.load(io.BytesIO(r.content))
    assert ckpt["epoch"] == 5 and json.loads(ckpt["config"])["hidden"] == [5, 3]
    model = client.app.state.sessions.get(sid).session.model
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(ckpt["state_dict"][k].numpy(), v.numpy())

    r = client.get(f"/api/sessions/{sid}/export/script")
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="playground.py"'
    namespace: dict = {"__name__": "exported"}
    exec(compile(r.text, "playground.py", "exec"), namespace)  # with real PyTorch: the oracle
    twin = namespace["build"]()
    x = np.random.default_rng(0).uniform(-6, 6, (50, 2)).astype(np.float32)
    model.eval()
    with fk.no_grad(), torch.no_grad():
        np.testing.assert_allclose(model(fk.tensor(x)).numpy(), twin(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
    script = tmp_path / "playground.py"
    script.write_text(r.text)
    ran = subprocess.run([sys.executable, "-m", "fukaku", "run", str(script)], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    with torch.no_grad():
        want = twin(torch.tensor([[-6.0, -6.0], [0.0, 0.0], [2.5, -1.0], [6.0, 6.0]]))[:, 0].tolist()
    got = [float(line.split(": ")[1]) for line in ran.stdout.splitlines()]
    np.testing.assert_allclose(got, want, atol=2e-6)


def test_websocket_streams_while_running(client):
    sid = _create(client)
    with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["epoch"] == 0 and first["running"] is False
        ws.send_json({"action": "step"})
        stepped = ws.receive_json()
        assert stepped["epoch"] == 1 and stepped["curve"]["from"] == 1 and len(stepped["curve"]["test"]) == 1
        ws.send_json({"action": "run"})
        updates = [ws.receive_json() for _ in range(5)]
        epochs = [u["epoch"] for u in updates]
        assert epochs == sorted(epochs) and epochs[-1] > 1
        for before, after in zip([stepped, *updates], updates):  # each epoch's losses sent exactly once
            assert after["curve"]["from"] == before["epoch"] + 1
            assert len(after["curve"]["test"]) == after["epoch"] - before["epoch"] == len(after["grad_norms"])
        ws.send_json({"action": "pause"})
        while ws.receive_json()["running"]:   # updates already under way may still arrive
            pass
        ws.send_json({"action": "bogus"})
        while (error := ws.receive_json())["type"] == "snapshot":  # a last update may still be on its way
            assert error["running"] is False
        assert error["type"] == "error" and "unknown action" in error["error"]
        ws.send_json({"action": "reset", "config": {"hidden": [9]}})
        error = ws.receive_json()
        assert error["type"] == "error" and error["field"] == "hidden"
        ws.send_json({"action": "reset", "config": {"points": 40}})
        reset = ws.receive_json()
        assert reset["epoch"] == 0 and reset["curve"]["from"] == 0 and len(reset["curve"]["test"]) == 1
    assert client.app.state.sessions.get(sid).running is False   # a closed tab stops training


def test_foreign_origin_refused_own_origin_accepted(client):
    sid = _create(client)
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect(f"/api/sessions/{sid}/ws", headers={"origin": "http://evil.example"}):
            pass
    assert info.value.code == 1008
    with client.websocket_connect(f"/api/sessions/{sid}/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "snapshot"
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/api/sessions/unknown/ws"):
            pass


def test_allowed_hosts():
    with TestClient(create_app(allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/limits").status_code == 200
        r = c.get("/api/limits", headers={"host": "rebound.example"})
        assert r.status_code == 400 and "DNS rebinding" in r.json()["error"] and "127.0.0.1" in r.json()["error"]


@pytest.mark.parametrize("value, parsed", [
    ("127.0.0.1", ("127.0.0.1", None)), ("127.0.0.1:8000", ("127.0.0.1", 8000)), ("LocalHost:80", ("localhost", 80)),
    ("[::1]:8000", ("::1", 8000)), ("[::1]", ("::1", None)), ("[2001:DB8::7]:443", ("2001:db8::7", 443)),
    ("example.com:0", ("example.com", 0)),
    ("::1", None), ("[::1", None), ("[::1]8000", None), ("[127.0.0.1]:80", None), ("[nothex]:80", None),
    ("host:", None), ("host:80:81", None), ("host:65536", None), ("host:-1", None), ("host:８０", None),
    (":80", None), ("", None), (None, None), ("a b", None), ("evil; script-src *", None), ("a/b:80", None),
])
def test_split_host(value, parsed):
    assert split_host(value) == parsed


LOOPBACK_HOSTS = ["127.0.0.1:8000", "127.0.0.1", "localhost:8000", "LOCALHOST", "[::1]:8000", "[::1]"]
FOREIGN_HOSTS = ["rebound.example", "rebound.example:8000", "127.0.0.1.rebound.example", "[::2]:8000", "::1",
                 "localhost:bad", ""]


def test_host_check_over_http_loopback_accepted_foreign_refused():
    """`fukaku playground` on loopback: 127.0.0.1, localhost and ::1 (as [::1], with or without a port) are
    served; any other Host (a DNS-rebinding page's name) gets 400, the page as well as the API."""
    with TestClient(create_app(allowed_hosts=list(LOOPBACK)), base_url="http://127.0.0.1:8000") as c:
        for host in LOOPBACK_HOSTS:
            assert c.get("/api/limits", headers={"host": host}).status_code == 200, host
        for host in FOREIGN_HOSTS:
            for path in ("/api/limits", "/"):
                r = c.get(path, headers={"host": host})
                assert r.status_code == 400 and r.json()["field"] is None, (host, path)
            assert c.post("/api/sessions", json=SMALL, headers={"host": host}).status_code == 400
        assert c.app.state.sessions.entries == {}


def test_host_check_over_websocket():
    with TestClient(create_app(allowed_hosts=list(LOOPBACK)), base_url="http://127.0.0.1:8000") as c:
        sid = _create(c)
        for host in LOOPBACK_HOSTS:   # the page's own origin, as the browser sends it
            headers = {"host": host, "origin": f"http://{host}"}
            with c.websocket_connect(f"/api/sessions/{sid}/ws", headers=headers) as ws:
                assert ws.receive_json()["type"] == "snapshot", host
        for host in FOREIGN_HOSTS:    # a rebound page: its origin matches its Host, so only the Host check stops it
            with pytest.raises(WebSocketDisconnect) as info:
                with c.websocket_connect(f"/api/sessions/{sid}/ws", headers={"host": host, "origin": f"http://{host}"}):
                    pass
            assert info.value.code == 1008, host
        assert c.app.state.sessions.get(sid).sockets == 0


@pytest.fixture
def page(tmp_path):
    (tmp_path / "index.html").write_text('<!doctype html><title>playground</title><script src="app.js"></script>')
    (tmp_path / "app.js").write_text("export const x = 1;\n")
    (tmp_path / "style.css").write_text("body { margin: 0 }\n")
    return tmp_path


def test_page_is_served_at_the_root_with_its_security_headers(page):
    with TestClient(create_app(static_dir=page)) as c:
        for path, kind in (("/", "text/html"), ("/index.html", "text/html"), ("/app.js", "javascript"),
                           ("/style.css", "text/css")):
            r = c.get(path)
            assert r.status_code == 200 and kind in r.headers["content-type"], path
            assert r.headers["x-content-type-options"] == "nosniff"
            csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
            assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'", csp
            assert csp["img-src"] == "'self' data:" and csp["default-src"] == "'self'"
            assert csp["connect-src"] == "'self' ws://testserver wss://testserver"
            assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert "<title>playground</title>" in c.get("/").text
        r = c.get("/", headers={"host": "[::1]:8000"})   # the WebSocket's address is the request's own Host
        assert "connect-src 'self' ws://[::1]:8000 wss://[::1]:8000;" in r.headers["content-security-policy"]
        assert c.get("/api/limits").headers["content-type"] == "application/json"   # the API comes first
        assert c.get("/missing.js").status_code == 404 and c.post("/").status_code == 405


def test_page_policy_never_carries_a_malformed_host():
    for host in ("evil; script-src *", "a b", None, "x\"y"):
        policy = page_policy(host)
        assert "connect-src 'self';" in policy and policy.count("script-src") == 1, host
    assert "ws://localhost:8000 wss://localhost:8000;" in page_policy("LocalHost:8000")


def test_the_package_page_folder_is_served():
    mount = create_app().routes[-1]
    assert mount.path == "" and mount.app.directory == STATIC and mount.app.html
    assert STATIC.name == "static" and STATIC.parent.name == "playground"


def test_idle_sessions_end_without_new_requests():
    """The reaper ends sessions idle for idle_seconds though nobody creates a session; one with an open
    WebSocket stays."""
    assert SessionManager(idle_seconds=600).reap_interval() == 30
    assert SessionManager(idle_seconds=10).reap_interval() == 5
    with TestClient(create_app(idle_seconds=0.2)) as c:
        idle, watched = _create(c), _create(c)
        entries = c.app.state.sessions.entries
        with c.websocket_connect(f"/api/sessions/{watched}/ws") as ws:
            ws.receive_json()
            deadline = time.monotonic() + 3
            while idle in entries and time.monotonic() < deadline:
                time.sleep(0.05)
            assert idle not in entries and watched in entries
        deadline = time.monotonic() + 3   # closed: idle from now on
        while watched in entries and time.monotonic() < deadline:
            time.sleep(0.05)
        assert entries == {}


def test_compute_runs_one_job_at_a_time_first_come_first_served():
    manager, running, peak, order = SessionManager(), [0], [0], []
    lock = threading.Lock()

    def job(name):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        order.append(name)
        return name

    async def main():
        return await asyncio.gather(*(manager.compute(job, i) for i in range(6)))

    assert asyncio.run(main()) == list(range(6))
    assert peak[0] == 1 and order == list(range(6))

    async def cancelled():   # a closed socket cancels its computation: the next still waits for the thread
        manager.open()       # a new event loop: a new lock (the app's lifespan does this)
        first = asyncio.create_task(manager.compute(job, "cancelled"))
        await asyncio.sleep(0.005)
        first.cancel()
        second = await manager.compute(job, "next")
        with pytest.raises(asyncio.CancelledError):
            await first
        return second

    order.clear()
    assert asyncio.run(cancelled()) == "next"
    assert peak[0] == 1 and order == ["cancelled", "next"] and manager.waiting == 0


def test_sessions_training_at_once_all_progress(client):
    """Three sessions running together: each one's updates arrive and its epochs advance (fukaku's grad
    mode is process-wide, so sessions trained in two threads at once broke each other's backward)."""
    sids = [_create(client) for _ in range(3)]
    with client.websocket_connect(f"/api/sessions/{sids[0]}/ws") as a, \
            client.websocket_connect(f"/api/sessions/{sids[1]}/ws") as b, \
            client.websocket_connect(f"/api/sessions/{sids[2]}/ws") as c:
        sockets = (a, b, c)
        for ws in sockets:
            ws.receive_json()
            ws.send_json({"action": "run"})
        for ws in sockets:
            for _ in range(4):
                message = ws.receive_json()
                assert message["type"] == "snapshot", message
            assert message["running"] and message["epoch"] >= 3


def test_a_failed_training_slice_ends_the_run_with_an_error(client):
    sid = _create(client)
    session = client.app.state.sessions.get(sid).session

    def broken(seconds):
        raise FloatingPointError("the weights overflowed")

    session.advance = broken
    with client.websocket_connect(f"/api/sessions/{sid}/ws") as ws:
        ws.receive_json()
        ws.send_json({"action": "run"})
        while (message := ws.receive_json())["type"] == "snapshot" and message["running"]:
            pass
        if message["type"] == "snapshot":        # the update of the failed slice, then its error
            message = ws.receive_json()
        assert message["type"] == "error" and "training stopped: FloatingPointError" in message["error"]
        ws.send_json({"action": "step"})          # the session itself still answers
        assert ws.receive_json()["epoch"] == 1


def test_state_changing_requests_from_another_site_refused(client):
    """A page elsewhere can POST to 127.0.0.1 without CORS (a "simple" request): its Origin gives it away."""
    evil = {"origin": "http://evil.example", "content-type": "text/plain"}
    r = client.post("/api/sessions", content=json.dumps(SMALL), headers=evil)
    assert r.status_code == 403 and "evil.example" in r.json()["error"] and client.app.state.sessions.entries == {}
    sid = _create(client)
    for method, path in (("POST", f"/api/sessions/{sid}/step"), ("POST", f"/api/sessions/{sid}/reset"),
                         ("DELETE", f"/api/sessions/{sid}"), ("POST", "/api/validate")):
        assert client.request(method, path, headers=evil).status_code == 403, path
    assert client.get(f"/api/sessions/{sid}").json()["snapshot"]["epoch"] == 0    # untouched
    own = {"origin": "http://testserver"}                                          # the page itself
    assert client.post(f"/api/sessions/{sid}/step", json={"epochs": 1}, headers=own).json()["epoch"] == 1
    assert client.post("/api/sessions", json=SMALL, headers=own).status_code == 201
    assert client.get("/api/limits", headers=evil).status_code == 200             # reading the limits is harmless
