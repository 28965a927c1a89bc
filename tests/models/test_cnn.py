"""fukaku.models.cnn against PyTorch 2.13: each model here is written again in PyTorch (the ``Torch*``
classes below, the way PyTorch code writes them), the PyTorch model's state dict is loaded into the
fukaku model (same keys, same order), and outputs, input gradients, parameter gradients and BatchNorm
running statistics are compared in eval and train mode. Also: parameter counts against closed forms
and the papers' numbers, the WaveNet's causality and receptive field, the non-local block's identity
start, the LRN constant against the AlexNet paper's formula, errors, and a tiny LeNet overfit.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import fukaku as fk
from conformance import assert_close, randn
from fukaku.models import cnn

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models: PyTorch's second thread only waits (seconds per test on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ============================================================================ helpers
def randomize_batchnorm_(model: tnn.Module, seed: int = 0) -> tnn.Module:
    """Give every torch BatchNorm affine parameters and running statistics away from 1 and 0, so that
    eval mode (which uses them) and the loaded state dict are really tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model


def load_from_torch(model, ref: tnn.Module) -> None:
    """Copy ``ref``'s state dict into the fukaku ``model`` through NumPy; the keys must be the same, in order."""
    state = ref.state_dict()
    assert list(model.state_dict()) == list(state)
    model.load_state_dict({k: fk.tensor(v.detach().numpy().copy()) for k, v in state.items()})


def compare(model, ref: tnn.Module, x: np.ndarray, train: bool, seed: int = 1, gradients: bool = True) -> None:
    """Forward and one backward (random upstream gradient) of both models on ``x``: outputs, the input's
    gradient, every parameter's gradient and (train mode) the updated buffers must agree."""
    model.train(train)
    ref.train(train)
    model.zero_grad()
    ref.zero_grad()
    xf, xt = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yf, yt = model(xf), ref(xt)
    assert_close(yf, yt, what="output")
    if not gradients:
        return
    u = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(x.dtype)
    (yf * fk.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    assert_close(xf.grad, xt.grad, what="input gradient")
    params = dict(model.named_parameters())
    assert list(params) == [name for name, _ in ref.named_parameters()]
    for name, p in ref.named_parameters():
        if p.grad is None:  # a parameter the output does not use (WaveNet's last residual 1×1)
            assert params[name].grad is None or not params[name].grad.numpy().any(), name
        else:
            assert_close(params[name].grad, p.grad, what=f"gradient of {name}")
    buffers = dict(model.named_buffers())
    for name, b in ref.named_buffers():
        assert_close(buffers[name], b, what=f"buffer {name}")


def check_equivalent(model, ref: tnn.Module, x: np.ndarray, modes=(False, True)) -> None:
    """Load ``ref``'s (randomised) weights into ``model``, then compare the eval-mode outputs in float32, and
    outputs and gradients in each mode in float64. Gradients are not compared in float32: a ReLU whose input
    is within float32 rounding of 0 may switch on in one library and off in the other (sums in another
    order), which changes the gradient locally by much more than rounding; and normalising by the statistics
    of a batch of 2 amplifies float32 rounding through a deep stack beyond any tolerance that would still
    catch a mistake. Float64 agrees to ~1e-12."""
    randomize_batchnorm_(ref)
    load_from_torch(model, ref)
    if False in modes:
        compare(model, ref, x.astype(np.float32), train=False, gradients=False)
    model.double()
    ref.double()
    for train in modes:
        compare(model, ref, x.astype(np.float64), train)


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


# ============================================================================ LeNet-5
class TorchLeNet5(tnn.Module):
    def __init__(self, activation="relu", pooling="max", padding=2, in_channels=1, num_classes=10):
        super().__init__()
        act = {"relu": tnn.ReLU, "tanh": tnn.Tanh}[activation]
        pool = {"max": tnn.MaxPool2d, "avg": tnn.AvgPool2d}[pooling]
        self.features = tnn.Sequential(tnn.Conv2d(in_channels, 6, 5, padding=padding), act(), pool(2),
                                       tnn.Conv2d(6, 16, 5), act(), pool(2))
        self.classifier = tnn.Sequential(tnn.Linear(400, 120), act(), tnn.Linear(120, 84), act(),
                                         tnn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("pooling", ["max", "avg"])
@pytest.mark.parametrize("input_size", [28, 32])
def test_lenet5_equals_torch(activation, pooling, input_size):
    torch.manual_seed(0)
    ref = TorchLeNet5(activation, pooling, padding=2 if input_size == 28 else 0)
    model = cnn.LeNet5(activation=activation, pooling=pooling, input_size=input_size)
    check_equivalent(model, ref, randn(3, 1, input_size, input_size, dtype=np.float32), modes=(True,))


def test_lenet5_parameters_and_shapes():
    model = cnn.LeNet5()
    # C1: 6(1·5·5 + 1), C3: 16(6·5·5 + 1), F5: 120(16·5·5 + 1), F6: 84(120 + 1), output: 10(84 + 1)
    assert count(model) == 6 * 26 + 16 * 151 + 120 * 401 + 84 * 121 + 10 * 85 == 61_706
    assert count(cnn.LeNet5(num_classes=26, in_channels=3, input_size=32)) == count(TorchLeNet5(
        padding=0, in_channels=3, num_classes=26))
    assert tuple(model(fk.randn(2, 1, 28, 28)).shape) == (2, 10)
    assert tuple(cnn.LeNet5(input_size=36, padding=0)(fk.randn(1, 1, 36, 36)).shape) == (1, 10)
    assert "activation='relu'" in repr(model)


def test_lenet5_errors_name_the_model_and_the_shapes():
    with pytest.raises(fk.ShapeError, match=r"LeNet5.*\(2, 3, 28, 28\)"):
        cnn.LeNet5()(fk.randn(2, 3, 28, 28))
    with pytest.raises(fk.ShapeError, match=r"LeNet5: built for 28×28.*\(2, 1, 32, 32\)"):
        cnn.LeNet5()(fk.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"O = \(N − F \+ 2Q\)/s \+ 1"):
        cnn.LeNet5(input_size=12)
    with pytest.raises(ValueError, match="pooling"):
        cnn.LeNet5(pooling="median")


def test_lenet5_overfits_64_digits():
    """A sanity check of the whole stack: 64 digits (8×8 in [0, 1], enlarged to 32×32) are learned in 25 Adam
    steps (about 2 s)."""
    x, y = fk.datasets.digits()
    images = np.kron(x.numpy()[:64].reshape(64, 1, 8, 8), np.ones((4, 4), dtype=np.float32))
    fk.manual_seed(0)
    model = cnn.LeNet5(input_size=32)
    opt = fk.optim.Adam(model.parameters(), lr=1e-2)
    xb, yb = fk.tensor(images), y[:64]
    for _ in range(25):
        opt.zero_grad()
        loss = fk.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    assert loss.item() < 0.1


# ============================================================================ AlexNet
class TorchAlexNet(tnn.Module):
    def __init__(self, channels=(8, 24, 48, 32, 32), hidden=32, dropout=0.5, lrn=True, num_classes=10):
        super().__init__()
        c1, c2, c3, c4, c5 = channels

        def norm():
            return tnn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0) if lrn else tnn.Identity()

        self.features = tnn.Sequential(
            tnn.Conv2d(3, c1, 5, padding=2), tnn.ReLU(), norm(), tnn.MaxPool2d(3, 2),
            tnn.Conv2d(c1, c2, 5, padding=2), tnn.ReLU(), norm(), tnn.MaxPool2d(3, 2),
            tnn.Conv2d(c2, c3, 3, padding=1), tnn.ReLU(), tnn.Conv2d(c3, c4, 3, padding=1), tnn.ReLU(),
            tnn.Conv2d(c4, c5, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(3, 2))
        self.avgpool = tnn.AdaptiveAvgPool2d((3, 3))
        self.classifier = tnn.Sequential(tnn.Dropout(dropout), tnn.Linear(c5 * 9, hidden), tnn.ReLU(),
                                         tnn.Dropout(dropout), tnn.Linear(hidden, hidden), tnn.ReLU(),
                                         tnn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


@pytest.mark.parametrize("lrn", [True, False])
def test_alexnet_equals_torch(lrn):
    torch.manual_seed(1)
    x = randn(2, 3, 32, 32, dtype=np.float32)
    # eval mode: dropout off; train mode with p = 0 (dropout's mask is random, so not comparable)
    check_equivalent(cnn.AlexNet(width=0.125, hidden=32, lrn=lrn), TorchAlexNet(lrn=lrn), x, modes=(False,))
    check_equivalent(cnn.AlexNet(width=0.125, hidden=32, lrn=lrn, dropout=0.0), TorchAlexNet(lrn=lrn, dropout=0.0),
                     x, modes=(True,))


def test_alexnet_lrn_is_the_papers_formula():
    """b = a / (k + α Σ a²)^β over 5 neighbouring channels, k = 2, α = 1e-4, β = 0.75 (Krizhevsky et al. §3.3)."""
    model = cnn.AlexNet(width=0.125)
    a = np.abs(randn(2, 8, 5, 5, seed=3)) * 30.0  # large activations, so the normalisation matters
    got = model.features[2](fk.tensor(a)).numpy()
    sq = np.pad(a ** 2, ((0, 0), (2, 2), (0, 0), (0, 0)))
    window = sum(sq[:, i:i + 8] for i in range(5))
    want = a / (2.0 + 1e-4 * window) ** 0.75
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert not np.allclose(want, a / 2.0 ** 0.75, rtol=1e-2)


def test_alexnet_state_dict_does_not_depend_on_lrn():
    assert list(cnn.AlexNet(lrn=True).state_dict()) == list(cnn.AlexNet(lrn=False).state_dict())
    assert tuple(cnn.AlexNet(width=0.125, hidden=16)(fk.randn(1, 3, 15, 15)).shape) == (1, 10)


# ============================================================================ VGG
class TorchVGG(tnn.Module):
    """torchvision's VGG, with its ``make_layers``, sized like fukaku's defaults."""

    def __init__(self, config, batch_norm, width=1 / 16, hidden=16, dropout=0.5, num_classes=10):
        super().__init__()
        layers, c = [], 3
        for v in config:
            if v == "M":
                layers.append(tnn.MaxPool2d(kernel_size=2, stride=2))
            else:
                v = max(1, round(v * width))
                layers += [tnn.Conv2d(c, v, kernel_size=3, padding=1)]
                layers += [tnn.BatchNorm2d(v), tnn.ReLU(inplace=True)] if batch_norm else [tnn.ReLU(inplace=True)]
                c = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.classifier = tnn.Sequential(tnn.Linear(c, hidden), tnn.ReLU(True), tnn.Dropout(p=dropout),
                                         tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Dropout(p=dropout),
                                         tnn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


VGG11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_equals_torch(batch_norm):
    torch.manual_seed(2)
    x = randn(2, 3, 32, 32, dtype=np.float32, seed=2)
    check_equivalent(cnn.vgg11(width=1 / 16, hidden=16, batch_norm=batch_norm), TorchVGG(VGG11, batch_norm), x,
                     modes=(False,))
    check_equivalent(cnn.vgg11(width=1 / 16, hidden=16, batch_norm=batch_norm, dropout=0.0),
                     TorchVGG(VGG11, batch_norm, dropout=0.0), x, modes=(True,))


def test_vgg_configurations_and_parameter_counts():
    """The convolutional part of VGG-16 has the well-known 14,714,688 parameters (Σ 9·c_in·c_out + c_out)."""
    assert count(cnn.vgg16().features) == 14_714_688
    for name, weight_layers in [("vgg11", 11), ("vgg13", 13), ("vgg16", 16), ("vgg19", 19)]:
        model = getattr(cnn, name)(width=1 / 16, hidden=8)
        convs = [m for m in model.modules() if isinstance(m, fk.nn.Conv2d)]
        assert len(convs) + 3 == weight_layers
    with pytest.raises(fk.ShapeError, match=r"VGG.*\(1, 3, 16, 16\).*32×32"):
        cnn.vgg11(width=1 / 16)(fk.randn(1, 3, 16, 16))
    custom = cnn.VGG([4, "M", 8, "M"], num_classes=3, hidden=8, pool_size=2)
    assert tuple(custom(fk.randn(2, 3, 8, 8)).shape) == (2, 3)


# ============================================================================ ResNet
class TorchBasicBlock(tnn.Module):
    """He et al. 2016 Fig. 2, CIFAR option A as in Idelbayev's reference implementation."""
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, option="A", residual=True):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.residual, self.downsample = residual, None
        if residual and (stride != 1 or in_planes != planes):
            if option == "A":
                self.pad = planes // 4
            else:
                self.downsample = tnn.Sequential(tnn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                                 tnn.BatchNorm2d(planes))

    def shortcut(self, x):
        if self.downsample is not None:
            return self.downsample(x)
        if hasattr(self, "pad"):
            return TF.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)
        return x

    def forward(self, x):
        out = TF.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + self.shortcut(x)
        return TF.relu(out)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1, option="A", residual=True):
        super().__init__()
        out_planes = 4 * planes
        self.conv1 = tnn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, out_planes, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(out_planes)
        self.residual, self.stride, self.extra, self.downsample = residual, stride, 0, None
        if residual and (stride != 1 or in_planes != out_planes):
            if option == "A":
                self.extra = out_planes - in_planes
            else:
                self.downsample = tnn.Sequential(tnn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False),
                                                 tnn.BatchNorm2d(out_planes))

    def forward(self, x):
        out = TF.relu(self.bn1(self.conv1(x)))
        out = TF.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.residual:
            if self.downsample is not None:
                identity = self.downsample(x)
            else:
                e = self.extra
                identity = TF.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, e // 2, e - e // 2))
            out = out + identity
        return TF.relu(out)


class TorchCifarResNet(tnn.Module):
    def __init__(self, block, layers, widths=(4, 8, 16), option="A", residual=True, num_classes=10):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(widths[0])
        in_planes = widths[0]
        for i, (n, planes) in enumerate(zip(layers, widths)):
            blocks = []
            for stride in [1 if i == 0 else 2] + [1] * (n - 1):
                blocks.append(block(in_planes, planes, stride, option, residual))
                in_planes = planes * block.expansion
            setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
        self.fc = tnn.Linear(in_planes, num_classes)

    def forward(self, x):
        out = TF.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = TF.avg_pool2d(out, out.size()[3])
        return self.fc(out.view(out.size(0), -1))


@pytest.mark.parametrize("shortcut", ["A", "B"])
@pytest.mark.parametrize("residual", [True, False])
def test_resnet20_equals_torch(shortcut, residual):
    torch.manual_seed(3)
    ref = TorchCifarResNet(TorchBasicBlock, (3, 3, 3), option=shortcut, residual=residual)
    model = cnn.resnet20(widths=(4, 8, 16), shortcut=shortcut, residual=residual)
    check_equivalent(model, ref, randn(2, 3, 8, 8, dtype=np.float32, seed=3))


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_bottleneck_resnet_equals_torch(shortcut):
    torch.manual_seed(4)
    ref = TorchCifarResNet(TorchBottleneck, (1, 2, 1), widths=(2, 4, 8), option=shortcut)
    model = cnn.ResNet("bottleneck", (1, 2, 1), widths=(2, 4, 8), shortcut=shortcut)
    check_equivalent(model, ref, randn(2, 3, 8, 8, dtype=np.float32, seed=4))


def cifar_resnet_parameters(n: int, widths=(16, 32, 64), classes: int = 10) -> int:
    """Closed form for option A: stem 3·3·3·w₀ + BN 2w₀; block 9·c_in·w + 9·w² + 4w; Linear 64·10 + 10."""
    total = 27 * widths[0] + 2 * widths[0]
    c_in = widths[0]
    for w in widths:
        for _ in range(n):
            total += 9 * c_in * w + 9 * w * w + 4 * w
            c_in = w
    return total + widths[-1] * classes + classes


@pytest.mark.parametrize("depth, millions", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)])
def test_cifar_resnet_depths_and_parameter_counts(depth, millions):
    """§4.2: 6n + 2 layers; Table 6 lists 0.27M, 0.46M, 0.66M, 0.85M and 1.7M parameters; the plain twin
    (option A) has exactly as many."""
    resnet, plain = getattr(cnn, f"resnet{depth}")(), getattr(cnn, f"plain{depth}")()
    n = (depth - 2) // 6
    assert resnet.depth == plain.depth == depth
    assert count(resnet) == count(plain) == cifar_resnet_parameters(n)
    assert round(count(resnet) / 1e6, 2 if millions < 1 else 1) == millions
    assert not plain.residual and "plain-" in repr(plain) and f"ResNet-{depth}" in repr(resnet)


def test_resnet_structure_and_errors():
    model = cnn.resnet20(shortcut="B")
    assert "layer2.0.downsample.0.weight" in model.state_dict() and "layer1.0.downsample.0.weight" not in \
        model.state_dict()
    assert count(model) > count(cnn.resnet20())  # the projections of option B add parameters
    assert cnn.cifar_resnet(29, block="bottleneck").depth == 29
    assert tuple(cnn.resnet20(widths=(4, 8, 16))(fk.randn(2, 3, 9, 9)).shape) == (2, 10)
    block = cnn.BasicBlock(4, 8, stride=2)
    assert tuple(block(fk.randn(2, 4, 7, 7)).shape) == (2, 8, 4, 4)
    out = cnn.ZeroPadShortcut(2, 6, 2)(fk.tensor(np.arange(32.0).reshape(1, 2, 4, 4)))
    np.testing.assert_array_equal(out.numpy()[0, [0, 1, 4, 5]], 0.0)
    np.testing.assert_array_equal(out.numpy()[0, 2:4], np.arange(32.0).reshape(2, 4, 4)[:, ::2, ::2])
    with pytest.raises(ValueError, match="6n \\+ 2"):
        cnn.cifar_resnet(21)
    with pytest.raises(fk.ShapeError, match=r"ResNet.*\(2, 1, 8, 8\)"):
        cnn.resnet20(widths=(4, 8, 16))(fk.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="shortcut"):
        cnn.resnet20(shortcut="C")


# ============================================================================ U-Net
class TorchDoubleConv(tnn.Sequential):
    def __init__(self, c_in, c_out, bn):
        layers = []
        for c in (c_in, c_out):
            layers += [tnn.Conv2d(c, c_out, 3, padding=1, bias=not bn)] + ([tnn.BatchNorm2d(c_out)] if bn else [])
            layers.append(tnn.ReLU(inplace=True))
        super().__init__(*layers)


class TorchUp(tnn.Module):
    def __init__(self, c, bn, bilinear):
        super().__init__()
        if bilinear:
            self.up = tnn.Sequential(tnn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                                     tnn.Conv2d(c, c // 2, 1))
        else:
            self.up = tnn.ConvTranspose2d(c, c // 2, 2, stride=2)
        self.conv = TorchDoubleConv(c, c // 2, bn)

    def forward(self, x, skip):
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class TorchUNet(tnn.Module):
    def __init__(self, c_in=1, classes=2, w=4, depth=2, bn=True, bilinear=False):
        super().__init__()
        self.inc = TorchDoubleConv(c_in, w, bn)
        self.downs = tnn.ModuleList([tnn.Sequential(tnn.MaxPool2d(2), TorchDoubleConv(w << i, w << (i + 1), bn))
                                     for i in range(depth)])
        self.ups = tnn.ModuleList([TorchUp(w << (i + 1), bn, bilinear) for i in reversed(range(depth))])
        self.outc = tnn.Conv2d(w, classes, 1)

    def forward(self, x):
        xs = [self.inc(x)]
        for down in self.downs:
            xs.append(down(xs[-1]))
        x = xs.pop()
        for up in self.ups:
            x = up(x, xs.pop())
        return self.outc(x)


@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("upsampling", ["transpose", "bilinear"])
def test_unet_equals_torch(batch_norm, upsampling):
    torch.manual_seed(5)
    ref = TorchUNet(bn=batch_norm, bilinear=upsampling == "bilinear")
    model = cnn.UNet(width=4, depth=2, batch_norm=batch_norm, upsampling=upsampling)
    check_equivalent(model, ref, randn(2, 1, 12, 16, dtype=np.float32, seed=5))


def test_unet_shapes_and_errors():
    model = cnn.UNet(in_channels=3, num_classes=5, width=2, depth=3)
    assert tuple(model(fk.randn(1, 3, 16, 24)).shape) == (1, 5, 16, 24)
    assert len(model.downs) == len(model.ups) == 3
    with pytest.raises(fk.ShapeError, match=r"UNet.*\(18, 24\).*\(1, 3, 18, 24\).*multiples of 8"):
        model(fk.randn(1, 3, 18, 24))


# ============================================================================ WaveNet
class TorchWaveNet(tnn.Module):
    class Block(tnn.Module):
        def __init__(self, r, s, k, d):
            super().__init__()
            self.pad = (k - 1) * d
            self.dilated = tnn.Conv1d(r, 2 * r, k, dilation=d)
            self.residual = tnn.Conv1d(r, r, 1)
            self.skip = tnn.Conv1d(r, s, 1)

        def forward(self, x):
            h = self.dilated(TF.pad(x, (self.pad, 0)))
            z = torch.tanh(h[:, :h.shape[1] // 2]) * torch.sigmoid(h[:, h.shape[1] // 2:])
            return x + self.residual(z), self.skip(z)

    def __init__(self, c_in=2, c_out=3, r=4, s=5, k=2, dilations=(1, 2, 4)):
        super().__init__()
        self.k = k
        self.causal = tnn.Conv1d(c_in, r, k)
        self.blocks = tnn.ModuleList([self.Block(r, s, k, d) for d in dilations])
        self.head = tnn.Sequential(tnn.ReLU(), tnn.Conv1d(s, s, 1), tnn.ReLU(), tnn.Conv1d(s, c_out, 1))

    def forward(self, x):
        x = self.causal(TF.pad(x, (self.k - 1, 0)))
        total = 0
        for block in self.blocks:
            x, s = block(x)
            total = total + s
        return self.head(total)


@pytest.mark.parametrize("kernel_size", [2, 3])
def test_wavenet_equals_torch(kernel_size):
    torch.manual_seed(6)
    ref = TorchWaveNet(k=kernel_size, dilations=(1, 2, 4, 1))
    model = cnn.WaveNet(2, 3, residual_channels=4, skip_channels=5, kernel_size=kernel_size, dilations=[1, 2, 4, 1])
    check_equivalent(model, ref, randn(3, 2, 20, dtype=np.float32, seed=6), modes=(True,))


@pytest.mark.parametrize("kernel_size, num_layers, num_stacks", [(2, 4, 1), (3, 3, 2)])
def test_wavenet_is_causal_with_the_stated_receptive_field(kernel_size, num_layers, num_stacks):
    """Output t depends on inputs t − R + 1 … t exactly: the gradient of y_t is nonzero there and only there,
    and changing the inputs after t leaves y_0 … y_t unchanged to the bit."""
    fk.manual_seed(7)
    model = cnn.WaveNet(residual_channels=6, skip_channels=6, kernel_size=kernel_size, num_layers=num_layers,
                        num_stacks=num_stacks).double()
    dilations = [2 ** i for i in range(num_layers)] * num_stacks
    R = model.receptive_field
    assert R == (kernel_size - 1) * (1 + sum(dilations)) + 1
    length, t = R + 20, R + 10
    x = randn(2, 1, length, seed=8)
    xf = fk.tensor(x, requires_grad=True)
    model(xf)[1, 0, t].backward()
    grad = xf.grad.numpy()
    assert not grad[0].any()                                           # samples do not mix
    np.testing.assert_array_equal(np.flatnonzero(grad[1, 0]), np.arange(t - R + 1, t + 1))
    future = x.copy()
    future[:, :, t + 1:] = randn(2, 1, length - t - 1, seed=9)
    with fk.no_grad():
        a, b = model(fk.tensor(x)).numpy(), model(fk.tensor(future)).numpy()
    np.testing.assert_array_equal(a[:, :, :t + 1], b[:, :, :t + 1])
    assert not np.array_equal(a[:, :, t + 1:], b[:, :, t + 1:])


def test_causal_conv1d_loads_into_torch_conv1d():
    conv = cnn.CausalConv1d(2, 3, 3, dilation=2)
    ref = tnn.Conv1d(2, 3, 3, dilation=2)
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in conv.state_dict().items()})
    x = randn(1, 2, 9, dtype=np.float32)
    assert_close(conv(fk.tensor(x)), ref(TF.pad(torch.tensor(x), (4, 0))))
    with pytest.raises(fk.ShapeError, match=r"WaveNet.*\(N, C, L\).*\(4, 20\)"):
        cnn.WaveNet()(fk.randn(4, 20))


# ============================================================================ MobileNet
class TorchDepthwiseSeparable(tnn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.depthwise = tnn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
        self.bn1 = tnn.BatchNorm2d(c_in)
        self.pointwise = tnn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(c_out)

    def forward(self, x):
        return TF.relu(self.bn2(self.pointwise(TF.relu(self.bn1(self.depthwise(x))))))


class TorchMobileNet(tnn.Module):
    CFG = [64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024]

    def __init__(self, alpha=0.125, classes=10):
        super().__init__()
        c = round(32 * alpha)
        layers = [tnn.Sequential(tnn.Conv2d(3, c, 3, 1, 1, bias=False), tnn.BatchNorm2d(c), tnn.ReLU(inplace=True))]
        for item in self.CFG:
            out, stride = item if isinstance(item, tuple) else (item, 1)
            layers.append(TorchDepthwiseSeparable(c, round(out * alpha), stride))
            c = round(out * alpha)
        self.features = tnn.Sequential(*layers)
        self.fc = tnn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


def test_mobilenet_equals_torch():
    torch.manual_seed(8)
    check_equivalent(cnn.MobileNet(width_mult=0.125), TorchMobileNet(), randn(2, 3, 32, 32, dtype=np.float32, seed=8))


def test_mobilenet_parameter_counts():
    """A depthwise-separable block has 9·M + M·N convolution weights against 9·M·N for a 3×3 convolution;
    MobileNet-224 (α = 1, 1000 classes) has the paper's 4.2M parameters."""
    block = cnn.DepthwiseSeparableConv2d(32, 64)
    assert count(block) == 9 * 32 + 32 * 64 + 2 * 32 + 2 * 64
    assert count(block.depthwise) + count(block.pointwise) < 9 * 32 * 64 / 7
    assert tuple(block(fk.randn(1, 32, 5, 5)).shape) == (1, 64, 5, 5)
    full = cnn.MobileNet(num_classes=1000, width_mult=1.0, stem_stride=2)
    assert round(count(full) / 1e6, 1) == 4.2
    half = cnn.MobileNet(width_mult=0.5)
    assert half.fc.in_features == 512 and tuple(half(fk.randn(1, 3, 32, 32)).shape) == (1, 10)


# ============================================================================ non-local block
class TorchNonLocal(tnn.Module):
    """The authors' reference PyTorch code (AlexHex7/Non-local_pytorch), 2-D, the four pairwise functions;
    the concatenation version builds the N × N' pairs explicitly."""

    def __init__(self, c, inter, mode, sub_sample, bn):
        super().__init__()
        self.c, self.inter, self.mode = c, inter, mode
        self.g = tnn.Conv2d(c, inter, 1)
        if mode != "gaussian":
            self.theta = tnn.Conv2d(c, inter, 1)
            self.phi = tnn.Conv2d(c, inter, 1)
        if mode == "concatenation":
            self.concat_project = tnn.Conv2d(2 * inter, 1, 1, bias=False)
        self.W_z = tnn.Sequential(tnn.Conv2d(inter, c, 1), tnn.BatchNorm2d(c)) if bn else tnn.Conv2d(inter, c, 1)
        self.pool = sub_sample
        if sub_sample:
            self.g = tnn.Sequential(self.g, tnn.MaxPool2d(2))
            self.phi = tnn.Sequential(self.phi, tnn.MaxPool2d(2)) if mode != "gaussian" else tnn.MaxPool2d(2)

    def forward(self, x):
        b = x.size(0)
        g_x = self.g(x).view(b, self.inter, -1).permute(0, 2, 1)
        if self.mode == "gaussian":
            theta_x = x.view(b, self.c, -1).permute(0, 2, 1)
            phi_x = (self.phi(x) if self.pool else x).view(b, self.c, -1)
        else:
            theta_x = self.theta(x).view(b, self.inter, -1).permute(0, 2, 1)
            phi_x = self.phi(x).view(b, self.inter, -1)
        if self.mode == "concatenation":
            t = theta_x.permute(0, 2, 1).unsqueeze(-1).repeat(1, 1, 1, phi_x.size(2))
            p = phi_x.unsqueeze(2).repeat(1, 1, theta_x.size(1), 1)
            f = TF.relu(self.concat_project(torch.cat([t, p], dim=1))).squeeze(1)
            f_div_c = f / f.size(-1)
        elif self.mode == "dot_product":
            f = torch.matmul(theta_x, phi_x)
            f_div_c = f / f.size(-1)
        else:
            f_div_c = TF.softmax(torch.matmul(theta_x, phi_x), dim=-1)
        y = torch.matmul(f_div_c, g_x).permute(0, 2, 1).contiguous().view(b, self.inter, *x.size()[2:])
        return self.W_z(y) + x


@pytest.mark.parametrize("mode", ["embedded_gaussian", "gaussian", "dot_product", "concatenation"])
@pytest.mark.parametrize("sub_sample, batch_norm", [(False, True), (True, False)])
def test_nonlocal_block_equals_torch(mode, sub_sample, batch_norm):
    torch.manual_seed(9)
    ref = TorchNonLocal(6, 3, mode, sub_sample, batch_norm)
    model = cnn.NonLocalBlock2d(6, mode=mode, sub_sample=sub_sample, batch_norm=batch_norm)
    x = randn(2, 6, 4, 6, dtype=np.float32, seed=9) * (0.3 if mode == "gaussian" else 1.0)
    check_equivalent(model, ref, x)


@pytest.mark.parametrize("batch_norm", [True, False])
def test_nonlocal_block_starts_as_the_identity(batch_norm):
    block = cnn.NonLocalBlock2d(8, batch_norm=batch_norm)
    x = fk.randn(2, 8, 5, 5)
    np.testing.assert_array_equal(block(x).detach().numpy(), x.numpy())
    weights = block.attention(x).detach().numpy()
    assert weights.shape == (2, 25, 25)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert tuple(cnn.NonLocalBlock2d(8, 2, sub_sample=True).attention(fk.randn(1, 8, 4, 6)).shape) == (1, 24, 6)
    with pytest.raises(fk.ShapeError, match=r"NonLocalBlock2d.*\(2, 4, 5, 5\)"):
        block(fk.randn(2, 4, 5, 5))


# ============================================================================ the package
def test_models_are_exported_from_fukaku_models():
    for name in cnn.__all__:
        assert getattr(fk.models, name) is getattr(cnn, name)
    assert "cnn" in fk.models.__all__
