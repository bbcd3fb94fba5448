"""scikit-learn estimators around a kerasish model (Keras 3's ``keras.wrappers``).

scikit-learn is imported lazily: without it the classes still import, and creating one raises an
ImportError that says what to install.
"""
from __future__ import annotations

import copy

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:  # the wrappers then explain what to install when created
    sklearn = None

    class BaseEstimator:
        pass

    class ClassifierMixin:
        pass

    class RegressorMixin:
        pass

    class TransformerMixin:
        pass


def _require_sklearn(name):
    if sklearn is None:
        raise ImportError(f"{name} requires `scikit-learn` to be installed. Run "
                          "`pip install scikit-learn` to install it.")


def _validate_data(estimator, X, y=None, reset=True):
    from sklearn.utils.validation import validate_data

    if y is None:
        return validate_data(estimator, X, reset=reset)
    return validate_data(estimator, X, y, reset=reset)


def _check_model(model):
    if not getattr(model, "compiled", False) or not model.loss or not model.optimizer:
        raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer. "
                           f"Received: model={model!r}")


class TargetReshaper(TransformerMixin, BaseEstimator):
    """Makes ``y`` 2-D for the encoders and gives a 1-D ``y`` back its one dimension."""

    def fit(self, y):
        self.ndim_ = y.ndim
        return self

    def transform(self, y):
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if self.ndim_ == 1 and y.ndim == 2:
            return np.squeeze(y, axis=1)
        return y


class SKLBase(BaseEstimator):
    """Base class of the scikit-learn wrappers.

    Args:
        model: A compiled ``Model``, or a callable returning one. A Model is cloned (with
            ``keras.models.clone_model``) before fitting unless ``warm_start=True``; a callable
            is called as ``model(X=X, y=y, **model_kwargs)``.
        warm_start: Whether to keep training the model of the previous ``fit``.
        model_kwargs: Keyword arguments for ``model`` when it is a callable.
        fit_kwargs: Keyword arguments for ``model.fit``; those given to ``fit`` win.

    Attributes:
        model_: The fitted model.
        history_: The ``History`` returned by ``model.fit``.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self):
        model = self.model if callable(self.model) else copy.deepcopy(self.model)
        return type(self)(model=model, warm_start=self.warm_start,
                          model_kwargs=self.model_kwargs, fit_kwargs=self.fit_kwargs)

    @property
    def epoch_(self):
        """The number of epochs trained by the last ``fit``."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def _get_model(self, X, y):
        from ..models import Model, clone_model

        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            if self.warm_start:
                return self.model
            # NOTE: a clone has fresh weights and no compile state: it is compiled as the
            # given model was, with a fresh optimizer of the same config.
            clone = clone_model(self.model)
            given = dict(self.model._compile_config)
            given["optimizer"] = type(self.model.optimizer).from_config(
                self.model.optimizer.get_config())
            clone.compile(**given)
            return clone
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X, y, **kwargs):
        """Fits the model on ``X`` (n_samples, n_features) and ``y``; ``kwargs`` go to
        ``model.fit``."""
        X, y = _validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        _check_model(model)
        fit_kwargs = dict(self.fit_kwargs or {})
        fit_kwargs.update(kwargs)
        self.history_ = model.fit(X, y, **fit_kwargs)
        self.model_ = model
        return self

    def predict(self, X):
        """The model's predictions, in the form of the ``y`` it was fitted on."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self._reverse_process_target(self.model_.predict(X, verbose=0))

    def _process_target(self, y, reset=False):
        from sklearn.utils.multiclass import type_of_target

        type_of_target(y, raise_unknown=True)  # the right error for an invalid target
        if reset:
            self._target_encoder = TargetReshaper().fit(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y):
        return self._target_encoder.inverse_transform(y)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a Keras model: labels are one-hot encoded for the model,
    and predictions decoded back to labels (the argmax of the model's outputs).

    Args: see ``SKLBase``. Attributes: ``model_``, ``history_``, ``classes_``.

    >>> def make_model(X, y):
    ...     inputs = keras.Input((X.shape[1],))
    ...     model = keras.Model(inputs, keras.layers.Dense(y.shape[1], "softmax")(inputs))
    ...     model.compile(loss="categorical_crossentropy", optimizer="adam")
    ...     return model
    >>> clf = SKLearnClassifier(make_model, fit_kwargs={"epochs": 5, "verbose": 0})
    """

    def decision_function(self, X):
        """The model's raw outputs."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X, verbose=0)

    def _process_target(self, y, reset=False):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder
        from sklearn.utils.multiclass import type_of_target

        target_type = type_of_target(y, raise_unknown=True)
        if target_type not in ("binary", "multiclass"):
            raise ValueError("Only binary and multiclass target types are supported. "
                             f"Target type: {target_type}")
        if reset:
            self._target_encoder = make_pipeline(
                TargetReshaper(), OneHotEncoder(sparse_output=False)).fit(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return self._target_encoder.transform(y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a Keras model (``score`` is R^2).

    Args: see ``SKLBase``. Attributes: ``model_``, ``history_``.

    >>> reg = SKLearnRegressor(make_model, fit_kwargs={"epochs": 5, "verbose": 0})
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer around a Keras model: ``transform`` returns the model's
    outputs (e.g. an encoder's features), for use in a ``Pipeline``.

    Args: see ``SKLBase``. Attributes: ``model_``, ``history_``.

    >>> encoder = SKLearnTransformer(make_autoencoder, fit_kwargs={"epochs": 5, "verbose": 0})
    """

    def transform(self, X):
        """The model's outputs on ``X``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X, verbose=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
