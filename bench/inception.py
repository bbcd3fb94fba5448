"""W4's InceptionV3, from the topology in shared/bench/ref_models.md, for kerasish and torch.

One topology function, ``graph``, is run by three small adapters: one that builds the kerasish
functional model, one that creates the torch modules (tracking channels only) and one that
runs them in torch's ``forward``. So both sides have the same layers, created in the same order
(that order maps our weights onto torch's). ``keras.applications.InceptionV3`` is used instead
on our side when it exists (``source="auto"``); its layers are matched by creation order too.
"""
from __future__ import annotations

import re

last_source = None  # which model ours_inception built: "applications" or "builtin (...)"


def graph(g, x):
    """InceptionV3 (include_top, 1000 classes, softmax) over adapter ``g``."""
    x = g.conv_bn(x, 32, 3, 3, 2, "valid")
    x = g.conv_bn(x, 32, 3, 3, 1, "valid")
    x = g.conv_bn(x, 64, 3, 3)
    x = g.max_pool(x)
    x = g.conv_bn(x, 80, 1, 1, 1, "valid")
    x = g.conv_bn(x, 192, 3, 3, 1, "valid")
    x = g.max_pool(x)
    for pool_filters in (32, 64, 64):  # mixed0..2, 35x35
        b1 = g.conv_bn(x, 64, 1, 1)
        b5 = g.conv_bn(g.conv_bn(x, 48, 1, 1), 64, 5, 5)
        b3 = g.conv_bn(g.conv_bn(g.conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        bp = g.conv_bn(g.avg_pool(x), pool_filters, 1, 1)
        x = g.concat([b1, b5, b3, bp])
    b3 = g.conv_bn(x, 384, 3, 3, 2, "valid")  # mixed3 -> 17x17
    bd = g.conv_bn(g.conv_bn(g.conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 2, "valid")
    x = g.concat([b3, bd, g.max_pool(x)])
    for c in (128, 160, 160, 192):  # mixed4..7
        b1 = g.conv_bn(x, 192, 1, 1)
        b7 = g.conv_bn(g.conv_bn(g.conv_bn(x, c, 1, 1), c, 1, 7), 192, 7, 1)
        bd = g.conv_bn(x, c, 1, 1)
        for f, kh, kw in ((c, 7, 1), (c, 1, 7), (c, 7, 1), (192, 1, 7)):
            bd = g.conv_bn(bd, f, kh, kw)
        bp = g.conv_bn(g.avg_pool(x), 192, 1, 1)
        x = g.concat([b1, b7, bd, bp])
    b3 = g.conv_bn(g.conv_bn(x, 192, 1, 1), 320, 3, 3, 2, "valid")  # mixed8 -> 8x8
    b7 = g.conv_bn(x, 192, 1, 1)
    for f, kh, kw, s, pad in ((192, 1, 7, 1, "same"), (192, 7, 1, 1, "same"),
                              (192, 3, 3, 2, "valid")):
        b7 = g.conv_bn(b7, f, kh, kw, s, pad)
    x = g.concat([b3, b7, g.max_pool(x)])
    for _ in range(2):  # mixed9, 10
        b1 = g.conv_bn(x, 320, 1, 1)
        b3 = g.conv_bn(x, 384, 1, 1)
        b3 = g.concat([g.conv_bn(b3, 384, 1, 3), g.conv_bn(b3, 384, 3, 1)])
        bd = g.conv_bn(g.conv_bn(x, 448, 1, 1), 384, 3, 3)
        bd = g.concat([g.conv_bn(bd, 384, 1, 3), g.conv_bn(bd, 384, 3, 1)])
        bp = g.conv_bn(g.avg_pool(x), 192, 1, 1)
        x = g.concat([b1, b3, bd, bp])
    return g.head(x)


# -- kerasish -----------------------------------------------------------------------------------

class _KerasBuilder:
    def __init__(self, keras):
        self.L = keras.layers

    def conv_bn(self, x, f, kh, kw, s=1, pad="same"):
        x = self.L.Conv2D(f, (kh, kw), strides=s, padding=pad, use_bias=False)(x)
        x = self.L.BatchNormalization(axis=3, epsilon=1e-3, scale=False)(x)
        return self.L.Activation("relu")(x)

    def max_pool(self, x):
        return self.L.MaxPooling2D((3, 3), strides=(2, 2))(x)

    def avg_pool(self, x):
        return self.L.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)

    def concat(self, xs):
        return self.L.Concatenate(axis=3)(xs)

    def head(self, x):
        x = self.L.GlobalAveragePooling2D()(x)
        return self.L.Dense(1000, activation="softmax")(x)


def keras_model(keras, source="auto"):
    """``keras.applications.InceptionV3`` (random weights) if available, else ``graph``."""
    global last_source
    if source in ("auto", "applications"):
        try:
            model = keras.applications.InceptionV3(
                weights=None, include_top=True, input_shape=(299, 299, 3), classes=1000,
                classifier_activation="softmax")
            last_source = "applications"
            return model
        except Exception as e:  # noqa: BLE001 - auto falls back on anything (work in progress)
            if source == "applications":
                raise
            last_source = f"builtin ({type(e).__name__}: applications.InceptionV3 unavailable)"
    else:
        last_source = "builtin"
    inputs = keras.Input((299, 299, 3))
    return keras.Model(inputs, graph(_KerasBuilder(keras), inputs), name="inception_v3")


# -- torch --------------------------------------------------------------------------------------

class _TorchBuilder:
    """Runs ``graph`` on channel counts, creating the modules in graph order."""

    def __init__(self, nn):
        self.nn, self.blocks, self.fc = nn, [], None

    def conv_bn(self, c, f, kh, kw, s=1, pad="same"):
        nn = self.nn
        assert pad == "valid" or s == 1, "'same' with stride 2 does not occur in InceptionV3"
        padding = (kh // 2, kw // 2) if pad == "same" else 0
        self.blocks.append(nn.Sequential(
            nn.Conv2d(c, f, (kh, kw), stride=s, padding=padding, bias=False),
            nn.BatchNorm2d(f, eps=1e-3), nn.ReLU(inplace=True)))
        return f

    def max_pool(self, c):
        return c

    avg_pool = max_pool

    def concat(self, cs):
        return sum(cs)

    def head(self, c):
        self.fc = self.nn.Linear(c, 1000)


class _TorchRunner:
    def __init__(self, module, F):
        self.m, self.F, self.i = module, F, 0

    def conv_bn(self, x, *args):
        block = self.m.blocks[self.i]
        self.i += 1
        return block(x)

    def max_pool(self, x):
        return self.F.max_pool2d(x, 3, 2)

    def avg_pool(self, x):
        return self.F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)

    def concat(self, xs):
        return self.m.torch.cat(xs, dim=1)

    def head(self, x):
        x = self.F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.F.softmax(self.m.fc(x), dim=1)


def torch_model(torch):
    nn = torch.nn

    class InceptionV3(nn.Module):
        def __init__(self):
            super().__init__()
            builder = _TorchBuilder(nn)
            graph(builder, 3)
            self.blocks, self.fc, self.torch = nn.ModuleList(builder.blocks), builder.fc, torch

        def forward(self, x):
            return graph(_TorchRunner(self, nn.functional), x)

    return InceptionV3()


def _creation_order(layers):
    """Layers sorted by their auto-name's counter (conv2d, conv2d_1, ...): creation order."""
    def key(layer):
        m = re.search(r"_(\d+)$", layer.name)
        return int(m.group(1)) if m else 0
    return sorted(layers, key=key)


def copy_weights(module, model, copy, to_np):
    """Our conv kernels, BN betas/moving stats and classifier into the torch ``module``."""
    kinds = {}
    for layer in model.layers:
        kinds.setdefault(type(layer).__name__, []).append(layer)
    convs = _creation_order(kinds.get("Conv2D", []))
    bns = _creation_order(kinds.get("BatchNormalization", []))
    assert len(convs) == len(bns) == len(module.blocks), (len(convs), len(bns))
    for block, conv, bn in zip(module.blocks, convs, bns):
        copy(block[0].weight, to_np(conv.kernel).transpose(3, 2, 0, 1))
        copy(block[1].bias, to_np(bn.beta))
        copy(block[1].running_mean, to_np(bn.moving_mean))
        copy(block[1].running_var, to_np(bn.moving_variance))
    (dense,) = kinds["Dense"]
    copy(module.fc.weight, to_np(dense.kernel).T)
    copy(module.fc.bias, to_np(dense.bias))
