"""The everyday PyTorch names of issue 7 exist in fukaku at the same paths: every name below is checked
against torch (so the list cannot drift from PyTorch's API) and then looked up in fukaku."""
from __future__ import annotations

import importlib

import pytest
import torch

import fukaku as fk

TORCH_FUNCTIONS = """
acos acosh asin atan atan2 sinh cosh tan trunc exp2 expm1 log2 log10 logaddexp hypot fmod lerp heaviside
nan_to_num nanmean nansum erfinv clamp_min clamp_max clone addmm addcmul addcdiv baddbmm mv kron cross tensordot
diff cumprod cummax logcumsumexp sort argsort topk kthvalue median mode quantile unique unique_consecutive
searchsorted bincount histc count_nonzero nonzero masked_select take take_along_dim narrow select movedim moveaxis
swapaxes ravel tile repeat_interleave rot90 fliplr hstack vstack meshgrid tril_indices triu_indices diag_embed
cdist dist isclose allclose equal broadcast_tensors scatter multinomial bernoulli randint_like logspace trapezoid
std_mean var_mean svd slogdet dropout inference_mode seed initial_seed Generator finfo iinfo int half bfloat16
uint8 int8 int16 LongTensor FloatTensor BoolTensor device set_printoptions Size
""".split()

TENSOR_METHODS = """
index_add_ index_copy_ index_fill_ masked_fill_ masked_scatter_ scatter scatter_ scatter_add_ exp_ unsqueeze_ t_
apply_ bernoulli_ random_ addmm argsort sort topk multinomial narrow nonzero repeat_interleave select unfold unique
movedim moveaxis cumprod tan trunc type_as byte ndimension nelement new_empty is_contiguous stride H
add_ sub_ mul_ div_ pow_ abs_ neg_ exp_ log_ sqrt_ sin_ cos_ tanh_ sigmoid_ relu_ clamp_ floor_ ceil_ round_
zero_ fill_ copy_ uniform_ normal_ masked_fill_ to cpu cuda is_cuda device data __format__
""".split()

NN_FUNCTIONAL = """
relu6 hardtanh hardsigmoid hardswish softsign logsigmoid selu celu mish glu threshold tanhshrink softmin
gumbel_softmax normalize cosine_similarity pairwise_distance smooth_l1_loss soft_margin_loss triplet_margin_loss
cosine_embedding_loss margin_ranking_loss poisson_nll_loss gaussian_nll_loss
""".split()

NN_MODULES = """
ReLU6 Hardtanh Hardsigmoid Hardswish Softsign LogSigmoid SELU CELU Mish GLU Threshold Tanhshrink Softmin
CosineSimilarity PairwiseDistance SmoothL1Loss SoftMarginLoss TripletMarginLoss CosineEmbeddingLoss
MarginRankingLoss PoissonNLLLoss GaussianNLLLoss ParameterList ParameterDict Bilinear EmbeddingBag
""".split()

OPTIMIZERS = "Adamax NAdam RAdam LBFGS".split()
SCHEDULERS = "ConstantLR PolynomialLR CosineAnnealingWarmRestarts OneCycleLR CyclicLR".split()

MODULE_NAMES = {
    "cuda": ["is_available", "device_count", "manual_seed", "manual_seed_all"],
    "backends.mps": ["is_available"],
    "accelerator": ["is_available"],
    "nn.parallel": ["DataParallel", "data_parallel"],
    "utils.data": ["default_collate", "get_worker_info"],
    "utils.tensorboard": ["SummaryWriter"],
    "serialization": ["safe_globals", "add_safe_globals", "get_safe_globals", "clear_safe_globals"],
    "random": ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"],
}

CASES = ([("", name) for name in TORCH_FUNCTIONS] + [("Tensor", name) for name in TENSOR_METHODS]
         + [("nn.functional", name) for name in NN_FUNCTIONAL] + [("nn", name) for name in NN_MODULES]
         + [("optim", name) for name in OPTIMIZERS] + [("optim.lr_scheduler", name) for name in SCHEDULERS]
         + [(module, name) for module, names in MODULE_NAMES.items() for name in names])


def _lookup(root, path: str, name: str):
    if path == "Tensor":
        return getattr(root.Tensor, name)
    module = importlib.import_module(f"{root.__name__}.{path}") if path else root
    return getattr(module, name)


@pytest.mark.parametrize("path, name", CASES, ids=[f"{p}.{n}".lstrip(".") for p, n in CASES])
def test_the_everyday_name_exists_in_fukaku_as_in_torch(path, name):
    _lookup(torch, path, name)  # the list is PyTorch's API: a misspelt entry fails here
    try:
        _lookup(fk, path, name)
    except (AttributeError, ImportError):
        pytest.fail(f"fukaku has no {'fukaku.' + path + '.' if path else 'fukaku.'}{name}", pytrace=False)


def test_top_level_conv_and_pool_functions_are_the_functional_forms():
    import numpy as np

    import fukaku.nn.functional as F

    x = np.random.default_rng(0).random((1, 2, 7, 7), dtype=np.float32)
    w = np.random.default_rng(1).random((3, 2, 3, 3), dtype=np.float32)
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                 "max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d"):
        assert getattr(fk, name) is getattr(F, name), name
    np.testing.assert_allclose(fk.conv2d(fk.tensor(x), fk.tensor(w), None, 2, 1).numpy(),
                               torch.conv2d(torch.tensor(x), torch.tensor(w), None, 2, 1).numpy(), rtol=1e-5)
    np.testing.assert_array_equal(fk.max_pool2d(fk.tensor(x), 3, 2).numpy(),
                                  torch.max_pool2d(torch.tensor(x), 3, 2).numpy())
