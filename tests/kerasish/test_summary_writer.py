"""kerasish.summary: what the writer API writes, read back with TensorBoard's EventAccumulator;
histograms against tensorboard's own NumPy bucketing; PNGs decoded by Pillow."""
import os
import sys

import numpy as np
import pytest

from tests.kerasish.tb_helpers import decode_images, load, plugin, series

from kerasish import summary  # noqa: E402  (after the importorskip in tb_helpers)


def test_scalars_text_and_steps_read_back(tmp_path):
    writer = summary.create_file_writer(tmp_path / "run")
    with writer.as_default(step=7):
        assert summary.scalar("loss", 0.25, step=1)
        assert summary.scalar("loss", np.float64(0.125), step=2)
        assert summary.scalar("lr", 3e-4)  # the block's default step
        assert summary.text("note", "**bold** text", step=3)
    writer.close()
    names = os.listdir(tmp_path / "run")
    assert len(names) == 1 and names[0].startswith("events.out.tfevents.")
    assert names[0].endswith(".v2")
    acc = load(tmp_path / "run")
    assert sorted(acc.Tags()["tensors"]) == ["loss", "lr", "note"]
    assert [(s, float(v)) for s, v in series(acc, "loss")] == [(1, 0.25), (2, 0.125)]
    (step, lr), = series(acc, "lr")
    assert step == 7 and lr.dtype == np.float32 and lr == np.float32(3e-4)
    assert plugin(acc, "loss") == "scalars" and plugin(acc, "note") == "text"
    assert series(acc, "note")[0][1] == b"**bold** text"


@pytest.mark.parametrize("data", [
    np.random.default_rng(0).standard_normal((40, 7)),
    np.arange(10.0),
    np.full((3, 3), 2.5)])  # a constant: every count in the last bucket
def test_histogram_matches_tensorboards_bucketing(tmp_path, data):
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util import tensor_util

    writer = summary.create_file_writer(tmp_path)
    with writer.as_default():
        summary.histogram("w", data.astype("float32"), step=4)
    writer.close()
    (step, buckets), = series(load(tmp_path), "w")
    expected = tensor_util.make_ndarray(
        histogram_pb("w", data.astype("float32")).value[0].tensor)
    assert step == 4 and buckets.shape == (30, 3) and buckets.dtype == np.float64
    np.testing.assert_allclose(buckets, expected, rtol=0, atol=1e-12)
    assert buckets[:, 2].sum() == data.size
    assert buckets[0, 0] == data.astype("float32").min()
    assert buckets[-1, 1] == data.astype("float32").max()


def test_images_are_pngs_of_the_batch(tmp_path):
    batch = np.zeros((5, 4, 6, 1), "float32")
    batch[:, 1, 2, 0] = 1.0  # one white pixel at row 1, column 2
    batch[1, 3, 5, 0] = 0.5
    with summary.create_file_writer(tmp_path).as_default():
        summary.image("digits", batch, step=0, max_outputs=2)
    (_, value), = series(load(tmp_path), "digits")
    width, height, images = decode_images(value)
    assert (width, height, len(images)) == (6, 4, 2)
    pixels = np.asarray(images[1])
    assert images[1].size == (6, 4) and pixels.shape == (4, 6)
    assert pixels[1, 2] == 255 and pixels[3, 5] == 127 and pixels.sum() == 255 + 127


def test_rgb_uint8_images_keep_their_values(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (1, 3, 2, 3), dtype=np.uint8)
    with summary.create_file_writer(tmp_path).as_default():
        summary.image("rgb", rgb, step=0)
    (_, value), = series(load(tmp_path), "rgb")
    _, _, images = decode_images(value)
    np.testing.assert_array_equal(np.asarray(images[0]), rgb[0])


def test_without_a_writer_nothing_is_written_and_step_is_required(tmp_path):
    assert summary.scalar("loss", 1.0, step=0) is False
    writer = summary.create_file_writer(tmp_path)
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            summary.scalar("loss", 1.0)
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.write_summary(None, 0)


def test_bad_inputs_name_what_was_expected(tmp_path):
    with summary.create_file_writer(tmp_path).as_default(step=0):
        with pytest.raises(ValueError, match=r"needs one value.*\(2,\)"):
            summary.scalar("loss", [1.0, 2.0])
        with pytest.raises(ValueError, match=r"\(N, height, width, channels\).*\(4, 4\)"):
            summary.image("img", np.zeros((4, 4)))
    with pytest.raises(ValueError, match="logdir"):
        summary.create_file_writer("")


def test_missing_tensorboard_names_the_extra(monkeypatch, tmp_path):
    for name in [n for n in sys.modules if n == "tensorboard" or n.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r'pip install "kerasish\[tensorboard\]"'):
        summary.create_file_writer(tmp_path)


def test_importing_kerasish_does_not_import_tensorboard():
    import subprocess

    code = "import sys, kerasish; print('tensorboard' in sys.modules)"
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_set_as_default_and_nested_blocks(tmp_path):
    outer = summary.create_file_writer(tmp_path / "outer")
    inner = summary.create_file_writer(tmp_path / "inner")
    outer.set_as_default(step=5)
    try:
        assert summary.scalar("a", 1.0)
        with inner.as_default(step=2):
            assert summary.scalar("b", 2.0)
        assert summary.scalar("c", 3.0, step=6)
    finally:
        outer.close()
    inner.close()
    assert summary.scalar("d", 4.0, step=0) is False  # the default writer is closed
    assert [(t, s) for t in ("a", "c") for s, _ in series(load(tmp_path / "outer"), t)] == [
        ("a", 5), ("c", 6)]
    assert load(tmp_path / "inner").Tags()["tensors"] == ["b"]
