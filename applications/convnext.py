"""ConvNeXt Tiny, Small, Base, Large and XLarge (Liu et al., "A ConvNet for the 2020s", CVPR
2022), built block for block as ``keras/src/applications/convnext.py`` builds them.

The stem and the three downsampling blocks are nested ``Sequential`` models (one entry of
``model.layers`` and one group of the weights file each); a block is a 7x7 depthwise
``Conv2D(groups=C)``, ``LayerNormalization``, two ``Dense`` layers (pointwise, on 4-D inputs)
around a GELU, :class:`LayerScale`, and a residual add. The models take pixels in [0, 255] and
normalize them inside (a ``Normalization`` by ImageNet's mean and variance, constants).
"""
from __future__ import annotations

import numpy as np

import kerasish
from kerasish import initializers, layers, ops

from . import imagenet_utils
from .efficientnet import image_input, load_named_weights
from .weights import is_imagenet, valid_weights_argument

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"

MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768],
             "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768],
              "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024],
             "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536],
              "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048],
               "default_size": 224},
}


@kerasish.saving.register_keras_serializable(package="convnext")
class StochasticDepth(layers.Layer):
    """Drops the whole residual branch of a sample with probability ``drop_path_rate`` in
    training (scaling the kept ones by ``1 / (1 - drop_path_rate)``); the identity otherwise.

    Args:
        drop_path_rate: float in [0, 1], the probability of dropping a sample's branch.

    >>> StochasticDepth(0.5)(np.ones((2, 3), "float32")).numpy()
    array([[1., 1., 1.],
           [1., 1., 1.]], dtype=float32)
    """

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if training:
            keep_prob = 1 - self.drop_path_rate
            shape = (ops.shape(x)[0],) + (1,) * (len(ops.shape(x)) - 1)
            # NOTE: floor(keep_prob + U[0, 1)) is 1 with probability keep_prob, else 0.
            random_tensor = ops.floor(keep_prob + kerasish.random.uniform(shape, 0, 1,
                                                                          dtype=x.dtype))
            return (x / keep_prob) * random_tensor
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"drop_path_rate": self.drop_path_rate})
        return config


@kerasish.saving.register_keras_serializable(package="convnext")
class LayerScale(layers.Layer):
    """Multiplies its input by a learned per-channel scale ``gamma`` (last axis), initialized
    to ``init_values`` (Touvron et al., "Going deeper with Image Transformers").

    Args:
        init_values: float, the initial value of every scale.
        projection_dim: int, the number of channels.

    >>> LayerScale(0.5, 2)(np.ones((1, 2), "float32")).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, _):
        # NOTE: Keras gives the weight no name, so it takes the session's automatic one
        # (variable, variable_1, ...); the files load by position.
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True,
                                     name=kerasish.utils.unique_name("variable"))

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=None):
    """A ConvNeXt block: 7x7 depthwise convolution, LayerNormalization, Dense (4x) + GELU +
    Dense, LayerScale, optional stochastic depth, added to the input. Returns a function.

    >>> y = ConvNeXtBlock(8, name="blk")(layers.Input((7, 7, 8)))
    """
    if name is None:
        name = f"prestem{kerasish.backend.get_uid('prestem')}"

    def apply(inputs):
        x = layers.Conv2D(filters=projection_dim, kernel_size=7, padding="same",
                          groups=projection_dim, name=f"{name}_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim,
                           name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            layer = layers.Activation("linear", name=f"{name}_identity")
        # NOTE: a raw op on symbolic tensors, as Keras's (an `add` operation, not a layer).
        return inputs + layer(x)

    return apply


def PreStem(name=None):
    """Normalizes [0, 255] pixels with ImageNet's mean and standard deviation (times 255)."""
    if name is None:
        name = f"prestem{kerasish.backend.get_uid('prestem')}"

    def apply(x):
        return layers.Normalization(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
            name=f"{name}_prestem_normalization")(x)

    return apply


def Head(num_classes=1000, classifier_activation=None, name=None):
    """The classifier: global average pooling, LayerNormalization, Dense."""
    if name is None:
        name = str(kerasish.backend.get_uid("head"))

    def apply(x):
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation,
                            name=f"{name}_head_dense")(x)

    return apply


def _check_arguments(weights, include_top, classes):
    if kerasish.config.image_data_format() == "channels_first":
        raise ValueError("ConvNeXt does not support the `channels_first` image data format. "
                         "Switch to `channels_last` by editing your local config file at "
                         "~/.keras/keras.json")
    if not valid_weights_argument(weights):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights}")
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top=True`, `classes` '
                         f"should be 1000. Received classes={classes}")


def _downsampling_layers(name, projection_dims):
    """The stem and the three downsampling blocks, each a nested Sequential model."""
    stem = kerasish.Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")
    blocks = [stem]
    for i in range(3):
        blocks.append(kerasish.Sequential([
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                          name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}"))
    return blocks


def _check_imagenet_variant(weights_name, name, depths, projection_dims):
    expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
    if depths != expected["depths"] or projection_dims != expected["projection_dims"]:
        raise ValueError(
            f"Architecture configuration does not match {weights_name} variant. When using "
            "pre-trained weights, the model architecture must match the pre-trained "
            f"configuration exactly. Expected depths: {expected['depths']}, got: {depths}. "
            f"Expected projection_dims: {expected['projection_dims']}, got: {projection_dims}.")
    if weights_name not in name:
        raise ValueError(
            f'Model name "{name}" does not match weights variant "{weights_name}". When using '
            "imagenet weights, model name must contain the weights variant (e.g., "
            f'"convnext_{weights_name.split("convnext_")[-1]}").')


def ConvNeXt(depths, projection_dims, drop_path_rate=0.0, layer_scale_init_value=1e-6,
             default_size=224, name="convnext", include_preprocessing=True, include_top=True,
             weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", weights_name=None):
    """The ConvNeXt skeleton: preprocessing, four stages of ``depths[i]`` blocks of width
    ``projection_dims[i]`` (each after its downsampling block), then the head.

    Args:
        depths, projection_dims: the stages' depths and widths (four each).
        drop_path_rate: the last block's stochastic depth rate (0 to it, linearly); 0 gives
            ``*_identity`` activations in place of StochasticDepth layers.
        layer_scale_init_value: LayerScale's initial value; None leaves LayerScale out.
        default_size: the input size of the top model.
        weights_name: ``"convnext_tiny"`` ... (the ImageNet variant).
        The other arguments are those of :func:`ConvNeXtTiny`.

    >>> model = ConvNeXt([1, 1, 1, 1], [8, 8, 8, 8], include_top=False)
    >>> model.output_shape
    (None, None, None, 8)
    """
    _check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=kerasish.config.image_data_format(), require_flatten=include_top,
        weights=weights)
    img_input = image_input(input_tensor, input_shape)
    if input_tensor is not None:
        inputs = kerasish.utils.get_source_inputs(input_tensor)[0]
        x = input_tensor
    else:
        inputs = x = img_input

    if include_preprocessing and input_shape[-1] == 3:
        x = PreStem(name=name)(x)

    downsample_layers = _downsampling_layers(name, projection_dims)
    # The stochastic depth schedule: 0 for the first block to drop_path_rate for the last.
    depth_drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample_layers[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dim=projection_dims[i],
                              drop_path_rate=depth_drop_rates[cur + j],
                              layer_scale_init_value=layer_scale_init_value,
                              name=f"{name}_stage_{i}_block_{j}")(x)
        cur += depths[i]

    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Head(num_classes=classes, classifier_activation=classifier_activation, name=name)(x)
    else:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)

    model = kerasish.Functional(inputs=inputs, outputs=x, name=name)
    if is_imagenet(weights):
        _check_imagenet_variant(weights_name, name, depths, projection_dims)
    load_named_weights(model, weights, include_top, name, BASE_WEIGHTS_PATH)
    return model


_DOC = """Instantiates the {model} architecture (``keras.applications.{model}``).

    Args:
        include_top: whether to end with the classifier head (``{name}_head_gap``,
            ``{name}_head_layernorm``, ``{name}_head_dense``).
        include_preprocessing: whether the model starts with its ``Normalization`` of
            [0, 255] pixels (keep it with ImageNet weights).
        weights: ``None`` (random initialization), ``"imagenet"`` (Keras's file
            ``{name}.h5`` / ``{name}_notop.h5`` in ``$KERAS_HOME/models``, never downloaded)
            or the path of a weights file.
        input_tensor: optional KerasTensor (output of ``layers.Input()``) to build on.
        input_shape: without the top, any ``(rows, cols, 3)`` with rows, cols >= 32 (None
            allowed); with the top it must be ``(224, 224, 3)``.
        pooling: without the top, ``None`` (4D output), ``"avg"`` or ``"max"``; either way
            a LayerNormalization ends the model.
        classes: number of classes of the top; 1000 with ImageNet weights.
        classifier_activation: activation of the head's Dense; ``None`` gives logits.
        name: the model's name; with ImageNet weights it must contain ``"{name}"``.

    >>> model = {model}(weights=None, include_top=False, pooling="avg")
    >>> model.output_shape
    (None, {width})
    """


def _variant(size):
    config = MODEL_CONFIGS[size]
    weights_name = f"convnext_{size}"

    def model_fn(include_top=True, include_preprocessing=True, weights="imagenet",
                 input_tensor=None, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name=weights_name):
        return ConvNeXt(weights_name=weights_name, depths=config["depths"],
                        projection_dims=config["projection_dims"], drop_path_rate=0.0,
                        layer_scale_init_value=1e-6, default_size=config["default_size"],
                        name=name, include_top=include_top,
                        include_preprocessing=include_preprocessing, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation)

    model_fn.__name__ = model_fn.__qualname__ = (
        "ConvNeXtXLarge" if size == "xlarge" else f"ConvNeXt{size.capitalize()}")
    model_fn.__doc__ = _DOC.format(model=model_fn.__name__, name=weights_name,
                                   width=config["projection_dims"][-1])
    return model_fn


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


def preprocess_input(x, data_format=None):
    """A pass-through kept for Keras's API: ConvNeXt normalizes inside the model, so the input
    (NumPy or CuPy array, tensor) comes back as it is.

    >>> preprocess_input(np.array([0.0, 255.0]))
    array([  0., 255.])
    """
    return x


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: per sample, the ``top`` (wnid, description, score) tuples.

    >>> decode_predictions(np.eye(1000)[[0]], top=1)
    [[('n01440764', 'tench', np.float64(1.0))]]
    """
    return imagenet_utils.decode_predictions(preds, top=top)
