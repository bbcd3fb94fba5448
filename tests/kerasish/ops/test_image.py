"""kerasish.ops.image: numbers from Keras 3.15 (NumPy backend) on a small image, closed forms,
gradient checks, KerasTensor shapes and errors."""
import numpy as np
import pytest

from engine.gradcheck import check_grad
from kerasish.ops import image
from kerasish.symbolic import KerasTensor

IMG = (np.arange(12, dtype="float32").reshape(1, 3, 4, 1) ** 1.5 / 10)
R = np.random.default_rng(0)
RGB = R.random((2, 5, 6, 3))
T = np.array([0.9, 0.2, 0.5, -0.1, 1.1, -0.4, 0, 0], "float32")


def _cf(x):
    return np.moveaxis(x, -1, 1)


RESIZE = [  # (kwargs, Keras's output for IMG)
    ({"size": (2, 3)}, [[0.225751, 0.467032, 0.807191], [1.964965, 2.52182, 3.12254]]),
    ({"size": (2, 3), "antialias": True},
     [[0.354529, 0.604837, 0.931862], [1.831978, 2.317161, 2.84055]]),
    ({"size": (4, 3), "interpolation": "bicubic"},
     [[-0.033612, 0.125046, 0.42584], [0.421681, 0.761735, 1.195264],
      [1.440653, 1.978979, 2.571314], [2.384495, 3.013672, 3.691326]]),
    ({"size": (2, 6), "interpolation": "nearest"},
     [[0.0, 0.1, 0.1, 0.282843, 0.519615, 0.519615],
      [2.262742, 2.7, 2.7, 3.162278, 3.648287, 3.648287]]),
    ({"size": (2, 2), "interpolation": "lanczos3", "antialias": True},
     [[0.25804, 0.696141], [2.034093, 2.873191]]),
    ({"size": (3, 3), "crop_to_aspect_ratio": True},
     [[0.0, 0.1, 0.282843], [0.8, 1.118034, 1.469694], [2.262742, 2.7, 3.162278]]),
    ({"size": (3, 3), "pad_to_aspect_ratio": True, "fill_value": -1.0},
     [[0.016667, 0.191421, 0.480153], [0.853006, 1.293864, 1.788304],
      [2.335618, 2.931139, 3.567286]]),
]


@pytest.mark.parametrize("kwargs,expected", RESIZE, ids=[str(i) for i in range(len(RESIZE))])
def test_resize_matches_keras(kwargs, expected):
    y = image.resize(IMG, **kwargs)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy()[0, ..., 0], expected, atol=2e-6)
    y = image.resize(_cf(IMG), data_format="channels_first", **kwargs).numpy()
    np.testing.assert_allclose(y[0, 0], expected, atol=2e-6)


def test_resize_grad_integers_and_errors():
    check_grad(lambda t: image.resize(t, (4, 7), interpolation="bicubic", antialias=True),
               RGB)
    u8 = (RGB * 255).astype(np.uint8)
    y = image.resize(u8, (3, 4)).numpy()
    assert y.dtype == np.uint8 and y.min() >= u8.min() and y.max() <= u8.max()
    assert image.resize(RGB[0], (4, 3)).shape == (4, 3, 3)
    with pytest.raises(ValueError, match="interpolation"):
        image.resize(RGB, (2, 2), interpolation="area")
    with pytest.raises(ValueError, match="Only one"):
        image.resize(RGB, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


AFFINE = [
    ({}, [[0.03, 0.086569, 0.14155, 0.124708], [0.736837, 0.8813, 1.031044, 0.631548],
          [2.342266, 2.568684, 2.796421, 1.100063]]),
    ({"interpolation": "nearest"}, [[0.1, 0.1, 0.0, 0.0], [1.118034, 1.469694, 1.852026, 0.519615],
                                    [2.7, 3.162278, 3.648287, 0.0]]),
    ({"fill_mode": "reflect"}, [[0.05, 0.173137, 0.353874, 0.519615],
                                [0.736837, 0.8813, 1.031044, 1.05258],
                                [2.342266, 2.568684, 2.796421, 2.750157]]),
    ({"fill_mode": "wrap"}, [[1.022548, 1.529024, 2.126398, 2.484533],
                             [0.736837, 0.8813, 1.031044, 0.759548],
                             [2.342266, 2.568684, 2.796421, 2.018885]]),
    ({"fill_mode": "mirror"}, [[0.413607, 0.715918, 1.092186, 1.38457],
                               [0.736837, 0.8813, 1.031044, 0.934581],
                               [2.342266, 2.568684, 2.796421, 2.489654]]),
    ({"fill_mode": "nearest"}, [[0.05, 0.173137, 0.353874, 0.519615],
                                [0.736837, 0.8813, 1.031044, 1.05258],
                                [2.342266, 2.568684, 2.796421, 2.750157]]),
    ({"fill_value": 2.0}, [[0.83, 1.086569, 1.34155, 1.644708],
                           [0.736837, 0.8813, 1.031044, 1.431548],
                           [2.342266, 2.568684, 2.796421, 2.300063]]),
]


@pytest.mark.parametrize("kwargs,expected", AFFINE, ids=[str(i) for i in range(len(AFFINE))])
def test_affine_transform_matches_keras(kwargs, expected):
    y = image.affine_transform(IMG, T, **kwargs)
    np.testing.assert_allclose(y.numpy()[0, ..., 0], expected, atol=2e-6)


def test_warps():
    start = np.array([[0, 0], [3, 0], [0, 2], [3, 2]], "float32")
    end = np.array([[0.5, 0], [3, 0.2], [0, 2], [2.7, 1.8]], "float32")
    y = image.perspective_transform(IMG, start, end).numpy()[0, ..., 0]
    np.testing.assert_allclose(y, [[0.017264, 0.047114, 0.181726, 0.376725],
                                   [0.646522, 1.069063, 1.458068, 1.471859],
                                   [2.262742, 2.479716, 2.675875, 1.339502]], atol=2e-6)
    np.testing.assert_allclose(image.perspective_transform(IMG, start, start).numpy(), IMG,
                               atol=1e-6)
    check_grad(lambda x, t: image.affine_transform(x, t), RGB, np.tile(T, (2, 1)) * 0.97)
    out = image.elastic_transform(RGB.astype("float32"), alpha=2.0, sigma=1.0, seed=3)
    assert out.shape == RGB.shape
    same = image.elastic_transform(RGB.astype("float32"), alpha=0.0, sigma=1.0, seed=3)
    np.testing.assert_allclose(same.numpy(), RGB, atol=1e-6)


def _bilinear_ref(x, coords, fill):
    out = np.zeros(coords.shape[1:])
    for idx in np.ndindex(coords.shape[1:]):
        y, xx = coords[:, idx[0], idx[1]] if coords.ndim == 3 else coords[:, idx[0]]
        y0, x0 = int(np.floor(y)), int(np.floor(xx))
        total = 0.0
        for dy in (0, 1):
            for dx in (0, 1):
                w = (1 - abs(y - y0 - dy)) * (1 - abs(xx - x0 - dx))
                inside = 0 <= y0 + dy < x.shape[0] and 0 <= x0 + dx < x.shape[1]
                total += w * (x[y0 + dy, x0 + dx] if inside else fill)
        out[idx] = total
    return out


def test_map_coordinates():
    x = RGB[0, :, :, 0]
    coords = R.uniform(-1.5, 6.5, (2, 3, 4))
    y = image.map_coordinates(x, coords, order=1, fill_value=0.25).numpy()
    np.testing.assert_allclose(y, _bilinear_ref(x, coords, 0.25))
    near = image.map_coordinates(x, np.array([[0.4, 2.6], [1.2, 4.9]]), order=0).numpy()
    np.testing.assert_array_equal(near, [x[0, 1], x[3, 5]])
    check_grad(lambda a, c: image.map_coordinates(a, c, order=1), x, coords)
    with pytest.raises(ValueError, match="rank"):
        image.map_coordinates(x, coords[:1], order=1)
    with pytest.raises(ValueError, match="order"):
        image.map_coordinates(x, coords, order=3)


def test_colors():
    rgb = np.array([[[0.2, 0.5, 0.9], [1.0, 0.1, 0.1], [0.3, 0.3, 0.3], [0.0, 0.8, 0.4]]],
                   "float32")
    np.testing.assert_allclose(image.rgb_to_hsv(rgb).numpy(),
                               [[[0.595238, 0.777778, 0.9], [0.0, 0.9, 1.0], [0.0, 0.0, 0.3],
                                 [0.416667, 1.0, 0.8]]], atol=2e-6)
    np.testing.assert_allclose(image.hsv_to_rgb(rgb).numpy(),
                               [[[0.81, 0.9, 0.45], [0.1, 0.09, 0.09], [0.228, 0.3, 0.21],
                                 [0.4, 0.08, 0.08]]], atol=2e-6)
    np.testing.assert_allclose(image.hsv_to_rgb(image.rgb_to_hsv(RGB)).numpy(), RGB, atol=1e-12)
    gray = image.rgb_to_grayscale(_cf(RGB), data_format="channels_first").numpy()
    np.testing.assert_allclose(gray[:, 0], RGB @ [0.2989, 0.5870, 0.1140])
    check_grad(image.hsv_to_rgb, RGB)
    with pytest.raises(ValueError, match="float"):
        image.rgb_to_hsv((RGB * 255).astype(np.uint8))


def test_filters_and_patches():
    blur = image.gaussian_blur(IMG, kernel_size=(3, 5), sigma=(0.8, 1.3)).numpy()[0, ..., 0]
    np.testing.assert_allclose(blur, [[0.352436, 0.576122, 0.762712, 0.688315],
                                      [0.664879, 1.041258, 1.307523, 1.144752],
                                      [0.755815, 1.15486, 1.405459, 1.207794]], atol=2e-6)
    sob = image.sobel_edges(IMG).numpy()[0, :, :, 0]
    np.testing.assert_allclose(sob[:, 0], [[3.418034, 0.618034], [9.388225, 1.173326],
                                           [5.970191, 1.629809]], atol=2e-5)
    patches = image.extract_patches(RGB, 2).numpy()
    assert patches.shape == (2, 2, 3, 12)
    np.testing.assert_allclose(patches[1, 1, 2], RGB[1, 2:4, 4:6].reshape(-1))
    vol = R.random((1, 4, 4, 4, 2))
    p3 = image.extract_patches_3d(vol, 2, strides=(1, 2, 2)).numpy()
    assert p3.shape == (1, 3, 2, 2, 16)
    np.testing.assert_allclose(p3[0, 1, 1, 0], vol[0, 1:3, 2:4, 0:2].reshape(-1))
    a = np.linspace(0, 1, 48, dtype="float32").reshape(1, 4, 4, 3)
    np.testing.assert_allclose(image.ssim(a, a[:, ::-1] * 0.9 + 0.05, filter_size=3).numpy(),
                               [-0.759478], atol=2e-6)
    np.testing.assert_allclose(image.ssim(RGB, RGB, filter_size=3).numpy(), [1, 1])
    check_grad(lambda t: image.gaussian_blur(t), RGB)
    check_grad(lambda t: image.sobel_edges(t), RGB)
    check_grad(lambda t: image.ssim(t, RGB[::-1], filter_size=3), RGB)


def test_crop_pad_and_scale_translate():
    y = image.pad_images(RGB, 1, 2, bottom_padding=3, right_padding=0).numpy()
    np.testing.assert_array_equal(y, np.pad(RGB, ((0, 0), (1, 3), (2, 0), (0, 0))))
    y = image.pad_images(_cf(RGB), top_padding=1, left_padding=1, target_height=8,
                         target_width=9, data_format="channels_first")
    assert y.shape == (2, 3, 8, 9)
    y = image.crop_images(RGB[0], 1, 2, bottom_cropping=1, right_cropping=0).numpy()
    np.testing.assert_array_equal(y, RGB[0, 1:4, 2:])
    with pytest.raises(ValueError, match="exactly two"):
        image.crop_images(RGB, 1, 1)
    same = image.scale_and_translate(RGB, RGB.shape, np.ones(2), np.zeros(2), (1, 2), "cubic")
    np.testing.assert_allclose(same.numpy(), RGB, atol=1e-12)
    half = image.scale_and_translate(RGB, (2, 5, 3, 3), np.array([1.0, 0.5]), np.zeros(2),
                                     (1, 2), "linear", antialias=True)
    np.testing.assert_allclose(half.numpy(), image.resize(RGB, (5, 3), antialias=True).numpy())


def test_specs():
    kt = KerasTensor((None, 7, 8, 3))
    assert image.resize(kt, (4, 5)).shape == (None, 4, 5, 3)
    assert image.resize(KerasTensor((None, 3, 7, 8)), (4, 5),
                        data_format="channels_first").shape == (None, 3, 4, 5)
    assert image.rgb_to_grayscale(kt).shape == (None, 7, 8, 1)
    assert image.extract_patches(kt, 2).shape == (None, 3, 4, 12)
    assert image.extract_patches(KerasTensor((7, 8, 3)), 2).shape == (3, 4, 12)
    assert image.crop_images(kt, 1, 2, target_height=4, target_width=5).shape == (None, 4, 5, 3)
    assert image.pad_images(kt, 1, 2, bottom_padding=0, right_padding=1).shape == (
        None, 8, 11, 3)
    assert image.sobel_edges(kt).shape == (None, 7, 8, 3, 2)
    assert image.ssim(kt, kt).shape == (None,)
    assert image.affine_transform(kt, KerasTensor((None, 8))).shape == (None, 7, 8, 3)
