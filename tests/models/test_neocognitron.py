"""fukaku.models.cnn.cells and .neocognitron against independent oracles: the Gabor closed form evaluated pixel by
pixel, PyTorch's conv2d / max_pool2d / avg_pool2d on the same weights, receptive-field patches read directly from
the pixels, scikit-learn's LinearRegression for the read-out; the Add-if-Silent rule checked against the layer's own
forward pass (a plane is added exactly when some active position is silent)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
from fukaku.models.cnn.cells import (ComplexCells, SimpleCells, bar_images, gabor_kernel, orientation_angles,
                                     simple_cell_filters)
from fukaku.models.cnn.neocognitron import Neocognitron, SLayer


def gabor_reference(size, theta, wavelength, sigma, phase, aspect):
    """The Gabor function of the docstring, one pixel at a time with ``math`` (x right, y up, from the centre)."""
    out = np.empty((size, size))
    centre = (size - 1) / 2
    for row in range(size):
        for col in range(size):
            x, y = col - centre, centre - row
            u = -x * math.sin(theta) + y * math.cos(theta)
            v = x * math.cos(theta) + y * math.sin(theta)
            out[row, col] = (math.exp(-(u * u + aspect * aspect * v * v) / (2 * sigma * sigma))
                             * math.cos(2 * math.pi * u / wavelength + phase))
    return out


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x.numpy() if isinstance(x, fk.Tensor) else x))


def torch_s_layer(x, weight, theta, padding):
    """The S-cell response u = ReLU(a · x − θ‖x‖)/(1 − θ), written with PyTorch."""
    k, channels = weight.shape[-1], x.shape[1]
    norm = TF.conv2d(x * x, torch.ones(1, channels, k, k, dtype=x.dtype), padding=padding).clamp(min=0).sqrt()
    return torch.relu(TF.conv2d(x, weight, padding=padding) - theta * norm) / (1 - theta)


def pixel_patches(image, k, padding):
    """Receptive-field patches of one ``(C, H, W)`` image read from the pixels, ``(H', W', C·k·k)``."""
    c, h, w = image.shape
    padded = np.zeros((c, h + 2 * padding, w + 2 * padding))
    padded[:, padding:padding + h, padding:padding + w] = image
    rows, cols = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    return np.array([[padded[:, i:i + k, j:j + k].reshape(-1) for j in range(cols)] for i in range(rows)])


def digits(n=None):
    pytest.importorskip("sklearn")
    x, y = fk.datasets.digits(flatten=False, return_tensors=False)
    x = x.astype(np.float64)
    return (x[:n, None], y[:n]) if n else (x[:, None], y)


# ------------------------------------------------------------------------------------------- cells
@pytest.mark.parametrize("size, theta, wavelength, sigma, phase, aspect", [
    (7, 0.0, 4.0, None, 0.0, 0.5), (9, 0.3, 5.0, 2.0, 0.0, 1.0), (8, 2.1, 3.0, 1.5, -math.pi / 2, 0.3),
    (5, math.pi / 2, 2.5, 0.9, 1.0, 2.0)])
def test_gabor_kernel_is_its_closed_form(size, theta, wavelength, sigma, phase, aspect):
    got = gabor_kernel(size, theta, wavelength, sigma, phase, aspect, dtype=fk.float64).numpy()
    want = gabor_reference(size, theta, wavelength, 0.56 * wavelength if sigma is None else sigma, phase, aspect)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    assert gabor_kernel(size, theta, wavelength, sigma, phase, aspect).dtype == fk.float32  # the default dtype


@pytest.mark.parametrize("theta", [0.0, 0.4, 1.3])
def test_turning_a_gabor_kernel_a_quarter_turn_counter_clockwise_adds_90_degrees(theta):
    kernel = gabor_kernel(9, theta, 4.0, dtype=fk.float64).numpy()
    np.testing.assert_allclose(np.rot90(kernel), gabor_kernel(9, theta + math.pi / 2, 4.0, dtype=fk.float64).numpy(),
                               atol=1e-12)


def test_a_horizontal_gabor_is_a_positive_strip_flanked_by_negative_ones():
    kernel = gabor_kernel(9, 0.0, 4.0, aspect=0.5, dtype=fk.float64).numpy()
    assert np.all(kernel[4] > 0) and np.all(kernel[2] < 0) and np.all(kernel[6] < 0)  # u = 0, ±λ/2
    np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-15)  # even: symmetric across the bar


def test_simple_cell_filters_are_zero_mean_unit_norm_gabors():
    bank = simple_cell_filters(6, 7, wavelength=3.5, dtype=fk.float64).numpy()
    assert bank.shape == (6, 1, 7, 7)
    np.testing.assert_allclose(bank.mean(axis=(1, 2, 3)), 0, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(bank.reshape(6, -1), axis=1), 1, rtol=1e-14)
    for k, theta in enumerate(orientation_angles(6).numpy()):
        g = gabor_reference(7, theta, 3.5, 0.56 * 3.5, 0.0, 0.5)
        g -= g.mean()
        np.testing.assert_allclose(bank[k, 0], g / np.linalg.norm(g), atol=1e-14)
    np.testing.assert_allclose(orientation_angles(4).numpy(), [0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])


def test_bar_images_draw_the_bar_with_linear_edges():
    imgs = bar_images(9, [0.0, math.pi / 2], [(4, 4)], length=3, width=1, dtype=fk.float64).numpy()
    horizontal = np.zeros((9, 9))
    horizontal[4, 3:6] = 1
    np.testing.assert_array_equal(imgs[0, 0], horizontal)
    np.testing.assert_allclose(imgs[1, 0], horizontal.T, atol=1e-15)
    half = bar_images((5, 7), 0.0, [(2.5, 3)], length=1, width=1, dtype=fk.float64).numpy()[0, 0]
    np.testing.assert_allclose(half[2:4, 3], [0.5, 0.5])  # a bar between two rows lights both by half
    assert half.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="broadcast"):
        bar_images(9, [0.0, 1.0], [(1, 1), (2, 2), (3, 3)], 3)


def test_simple_cells_are_a_rectified_convolution_with_the_filter_bank():
    cells = SimpleCells(8, 7, padding=1, dtype=fk.float64)
    x = np.random.default_rng(0).random((3, 1, 12, 10))
    want = torch.relu(TF.conv2d(t(x), t(cells.weight), padding=1))
    np.testing.assert_allclose(cells(fk.tensor(x)).numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    assert cells(fk.tensor(x)).shape == (3, 8, 8, 6)
    assert "orientations=8" in repr(cells)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_complex_cells_pool_simple_cells_over_positions(mode):
    s = fk.tensor(np.random.default_rng(1).random((2, 4, 6, 8)))
    whole = ComplexCells(mode=mode)(s).numpy()
    np.testing.assert_allclose(whole, t(s).amax(dim=(2, 3)) if mode == "max" else t(s).mean(dim=(2, 3)), rtol=1e-14)
    local = ComplexCells(2, mode=mode)(s).numpy()
    pool = TF.max_pool2d if mode == "max" else TF.avg_pool2d
    np.testing.assert_allclose(local, pool(t(s), 2).numpy(), rtol=1e-14)
    np.testing.assert_allclose(ComplexCells(3, 1, mode=mode)(s).numpy(), pool(t(s), 3, 1).numpy(), rtol=1e-14)
    with pytest.raises(ValueError, match="mode"):
        ComplexCells(mode="sum")


def test_a_simple_cell_is_tuned_to_orientation_and_position_a_complex_cell_only_to_orientation():
    simple, complex_ = SimpleCells(4, 9), ComplexCells()
    angles = orientation_angles(4).numpy()
    at_field = simple(bar_images(32, angles, [(16, 16)], 9, 2)).numpy()[:, :, 12, 12]  # cell (12, 12): field at 16, 16
    assert np.array_equal(at_field.argmax(axis=1), np.arange(4))  # each bar excites its own plane most
    moved = bar_images(32, angles, [(16, 5)], 9, 2)
    assert simple(moved).numpy()[:, :, 12, 12].max() == 0  # outside the receptive field: silent
    anywhere = complex_(simple(moved)).numpy()
    np.testing.assert_allclose(np.diag(anywhere), np.diag(at_field), rtol=1e-5)  # anywhere: the same peak response
    assert np.array_equal(anywhere.argmax(axis=1), np.arange(4))


# ------------------------------------------------------------------------------------------- S-layer
def s_layer_with(weights, theta=0.6, padding=1, min_norm=1e-3, max_planes=None):
    layer = SLayer(weights.shape[1], weights.shape[-1], theta, padding=padding, min_norm=min_norm,
                   max_planes=max_planes, dtype=fk.float64)
    if len(weights):
        layer.weight = fk.tensor(weights)
    return layer


def unit_weights(rng, planes, channels=1, k=3):
    w = rng.standard_normal((planes, channels, k, k))
    return w / np.linalg.norm(w.reshape(planes, channels * k * k), axis=1)[:, None, None, None]


@pytest.mark.parametrize("theta, padding", [(0.0, 0), (0.5, 1), (0.8, 2)])
def test_s_layer_is_thresholded_cosine_similarity(theta, padding):
    rng = np.random.default_rng(2)
    x = rng.random((2, 3, 7, 6)) * (rng.random((2, 3, 7, 6)) > 0.5)
    w = unit_weights(rng, 5, channels=3)
    layer = s_layer_with(w, theta, padding)
    out = layer(fk.tensor(x)).numpy()
    np.testing.assert_allclose(out, torch_s_layer(t(x), t(w), theta, padding).numpy(), rtol=1e-10, atol=1e-12)
    # the same from the patches: ‖x‖·ReLU(cos(a, x) − θ)/(1 − θ)
    patches = pixel_patches(x[1], 3, padding)
    norms = np.linalg.norm(patches, axis=-1)
    cos = patches @ w.reshape(5, -1).T / np.where(norms > 0, norms, 1)[..., None]
    want = norms[..., None] * np.maximum(cos - theta, 0) / (1 - theta)
    np.testing.assert_allclose(out[1], want.transpose(2, 0, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.patches(fk.tensor(x))[1].reshape(patches.shape), patches)


def test_an_empty_s_layer_outputs_no_planes_and_refuses_bad_arguments():
    layer = SLayer(1, 3, padding=1)
    assert layer.planes == 0 and layer(fk.rand(2, 1, 5, 5)).shape == (2, 0, 5, 5)
    with pytest.raises(ValueError, match="threshold"):
        SLayer(1, 3, threshold=1.0)
    with pytest.raises(fk.ShapeError, match=r"\(N, 1, H, W\)"):
        layer(fk.rand(2, 3, 5, 5))


def silent_active(layer, image):
    """Positions where the previous layer responded (patch norm > min_norm) and every plane of ``layer`` is
    silent, from the layer's forward pass; norms computed with PyTorch. ``(H', W')`` booleans."""
    k = layer.kernel_size
    norm = TF.conv2d(t(image) ** 2, torch.ones(1, image.shape[1], k, k, dtype=torch.float64),
                     padding=layer.padding).sqrt().numpy()[0, 0]
    out = layer(fk.tensor(image)).numpy()[0]
    return (norm > layer.min_norm) & (out == 0).all(axis=0), norm


def test_add_if_silent_adds_a_plane_exactly_when_some_active_position_is_silent():
    rng = np.random.default_rng(3)
    outcomes = []
    for trial in range(40):
        image = rng.random((1, 1, 6, 6)) * (rng.random((1, 1, 6, 6)) < 0.4)
        # few planes and a high threshold leave positions silent; many planes and a low one cover every position
        layer = s_layer_with(unit_weights(rng, int(rng.integers(0, 16))), theta=float(rng.choice([0.0, 0.2, 0.5, 0.8])))
        before = layer.planes
        silent, norm = silent_active(layer, image)
        added = layer.add_if_silent(fk.tensor(image))
        assert added == layer.planes - before
        assert (added > 0) == silent.any(), trial
        outcomes.append(added > 0)
        if added:  # the first new plane is the normalised patch of the strongest silent position
            i, j = np.unravel_index(np.argmax(np.where(silent, norm, -np.inf)), silent.shape)
            patch = pixel_patches(image[0], 3, 1)[i, j]
            np.testing.assert_allclose(layer.weight.numpy()[before].reshape(-1), patch / np.linalg.norm(patch),
                                       rtol=1e-12)
            np.testing.assert_allclose(np.linalg.norm(layer.weight.numpy().reshape(layer.planes, -1), axis=1), 1,
                                       rtol=1e-12)
        assert not silent_active(layer, image)[0].any()  # afterwards some plane responds at every active position
        assert layer.add_if_silent(fk.tensor(image)) == 0  # so the same image adds nothing
    assert any(outcomes) and not all(outcomes)


def test_add_if_silent_ignores_inactive_positions_and_stops_at_max_planes():
    layer = s_layer_with(np.zeros((0, 1, 3, 3)), min_norm=0.5)
    assert layer.add_if_silent(fk.zeros(2, 1, 5, 5, dtype=fk.float64)) == 0
    faint = np.zeros((1, 1, 5, 5))
    faint[0, 0, 2, 2] = 0.4  # every patch norm ≤ 0.4 < min_norm: the previous layer did not respond
    assert layer.add_if_silent(fk.tensor(faint)) == 0
    capped = s_layer_with(np.zeros((0, 1, 3, 3)), theta=0.95, max_planes=2)
    assert capped.add_if_silent(fk.tensor(np.random.default_rng(4).random((3, 1, 6, 6)))) == 2
    assert capped.planes == 2


def test_a_later_s_layer_takes_its_channels_from_the_first_images():
    layer = SLayer(None, 3, padding=1, dtype=fk.float64)
    assert layer.add_if_silent(fk.tensor(np.random.default_rng(5).random((2, 4, 5, 5)))) > 0
    assert layer.in_channels == 4 and layer.weight.shape[1:] == (4, 3, 3)


# ------------------------------------------------------------------------------------------- Neocognitron
@pytest.fixture(scope="module")
def grown():
    x, y = digits(300)
    fk.manual_seed(0)
    model = Neocognitron(dtype=fk.float64)
    planes = model.grow(fk.tensor(x))
    return model, planes, x, y


def test_neocognitron_layer_shapes(grown):
    model, planes, x, _ = grown
    s1, c1, s2, c2 = model.s_layers[0], model.c_layers[0], model.s_layers[1], model.c_layers[1]
    assert planes == [s1.planes, s2.planes] and all(p > 0 for p in planes)
    assert s2.in_channels == s1.planes and s2.weight.shape == (s2.planes, s1.planes, 3, 3)
    h = fk.tensor(x[:5])
    assert s1(h).shape == (5, planes[0], 8, 8)
    assert c1(s1(h)).shape == (5, planes[0], 4, 4)
    assert s2(c1(s1(h))).shape == (5, planes[1], 4, 4)
    assert c2(s2(c1(s1(h)))).shape == model.features(h).shape == (5, planes[1], 2, 2)
    assert model.features(h, stages=1).shape == (5, planes[0], 4, 4)
    with pytest.raises(RuntimeError, match="fit"):
        Neocognitron()(h.float())


def test_neocognitron_c_layers_are_max_pooling_of_s_layers(grown):
    model, _, x, _ = grown
    s1 = model.s_layers[0](fk.tensor(x[:20]))
    np.testing.assert_array_equal(model.c_layers[0](s1).numpy(), TF.max_pool2d(t(s1), 2).numpy())
    s2 = model.s_layers[1](model.c_layers[0](s1))
    np.testing.assert_array_equal(model.c_layers[1](s2).numpy(), TF.max_pool2d(t(s2), 2).numpy())


def test_neocognitron_growth_is_deterministic_given_the_seed():
    x, _ = digits(150)

    def weights(seed=None, generator=None):
        if seed is not None:
            fk.manual_seed(seed)
        model = Neocognitron(dtype=fk.float64)
        model.grow(fk.tensor(x), generator=generator)
        return [layer.weight.numpy() for layer in model.s_layers]

    first, again = weights(seed=7), weights(seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    by_generator = weights(generator=fk.Generator().manual_seed(7)), weights(generator=fk.Generator().manual_seed(7))
    assert all(np.array_equal(a, b) for a, b in zip(*by_generator))
    other = weights(seed=8)
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(first, other))


def test_neocognitron_readout_is_least_squares_on_one_hot_labels(grown):
    linear_model = pytest.importorskip("sklearn.linear_model")
    model, _, x, y = grown
    model.fit_readout(fk.tensor(x), y)
    feats = model.features(fk.tensor(x)).flatten(1).numpy()
    reference = linear_model.LinearRegression().fit(feats, np.eye(10)[y])
    np.testing.assert_allclose(model(fk.tensor(x)).detach().numpy(), reference.predict(feats), atol=1e-8)
    with pytest.raises(ValueError, match="labels"):
        model.fit_readout(fk.tensor(x), np.full(len(x), 10))


def test_neocognitron_classifies_held_out_digits_well_above_chance():
    x, y = digits()
    fk.manual_seed(0)
    model = Neocognitron().fit(fk.tensor(x[:1000]).float(), y[:1000])
    accuracy = (model(fk.tensor(x[1000:]).float()).argmax(1).numpy() == y[1000:]).mean()
    assert accuracy > 0.9
