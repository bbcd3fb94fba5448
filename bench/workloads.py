"""The reference workloads W1-W7 of shared/bench/ref_models.md, in kerasish and in PyTorch.

Each side is built through its public API (kerasish: ``keras.Sequential``/``Model``, ``compile``,
``train_on_batch``/``predict``; torch: ``nn.Module``, ``optim``, ``backward``) and returns a
``step()`` that runs one training step (returns the loss as a float) or one inference step
(returns the output as a NumPy array). Data follow the spec: one fixed batch from a fresh
``default_rng(0)`` per workload, drawn in the listed order; weights from seed 0 in kerasish,
then copied into the torch model (the spec's "torch reference copies them"), so that the first
step's loss or output of both sides can be compared.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from bench import inception, zoo

# kerasish's compile(jit_compile=...): "auto" (the compiled step) or False (eager)
JIT_COMPILE = "auto"


@dataclasses.dataclass
class Workload:
    key: str
    title: str
    mode: str            # "train" or "infer"
    batch: int
    warmup: int
    steps: int
    gflop: float         # train GFLOP/step for "train", forward GFLOP/step for "infer"
    params: int          # the spec's (Keras) parameter count, checked against our model
    data: Callable       # () -> dict of NumPy arrays
    ours: Callable       # (data, device) -> (model, step)
    torch: Callable      # (data, model, device, layout) -> step


# -- data (spec order) ------------------------------------------------------------------------

def _data_mlp():
    rng = np.random.default_rng(0)
    return {"x": rng.random((128, 784), dtype=np.float32), "y": rng.integers(0, 10, 128)}


def _data_cnn():
    rng = np.random.default_rng(0)
    return {"x": rng.random((100, 28, 28, 1), dtype=np.float32), "y": rng.integers(0, 10, 100)}


def _data_lstm():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10000, (64, 100))
    return {"x": x, "y": rng.integers(0, 2, (64, 1)).astype(np.float32)}


def _data_inception():
    rng = np.random.default_rng(0)
    return {"x": rng.random((8, 299, 299, 3), dtype=np.float32)}


def _data_videoqa():
    rng = np.random.default_rng(0)
    video = rng.random((16, 8, 64, 64, 3), dtype=np.float32)
    question = rng.integers(1, 10000, (16, 20))
    return {"video": video, "question": question, "y": rng.integers(0, 1000, 16)}


def _data_resnet50():
    rng = np.random.default_rng(0)
    return {"x": rng.random((8, 224, 224, 3), dtype=np.float32)}


def _data_mobilenet():
    rng = np.random.default_rng(0)
    x = rng.random((16, 224, 224, 3), dtype=np.float32)
    return {"x": x, "y": rng.integers(0, 10, 16)}


# -- kerasish side ------------------------------------------------------------------------------

def _keras(device):
    import kerasish as keras

    keras.config.set_device(device)
    keras.utils.set_random_seed(0)
    return keras


def _ours_inputs(device, *arrays):
    """The fixed batch, placed on the device once (we time compute, not input transfer)."""
    if device == "cpu":
        return arrays
    from engine import backend

    return tuple(backend.to_device(a, device) for a in arrays)


def _sce(keras):
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _train_step(model, x, y):
    return lambda: float(model.train_on_batch(x, y))


def ours_mlp(data, device):
    keras = _keras(device)
    L = keras.layers
    model = keras.Sequential([keras.Input((784,)), L.Dense(512, activation="relu"),
                              L.Dense(512, activation="relu"), L.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss=_sce(keras),
                  jit_compile=JIT_COMPILE)
    x, y = _ours_inputs(device, data["x"], data["y"].astype(np.int32))
    return model, _train_step(model, x, y)


def ours_cnn(data, device):
    keras = _keras(device)
    L = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(1024, activation="relu"), L.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=_sce(keras),
                  jit_compile=JIT_COMPILE)
    x, y = _ours_inputs(device, data["x"], data["y"].astype(np.int32))
    return model, _train_step(model, x, y)


def ours_lstm(data, device):
    keras = _keras(device)
    L = keras.layers
    model = keras.Sequential([keras.Input((100,), dtype="int32"), L.Embedding(10000, 256),
                              L.LSTM(128), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  jit_compile=JIT_COMPILE)
    x, y = _ours_inputs(device, data["x"].astype(np.int32), data["y"])
    return model, _train_step(model, x, y)


def ours_inception(data, device, source="auto"):
    keras = _keras(device)
    model = inception.keras_model(keras, source)
    (x,) = _ours_inputs(device, data["x"])
    return model, lambda: model.predict(x, batch_size=8, verbose=0)


def ours_resnet50(data, device):
    keras = _keras(device)
    model = keras.applications.ResNet50(weights=None)
    (x,) = _ours_inputs(device, data["x"])
    return model, lambda: model.predict(x, batch_size=8, verbose=0)


def ours_mobilenet(data, device):
    """Keras's transfer-learning recipe: a frozen MobileNetV2 base called with training=False,
    a new classifier on its pooled features; only the classifier trains."""
    keras = _keras(device)
    L = keras.layers
    base = keras.applications.MobileNetV2(weights=None, include_top=False,
                                          input_shape=(224, 224, 3))
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    features = L.GlobalAveragePooling2D()(base(inputs, training=False))
    model = keras.Model(inputs, L.Dense(10)(features))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_sce(keras),
                  jit_compile=JIT_COMPILE)
    x, y = _ours_inputs(device, data["x"], data["y"].astype(np.int32))
    return model, _train_step(model, x, y)


def ours_videoqa(data, device):
    keras = _keras(device)
    L = keras.layers
    video, question = keras.Input((8, 64, 64, 3)), keras.Input((20,), dtype="int32")
    encoder = keras.Sequential([
        keras.Input((64, 64, 3)),
        L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten()])
    v = L.LSTM(256)(L.TimeDistributed(encoder)(video))
    q = L.LSTM(128)(L.Embedding(10000, 256)(question))
    h = L.Dense(128, activation="relu")(L.Concatenate()([v, q]))
    model = keras.Model([video, question], L.Dense(1000)(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_sce(keras),
                  jit_compile=JIT_COMPILE)
    v_in, q_in, y = _ours_inputs(device, data["video"], data["question"].astype(np.int32),
                                 data["y"].astype(np.int32))
    return model, _train_step(model, [v_in, q_in], y)


# -- torch side ---------------------------------------------------------------------------------

def _torch():
    import torch

    torch.manual_seed(0)
    return torch


def _np(w):
    return np.asarray(w.numpy(), dtype=np.float32)


def _copy(param, array):
    import torch

    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def _copy_dense(lin, dense, flat_hwc=None):
    """Dense (in, out) -> Linear (out, in); ``flat_hwc`` = (h, w, c) of an NHWC flatten."""
    kernel = _np(dense.kernel)
    if flat_hwc is not None:  # our rows run over (h, w, c); torch's NCHW flatten over (c, h, w)
        h, w, c = flat_hwc
        kernel = kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(h * w * c, -1)
    _copy(lin.weight, kernel.T)
    _copy(lin.bias, _np(dense.bias))


def _copy_conv(conv, layer):
    _copy(conv.weight, _np(layer.kernel).transpose(3, 2, 0, 1))  # HWIO -> OIHW
    if conv.bias is not None:
        _copy(conv.bias, _np(layer.bias))


def _copy_lstm(lstm, layer, flat_hwc=None):
    """Keras gates i, f, c, o == torch's i, f, g, o; torch's 2nd bias (bias_hh) is zero."""
    cell = layer.cell
    kernel = _np(cell.kernel)
    if flat_hwc is not None:
        h, w, c = flat_hwc
        kernel = kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(h * w * c, -1)
    _copy(lstm.weight_ih_l0, kernel.T)
    _copy(lstm.weight_hh_l0, _np(cell.recurrent_kernel).T)
    _copy(lstm.bias_ih_l0, _np(cell.bias))
    _copy(lstm.bias_hh_l0, np.zeros_like(_np(cell.bias)))


def _layers_of(model, kind):
    return [layer for layer in model.layers if type(layer).__name__ == kind]


def _train_step_torch(torch, model, opt, loss_fn, inputs, target):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(*inputs), target)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _to(torch, device, *arrays):
    dev = "cuda" if device == "gpu" else "cpu"
    return tuple(torch.from_numpy(np.ascontiguousarray(a)).to(dev) for a in arrays)


def torch_mlp(data, ours, device, layout=None):
    torch = _torch()
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    if ours is not None:
        for lin, dense in zip([model[0], model[2], model[4]], _layers_of(ours, "Dense")):
            _copy_dense(lin, dense)
    x, y = _to(torch, device, data["x"], data["y"].astype(np.int64))
    model.to(x.device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _train_step_torch(torch, model, opt, nn.functional.cross_entropy, (x,), y)


def torch_cnn(data, ours, device, layout=None):
    torch = _torch()
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Linear(1024, 10))
    if ours is not None:
        for conv, layer in zip([model[0], model[3]], _layers_of(ours, "Conv2D")):
            _copy_conv(conv, layer)
        dense = _layers_of(ours, "Dense")
        _copy_dense(model[7], dense[0], flat_hwc=(7, 7, 64))
        _copy_dense(model[9], dense[1])
    x, y = _to(torch, device, data["x"].transpose(0, 3, 1, 2), data["y"].astype(np.int64))
    model.to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-7)
    return _train_step_torch(torch, model, opt, nn.functional.cross_entropy, (x,), y)


def _torch_lstm_classifier(torch):
    nn = torch.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10000, 256)
            self.lstm = nn.LSTM(256, 128, batch_first=True)
            self.fc = nn.Linear(128, 1)

        def forward(self, x):
            _, (h, _) = self.lstm(self.embedding(x))
            return self.fc(h[-1])  # logits; the loss applies the sigmoid

    return LSTMClassifier()


def torch_lstm(data, ours, device, layout=None):
    torch = _torch()
    model = _torch_lstm_classifier(torch)
    if ours is not None:
        _copy(model.embedding.weight, _np(_layers_of(ours, "Embedding")[0].embeddings))
        _copy_lstm(model.lstm, _layers_of(ours, "LSTM")[0])
        _copy_dense(model.fc, _layers_of(ours, "Dense")[0])
    x, y = _to(torch, device, data["x"].astype(np.int64), data["y"])
    model.to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    return _train_step_torch(torch, model, opt, loss_fn, (x,), y)


def torch_inception(data, ours, device, layout="nchw"):
    torch = _torch()
    model = inception.torch_model(torch)
    if ours is not None:
        inception.copy_weights(model, ours, _copy, _np)
    model.eval()
    (x,) = _to(torch, device, data["x"].transpose(0, 3, 1, 2))
    model.to(x.device)
    if layout == "channels_last":
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        with torch.inference_mode():
            return model(x).cpu().numpy()
    return step


def _torch_infer_step(torch, model, x, layout):
    model.eval()
    model.to(x.device)
    if layout == "channels_last":
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        with torch.inference_mode():
            return model(x).cpu().numpy()
    return step


def torch_resnet50(data, ours, device, layout="nchw"):
    torch = _torch()
    model = zoo.resnet50(torch)
    if ours is not None:
        zoo.copy_named(torch, model.named, ours)
    (x,) = _to(torch, device, data["x"].transpose(0, 3, 1, 2))
    return _torch_infer_step(torch, model, x, layout)


def torch_mobilenet(data, ours, device, layout=None):
    torch = _torch()
    nn = torch.nn
    base = zoo.mobilenet_v2_base(torch)
    head = nn.Linear(1280, 10)
    if ours is not None:
        base_layer = [layer for layer in ours.layers if hasattr(layer, "layers")][0]
        zoo.copy_named(torch, base.named, base_layer)
        _copy_dense(head, _layers_of(ours, "Dense")[0])
    base.eval()  # frozen: batch normalization with its moving statistics, no gradients
    base.requires_grad_(False)
    model = nn.Sequential(base, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)
    x, y = _to(torch, device, data["x"].transpose(0, 3, 1, 2), data["y"].astype(np.int64))
    model.to(x.device)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3, eps=1e-7)
    return _train_step_torch(torch, model, opt, nn.functional.cross_entropy, (x,), y)


def _torch_videoqa(torch):
    nn = torch.nn

    class VideoQA(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
            self.video_lstm = nn.LSTM(4096, 256, batch_first=True)
            self.embedding = nn.Embedding(10000, 256)
            self.question_lstm = nn.LSTM(256, 128, batch_first=True)
            self.fc = nn.Linear(384, 128)
            self.out = nn.Linear(128, 1000)

        def forward(self, video, question):
            b, t = video.shape[:2]
            frames = self.encoder(video.reshape((b * t,) + tuple(video.shape[2:])))
            _, (hv, _) = self.video_lstm(frames.reshape(b, t, -1))
            _, (hq, _) = self.question_lstm(self.embedding(question))
            h = torch.relu(self.fc(torch.cat([hv[-1], hq[-1]], dim=1)))
            return self.out(h)

    return VideoQA()


def _copy_videoqa(model, ours):
    encoder = _layers_of(ours, "TimeDistributed")[0].layer
    for conv, layer in zip([model.encoder[0], model.encoder[3], model.encoder[6]],
                           _layers_of(encoder, "Conv2D")):
        _copy_conv(conv, layer)
    lstm_v, lstm_q = _layers_of(ours, "LSTM")
    _copy_lstm(model.video_lstm, lstm_v, flat_hwc=(8, 8, 64))
    _copy_lstm(model.question_lstm, lstm_q)
    _copy(model.embedding.weight, _np(_layers_of(ours, "Embedding")[0].embeddings))
    fc, out = _layers_of(ours, "Dense")
    _copy_dense(model.fc, fc)
    _copy_dense(model.out, out)


def torch_videoqa(data, ours, device, layout=None):
    torch = _torch()
    model = _torch_videoqa(torch)
    if ours is not None:
        _copy_videoqa(model, ours)
    video, question, y = _to(torch, device, data["video"].transpose(0, 1, 4, 2, 3),
                             data["question"].astype(np.int64), data["y"].astype(np.int64))
    model.to(video.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    return _train_step_torch(torch, model, opt, torch.nn.functional.cross_entropy,
                             (video, question), y)


WORKLOADS = {w.key: w for w in [
    Workload("mlp", "W1 MLP", "train", 128, 20, 100, 0.4108, 669_706, _data_mlp, ours_mlp,
             torch_mlp),
    Workload("cnn", "W2 MNIST CNN", "train", 100, 5, 30, 8.2049, 3_274_634, _data_cnn,
             ours_cnn, torch_cnn),
    Workload("lstm", "W3 LSTM text", "train", 64, 5, 30, 7.5498, 2_757_249, _data_lstm,
             ours_lstm, torch_lstm),
    Workload("inception", "W4 InceptionV3", "infer", 8, 3, 10, 91.41, 23_851_784,
             _data_inception, ours_inception, torch_inception),
    Workload("videoqa", "W5 Video-QA", "train", 16, 3, 10, 27.3723, 7_449_192, _data_videoqa,
             ours_videoqa, torch_videoqa),
    # GFLOP from the models' Conv2D / DepthwiseConv2D / Dense layers; W7 trains the classifier
    # only: the frozen base's forward plus the head's forward and weight gradient.
    Workload("resnet50", "W6 ResNet50", "infer", 8, 3, 10, 61.7276, 25_636_712,
             _data_resnet50, ours_resnet50, torch_resnet50),
    Workload("mobilenet", "W7 MobileNetV2 top", "train", 16, 3, 10, 9.5846, 2_270_794,
             _data_mobilenet, ours_mobilenet, torch_mobilenet),
]}
