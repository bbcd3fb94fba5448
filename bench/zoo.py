"""W6/W7's torch models: ResNet50 and MobileNetV2 written by hand in torch, module for module
as Keras builds them (torchvision is not needed), with Keras's layer names as module names so
that our weights are copied by name.

Keras's "same" padding of a stride-2 convolution pads one row/column after only (TensorFlow's
rule); torch pads symmetrically, so those convolutions get an explicit ``ZeroPad2d`` first.
"""
from __future__ import annotations

import numpy as np


def _np(w):
    return np.asarray(w.numpy(), dtype=np.float32)


def copy_named(torch, modules, ours):
    """Copies each named torch module's parameters from ``ours``'s layer of the same name."""
    def put(param, value):
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    nn = torch.nn
    for name, module in modules.items():
        layer = ours.get_layer(name)
        weights = {w.name: _np(w) for w in layer.weights}
        if isinstance(module, nn.Conv2d):
            kernel = weights.get("kernel", weights.get("depthwise_kernel"))
            if "depthwise_kernel" in weights:  # (kh, kw, C, 1) -> (C, 1, kh, kw)
                put(module.weight, kernel.transpose(2, 3, 0, 1))
            else:  # HWIO -> OIHW
                put(module.weight, kernel.transpose(3, 2, 0, 1))
            if module.bias is not None:
                put(module.bias, weights["bias"])
        elif isinstance(module, nn.BatchNorm2d):
            put(module.weight, weights.get("gamma", np.ones_like(weights["beta"])))
            put(module.bias, weights["beta"])
            put(module.running_mean, weights["moving_mean"])
            put(module.running_var, weights["moving_variance"])
        elif isinstance(module, nn.Linear):
            put(module.weight, weights["kernel"].T)
            put(module.bias, weights["bias"])


# -- ResNet50 (keras.applications.ResNet50, include_top, softmax) -------------------------------

def resnet50(torch, classes=1000):
    nn, F = torch.nn, torch.nn.functional

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            m = self.named = nn.ModuleDict()

            def conv_bn(name, cin, cout, k, stride=1, padding=0):
                m[f"{name}_conv"] = nn.Conv2d(cin, cout, k, stride, padding)
                m[f"{name}_bn"] = nn.BatchNorm2d(cout, eps=1.001e-5)

            conv_bn("conv1", 3, 64, 7, 2, 3)
            self.blocks = []
            cin = 64
            for stack, (filters, blocks, stride) in enumerate(
                    [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=2):
                for b in range(1, blocks + 1):
                    name = f"conv{stack}_block{b}"
                    s = stride if b == 1 else 1
                    if b == 1:
                        conv_bn(f"{name}_0", cin, 4 * filters, 1, s)
                    conv_bn(f"{name}_1", cin, filters, 1, s)  # Keras strides the first 1x1
                    conv_bn(f"{name}_2", filters, filters, 3, 1, 1)
                    conv_bn(f"{name}_3", filters, 4 * filters, 1)
                    self.blocks.append((name, b == 1))
                    cin = 4 * filters
            m["predictions"] = nn.Linear(2048, classes)

        def forward(self, x):
            m = self.named

            def cb(name, h):
                return m[f"{name}_bn"](m[f"{name}_conv"](h))

            # NOTE: Keras pads the max pooling's input with zeros, torch with -inf; after the
            # ReLU both give the same maxima.
            x = F.max_pool2d(F.relu(cb("conv1", x)), 3, 2, 1)
            for name, project in self.blocks:
                shortcut = cb(f"{name}_0", x) if project else x
                h = F.relu(cb(f"{name}_1", x))
                h = F.relu(cb(f"{name}_2", h))
                x = F.relu(shortcut + cb(f"{name}_3", h))
            return torch.softmax(m["predictions"](x.mean(dim=(2, 3))), dim=1)

    return ResNet50()


# -- MobileNetV2 (alpha 1.0, 224 x 224, include_top=False) as a frozen base ---------------------

MOBILENET_V2_BLOCKS = [  # (filters, stride, expansion) of block_0 .. block_16
    (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
    (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6),
    (160, 1, 6), (160, 1, 6), (320, 1, 6)]


def mobilenet_v2_base(torch):
    """MobileNetV2's convolutional base (``include_top=False``) for even input sizes."""
    nn, F = torch.nn, torch.nn.functional

    class MobileNetV2Base(nn.Module):
        def __init__(self):
            super().__init__()
            m = self.named = nn.ModuleDict()

            def conv_bn(conv_name, bn_name, cin, cout, k=1, stride=1, groups=1):
                m[conv_name] = nn.Conv2d(cin, cout, k, stride, groups=groups, bias=False,
                                         padding=1 if k == 3 and stride == 1 else 0)
                m[bn_name] = nn.BatchNorm2d(cout, eps=1e-3)

            conv_bn("Conv1", "bn_Conv1", 3, 32, 3, 2)
            self.blocks, cin = [], 32
            for block_id, (filters, stride, expansion) in enumerate(MOBILENET_V2_BLOCKS):
                prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
                hidden = cin * expansion
                if block_id:
                    conv_bn(f"{prefix}expand", f"{prefix}expand_BN", cin, hidden)
                conv_bn(f"{prefix}depthwise", f"{prefix}depthwise_BN", hidden, hidden, 3,
                        stride, groups=hidden)
                conv_bn(f"{prefix}project", f"{prefix}project_BN", hidden, filters)
                self.blocks.append((prefix, block_id > 0, stride, cin == filters and stride == 1))
                cin = filters
            conv_bn("Conv_1", "Conv_1_bn", 320, 1280)

        def forward(self, x):
            m = self.named

            def cb(conv, bn, h):
                return m[bn](m[conv](h))

            # TensorFlow's "same" for stride 2 on an even size: one zero row/column after.
            x = F.relu6(cb("Conv1", "bn_Conv1", F.pad(x, (0, 1, 0, 1))))
            for prefix, expand, stride, residual in self.blocks:
                h = x
                if expand:
                    h = F.relu6(cb(f"{prefix}expand", f"{prefix}expand_BN", h))
                if stride == 2:
                    h = F.pad(h, (0, 1, 0, 1))
                h = F.relu6(cb(f"{prefix}depthwise", f"{prefix}depthwise_BN", h))
                h = cb(f"{prefix}project", f"{prefix}project_BN", h)
                x = x + h if residual else h
            return F.relu6(cb("Conv_1", "Conv_1_bn", x))

    return MobileNetV2Base()
