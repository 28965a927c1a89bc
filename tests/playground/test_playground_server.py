"""fukaku.playground.server through Starlette's TestClient: the API, bad parameters, exports, the
WebSocket stream, a foreign Origin refused, and the session limits."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

import fukaku as fk  # noqa: E402
from fukaku.playground.server import create_app  # noqa: E402

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
        assert c.get("/api/limits", headers={"host": "rebound.example"}).status_code == 400
