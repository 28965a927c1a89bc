"""TensorBoard logging as ``torch.utils.tensorboard``: ``SummaryWriter`` writing real event files.

The event files are written by the ``tensorboardX`` package (the optional extra:
``pip install 'fukaku[tensorboard]'``); ``tensorboard --logdir runs`` shows them. This module
converts what PyTorch's writer accepts as tensors — fukaku Tensors here, NumPy arrays and Python
numbers too — and keeps PyTorch's method signatures, so training scripts log unchanged::

    from fukaku.utils.tensorboard import SummaryWriter

    with SummaryWriter("runs/mlp") as writer:
        for step in range(100):
            ...
            writer.add_scalar("loss/train", loss, step)          # a 1-element Tensor or a float
            writer.add_histogram("fc1/weight", model.fc1.weight, step)
        writer.add_graph(model, x)                                # the backward graph of model(x)

``add_graph`` does not trace with TorchScript (fukaku has none): it runs ``model(*inputs)`` once and
writes the graph autograd recorded (see :mod:`fukaku.utils.graph`) as a TensorBoard GraphDef:
parameters under their module path (``fc1/weight``), each op named after its graph node, the
op that produced a submodule's output under that submodule's path.

The other ``add_*`` methods of ``tensorboardX.SummaryWriter`` (``add_figure``, ``add_pr_curve``,
``add_embedding``, ``add_video``, ``add_audio``, ``add_mesh``, ``add_custom_scalars`` ...) are
offered too, with fukaku Tensors among their arguments converted to NumPy arrays.
"""
from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..nn.modules.module import Module
from ..tensor import Tensor
from . import graph as _graph

__all__ = ["SummaryWriter"]

_EXTRA = "pip install 'fukaku[tensorboard]' (or pip install tensorboardX)"
_FILE_NUMBERS = itertools.count()


def _file_suffix(suffix: str) -> str:
    """``.<pid>.<n><suffix>``: tensorboardX names a file by the second and the host only, so two files
    opened in one second (a writer reopened after close, two writers on one directory) would be
    one file, the second truncating the first. PyTorch's event files carry the same two numbers."""
    return f".{os.getpid()}.{next(_FILE_NUMBERS)}{suffix}"


def _tensorboardx():
    try:
        import tensorboardX
    except ImportError as e:
        raise ImportError(f"fukaku.utils.tensorboard.SummaryWriter writes event files with the optional tensorboardX "
                          f"package, which is not installed: {_EXTRA}") from e
    return tensorboardX


def _numpy(value):
    """A fukaku Tensor as a NumPy array, inside lists, tuples and dicts too; anything else unchanged."""
    if isinstance(value, Tensor):
        return np.asarray(value.detach().numpy())
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Tensor, list, tuple, dict)) for v in value):
        return type(value)(_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    return value


def _scalar(value, op: str) -> float:
    """A Python float from a one-element Tensor or array, or a number (PyTorch's scalar_value)."""
    arr = np.asarray(_numpy(value))
    if arr.size != 1:
        raise ValueError(f"SummaryWriter.{op}: the value must hold one element (a scalar), got shape {arr.shape}")
    return float(arr.reshape(()))


class SummaryWriter:
    """Write TensorBoard event files to ``log_dir``, as ``torch.utils.tensorboard.SummaryWriter``.

    Args:
        log_dir: the run's directory; default ``runs/<date>_<host><comment>``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: when resuming a crashed run at this step, TensorBoard hides the events at and
            after it that the crashed run had written.
        max_queue: events kept in memory before a write to disk.
        flush_secs: how often pending events are flushed to disk.
        filename_suffix: appended to the event file's name.

    Raises ``ImportError`` naming the ``tensorboard`` extra when ``tensorboardX`` is not installed.
    Use it as a context manager, or call :meth:`close` (which also flushes).
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        tbx = _tensorboardx()
        self._suffix = filename_suffix
        self._writer = tbx.SummaryWriter(logdir=None if log_dir is None else os.fspath(log_dir), comment=comment,
                                         purge_step=purge_step, max_queue=max_queue, flush_secs=flush_secs,
                                         filename_suffix=_file_suffix(filename_suffix))
        self.log_dir = self._writer.logdir

    @property
    def _tbx(self):
        """The tensorboardX writer, given a new file name after :meth:`close` (it reopens its files
        on the next event)."""
        if self._writer.all_writers is None:
            self._writer._filename_suffix = _file_suffix(self._suffix)
        return self._writer

    def get_logdir(self) -> str:
        """The directory the event files are written to."""
        return self.log_dir

    # ------------------------------------------------------------------ scalars
    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Log one number (a one-element Tensor, a NumPy scalar or a Python number) at ``global_step``.

        ``new_style=True`` writes it as a tensor summary (float32, or float64 with
        ``double_precision=True``) instead of a ``simple_value``, as PyTorch's writer does.
        """
        value = _scalar(scalar_value, "add_scalar")
        if not new_style:
            self._tbx.add_scalar(tag, value, global_step, walltime)
            return
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        tensor = (TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision else
                  TensorProto(float_val=[value], dtype="DT_FLOAT"))
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
        summary = Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])
        self._tbx._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Log several numbers in one chart: each ``tag`` is written, under the tag ``main_tag``, to a run
        of its own, ``<log_dir>/<main_tag with / as _>_<tag>``, the directory PyTorch's writer uses."""
        from tensorboardX.summary import scalar
        from tensorboardX.writer import FileWriter
        tbx = self._tbx
        walltime = time.time() if walltime is None else walltime
        logdir = tbx._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = f"{logdir}/{main_tag.replace('/', '_')}_{tag}"
            if run not in tbx.all_writers:  # flush and close reach it through all_writers
                tbx.all_writers[run] = FileWriter(run, tbx._max_queue, tbx._flush_secs, tbx._filename_suffix)
            tbx.all_writers[run].add_summary(scalar(main_tag, _scalar(value, "add_scalars")), global_step, walltime)

    # ------------------------------------------------------------------ distributions, images, text
    def add_histogram(self, tag: str, values, global_step: int | None = None, bins: str = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """Log the distribution of ``values`` (a Tensor or array of any shape); ``bins`` as in NumPy's
        ``histogram`` or ``'tensorflow'`` (TensorBoard's exponential buckets)."""
        self._tbx.add_histogram(tag, np.asarray(_numpy(values)), global_step, bins, walltime, max_bins)

    def add_image(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """Log one image: floats in [0, 1] or uint8 in [0, 255]; shape per ``dataformats``
        (``CHW``, ``HWC``, ``HW``; 1, 3 or 4 channels). Needs Pillow."""
        self._tbx.add_image(tag, np.asarray(_numpy(img_tensor)), global_step, walltime, dataformats)

    def add_images(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """Log a batch of images as one grid (``NCHW`` or ``NHWC``)."""
        self._tbx.add_images(tag, np.asarray(_numpy(img_tensor)), global_step, walltime, dataformats)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a string (TensorBoard renders it as Markdown)."""
        self._tbx.add_text(tag, text_string, global_step, walltime)

    def add_hparams(self, hparam_dict: Mapping[str, Any], metric_dict: Mapping[str, Any],
                    hparam_domain_discrete: Mapping[str, list] | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """Log a run's hyperparameters and final metrics for TensorBoard's HParams tab.

        Args:
            hparam_dict: name -> bool, str, number (or one-element Tensor) or None.
            metric_dict: name -> number; each is also logged as a scalar.
            hparam_domain_discrete: name -> every value that hyperparameter takes across runs.
            run_name: the sub-directory of ``log_dir`` the run is written to (default: the time).
        """
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
        from tensorboardX.summary import hparams
        if not isinstance(hparam_dict, Mapping) or not isinstance(metric_dict, Mapping):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        hparam_dict = {k: v if v is None or isinstance(v, (bool, str, int, float)) else _scalar(v, "add_hparams")
                       for k, v in hparam_dict.items()}
        metric_dict = {k: _scalar(v, "add_hparams") for k, v in metric_dict.items()}
        experiment, start, end = hparams(hparam_dict, metric_dict)
        if hparam_domain_discrete:
            _set_discrete_domains(experiment, hparam_dict, hparam_domain_discrete, HParamsPluginData)
        logdir = os.path.join(self._tbx._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(logdir) as run:
            for summary in (experiment, start, end):
                run._tbx._get_file_writer().add_summary(summary, global_step)
            for name, value in metric_dict.items():
                run.add_scalar(name, value, global_step)

    # ------------------------------------------------------------------ the graph
    def add_graph(self, model: Module, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Log the graph of ``model(*input_to_model)`` for TensorBoard's Graphs tab.

        The model runs once (with grad enabled; floating inputs are copied with
        ``requires_grad=True`` so that their uses are recorded) and the backward graph autograd
        recorded is written as a GraphDef: inputs ``input/<i>``, parameters under their module path
        (``fc1/weight``), ops by their graph-node name (``block/Affine_n3`` for the op whose result
        a submodule returned), outputs ``output/<i>``. ``verbose=True`` also prints it as a text tree
        (:func:`fukaku.utils.graph.to_text`). ``use_strict_trace`` is accepted for PyTorch
        compatibility (there is no tracer).
        """
        from tensorboardX.proto.graph_pb2 import GraphDef
        from tensorboardX.proto.versions_pb2 import VersionDef
        if not isinstance(model, Module):
            raise TypeError(f"add_graph: model must be a fukaku.nn.Module, got {type(model).__name__}")
        if input_to_model is None:
            inputs = ()
        else:
            inputs = tuple(input_to_model) if isinstance(input_to_model, (list, tuple)) else (input_to_model,)
        inputs = tuple(x.detach().requires_grad_(True) if isinstance(x, Tensor) and x.is_floating_point() else x
                       for x in inputs)
        produced: dict[str, Tensor] = {}  # module path -> the tensor it returned (the innermost module wins)
        removers = []
        for path, sub in model.named_modules():
            def record(module, args, output, path=path):
                if path and isinstance(output, Tensor) and output.grad_fn is not None:
                    produced.setdefault(path, output)
            remover = sub.register_forward_hook(record)
            removers.append(getattr(remover, "remove", remover))
        try:
            with enable_grad():
                out = model(*inputs)
        finally:
            for remove in removers:
                remove()
        outputs = [t for t in (out.values() if isinstance(out, Mapping) else
                               out if isinstance(out, (list, tuple)) else (out,)) if isinstance(t, Tensor)]
        if not outputs:
            raise TypeError(f"add_graph: {type(model).__name__} returned {type(out).__name__}, with no Tensor to draw")
        names: dict[str, Tensor] = {**dict(model.named_parameters()), **dict(model.named_buffers()), **produced}
        names.update({f"input/{i}": x for i, x in enumerate(inputs) if isinstance(x, Tensor)})
        nodes = []
        for i, output in enumerate(outputs):
            graph = _graph.build_graph(output, names, grads=False)
            if verbose:
                print(_graph.to_text(graph))
            nodes.extend(_node_defs(graph, f"output/{i}", f"o{i}_" if len(outputs) > 1 else "", set(produced), nodes))
        self._tbx._get_file_writer().add_onnx_graph(GraphDef(node=nodes, versions=VersionDef(producer=22)))

    # ------------------------------------------------------------------ the rest
    def __getattr__(self, name: str):
        """Other ``add_*`` methods of ``tensorboardX.SummaryWriter``, with fukaku Tensors converted."""
        if not name.startswith("add_") or "_writer" not in self.__dict__ or not hasattr(self._writer, name):
            raise AttributeError(f"'SummaryWriter' object has no attribute '{name}'")

        def converted(*args, **kwargs):
            method = getattr(self._tbx, name)  # after close(), on the reopened files
            return method(*(_numpy(a) for a in args), **{k: _numpy(v) for k, v in kwargs.items()})

        converted.__name__ = converted.__qualname__ = name
        converted.__doc__ = getattr(self._writer, name).__doc__
        return converted

    def flush(self) -> None:
        """Write every pending event to disk (PyTorch's guarantee: tensorboardX's own flush leaves
        the events its background thread has not taken from its queue yet)."""
        for file_writer in (self._writer.all_writers or {}).values():
            events = file_writer.event_writer
            if events._closed:
                continue
            worker = events._worker
            worker.stop()  # the thread writes every queued event before it reads the stop signal
            events._worker = type(worker)(events._event_queue, events._ev_writer, events._flush_secs)
            events._worker.start()
            events._ev_writer.flush()

    def close(self) -> None:
        """Flush and close the event files (a later ``add_*`` writes to new ones, as in PyTorch)."""
        self._writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _set_discrete_domains(experiment, hparam_dict: Mapping, domains: Mapping[str, list], plugin_data_class) -> None:
    """Add the values each hyperparameter takes across runs to the experiment summary (PyTorch's
    ``hparam_domain_discrete``), checked as PyTorch checks them."""
    if not isinstance(domains, Mapping):
        raise TypeError("add_hparams: hparam_domain_discrete must be a dict")
    for name, values in domains.items():
        if name not in hparam_dict or not isinstance(values, list) \
                or not all(isinstance(v, type(hparam_dict[name])) for v in values):
            raise TypeError(f"add_hparams: hparam_domain_discrete[{name!r}] must be a list of values of the type of "
                            f"hparam_dict[{name!r}]")
    value = experiment.value[0]
    content = plugin_data_class.FromString(value.metadata.plugin_data.content)
    for info in content.experiment.hparam_infos:
        for v in domains.get(info.name, ()):
            item = info.domain_discrete.values.add()
            if isinstance(v, bool):
                item.bool_value = v
            elif isinstance(v, str):
                item.string_value = v
            else:
                item.number_value = float(v)
    value.metadata.plugin_data.content = content.SerializeToString()


def _node_defs(graph: _graph.Graph, output_name: str, prefix: str, modules: set[str], existing: list) -> list:
    """TensorBoard NodeDefs of one :class:`~fukaku.utils.graph.Graph` (edges become each node's inputs).

    ``modules`` are the submodule paths whose results were named in the graph; the op that made the
    model's output is scoped by the submodule that returned it too (the graph names the output node
    after it). Named nodes (parameters, inputs) already among ``existing`` are shared, not repeated.
    """
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    taken = {node.name for node in existing}
    scopes = {node.id: node.produces for node in graph.nodes if node.kind == "op" and node.produces}
    if graph.nodes[0].label in modules:  # the output is what a submodule returned
        scopes.update({source: graph.nodes[0].label for source, target in graph.edges if target == "n0"})
    names, defs = {}, {}
    for node in graph.nodes:
        if node.kind == "output":
            name, op = output_name, "Output"
        elif node.kind == "leaf":
            name = node.label.replace(".", "/") if node.label else f"{prefix}leaf_{node.id}"
            op = "Input" if node.label.startswith("input/") else "Parameter" if node.label else "Constant"
        else:
            scope = scopes[node.id].replace(".", "/") + "/" if node.id in scopes else ""
            name, op = f"{scope}{prefix}{node.label}_{node.id}", node.label
        names[node.id] = name
        if name in taken:  # a parameter or input already written for an earlier output
            continue
        attr = {}
        if node.shape is not None:
            shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=n) for n in node.shape])
            attr = {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[shape])),
                    "dtype": AttrValue(s=node.dtype.encode())}
        defs[node.id] = NodeDef(name=name, op=op, attr=attr)
    for source, target in graph.edges:
        if target in defs:
            defs[target].input.append(names[source])
    return list(defs.values())
