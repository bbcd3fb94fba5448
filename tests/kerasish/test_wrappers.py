"""keras.wrappers: scikit-learn estimators around kerasish models."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402


def dynamic_model(X, y, loss, activation=None, units=None):
    inputs = keras.Input((X.shape[1],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(units or (y.shape[1] if y.ndim > 1 else 1),
                                 activation=activation)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(loss=loss, optimizer=keras.optimizers.Adam(0.05))
    return model


def _blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    X = rng.normal(size=(n, 2)) * 0.3 + np.array([[0, 0], [3, 0], [0, 3]])[y]
    return X.astype("float32"), np.array(["a", "b", "c"])[y]


def test_classifier_fits_predicts_labels_and_scores():
    keras.utils.set_random_seed(0)
    X, y = _blobs()
    clf = SKLearnClassifier(dynamic_model,
                            model_kwargs={"loss": "categorical_crossentropy",
                                          "activation": "softmax"},
                            fit_kwargs={"epochs": 30, "verbose": 0})
    assert clf.fit(X, y) is clf
    assert list(clf.classes_) == ["a", "b", "c"] and clf.epoch_ == 30
    assert clf.predict(X[:5]).tolist() == y[:5].tolist()
    assert clf.score(X, y) > 0.95
    assert clf.decision_function(X[:2]).shape == (2, 3)
    assert clf.n_features_in_ == 2


def test_regressor_and_transformer():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5], "float32")
    reg = SKLearnRegressor(dynamic_model, model_kwargs={"loss": "mse"},
                           fit_kwargs={"epochs": 60, "verbose": 0})
    reg.fit(X, y, batch_size=16)  # fit's own kwargs join fit_kwargs
    assert reg.predict(X).shape == (64,) and reg.score(X, y) > 0.9
    enc = SKLearnTransformer(dynamic_model, model_kwargs={"loss": "mse", "units": 2},
                             fit_kwargs={"epochs": 1, "verbose": 0})
    pipe = make_pipeline(enc, sklearn.linear_model.LinearRegression()).fit(X, y)
    assert pipe.predict(X).shape == (64,) and enc.transform(X).shape == (64, 2)


def test_a_compiled_model_is_cloned_unless_warm_start():
    keras.utils.set_random_seed(0)
    X, y = _blobs(30)
    model = dynamic_model(X, np.zeros((1, 3)), "categorical_crossentropy", "softmax")
    before = [w.numpy().copy() for w in model.weights]
    clf = SKLearnClassifier(model, fit_kwargs={"epochs": 2, "verbose": 0}).fit(X, y)
    assert clf.model_ is not model
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights))
    warm = SKLearnClassifier(model, warm_start=True, fit_kwargs={"epochs": 1, "verbose": 0})
    assert warm.fit(X, y).model_ is model


def test_sklearn_api_contract():
    est = SKLearnRegressor(dynamic_model, model_kwargs={"loss": "mse"})
    assert est.get_params()["model_kwargs"] == {"loss": "mse"}
    assert clone(est).model is dynamic_model
    name = type(est).__name__
    estimator_checks.check_get_params_invariance(name, est)
    estimator_checks.check_estimators_unfitted(name, est)
    uncompiled = SKLearnRegressor(lambda X, y: keras.Sequential([keras.layers.Dense(1)]))
    with pytest.raises(RuntimeError, match="compiled"):
        uncompiled.fit(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(dynamic_model, model_kwargs={"loss": "mse"}).fit(
            np.zeros((4, 2)), np.zeros(4))
