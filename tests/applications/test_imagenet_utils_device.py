"""decode_predictions on a device array or Tensor (one host copy), as on NumPy arrays."""
import numpy as np

import engine
from applications import imagenet_utils


def test_decode_predictions_on_device_arrays_and_tensors(xp):
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, [386, 101, 340]] = [0.2, 0.7, 0.1]
    preds[1, 1] = 0.9
    expected = imagenet_utils.decode_predictions(preds, top=2)
    assert expected[0][0][:2] == ("n01871265", "tusker")
    assert imagenet_utils.decode_predictions(xp.asarray(preds), top=2) == expected
    assert imagenet_utils.decode_predictions(engine.Tensor(xp.asarray(preds)), top=2) == expected
