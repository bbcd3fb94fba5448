"""keras.utils / keras.preprocessing.image: image files, arrays, smart_resize and
image_dataset_from_directory."""
import os
import sys

import numpy as np
import pytest

import kerasish as keras
from kerasish import utils
from kerasish.preprocessing import image as image_utils

Image = pytest.importorskip("PIL.Image")

X = np.arange(5 * 7 * 2, dtype="float32").reshape(5, 7, 2)


def test_array_image_round_trips(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (4, 6, 3)).astype("float32")
    img = utils.array_to_img(rgb, scale=False)
    assert img.mode == "RGB" and img.size == (6, 4)
    assert np.array_equal(utils.img_to_array(img), rgb)
    assert utils.img_to_array(img).dtype == np.float32
    assert utils.img_to_array(img, data_format="channels_first").shape == (3, 4, 6)
    scaled = utils.img_to_array(utils.array_to_img(np.array([[[0.0], [0.5], [1.0]]])))
    assert scaled[..., 0].tolist() == [[0.0, 127.0, 255.0]]
    assert utils.array_to_img(np.zeros((2, 2, 4))).mode == "RGBA"
    assert utils.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    path = str(tmp_path / "x.png")
    utils.save_img(path, rgb, scale=False)
    assert np.array_equal(utils.img_to_array(utils.load_img(path)), rgb)
    gray = utils.img_to_array(utils.load_img(path, color_mode="grayscale"))
    assert gray.shape == (4, 6, 1)
    assert utils.load_img(path, color_mode="rgba").mode == "RGBA"
    small = utils.load_img(path, target_size=(2, 3), interpolation="nearest")
    assert small.size == (3, 2)
    kept = utils.load_img(path, target_size=(2, 2), keep_aspect_ratio=True)
    assert kept.size == (2, 2)
    with pytest.warns(UserWarning, match="JPEG"):
        utils.save_img(str(tmp_path / "x.jpg"), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="color_mode"):
        utils.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="rank 3"):
        utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel number"):
        utils.array_to_img(np.zeros((2, 2, 2)))


def test_a_missing_pillow_is_an_import_error_naming_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="pip install pillow"):
        utils.array_to_img(np.zeros((2, 2, 3)))


# Keras 3.15's smart_resize of X (NumPy backend), channel 0.
@pytest.mark.parametrize("size, interpolation, expected", [
    ((4, 4), "bilinear", [[4.0, 6.5, 9.0, 11.5], [21.5, 24.0, 26.5, 29.0],
                          [39.0, 41.5, 44.0, 46.5], [56.5, 59.0, 61.5, 64.0]]),
    ((3, 4), "bilinear", [[5.167, 8.167, 11.167, 14.167], [28.5, 31.5, 34.5, 37.5],
                          [51.833, 54.833, 57.833, 60.833]]),
    ((3, 3), "nearest", [[2.0, 6.0, 10.0], [30.0, 34.0, 38.0], [58.0, 62.0, 66.0]]),
])
def test_smart_resize_matches_keras(size, interpolation, expected):
    out = image_utils.smart_resize(X, size, interpolation=interpolation)
    assert out.shape == size + (2,) and out.dtype == np.float32
    assert np.allclose(out[..., 0], expected, atol=1e-3)
    batch = image_utils.smart_resize(np.stack([X, X]), size, interpolation=interpolation)
    assert batch.shape == (2,) + size + (2,)
    with pytest.raises(ValueError, match="rank"):
        image_utils.smart_resize(X[..., 0], size)


def _make_folder(root, sizes=((6, 8), (8, 6), (4, 4))):
    """Two classes of solid images: cats 0, dogs 255 (gray levels), 3 files each."""
    for name, level in (("cats", 0), ("dogs", 255)):
        os.makedirs(root / name)
        for i, (h, w) in enumerate(sizes):
            Image.fromarray(np.full((h, w, 3), level, np.uint8)).save(root / name / f"{i}.png")
    (root / "notes.txt").write_text("not an image")
    return sorted(str(p) for p in root.glob("*/*.png"))


def test_image_dataset_labels_order_and_shapes(tmp_path):
    paths = _make_folder(tmp_path)
    ds = utils.image_dataset_from_directory(tmp_path, image_size=(4, 5), batch_size=4, seed=7)
    expected = np.array(paths)
    np.random.RandomState(7).shuffle(expected)  # Keras shuffles the sorted paths so
    assert ds.file_paths == expected.tolist() and ds.class_names == ["cats", "dogs"]
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 2
    x, y = ds[0]
    assert x.shape == (4, 4, 5, 3) and x.dtype == np.float32 and y.dtype == np.int32
    truth = [int("dogs" in p) for p in expected[:4]]
    assert y.tolist() == truth and np.array_equal(x[:, 0, 0, 0], 255.0 * np.array(truth))
    ordered = utils.image_dataset_from_directory(tmp_path, image_size=(2, 2), shuffle=False,
                                                 label_mode="categorical", color_mode="grayscale",
                                                 class_names=["dogs", "cats"], verbose=False)
    x, y = ordered[0]
    assert x.shape == (6, 2, 2, 1) and y.tolist() == [[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3
    binary = utils.image_dataset_from_directory(tmp_path, image_size=(2, 2), shuffle=False,
                                                label_mode="binary", batch_size=None,
                                                verbose=False)
    assert len(binary) == 6 and binary[5][1].tolist() == [1.0]
    ds.on_epoch_end()  # a new order for the next epoch, the same files and labels
    x, y = ds[0]
    second = np.concatenate([y, ds[1][1]])
    assert sorted(second.tolist()) == [0, 0, 0, 1, 1, 1] and x.shape == (4, 4, 5, 3)
    assert np.array_equal(x[:, 0, 0, 0], 255.0 * y)
    assert ds.file_paths == expected.tolist()
    unlabeled = utils.image_dataset_from_directory(tmp_path, labels=None, image_size=(2, 2),
                                                   shuffle=False, verbose=False)
    assert unlabeled.class_names is None and unlabeled[0].shape == (6, 2, 2, 3)


def test_image_dataset_validation_split_and_fit(tmp_path):
    _make_folder(tmp_path)
    kwargs = dict(image_size=(4, 4), batch_size=2, seed=3, validation_split=0.34)
    train = utils.image_dataset_from_directory(tmp_path, subset="training", **kwargs)
    val = utils.image_dataset_from_directory(tmp_path, subset="validation", **kwargs)
    assert len(train.file_paths) == 4 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    both = utils.image_dataset_from_directory(tmp_path, subset="both", **kwargs)
    assert [d.file_paths for d in both] == [train.file_paths, val.file_paths]
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True))
    history = model.fit(train, validation_data=val, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "val_loss"}


def test_image_dataset_resizing_modes(tmp_path):
    os.makedirs(tmp_path / "a")
    strip = np.zeros((2, 6, 3), np.uint8)
    strip[:, :3] = 255  # left half white
    Image.fromarray(strip).save(tmp_path / "a" / "strip.png")
    load = dict(labels=None, shuffle=False, verbose=False, interpolation="nearest")
    plain = utils.image_dataset_from_directory(tmp_path, image_size=(2, 2), **load)[0][0]
    assert plain[..., 0].tolist() == [[255.0, 0.0], [255.0, 0.0]]
    crop = utils.image_dataset_from_directory(tmp_path, image_size=(2, 2),
                                              crop_to_aspect_ratio=True, **load)[0][0]
    assert crop[..., 0].tolist() == [[255.0, 0.0], [255.0, 0.0]]  # the middle 2x2 crop
    pad = utils.image_dataset_from_directory(tmp_path, image_size=(6, 6),
                                             pad_to_aspect_ratio=True, **load)[0][0]
    assert pad[..., 0].tolist()[:2] == [[0.0] * 6] * 2  # zeros above and below
    assert pad[2, :, 0].tolist() == [255.0] * 3 + [0.0] * 3


@pytest.mark.parametrize("kwargs, match", [
    ({"labels": "folders"}, "`labels` argument"),
    ({"label_mode": "sparse"}, "label_mode"),
    ({"color_mode": "cmyk"}, "color_mode"),
    ({"image_size": (1, 2, 3)}, "image_size"),
    ({"interpolation": "lanczos5"}, "interpolation"),
    ({"validation_split": 0.2}, "subset"),
    ({"validation_split": 0.2, "subset": "training"}, "seed"),
    ({"class_names": ["birds"]}, "class_names"),
    ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "Only one of"),
    ({"labels": [0, 1]}, "lengths of `labels`"),
])
def test_image_dataset_argument_errors(tmp_path, kwargs, match):
    _make_folder(tmp_path)
    with pytest.raises(ValueError, match=match):
        utils.image_dataset_from_directory(tmp_path, verbose=False, **kwargs)


def test_binary_needs_two_classes_and_an_empty_folder_is_an_error(tmp_path):
    for name in ("a", "b", "c"):
        os.makedirs(tmp_path / name)
    with pytest.raises(ValueError, match="exactly 2"):
        utils.image_dataset_from_directory(tmp_path, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="No images found"):
        utils.image_dataset_from_directory(tmp_path, verbose=False)
