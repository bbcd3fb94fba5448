"""Keras 3's ``keras.wrappers``: scikit-learn estimators around a Keras model."""
from .sklearn_wrapper import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
