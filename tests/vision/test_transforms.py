"""fukaku.vision.transforms against independent oracles: NumPy slicing, ``np.pad``, ``np.rot90``,
closed forms, Pillow (``Image.resize`` of float images, ``Image.rotate``), and torch's own ops where
they are one (``F.pad``, ``F.interpolate``, and torchvision's rotation pipeline written with
``F.grid_sample``). torchvision itself is not installable here."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import assert_close, check
from PIL import Image

import fukaku as fk
from fukaku.vision import transforms as T
from fukaku.vision.transforms import functional as TF
from fukaku.vision.transforms._functional_tensor import affine_output_size, inverse_affine_matrix


def image(c: int = 3, h: int = 7, w: int = 9, dtype=np.float32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((c, h, w)).astype(dtype)


def pil_rgb(h: int = 6, w: int = 10, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


# ----------------------------------------------------------------------------- conversions
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA"])
def test_to_tensor_of_pil_is_chw_over_255(mode):
    hwc = np.random.default_rng(1).integers(0, 256, (5, 4, len(mode)), dtype=np.uint8)
    pic = Image.fromarray(hwc[:, :, 0] if mode == "L" else hwc, mode=mode)
    out = T.ToTensor()(pic)
    assert out.dtype == fk.float32 and tuple(out.shape) == (len(mode), 5, 4)
    np.testing.assert_array_equal(out.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))


def test_to_tensor_of_pil_special_modes_and_arrays():
    ints = np.arange(12, dtype=np.int32).reshape(3, 4) * 1000
    out = TF.to_tensor(Image.fromarray(ints))  # mode I: int32 values kept
    assert out.dtype == fk.int32 and out.numpy().tolist() == [ints.tolist()]
    floats = np.linspace(-1, 3, 12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(TF.to_tensor(Image.fromarray(floats)).numpy()[0], floats)  # mode F
    bits = Image.fromarray(np.array([[True, False], [False, True]]))  # mode 1: 0 or 1
    np.testing.assert_array_equal(TF.to_tensor(bits).numpy()[0], [[1, 0], [0, 1]])
    hw = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    np.testing.assert_allclose(TF.to_tensor(hw).numpy(), [[[0, 1], [0.2, 0.4]]], rtol=1e-7)
    f64 = np.random.default_rng(2).random((2, 3, 4))
    out = TF.to_tensor(f64)  # not uint8: values and dtype kept, HWC -> CHW
    assert out.dtype == fk.float64
    np.testing.assert_array_equal(out.numpy(), f64.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        TF.to_tensor([[1, 2]])
    with pytest.raises(ValueError, match="2 or 3 dimensional"):
        TF.to_tensor(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_to_tensor_keeps_values():
    pic = pil_rgb()
    out = T.PILToTensor()(pic)
    assert out.dtype == fk.uint8
    np.testing.assert_array_equal(out.numpy(), np.asarray(pic).transpose(2, 0, 1))


def test_to_pil_image_truncates_like_torchvision_and_picks_modes():
    x = image(3, 4, 5)
    pic = T.ToPILImage()(fk.tensor(x))
    assert pic.mode == "RGB" and pic.size == (5, 4)
    np.testing.assert_array_equal(np.asarray(pic), (x.transpose(1, 2, 0) * 255).astype(np.uint8))
    assert T.ToPILImage()(fk.tensor(image(1, 4, 5))).mode == "L"
    assert T.ToPILImage()(fk.tensor(image(4, 4, 5))).mode == "RGBA"
    assert TF.to_pil_image(fk.tensor(image(1, 4, 5)), mode="F").mode == "F"
    assert TF.to_pil_image(np.zeros((4, 5, 2), np.uint8)).mode == "LA"
    with pytest.raises(ValueError, match="> 4 channels"):
        TF.to_pil_image(fk.zeros(5, 4, 4))
    with pytest.raises(ValueError, match="incorrect mode"):
        TF.to_pil_image(np.zeros((4, 5), np.uint8), mode="F")
    # round trip of a uint8 image
    rgb = pil_rgb()
    np.testing.assert_array_equal(np.asarray(TF.to_pil_image(TF.pil_to_tensor(rgb))), np.asarray(rgb))


# ----------------------------------------------------------------------------- Normalize
def test_normalize_is_the_closed_form_per_channel_and_on_batches():
    x = image(3, 4, 5, seed=3)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    want = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_array_equal(T.Normalize(mean, std)(fk.tensor(x)).numpy(), want)
    batch = np.stack([x, 2 * x])
    np.testing.assert_array_equal(T.Normalize(mean, std)(fk.tensor(batch)).numpy()[1],
                                  (2 * x - np.array(mean, np.float32)[:, None, None])
                                  / np.array(std, np.float32)[:, None, None])
    t = fk.tensor(x)
    assert T.Normalize(mean, std, inplace=True)(t) is t
    np.testing.assert_array_equal(t.numpy(), want)
    assert repr(T.Normalize((0.5,), (0.25,))) == "Normalize(mean=(0.5,), std=(0.25,))"


def test_normalize_gradients_match_torch():
    mean, std = [0.1, -0.2], [0.5, 2.0]
    check(lambda x: TF.normalize(x, mean, std), lambda x: (x - torch.tensor(mean)[:, None, None])
          / torch.tensor(std)[:, None, None], [image(2, 3, 4).astype(np.float64)], np.float32)


def test_normalize_refuses_what_torchvision_refuses():
    with pytest.raises(TypeError, match="float tensor"):
        TF.normalize(fk.zeros(3, 2, 2, dtype=fk.uint8), [0.0], [1.0])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        TF.normalize(fk.zeros(3, 2, 2), [0.0] * 3, [1.0, 0.0, 1.0])
    with pytest.raises(fk.ShapeError, match=r"\(\.\.\., C, H, W\)"):
        TF.normalize(fk.zeros(2, 2), [0.0], [1.0])
    with pytest.raises(fk.ShapeError, match="2 values for 3 channels"):
        TF.normalize(fk.zeros(3, 2, 2), [0.0, 0.0], [1.0, 1.0])


# ----------------------------------------------------------------------------- padding
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding", [2, (1, 3), (0, 2, 3, 1)])
def test_pad_matches_numpy_pad_for_tensors_and_pil(mode, padding):
    x = image(3, 5, 6, seed=4)
    left, top, right, bottom = ([padding] * 4 if isinstance(padding, int) else
                                [padding[0], padding[1]] * 2 if len(padding) == 2 else padding)
    widths = ((0, 0), (top, bottom), (left, right))
    extra = {"constant_values": 0.5} if mode == "constant" else {}
    want = np.pad(x, widths, mode=mode, **extra)
    got = T.Pad(padding, fill=0.5, padding_mode=mode)(fk.tensor(x))
    np.testing.assert_array_equal(got.numpy(), want)
    pic = pil_rgb(5, 6)
    want_pil = np.pad(np.asarray(pic), widths[1:] + ((0, 0),), mode=mode,
                      **({"constant_values": 7} if mode == "constant" else {}))
    np.testing.assert_array_equal(np.asarray(T.Pad(padding, fill=7, padding_mode=mode)(pic)), want_pil)


@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"), ("reflect", "reflect")])
def test_pad_matches_torch_pad_forward_and_backward(mode, torch_mode):
    ltrb = (2, 1, 3, 2)
    check(lambda x: TF.pad(x, list(ltrb), padding_mode=mode),
          lambda x: torch.nn.functional.pad(x, (ltrb[0], ltrb[2], ltrb[1], ltrb[3]), mode=torch_mode),
          [image(2, 4, 5).astype(np.float64)[None]], np.float64, second=False)


def test_negative_padding_crops_and_limits_are_named():
    x = image(1, 6, 6)
    np.testing.assert_array_equal(TF.pad(fk.tensor(x), [-1, 2, -2, 0], padding_mode="edge").numpy(),
                                  np.pad(x[:, :, 1:-2], ((0, 0), (2, 0), (0, 0)), mode="edge"))
    with pytest.raises(fk.ShapeError, match="less than the axis size 6"):
        TF.pad(fk.tensor(x), 6, padding_mode="reflect")
    np.testing.assert_array_equal(TF.pad(fk.tensor(x), 6, padding_mode="symmetric").numpy(),
                                  np.pad(x, ((0, 0), (6, 6), (6, 6)), mode="symmetric"))
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        TF.pad(fk.tensor(x), [1, 2, 3])


def test_pad_keeps_integer_dtype():
    x = fk.tensor(np.arange(6, dtype=np.uint8).reshape(1, 2, 3))
    out = TF.pad(x, 1, fill=9)
    assert out.dtype == fk.uint8
    np.testing.assert_array_equal(out.numpy(), np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)), constant_values=9))


# ----------------------------------------------------------------------------- crops
def test_crop_and_center_crop_are_numpy_slices():
    x = image(3, 7, 9)
    np.testing.assert_array_equal(TF.crop(fk.tensor(x), 1, 2, 4, 5).numpy(), x[:, 1:5, 2:7])
    # outside the image: zeros, as torchvision (and PIL's crop)
    np.testing.assert_array_equal(TF.crop(fk.tensor(x), -1, 6, 3, 5).numpy(),
                                  np.pad(x, ((0, 0), (1, 0), (0, 2)))[:, 0:3, 6:11])
    # offsets round((H - h) / 2) with Python's rounding: (7 - 4) / 2 = 1.5 -> 2, (9 - 4) / 2 = 2.5 -> 2
    np.testing.assert_array_equal(T.CenterCrop(4)(fk.tensor(x)).numpy(), x[:, 2:6, 2:6])
    np.testing.assert_array_equal(T.CenterCrop((3, 5))(fk.tensor(x)).numpy(), x[:, 2:5, 2:7])
    pic = pil_rgb(7, 9)
    np.testing.assert_array_equal(np.asarray(T.CenterCrop(4)(pic)), np.asarray(pic)[2:6, 2:6])


def test_center_crop_larger_than_the_image_pads_with_zeros():
    x = image(2, 3, 4)
    want = np.zeros((2, 6, 7), np.float32)
    want[:, 1:4, 1:5] = x  # padding (7-4)//2 = 1 left, 2 right; (6-3)//2 = 1 top, 2 bottom
    np.testing.assert_array_equal(T.CenterCrop((6, 7))(fk.tensor(x)).numpy(), want)


def test_random_crop_is_a_slice_of_the_padded_image_at_the_drawn_offsets():
    x = image(3, 8, 8, seed=5)
    crop = T.RandomCrop(8, padding=2, padding_mode="reflect")
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    seen = set()
    for s in range(12):
        fk.manual_seed(s)
        out = crop(fk.tensor(x)).numpy()
        fk.manual_seed(s)
        i, j, h, w = T.RandomCrop.get_params(fk.zeros(3, 12, 12), (8, 8))
        np.testing.assert_array_equal(out, padded[:, i:i + h, j:j + w])
        seen.add((i, j))
    assert len(seen) > 6  # the offsets vary with the seed
    # padding as torch.nn.functional.pad: constant fill on the four borders
    fk.manual_seed(3)
    out = T.RandomCrop((5, 6), padding=(1, 2, 3, 4), fill=0.25)(fk.tensor(x)).numpy()
    fk.manual_seed(3)
    i, j, _, _ = T.RandomCrop.get_params(fk.zeros(1, 14, 12), (5, 6))
    ref = torch.nn.functional.pad(torch.tensor(x), (1, 3, 2, 4), value=0.25).numpy()
    np.testing.assert_array_equal(out, ref[:, i:i + 5, j:j + 6])


def test_random_crop_offsets_are_uniform_and_pad_if_needed_pads_both_sides():
    fk.manual_seed(0)
    draws = np.array([T.RandomCrop.get_params(fk.zeros(1, 6, 6), (4, 4))[:2] for _ in range(900)])
    counts = np.bincount(draws[:, 0] * 3 + draws[:, 1], minlength=9)
    assert counts.min() > 60 and counts.max() < 140  # 9 cells of expected 100
    x = image(1, 3, 2)
    fk.manual_seed(6)
    out = T.RandomCrop((5, 6), pad_if_needed=True, fill=-1.0)(fk.tensor(x)).numpy()
    fk.manual_seed(6)
    i, j, _, _ = T.RandomCrop.get_params(fk.zeros(1, 7, 10), (5, 6))
    padded = np.pad(x, ((0, 0), (2, 2), (4, 4)), constant_values=-1.0)  # width 2 -> 2+4+4, height 3 -> 3+2+2
    np.testing.assert_array_equal(out, padded[:, i:i + 5, j:j + 6])
    batch = np.stack([image(2, 6, 6, seed=s) for s in range(3)])  # a batch: one window for every sample
    fk.manual_seed(9)
    out = T.RandomCrop(4)(fk.tensor(batch)).numpy()
    fk.manual_seed(9)
    i, j, _, _ = T.RandomCrop.get_params(fk.zeros(2, 6, 6), (4, 4))
    np.testing.assert_array_equal(out, batch[:, :, i:i + 4, j:j + 4])
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(10)(fk.tensor(x))
    pic = pil_rgb(8, 8)
    fk.manual_seed(1)
    out_pil = T.RandomCrop(5, padding=1)(pic)
    fk.manual_seed(1)
    out_t = T.RandomCrop(5, padding=1)(TF.pil_to_tensor(pic))
    np.testing.assert_array_equal(np.asarray(out_pil).transpose(2, 0, 1), out_t.numpy())


# ----------------------------------------------------------------------------- flips
def test_flips_are_numpy_flips_and_follow_p():
    x = image(3, 4, 5)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(fk.tensor(x)).numpy(), x[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(fk.tensor(x)).numpy(), x[:, ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(fk.tensor(x)).numpy(), x)
    pic = pil_rgb()
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(pic)), np.asarray(pic)[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(1.0)(pic)), np.asarray(pic)[::-1])
    fk.manual_seed(0)
    flip = T.RandomHorizontalFlip(p=0.3)
    flipped = sum(not np.array_equal(flip(fk.tensor(x)).numpy(), x) for _ in range(1000))
    assert 240 < flipped < 360  # Binomial(1000, 0.3): sd 14.5
    # reproducible from fukaku's generator
    runs = []
    for _ in range(2):
        fk.manual_seed(7)
        runs.append([bool(np.array_equal(flip(fk.tensor(x)).numpy(), x)) for _ in range(20)])
    assert runs[0] == runs[1]


def test_flip_is_differentiable():
    x = fk.tensor(image(1, 2, 3)).requires_grad_()
    (TF.hflip(x) * fk.tensor(np.arange(6.0, dtype=np.float32).reshape(1, 2, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(1, 2, 3)[:, :, ::-1])


# ----------------------------------------------------------------------------- rotation
@pytest.mark.parametrize("size", [5, 6])
@pytest.mark.parametrize("interpolation", [T.InterpolationMode.NEAREST, T.InterpolationMode.BILINEAR])
def test_rotation_by_quarter_turns_is_rot90(size, interpolation):
    x = image(2, size, size, dtype=np.float64)
    for k in (1, 2, 3):
        got = TF.rotate(fk.tensor(x), 90.0 * k, interpolation).numpy()
        np.testing.assert_allclose(got, np.rot90(x, k, axes=(1, 2)), atol=1e-12)
    fk.manual_seed(0)
    got = T.RandomRotation((90, 90), interpolation=interpolation, expand=True)(fk.tensor(x)).numpy()
    np.testing.assert_allclose(got, np.rot90(x, 1, axes=(1, 2)), atol=1e-12)


def test_rotation_of_pil_images_is_pillows_rotate():
    pic = pil_rgb(5, 8)
    out = T.RandomRotation((90, 90), expand=True)(pic)
    np.testing.assert_array_equal(np.asarray(out), np.rot90(np.asarray(pic), 1))
    fk.manual_seed(4)
    angle = T.RandomRotation.get_params([-30.0, 30.0])
    fk.manual_seed(4)
    out = T.RandomRotation(30, fill=(10, 20, 30))(pic)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(pic.rotate(angle, Image.NEAREST, fillcolor=(10, 20, 30))))


def _torchvision_rotate(img: torch.Tensor, angle: float, mode: str, fill, expand: bool) -> torch.Tensor:
    """torchvision's tensor rotation (``_gen_affine_grid`` + ``_apply_grid_transform``) in torch ops."""
    m = inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    h, w = img.shape[-2:]
    ow, oh = affine_output_size(m, w, h) if expand else (w, h)
    theta = torch.tensor(m, dtype=img.dtype).reshape(1, 2, 3)
    base = torch.empty(1, oh, ow, 3, dtype=img.dtype)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, steps=oh).unsqueeze(-1))
    base[..., 2].fill_(1)
    grid = base.view(1, oh * ow, 3).bmm(theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=img.dtype))
    x = img[None]
    if fill is not None:
        x = torch.cat((x, torch.ones_like(x[:, :1])), dim=1)
    y = torch.nn.functional.grid_sample(x, grid.view(1, oh, ow, 2), mode=mode, padding_mode="zeros",
                                        align_corners=False)
    if fill is None:
        return y[0]
    mask, y = y[:, -1:].expand_as(y[:, :-1]), y[:, :-1]
    f = torch.tensor(fill, dtype=y.dtype).view(1, -1, 1, 1).expand_as(y)
    if mode == "nearest":
        return torch.where(mask < 0.5, f, y)[0]
    return (y * mask + (1.0 - mask) * f)[0]


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("expand", [False, True])
def test_rotation_matches_torchvisions_grid_sampling(mode, expand):
    x = image(3, 7, 10, dtype=np.float64, seed=6)
    for angle in (13.0, -47.5, 122.0):
        for fill in (None, [0.25, 0.5, 1.0]):
            got = TF.rotate(fk.tensor(x), angle, T.InterpolationMode(mode), expand=expand, fill=fill)
            want = _torchvision_rotate(torch.tensor(x), angle, mode, fill, expand)
            assert_close(got, want, what=f"rotate {angle} {mode} fill={fill}", atol=1e-10)


def test_random_rotation_draws_from_fukakus_generator_and_keeps_dtype():
    x = fk.tensor(np.random.default_rng(8).integers(0, 256, (3, 6, 6), dtype=np.uint8))
    rot = T.RandomRotation(45, interpolation=T.InterpolationMode.BILINEAR)
    fk.manual_seed(11)
    a = rot(x)
    fk.manual_seed(11)
    angle = T.RandomRotation.get_params(rot.degrees)
    assert -45 <= angle <= 45 and a.dtype == fk.uint8
    want = _torchvision_rotate(torch.tensor(x.numpy()).float(), angle, "bilinear", [0.0] * 3, False).round().byte()
    np.testing.assert_array_equal(a.numpy(), want.numpy())
    assert "RandomRotation(degrees=[-45.0, 45.0], interpolation=bilinear" in repr(rot)
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-5)


def test_bilinear_rotation_is_differentiable():
    x = fk.tensor(image(1, 4, 4, dtype=np.float64)).requires_grad_()
    TF.rotate(x, 30.0, T.InterpolationMode.BILINEAR).sum().backward()
    xt = torch.tensor(image(1, 4, 4, dtype=np.float64), requires_grad=True)
    _torchvision_rotate(xt, 30.0, "bilinear", None, False).sum().backward()
    assert_close(x.grad, xt.grad, atol=1e-10)


# ----------------------------------------------------------------------------- resize
@pytest.mark.parametrize("mode, resample", [("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC)])
@pytest.mark.parametrize("size", [(15, 20), (23, 31), (13, 60)])
def test_resize_of_tensors_matches_pillows_resize(mode, resample, size):
    a = np.random.default_rng(9).random((32, 28)).astype(np.float32)
    got = T.Resize(size, interpolation=T.InterpolationMode(mode))(fk.tensor(a[None])).numpy()[0]
    want = np.asarray(Image.fromarray(a, mode="F").resize(size[::-1], resample))
    np.testing.assert_allclose(got, want, atol=2e-6)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torch_interpolate(mode, antialias):
    a = image(2, 17, 24, seed=10)[None]
    for size in ((9, 11), (40, 31), (17, 50)):
        got = TF.resize(fk.tensor(a), list(size), T.InterpolationMode(mode), antialias=antialias)
        kw = {"align_corners": False, "antialias": antialias} if mode in ("bilinear", "bicubic") else {}
        want = torch.nn.functional.interpolate(torch.tensor(a), size=size, mode=mode, **kw)
        assert_close(got, want, what=f"{mode} {size}", atol=1e-5)


def test_resize_sizes_follow_torchvision():
    x = fk.zeros(3, 30, 40)
    assert tuple(T.Resize(15)(x).shape) == (3, 15, 20)  # the shorter edge
    assert tuple(T.Resize([15])(fk.zeros(3, 40, 30)).shape) == (3, 20, 15)
    assert tuple(T.Resize((7, 9))(x).shape) == (3, 7, 9)
    assert tuple(T.Resize(20, max_size=24)(x).shape) == (3, 18, 24)  # the longer edge capped
    assert tuple(T.Resize(None, max_size=20)(x).shape) == (3, 15, 20)
    assert tuple(T.Resize(16)(fk.zeros(2, 3, 33, 50)).shape) == (2, 3, 16, 24)  # int(16 * 50 / 33)
    assert T.Resize(30)(x) is x  # already that size
    with pytest.raises(ValueError, match="strictly greater"):
        T.Resize(20, max_size=20)(x)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    pic = pil_rgb(30, 40)
    out = T.Resize(15)(pic)
    assert isinstance(out, Image.Image) and out.size == (20, 15)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(pic.resize((20, 15), Image.BILINEAR)))


def test_resize_of_uint8_tensors_rounds_back():
    pic = pil_rgb(30, 40, seed=12)
    got = T.Resize(13)(TF.pil_to_tensor(pic))
    assert got.dtype == fk.uint8
    want = np.asarray(pic.resize(got.shape[:0:-1], Image.BILINEAR)).transpose(2, 0, 1).astype(int)
    # Pillow's uint8 path rounds its 22-bit fixed-point sums: at most one step apart
    assert np.abs(got.numpy().astype(int) - want).max() <= 1


def test_resize_is_differentiable():
    check(lambda x: TF.resize(x, [5, 7]), lambda x: torch.nn.functional.interpolate(
        x, size=(5, 7), mode="bilinear", align_corners=False, antialias=True),
        [image(1, 9, 4, dtype=np.float64)[None]], np.float64, jvp=False, second=False)


# ----------------------------------------------------------------------------- composition
def test_compose_lambda_and_modules():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize((1.0,), (0.5,))])
    hw = np.array([[0, 255]], dtype=np.uint8)
    np.testing.assert_allclose(pipeline(Image.fromarray(hw)).numpy(), [[[-2.0, 2.0]]])
    assert repr(pipeline).splitlines() == ["Compose(", "    ToTensor()", "    Lambda()",
                                           "    Normalize(mean=(1.0,), std=(0.5,))", ")"]
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    seq = fk.nn.Sequential(T.CenterCrop(2), T.Normalize((0.0,), (2.0,)))
    np.testing.assert_array_equal(seq(fk.ones(1, 4, 4)).numpy(), np.full((1, 2, 2), 0.5, np.float32))
    with pytest.raises(TypeError, match="PIL Image or a Tensor"):
        T.CenterCrop(2)(np.zeros((4, 4)))


# ----------------------------------------------------------------------------- batch augmentation
def _count_indexing(monkeypatch) -> list:
    calls = []
    original = fk.Tensor.__getitem__

    def counted(self, key):
        calls.append(key)
        return original(self, key)
    monkeypatch.setattr(fk.Tensor, "__getitem__", counted)
    return calls


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_batch_random_crop_draws_per_sample_and_gathers_once(mode, monkeypatch):
    n = 64
    x = np.random.default_rng(13).random((n, 3, 8, 8)).astype(np.float32)
    crop = T.BatchRandomCrop(8, padding=3, fill=0.5, padding_mode=mode)
    fk.manual_seed(21)
    calls = _count_indexing(monkeypatch)
    out = crop(fk.tensor(x)).numpy()
    assert len(calls) == 1  # one gather for the whole batch, no loop over the samples
    fk.manual_seed(21)
    top, left = (t.numpy() for t in T.BatchRandomCrop.get_params(n, 14, 14, (8, 8)))
    padded = np.pad(x, ((0, 0), (0, 0), (3, 3), (3, 3)), mode=mode, **({"constant_values": 0.5}
                                                                         if mode == "constant" else {}))
    for k in range(n):  # the oracle: NumPy slicing, sample by sample
        np.testing.assert_array_equal(out[k], padded[k, :, top[k]:top[k] + 8, left[k]:left[k] + 8])
    assert len(set(zip(top.tolist(), left.tolist()))) > 20  # per-sample windows, not one for all


def test_batch_crop_with_flips_and_its_gradient():
    x = np.arange(2 * 2 * 4 * 5, dtype=np.float64).reshape(2, 2, 4, 5)
    out = TF.batch_crop(fk.tensor(x), [0, 1], [2, 0], 3, 3, hflip=[True, False], vflip=[False, True])
    np.testing.assert_array_equal(out.numpy()[0], x[0, :, 0:3, 2:5][:, :, ::-1])
    np.testing.assert_array_equal(out.numpy()[1], x[1, :, 1:4, 0:3][:, ::-1, :])
    xt = fk.tensor(x).requires_grad_()
    TF.batch_crop(xt, [0, 1], [2, 0], 3, 3, padding=1).sum().backward()
    want = np.zeros_like(x)
    want[0, :, 0:2, 1:4] = 1  # window rows -1..1, cols 1..3 of the image: the padding gets nothing
    want[1, :, 0:3, 0:2] = 1
    np.testing.assert_array_equal(xt.grad.numpy(), want)
    with pytest.raises(ValueError, match=r"offsets must lie in \[0, 1\]"):
        TF.batch_crop(fk.tensor(x), [0, 3], [0, 0], 3, 3)
    with pytest.raises(fk.ShapeError, match="one offset per sample"):
        TF.batch_crop(fk.tensor(x), [0], [0, 0], 3, 3)


def test_batch_random_flips_flip_each_sample_with_probability_p(monkeypatch):
    n = 2000
    x = np.random.default_rng(14).random((n, 1, 2, 3)).astype(np.float32)
    fk.manual_seed(5)
    calls = _count_indexing(monkeypatch)
    out = T.BatchRandomHorizontalFlip(p=0.25)(fk.tensor(x)).numpy()
    assert len(calls) == 1
    flipped = np.array([np.array_equal(out[k], x[k, :, :, ::-1]) for k in range(n)])
    kept = np.array([np.array_equal(out[k], x[k]) for k in range(n)])
    assert (flipped | kept).all() and abs(flipped.mean() - 0.25) < 0.04
    fk.manual_seed(5)
    np.testing.assert_array_equal(flipped, fk.rand(n).numpy() < 0.25)
    out = T.BatchRandomVerticalFlip(p=1.0)(fk.tensor(x)).numpy()
    np.testing.assert_array_equal(out, x[:, :, ::-1, :])


def test_batch_random_crop_pad_if_needed_matches_torchvision_order():
    x = np.random.default_rng(15).random((4, 1, 3, 4)).astype(np.float32)
    crop = T.BatchRandomCrop((6, 4), padding=1, pad_if_needed=True, padding_mode="reflect")
    fk.manual_seed(2)
    out = crop(fk.tensor(x)).numpy()
    fk.manual_seed(2)
    top, left = (t.numpy() for t in T.BatchRandomCrop.get_params(4, 7, 6, (6, 4)))
    once = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")  # (5, 6)
    twice = np.pad(once, ((0, 0), (0, 0), (1, 1), (0, 0)), mode="reflect")  # height 5 < 6: +1 on both sides
    for k in range(4):
        np.testing.assert_array_equal(out[k], twice[k, :, top[k]:top[k] + 6, left[k]:left[k] + 4])
    with pytest.raises(TypeError, match=r"batch \(N, C, H, W\)"):
        T.BatchRandomCrop(2)(fk.zeros(3, 3))
