"""fukaku.utils.tensorboard.SummaryWriter: real event files, read back record by record.

The reader below parses the files independently of the writer: TFRecords (length, masked CRC-32C
of the length, the serialized Event, masked CRC-32C of it), each decoded with TensorBoard's
protobuf classes (as tensorboardX ships them).
"""
import importlib.util
import io
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import fukaku as fk
from fukaku import nn

needs_tbx = pytest.mark.skipif(importlib.util.find_spec("tensorboardX") is None,
                               reason="tensorboardX (the optional 'tensorboard' extra) is not installed")


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        for _ in range(8):
            n = (n >> 1) ^ 0x82F63B78 if n & 1 else n >> 1
        table.append(n)
    return table


_CRC32C_TABLE = _crc32c_table()


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), a byte at a time: slow and plainly right, for the few records of a test."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(logdir) -> dict[str, list]:
    """Every Event in the event files under ``logdir``, by the files' directory relative to it."""
    from tensorboardX.proto.event_pb2 import Event
    runs: dict[str, list] = {}
    for path in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        raw, pos, events = path.read_bytes(), 0, []
        while pos < len(raw):
            header = raw[pos:pos + 8]
            (length,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", raw[pos + 8:pos + 12])[0] == _masked(header)
            data = raw[pos + 12:pos + 12 + length]
            assert struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])[0] == _masked(data)
            events.append(Event.FromString(data))
            pos += 16 + length
        runs.setdefault(path.parent.relative_to(logdir).as_posix(), []).extend(events)
    return runs


def values(events, tag):
    """(step, Summary.Value) of every summary value logged under ``tag``."""
    return [(e.step, v) for e in events if e.HasField("summary") for v in e.summary.value if v.tag == tag]


@pytest.fixture
def writer(tmp_path):
    pytest.importorskip("tensorboardX")
    from fukaku.utils.tensorboard import SummaryWriter
    with SummaryWriter(tmp_path / "run") as w:
        yield w


# ---------------------------------------------------------------------- scalars
@needs_tbx
def test_scalars_from_tensors_arrays_and_numbers(tmp_path, writer):
    writer.add_scalar("loss", fk.tensor(0.5), 0)
    writer.add_scalar("loss", fk.tensor([[0.25]], requires_grad=True), 1)
    writer.add_scalar("loss", np.float32(0.125), 2, walltime=1234.5)
    writer.add_scalar("loss", 3, 3)
    writer.add_scalar("new", fk.tensor(1.5), 4, new_style=True)
    writer.add_scalar("new64", fk.tensor(1 / 3, dtype=fk.float64), 5, new_style=True, double_precision=True)
    with pytest.raises(ValueError, match=r"add_scalar: the value must hold one element.*\(2,\)"):
        writer.add_scalar("loss", fk.ones(2), 6)
    writer.flush()
    events = read_events(tmp_path / "run")["."]
    assert events[0].file_version == "brain.Event:2"
    assert [(s, v.simple_value) for s, v in values(events, "loss")] == [(0, 0.5), (1, 0.25), (2, 0.125), (3, 3.0)]
    assert [e.wall_time for e in events if e.step == 2] == [1234.5]
    [(step, new)] = values(events, "new")
    assert step == 4 and list(new.tensor.float_val) == [1.5] and new.metadata.plugin_data.plugin_name == "scalars"
    [(_, new64)] = values(events, "new64")
    assert list(new64.tensor.double_val) == [1 / 3]


@needs_tbx
def test_add_scalars_writes_one_run_per_tag(tmp_path, writer):
    for step in range(3):
        writer.add_scalars("loss", {"train": fk.tensor(1.0 / (step + 1)), "val": 2.0 * step}, step)
    writer.flush()
    runs = read_events(tmp_path / "run")
    assert [v.simple_value for _, v in values(runs["loss_train"], "loss")] == [1.0, 0.5, np.float32(1 / 3)]
    assert [(s, v.simple_value) for s, v in values(runs["loss_val"], "loss")] == [(0, 0.0), (1, 2.0), (2, 4.0)]


# ---------------------------------------------------------------------- histograms, images, text, hparams
@needs_tbx
@pytest.mark.parametrize("bins", ["tensorflow", "auto", 10])
def test_histogram_summarises_the_values(tmp_path, writer, bins):
    fk.manual_seed(0)
    w = fk.randn(40, 25, requires_grad=True)
    writer.add_histogram("w", w, 7, bins=bins)
    writer.flush()
    [(step, value)] = values(read_events(tmp_path / "run")["."], "w")
    histo, x = value.histo, w.detach().numpy().astype(np.float64)
    assert step == 7 and histo.num == x.size and sum(histo.bucket) == x.size
    assert histo.min == pytest.approx(x.min()) and histo.max == pytest.approx(x.max())
    assert histo.sum == pytest.approx(x.sum()) and histo.sum_squares == pytest.approx((x ** 2).sum())
    assert list(histo.bucket_limit) == sorted(histo.bucket_limit)


def _png_pixels(image):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image.encoded_image_string)))


@needs_tbx
def test_images_are_png_of_the_tensor(tmp_path, writer):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(0)
    chw = rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)
    writer.add_image("chw", fk.tensor(chw), 0)
    floats = rng.uniform(0, 1, (5, 4)).astype(np.float32)
    writer.add_image("hw", fk.tensor(floats), 1, dataformats="HW")
    batch = rng.integers(0, 256, (2, 3, 5, 4), dtype=np.uint8)
    writer.add_images("batch", fk.tensor(batch), 2)
    writer.flush()
    events = read_events(tmp_path / "run")["."]
    [(_, v)] = values(events, "chw")
    assert (v.image.height, v.image.width, v.image.colorspace) == (5, 4, 3)
    np.testing.assert_array_equal(_png_pixels(v.image), chw.transpose(1, 2, 0))
    [(_, v)] = values(events, "hw")
    np.testing.assert_array_equal(_png_pixels(v.image), np.repeat((floats * 255).astype(np.uint8)[..., None], 3, 2))
    [(_, v)] = values(events, "batch")  # two images side by side in one grid
    np.testing.assert_array_equal(_png_pixels(v.image), np.concatenate(list(batch), axis=2).transpose(1, 2, 0))


@needs_tbx
def test_text(tmp_path, writer):
    writer.add_text("notes", "**lr** = 0.1, ünïcødé", 3)
    writer.flush()
    [(step, v)] = values(read_events(tmp_path / "run")["."], "notes/text_summary")
    assert step == 3 and v.tensor.string_val[0].decode() == "**lr** = 0.1, ünïcødé"
    assert v.metadata.plugin_data.plugin_name == "text"


@needs_tbx
def test_hparams_with_discrete_domains(tmp_path, writer):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    writer.add_hparams({"lr": fk.tensor(0.1), "optimizer": "adam", "bn": True}, {"hparam/accuracy": fk.tensor(0.9)},
                       hparam_domain_discrete={"optimizer": ["adam", "sgd"]}, run_name="trial1", global_step=4)
    with pytest.raises(TypeError, match="hparam_domain_discrete"):
        writer.add_hparams({"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete={"lr": ["0.5"]}, run_name="bad")
    runs = read_events(tmp_path / "run")
    events = runs["trial1"]
    [(_, exp)] = values(events, "_hparams_/experiment")
    experiment = HParamsPluginData.FromString(exp.metadata.plugin_data.content).experiment
    infos = {i.name: i for i in experiment.hparam_infos}
    assert set(infos) == {"lr", "optimizer", "bn"}
    assert [v.string_value for v in infos["optimizer"].domain_discrete.values] == ["adam", "sgd"]
    [(_, start)] = values(events, "_hparams_/session_start_info")
    session = HParamsPluginData.FromString(start.metadata.plugin_data.content).session_start_info
    assert session.hparams["lr"].number_value == pytest.approx(0.1)
    assert session.hparams["optimizer"].string_value == "adam"
    assert [(s, v.simple_value) for s, v in values(events, "hparam/accuracy")] == [(4, np.float32(0.9))]


# ---------------------------------------------------------------------- the graph
def _graph_def(events):
    from tensorboardX.proto.graph_pb2 import GraphDef
    [graph] = [GraphDef.FromString(e.graph_def) for e in events if e.graph_def]
    return {node.name: node for node in graph.node}


def _shape(node):
    return tuple(d.size for d in node.attr["_output_shapes"].list.shape[0].dim)


@needs_tbx
def test_add_graph_writes_the_recorded_graph_with_module_scopes(tmp_path, writer, capsys):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    writer.add_graph(model, fk.randn(5, 3), verbose=True)
    writer.flush()
    nodes = _graph_def(read_events(tmp_path / "run")["."])
    assert {n for n, node in nodes.items() if node.op == "Parameter"} == {"0/weight", "0/bias", "2/weight", "2/bias"}
    assert nodes["input/0"].op == "Input" and _shape(nodes["input/0"]) == (5, 3)
    assert _shape(nodes["0/weight"]) == (4, 3) and _shape(nodes["output/0"]) == (5, 2)
    # follow the edges back from the output: each op sits in the scope of the module that returned its result
    [last] = nodes["output/0"].input
    assert last.startswith("2/") and set(nodes[last].input) - {"2/weight", "2/bias"} == {nodes[last].input[0]}
    tanh = nodes[last].input[0]
    assert tanh.startswith("1/") and len(nodes[tanh].input) == 1
    first = nodes[tanh].input[0]
    assert first.startswith("0/") and set(nodes[first].input) == {"input/0", "0/weight", "0/bias"}
    assert len(nodes) == 9  # input, 4 parameters, 3 ops, output
    assert "0.weight" in capsys.readouterr().out  # verbose prints the text tree
    assert not model[0]._forward_hooks  # the recording hooks are removed


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(2, 3)
        self.left, self.right = nn.Linear(3, 1), nn.Linear(3, 1)

    def forward(self, x):
        h = self.body(x).relu()
        return self.left(h), self.right(h)


@needs_tbx
def test_add_graph_of_a_model_with_two_outputs_shares_its_parameters(tmp_path, writer):
    writer.add_graph(TwoHeads(), [fk.randn(4, 2)])
    writer.flush()
    nodes = _graph_def(read_events(tmp_path / "run")["."])
    assert {"output/0", "output/1", "input/0", "body/weight", "left/weight", "right/weight"} <= set(nodes)
    assert [n for n in nodes if n.endswith("body/weight")] == ["body/weight"]  # written once
    for name in nodes.values():
        assert all(source in nodes for source in name.input)  # every edge ends at a node of the graph
    assert nodes[nodes["output/0"].input[0]].name.startswith("left/")


@needs_tbx
def test_add_graph_explains_a_model_that_records_nothing(writer):
    with pytest.raises(ValueError, match="no recorded graph"):  # no parameter, and an integer input
        writer.add_graph(nn.Flatten(), fk.ones(2, 3, dtype=fk.int64))
    with pytest.raises(TypeError, match="add_graph: model must be a fukaku.nn.Module"):
        writer.add_graph(lambda x: x, fk.ones(1))


# ---------------------------------------------------------------------- the rest of tensorboardX's methods, lifecycle
@needs_tbx
def test_other_add_methods_take_fukaku_tensors(tmp_path, writer):
    labels = fk.tensor([0, 1, 1, 0, 1])
    predictions = fk.tensor([0.1, 0.9, 0.6, 0.4, 0.8])
    writer.add_pr_curve("pr", labels, predictions, 0)
    writer.flush()
    [(_, v)] = values(read_events(tmp_path / "run")["."], "pr")
    assert v.metadata.plugin_data.plugin_name == "pr_curves"
    with pytest.raises(AttributeError, match="no attribute 'add_nothing'"):
        writer.add_nothing
    with pytest.raises(AttributeError, match="no attribute 'scalar_dict'"):
        writer.scalar_dict  # only add_* methods are passed through


@needs_tbx
def test_default_log_dir_purge_step_and_reopening(tmp_path, monkeypatch):
    from fukaku.utils.tensorboard import SummaryWriter
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1", purge_step=5)
    assert Path(w.get_logdir()).parent == Path("runs") and w.get_logdir().endswith("_lr0.1")
    w.add_scalar("x", 1.0, 5)
    w.close()
    w.add_scalar("x", 2.0, 6)  # a closed writer reopens on the next event, as PyTorch's does
    w.close()
    events = [e for run in read_events(w.get_logdir()).values() for e in run]
    assert any(e.session_log.status == e.session_log.START and e.step == 5 for e in events)
    assert sorted(v.simple_value for e in events if e.HasField("summary") for v in e.summary.value) == [1.0, 2.0]


def test_without_tensorboardx_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # makes `import tensorboardX` fail
    from fukaku.utils.tensorboard import SummaryWriter
    with pytest.raises(ImportError, match=r"tensorboardX.*pip install 'fukaku\[tensorboard\]'"):
        SummaryWriter(tmp_path)


# ---------------------------------------------------------------------- the oracle: PyTorch's own writer
def _log_everything(writer, tensor):
    """One logging session, written with either library's writer and tensors (``tensor`` makes one)."""
    rng = np.random.default_rng(0)
    writer.add_scalar("loss", tensor(np.float32(0.5)), 0)
    writer.add_scalar("loss", 3, 1)
    writer.add_scalar("exact", tensor(np.float64(1 / 3)), 1, new_style=True, double_precision=True)
    writer.add_scalars("lr/groups", {"a": 0.1, "b": tensor(np.float32(0.2))}, 2)
    writer.add_histogram("w", tensor(rng.standard_normal(200).astype(np.float32)), 3)
    writer.add_histogram("w_auto", tensor(rng.standard_normal(50)), 3, bins="auto")
    writer.add_image("img", tensor(rng.integers(0, 256, (3, 6, 5), dtype=np.uint8)), 4)
    writer.add_image("img_hwc", tensor(rng.uniform(0, 1, (6, 5, 3)).astype(np.float32)), 4, dataformats="HWC")
    writer.add_images("batch", tensor(rng.integers(0, 256, (3, 1, 4, 4), dtype=np.uint8)), 5)
    writer.add_text("note", "a *markdown* note", 6)
    writer.add_hparams({"lr": 0.1, "optimizer": "adam", "layers": 3}, {"hparam/accuracy": 0.9},
                       hparam_domain_discrete={"optimizer": ["adam", "sgd"], "layers": [2, 3]}, run_name="trial",
                       global_step=1)


def _summaries(logdir):
    """run -> [(step, tag, serialized Summary.Value)], the file-version and wall-time parts left out."""
    return {run: [(e.step, v.tag, v.SerializeToString(deterministic=True))
                  for e in events if e.HasField("summary") for v in e.summary.value]
            for run, events in read_events(logdir).items()}


@needs_tbx
def test_the_event_files_say_what_pytorchs_writer_says(tmp_path):
    pytest.importorskip("PIL")
    torch_tb = pytest.importorskip("torch.utils.tensorboard", reason="PyTorch's writer needs the tensorboard package")
    import torch
    from fukaku.utils.tensorboard import SummaryWriter
    with torch_tb.SummaryWriter(tmp_path / "torch") as writer:
        _log_everything(writer, lambda a: torch.from_numpy(np.array(a)))
    with SummaryWriter(tmp_path / "fukaku") as writer:
        _log_everything(writer, lambda a: fk.tensor(np.array(a)))
    expected, ours = _summaries(tmp_path / "torch"), _summaries(tmp_path / "fukaku")
    assert sorted(ours) == sorted(expected) == [".", "lr_groups_a", "lr_groups_b", "trial"]
    for run in expected:
        assert [(s, t) for s, t, _ in ours[run]] == [(s, t) for s, t, _ in expected[run]], run
        for (step, tag, value), (_, _, torch_value) in zip(ours[run], expected[run]):
            assert value == torch_value, (run, step, tag)
