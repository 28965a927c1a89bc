"""make_grid against grids built by hand, and save_image round trips through Pillow."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

import fukaku as fk
from fukaku.vision.utils import make_grid, save_image


def hand_grid(images: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """The grid as torchvision describes it, one image at a time."""
    n, c, h, w = images.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, images.dtype)
    for k in range(n):
        r, q = divmod(k, cols)
        top, left = r * (h + padding) + padding, q * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = images[k]
    return grid


@pytest.mark.parametrize("n, nrow, padding", [(10, 4, 2), (7, 8, 1), (6, 3, 0), (5, 1, 3)])
def test_make_grid_places_images_row_by_row(n, nrow, padding):
    images = np.random.default_rng(n).random((n, 3, 5, 4)).astype(np.float32)
    got = make_grid(fk.tensor(images), nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(got.numpy(), hand_grid(images, nrow, padding, 0.5))
    assert got.dtype == fk.float32


def test_make_grid_inputs_one_channel_and_single_images():
    images = np.random.default_rng(1).random((3, 1, 4, 4)).astype(np.float32)
    got = make_grid([fk.tensor(i) for i in images], nrow=2)  # a list; one channel becomes three
    np.testing.assert_array_equal(got.numpy(), hand_grid(np.repeat(images, 3, axis=1), 2, 2, 0.0))
    one = make_grid(fk.tensor(images[0]))  # a single image: itself, 3 channels, unpadded
    np.testing.assert_array_equal(one.numpy(), np.repeat(images[0], 3, axis=0))
    np.testing.assert_array_equal(make_grid(fk.tensor(images[0, 0])).numpy(), np.repeat(images[0], 3, axis=0))
    with pytest.raises(TypeError, match="list of tensors"):
        make_grid([images[0]])
    with pytest.raises(TypeError, match="list of tensors"):
        make_grid(images)


def test_make_grid_normalize_range_and_scale_each():
    images = np.stack([np.linspace(-2, 2, 12, dtype=np.float32).reshape(1, 3, 4),
                       np.linspace(0, 1, 12, dtype=np.float32).reshape(1, 3, 4)])
    whole = make_grid(fk.tensor(images), normalize=True, padding=0).numpy()
    np.testing.assert_allclose(whole[0, :, :4], (images[0, 0] + 2) / 4, rtol=1e-6)
    np.testing.assert_allclose(whole[0, :, 4:], (images[1, 0] + 2) / 4, rtol=1e-6)
    each = make_grid(fk.tensor(images), normalize=True, scale_each=True, padding=0).numpy()
    np.testing.assert_allclose(each[0, :, :4], (images[0, 0] + 2) / 4, rtol=1e-6)
    np.testing.assert_allclose(each[0, :, 4:], images[1, 0], rtol=1e-6, atol=1e-7)  # already spans [0, 1]
    ranged = make_grid(fk.tensor(images), normalize=True, value_range=(-1.0, 1.0), padding=0).numpy()
    np.testing.assert_allclose(ranged[0, :, :4], (np.clip(images[0, 0], -1, 1) + 1) / 2, rtol=1e-6)
    flat = make_grid(fk.full((2, 3, 2, 2), 0.7), normalize=True, padding=0).numpy()
    np.testing.assert_allclose(flat, 0.0)  # a constant image: (x − lo) / max(hi − lo, 1e-5)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(fk.tensor(images), normalize=True, value_range=[0, 1])
    source = images.copy()
    make_grid(fk.tensor(images), normalize=True)
    np.testing.assert_array_equal(images, source)  # the input is not modified


def test_save_image_round_trips_through_pillow(tmp_path):
    images = np.random.default_rng(2).random((5, 3, 6, 7)).astype(np.float32)
    images[0, 0, 0, 0], images[0, 0, 0, 1] = 1.5, -0.5  # clamped
    path = tmp_path / "grid.png"
    save_image(fk.tensor(images), path, nrow=3, padding=1)
    with Image.open(path) as pic:
        assert pic.format == "PNG" and pic.mode == "RGB"
        read = np.asarray(pic)
    grid = hand_grid(images, 3, 1, 0.0)
    want = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(read, want)
    assert read[1, 1, 0] == 255 and read[1, 2, 0] == 0
    assert sorted(os.listdir(tmp_path)) == ["grid.png"]  # no temporary file left


def test_save_image_is_atomic_and_takes_file_objects(tmp_path, monkeypatch):
    path = tmp_path / "one.png"
    save_image(fk.zeros(1, 4, 4), path)
    before = path.read_bytes()

    def broken_save(self, fp, format=None, **kw):
        fp.write(b"\x89PNG partial")
        raise OSError("disk full")
    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(fk.ones(1, 4, 4), path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["one.png"]
    monkeypatch.undo()
    buffer = io.BytesIO()
    save_image(fk.ones(3, 2, 2), buffer, format="PNG")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(buffer.getvalue()))), np.full((2, 2, 3), 255))
    with pytest.raises(ValueError, match="unknown file extension"):
        save_image(fk.ones(3, 2, 2), tmp_path / "x.notanimage")
