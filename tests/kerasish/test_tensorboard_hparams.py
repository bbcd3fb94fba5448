"""HParams: the experiment config at the top of the log folder and each run's session start
and end, decoded with TensorBoard's own hparams metadata parsers."""
import numpy as np
import pytest

from tests.kerasish.tb_helpers import load

import kerasish as keras  # noqa: E402
from kerasish import layers  # noqa: E402

from kerasish.summary import hparams as hp  # noqa: E402


def parse(acc, tag, kind):
    from tensorboard.plugins.hparams import metadata

    assert acc.SummaryMetadata(tag).plugin_data.plugin_name == metadata.PLUGIN_NAME
    content = acc.SummaryMetadata(tag).plugin_data.content
    return getattr(metadata, f"parse_{kind}_plugin_data")(content)


def test_config_at_top_and_one_session_per_run(tmp_path):
    from tensorboard.plugins.hparams import api_pb2

    lr = hp.HParam("learning_rate", hp.Discrete([0.1, 0.01]))
    fc = hp.HParam("num_fc", hp.IntInterval(1, 2))
    with keras.summary.create_file_writer(tmp_path).as_default():
        assert hp.hparams_config([lr, fc], [
            hp.Metric("epoch_loss", group="train", display_name="loss"),
            hp.Metric("epoch_accuracy", group="validation")])
    x = np.random.default_rng(0).random((20, 3)).astype("float32")
    y = (x.sum(axis=1) > 1.5).astype("int32")
    for rate in (0.1, 0.01):
        run = tmp_path / f"lr_{rate}"
        model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
        model.compile(keras.optimizers.SGD(rate), keras.losses.SparseCategoricalCrossentropy(
            from_logits=True), metrics=["accuracy"])
        model.fit(x, y, epochs=2, validation_split=0.5, verbose=0, callbacks=[
            keras.callbacks.TensorBoard(run),
            hp.KerasCallback(str(run), {lr: rate, "num_fc": 1}, trial_id=f"t{rate}")])
        acc = load(run)
        start = parse(acc, "_hparams_/session_start_info", "session_start_info")
        assert start.group_name == f"t{rate}"
        assert start.hparams["learning_rate"].number_value == rate
        assert start.hparams["num_fc"].number_value == 1
        end = parse(acc, "_hparams_/session_end_info", "session_end_info")
        assert end.status == api_pb2.STATUS_SUCCESS and end.end_time_secs >= start.start_time_secs
        assert [e.step for e in load(run / "validation").Tensors("epoch_accuracy")] == [0, 1]
    experiment = parse(load(tmp_path), "_hparams_/experiment", "experiment")
    assert [h.name for h in experiment.hparam_infos] == ["learning_rate", "num_fc"]
    assert [v.number_value for v in experiment.hparam_infos[0].domain_discrete.values] == [
        0.01, 0.1]
    assert experiment.hparam_infos[1].domain_interval.max_value == 2
    assert [(m.name.group, m.name.tag) for m in experiment.metric_infos] == [
        ("train", "epoch_loss"), ("validation", "epoch_accuracy")]


def test_bad_hparams_are_rejected_early(tmp_path):
    with pytest.raises(TypeError, match="must be a dict"):
        hp.KerasCallback(str(tmp_path), [("lr", 0.1)])
    with pytest.raises(TypeError, match="unsupported type"):
        hp.KerasCallback(str(tmp_path), {"lr": [0.1]})
    with pytest.raises(ValueError, match="status"):
        hp.session_end_pb("done")
