"""``keras.optimizers.legacy``: tf.keras 2's optimizers, which Keras 3 no longer has. Each name
exists so that imports work; building one raises Keras 3's ImportError."""


class LegacyOptimizerWarning:
    """Stands for every ``keras.optimizers.legacy`` class; creating one raises ImportError.

    >>> Adam()
    Traceback (most recent call last):
    ImportError: `keras.optimizers.legacy` is not supported in Keras 3. ...
    """

    def __init__(self, *args, **kwargs):
        raise ImportError(
            "`keras.optimizers.legacy` is not supported in Keras 3. When using `tf.keras`, to "
            "continue using a `tf.keras.optimizers.legacy` optimizer, you can install the "
            "`tf_keras` package (Keras 2) and set the environment variable "
            "`TF_USE_LEGACY_KERAS=True` to configure TensorFlow to use `tf_keras` when "
            "accessing `tf.keras`.")


Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning
