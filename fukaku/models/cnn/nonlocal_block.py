"""The non-local block (Wang, Girshick, Gupta & He 2018, "Non-local Neural Networks") — self-attention
over the positions of a feature map, seed 000 §6.3.

Seed 000 §6.3 explains why it is added to a CNN: a convolution sees only a local window, so
relations between distant regions take many layers; applying self-attention to the feature maps
relates every position to every other in one step. The block (the paper's eq. 1 and 6):

    y_i = (1 / C(x)) Σ_j f(x_i, x_j) g(x_j),        z_i = W_z y_i + x_i

over all positions i, j of the H×W map, with g, θ, φ 1×1 convolutions to ``inter_channels`` (half the
input channels by default) and the pairwise function f (§3.2):
- ``'embedded_gaussian'`` f = exp(θ(x_i)ᵀφ(x_j)), C = Σ_j f: y = softmax(θᵀφ) g — the attention of
  seed 000 §6.3 without the 1/√d scale (the paper's default);
- ``'gaussian'`` f = exp(x_iᵀx_j) (no θ, φ), C = Σ_j f;
- ``'dot_product'`` f = θ(x_i)ᵀφ(x_j), C = N (the number of positions j);
- ``'concatenation'`` f = ReLU(w_fᵀ[θ(x_i); φ(x_j)]), C = N. Since w_f is linear, w_fᵀ[θ_i; φ_j] =
  w_θᵀθ_i + w_φᵀφ_j, so the N×N scores are one broadcast sum, without building the N×N×2C' pairs.

The residual connection "+ x" makes it a block that can be inserted into any pretrained network: W_z
is a 1×1 convolution followed by BatchNorm whose scale and shift start at zero (§4.1), so the block
starts as the identity. ``sub_sample=True`` max-pools φ and g by 2×2 (§3.3), dividing the cost of the
pairwise term by 4. Module names follow the authors' reference PyTorch code: ``g``, ``theta``, ``phi``,
``concat_project``, ``W_z``.
"""
from __future__ import annotations

from ... import nn
from ...nn import functional as F
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input

MODES = ("embedded_gaussian", "gaussian", "dot_product", "concatenation")


class NonLocalBlock2d(Module):
    """``NonLocalBlock2d(in_channels, inter_channels=None, mode='embedded_gaussian', sub_sample=False,
    batch_norm=True)``.

    Args:
        in_channels: channels C of the feature map.
        inter_channels: channels C' of g, θ, φ (default C // 2, at least 1).
        mode: the pairwise function f: ``'embedded_gaussian'``, ``'gaussian'``, ``'dot_product'`` or
            ``'concatenation'``.
        sub_sample: 2×2 max pooling after g and φ (H and W then even).
        batch_norm: W_z is conv 1×1 → BatchNorm2d (scale and shift initialised to zero); without it, a
            1×1 convolution initialised to zero. Either way the block starts as the identity.

    Shape:
        ``(N, C, H, W)`` → ``(N, C, H, W)``. :meth:`attention` gives the normalised weights f/C(x),
        ``(N, H·W, H'·W')``.
    """

    def __init__(self, in_channels: int, inter_channels: int | None = None, mode: str = "embedded_gaussian",
                 sub_sample: bool = False, batch_norm: bool = True) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"NonLocalBlock2d: mode must be one of {MODES}, got {mode!r}")
        inter = max(1, in_channels // 2) if inter_channels is None else int(inter_channels)
        self.in_channels, self.inter_channels, self.mode = int(in_channels), inter, mode
        self.sub_sample, self.batch_norm = bool(sub_sample), bool(batch_norm)

        def embed() -> Module:
            conv = nn.Conv2d(in_channels, inter, 1)
            return nn.Sequential(conv, nn.MaxPool2d(2)) if sub_sample else conv

        self.g = embed()
        if mode == "gaussian":
            self.phi = nn.MaxPool2d(2) if sub_sample else None
        else:
            self.theta = nn.Conv2d(in_channels, inter, 1)
            self.phi = embed()
        if mode == "concatenation":
            self.concat_project = nn.Conv2d(2 * inter, 1, 1, bias=False)
        if batch_norm:
            self.W_z = nn.Sequential(nn.Conv2d(inter, in_channels, 1), nn.BatchNorm2d(in_channels))
            nn.init.zeros_(self.W_z[1].weight)
            nn.init.zeros_(self.W_z[1].bias)
        else:
            self.W_z = nn.Conv2d(inter, in_channels, 1)
            nn.init.zeros_(self.W_z.weight)
            nn.init.zeros_(self.W_z.bias)

    def _theta_phi(self, input: Tensor) -> tuple[Tensor, Tensor]:
        """θ(x) as (N, HW, C') and φ(x) as (N, C', H'W') (x itself in the Gaussian mode)."""
        if self.mode == "gaussian":
            phi = input if self.phi is None else self.phi(input)
            return input.flatten(2).transpose(1, 2), phi.flatten(2)
        return self.theta(input).flatten(2).transpose(1, 2), self.phi(input).flatten(2)

    def attention(self, input: Tensor) -> Tensor:
        """The weights f(x_i, x_j)/C(x) of every output position i over every position j: (N, HW, H'W')."""
        check_input("NonLocalBlock2d", input, self.in_channels, multiple=2 if self.sub_sample else 1)
        theta, phi = self._theta_phi(input)
        if self.mode == "concatenation":
            w = self.concat_project.weight.flatten(1)                       # (1, 2C'): [w_θ, w_φ]
            w_theta, w_phi = w[:, :self.inter_channels], w[:, self.inter_channels:]
            scores = (theta @ w_theta.t()) + (w_phi @ phi)                   # (N, HW, 1) + (N, 1, H'W')
            return F.relu(scores) / phi.shape[-1]
        scores = theta @ phi                                                 # (N, HW, H'W')
        if self.mode == "dot_product":
            return scores / phi.shape[-1]
        return F.softmax(scores, dim=-1)

    def forward(self, input: Tensor) -> Tensor:
        check_input("NonLocalBlock2d", input, self.in_channels, multiple=2 if self.sub_sample else 1)
        n, _, h, w = input.shape
        g = self.g(input).flatten(2).transpose(1, 2)                         # (N, H'W', C')
        y = (self.attention(input) @ g).transpose(1, 2).reshape(n, self.inter_channels, h, w)
        return self.W_z(y) + input

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, inter_channels={self.inter_channels}, mode={self.mode!r}, "
                f"sub_sample={self.sub_sample}")


__all__ = ["NonLocalBlock2d"]
