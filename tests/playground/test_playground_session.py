"""fukaku.playground.session: the seed-003 exercise's outcomes, and what a snapshot holds."""
from __future__ import annotations

import base64

import numpy as np

import fukaku as fk
from fukaku.playground.config import PlaygroundConfig
from fukaku.playground.session import Session, encode_map


def test_tanh_4_2_learns_the_circle():
    s = Session(PlaygroundConfig())                    # the Playground's default: tanh [4, 2], 500 points
    for _ in range(20):                                # at most 200 epochs (250 points, batch 10)
        s.step(10)
        if s.test_loss[-1] < 0.1:
            break
    assert s.test_loss[-1] < 0.1, s.test_loss[-1]
    assert s.epoch <= 200 and len(s.test_loss) == s.epoch + 1 and len(s.grad_norms) == s.epoch + 1
    assert s.cpu_seconds > 0


def test_linear_stays_near_chance_on_the_circle():
    s = Session(PlaygroundConfig.from_dict({"activation": "linear", "hidden": [8, 8]}))
    s.step(60)
    assert s.test_loss[-1] > 0.4                       # ½(out − target)² of predicting 0 everywhere is 0.5


def test_regression_regularisation_momentum_adam_batchnorm_dropout_train():
    for extra in ({"optimizer": "momentum", "regularization": "l2", "regularization_rate": 0.001},
                  {"optimizer": "adam", "learning_rate": 0.01, "regularization": "l1", "regularization_rate": 0.0001,
                   "batch_norm": True, "dropout": 0.1, "batch_size": 11}):
        s = Session(PlaygroundConfig.from_dict({"dataset": "reg-plane", "problem": "regression", "points": 200,
                                                "activation": "relu", **extra}))
        first = s.test_loss[-1]
        s.step(20)
        assert np.isfinite(s.test_loss[-1]) and s.test_loss[-1] < 0.5 * first, (extra, first, s.test_loss[-1])


def test_l2_shrinks_the_weights():
    def weight_norm(rate):
        s = Session(PlaygroundConfig.from_dict({"regularization": "l2", "regularization_rate": rate, "points": 100}))
        s.step(30)
        return sum(float((m.weight.detach().numpy() ** 2).sum()) for m in s.model.linears())
    assert weight_norm(0.3) < 0.5 * weight_norm(0.0)


def test_reset_and_same_seed_reproduces():
    a, b = Session(PlaygroundConfig.from_dict({"points": 100})), Session(PlaygroundConfig.from_dict({"points": 100}))
    a.step(5), b.step(5)
    assert a.test_loss == b.test_loss
    a.reset()
    assert a.epoch == 0 and len(a.test_loss) == 1 and a.test_loss[0] == b.test_loss[0]
    a.reset(PlaygroundConfig.from_dict({"dataset": "xor", "points": 40, "train_ratio": 0.25}))
    assert len(a.x_train) == 10 and len(a.x_test) == 30


def test_snapshot_contents():
    s = Session(PlaygroundConfig.from_dict({"features": ["x1", "x2", "x1*x2"], "hidden": [3]}), density=20)
    s.step(2)
    snap = s.snapshot()
    assert snap["epoch"] == 2 and snap["curve"]["from"] == 0 and len(snap["curve"]["test"]) == 3
    assert [len(layer) for layer in snap["layers"]] == [3, 3, 1]
    out = np.frombuffer(base64.b64decode(snap["layers"][-1][0]), np.int8).reshape(20, 20) / 127
    np.testing.assert_allclose(out, np.clip(s.heatmaps()[-1][0], -1, 1), atol=0.5 / 127 + 1e-6)
    assert np.array(snap["weights"][0]).shape == (3, 3) and np.array(snap["weights"][1]).shape == (1, 3)
    assert snap["grad_norms"][0] is None and len(snap["grad_norms"]) == 3 and len(snap["grad_norms"][1]) == 2
    later = s.snapshot(since=2)                        # only what the page has not seen
    assert later["curve"]["from"] == 2 and len(later["curve"]["test"]) == 1 and len(later["grad_norms"]) == 1
    data = s.data()
    assert len(data["train"]["x"]) == 250 and set(data["test"]["y"]) == {-1.0, 1.0}


def test_encode_map_clips_and_scales():
    raw = base64.b64decode(encode_map(np.array([[-3.0, -1.0, 0.0, 0.5, 2.0]])))
    assert np.frombuffer(raw, np.int8).tolist() == [-127, -127, 0, 64, 127]


def test_fine_decision_map_in_the_snapshot():
    s = Session(PlaygroundConfig.from_dict({"hidden": [3], "points": 100}), density=10, output_density=30)
    s.step(3)
    snap = s.snapshot()
    assert snap["density"] == 10 and snap["output_density"] == 30
    assert [len(layer) for layer in snap["layers"]] == [2, 3, 1]
    fine = np.frombuffer(base64.b64decode(snap["output"]), np.int8).reshape(30, 30) / 127
    xs = np.linspace(-6, 6, 30, dtype=np.float32)          # x1 left → right, x2 from +6 (top) down to −6
    points = np.stack(np.broadcast_arrays(xs[None, :], xs[::-1, None]), axis=-1).reshape(-1, 2)
    s.model.eval()
    with fk.no_grad():                                     # the network itself, point by point in a plain forward
        want = s.model(fk.tensor(points)).numpy().reshape(30, 30)
    np.testing.assert_allclose(fine, np.clip(want, -1, 1), atol=0.5 / 127 + 1e-6)
    coarse = np.frombuffer(base64.b64decode(snap["layers"][-1][0]), np.int8).reshape(10, 10)
    raw = np.frombuffer(base64.b64decode(snap["output"]), np.int8).reshape(30, 30)
    for corner in ((0, 0), (0, -1), (-1, 0), (-1, -1)):  # both grids share their corners (±6, ±6)
        assert abs(int(coarse[corner]) - int(raw[corner])) <= 1
    assert Session(PlaygroundConfig()).snapshot()["output_density"] == 100


def test_maps_come_from_one_pass_and_agree_with_heatmaps():
    s = Session(PlaygroundConfig.from_dict({"features": ["x1", "x2", "sin(x1)"], "hidden": [4, 2], "points": 100}))
    layers, output = s.maps()
    assert output.shape == (100, 100) and [m.shape for m in layers] == [(3, 50, 50), (4, 50, 50), (2, 50, 50),
                                                                          (1, 50, 50)]
    for ours, want in zip(layers, s.heatmaps()):
        np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-6)


def test_advance_trains_whole_epochs_within_its_time():
    s = Session(PlaygroundConfig.from_dict({"points": 40}))
    assert s.advance(0.0) == 1 and s.epoch == 1                  # at least one epoch
    assert s.advance(60.0, max_epochs=3) == 3 and s.epoch == 4   # no more than asked
    assert len(s.test_loss) == 5 and len(s.grad_norms) == 5
