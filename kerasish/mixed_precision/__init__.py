"""Mixed precision (Keras's ``keras.mixed_precision``): the dtype-policy names under their
tf.keras 2 aliases, and the loss-scaling optimizer.

>>> set_global_policy("mixed_float16")  # layers compute in float16, keep float32 weights
"""
from ..dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from ..optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "Policy", "LossScaleOptimizer", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]
