"""fukaku (深く, "deeply"): a deep-learning framework written from first principles on NumPy.

``import fukaku as fk`` gives a PyTorch-like API: ``fk.tensor``, ``fk.randn``, ``x.backward()``,
``fk.autograd.grad``, ``fk.no_grad()`` … See README.md for a tour.
"""
from . import autograd, dtypes
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .dtypes import (DTypeUnavailableError, bfloat16, bool_, can_cast, cdouble, cfloat, complex64, complex128, double,
                     dtype, finfo, float16, float32, float64, get_default_dtype, half, iinfo, int8, int16, int32, int64,
                     long, promote_types, result_type, set_default_dtype, short, uint8, uint16, uint32, uint64)
from .dtypes import bool_ as bool  # noqa: A001  (fukaku.bool, like torch.bool)
from .dtypes import float as float  # noqa: A001,PLC0414
from .dtypes import int as int  # noqa: A001,PLC0414  (fukaku.int is int32, like torch.int)
from ._device import DeviceError, device, get_default_device, set_default_device
from .autograd.inference_mode import inference_mode, is_inference_mode_enabled
from ._tensor_str import get_printoptions, set_printoptions
from .errors import ShapeError, StateDictError
from .serialization import load, save
from .ops._parallel import get_num_threads, set_num_threads
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .tensor import (Size, Tensor, arange, as_tensor, default_generator, empty, empty_like, eye, from_numpy, full,
                     full_like, get_rng_state, linspace, manual_seed, normal, ones, ones_like, rand, rand_like,
                     randint, randn, randn_like, randperm, set_rng_state, tensor, zeros, zeros_like)
from .tensor import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, Generator, HalfTensor, IntTensor,
                     LongTensor, ShortTensor, bernoulli, initial_seed, logspace, multinomial, randint_like, seed)
from . import datasets, models, nn, optim, train, utils  # noqa: E402  (they use the ops above)
from . import linalg  # noqa: E402  (torch.linalg)
from . import distributions  # noqa: E402  (torch.distributions)
from . import physics  # noqa: E402  (seed 002 ch. 5: Boltzmann distribution, Hamiltonian heads, leapfrog)
from . import rl, theory  # noqa: E402  (seed 002 ch. 4: reinforcement learning; seed 000 §6.1.8–6.1.9: NTK, double descent)
from . import accelerator, cuda, random  # noqa: E402  (torch.accelerator, torch.cuda, torch.random)
from . import jit  # noqa: E402  (torch.jit: trace a step once, replay it — define-then-run)
from . import amp  # noqa: E402  (torch.amp: mixed precision)
from .amp.autocast_mode import (autocast, autocast_decrement_nesting, autocast_increment_nesting,  # noqa: E402
                                clear_autocast_cache, get_autocast_dtype, is_autocast_cache_enabled,
                                is_autocast_enabled, set_autocast_cache_enabled, set_autocast_dtype,
                                set_autocast_enabled)
from .nn.functional import dropout  # noqa: E402  (torch.dropout(input, p, train): the same function)
# torch.conv2d, torch.max_pool2d … are the functional forms under the same names and signatures
from .nn.functional import (adaptive_avg_pool1d, avg_pool1d, conv1d, conv2d,  # noqa: E402
                            conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, max_pool1d, max_pool2d)

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


__all__ = ["Tensor", "Size", "set_printoptions", "get_printoptions", "set_num_threads", "get_num_threads", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "full_like", "empty_like", "arange", "linspace", "eye", "rand", "randn", "randint",
           "randperm", "normal", "rand_like", "randn_like", "manual_seed", "default_generator", "get_rng_state",
           "set_rng_state", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "autograd", "nn",
           "ShapeError", "StateDictError", "float32", "float64", "float16", "int64", "int32", "bool", "double", "long", "float",
           "get_default_dtype", "set_default_dtype", "is_tensor", "numel", "is_floating_point", "dtypes",
           "save", "load",
           # dtypes, devices and random numbers (issue 7)
           "dtype", "DTypeUnavailableError", "bfloat16", "half", "int", "int16", "short", "int8", "uint8", "uint16",
           "uint32", "uint64", "complex64", "cfloat", "complex128", "cdouble", "finfo", "iinfo", "promote_types",
           "result_type", "can_cast", "device", "DeviceError", "get_default_device", "set_default_device", "cuda",
           "accelerator", "random", "Generator", "seed", "initial_seed", "logspace", "randint_like", "multinomial",
           "bernoulli", "dropout", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d",
           "inference_mode", "is_inference_mode_enabled", "FloatTensor", "DoubleTensor",
           "amp", "autocast", "is_autocast_enabled", "set_autocast_enabled",
           "get_autocast_dtype", "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
           "clear_autocast_cache", "autocast_increment_nesting", "autocast_decrement_nesting",
           "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
           *_ops_all]
