"""Knowledge distillation (``keras.distillation``): a ``Distiller`` model that trains a student
on the labels and on a frozen teacher's outputs or intermediate features."""
from .distillation_loss import DistillationLoss, FeatureDistillation, LogitsDistillation
from .distiller import Distiller

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]
