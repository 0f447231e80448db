"""``model.explain``: one row's forward pass equals the model's scores and probabilities, its backward pass the
gradient of that row's loss (against central finite differences)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_iris

from logitgd import DataError, LogisticRegression


def row_loss(model, coef, intercept, x, y):
    """The row's loss under ``coef``/``intercept``, from the model's own predict_log_proba (one-vs-rest: the sum
    of the K binary models' losses, each of which is a two-class model)."""
    saved = model.coef_, model.intercept_
    model.coef_, model.intercept_ = coef, intercept
    try:
        if len(model.classes_) > 2 and model.multi_class == "ovr":
            z = x @ coef.T + intercept
            t = (model.classes_ == y).astype(float)
            return float(np.sum(np.logaddexp(0, -z) * t + np.logaddexp(0, z) * (1 - t)))
        k = int(np.flatnonzero(model.classes_ == y)[0])
        return float(-model.predict_log_proba(x[None, :])[0, k])
    finally:
        model.coef_, model.intercept_ = saved


def fits():
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :6]
    Xi, yi = load_iris(return_X_y=True)
    return [("binary", LogisticRegression().fit(X, y), X, y),
            ("softmax", LogisticRegression(alpha=1e-3).fit(Xi, yi), Xi, yi),
            ("ovr", LogisticRegression(alpha=1e-3, multi_class="ovr").fit(Xi, yi), Xi, yi)]


@pytest.mark.parametrize("name, model, X, y", fits(), ids=lambda v: v if isinstance(v, str) else "")
def test_forward_is_the_model_and_backward_the_rows_gradient(name, model, X, y):
    for i in (0, 57, len(y) - 1):
        x = X[i]
        e = model.explain(x, y[i])
        z = np.atleast_1d(model.decision_function(X[i:i + 1])[0])
        np.testing.assert_allclose(e.z, z, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(e.terms.sum(axis=1) + e.intercept, z, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(e.proba, model.predict_proba(X[i:i + 1])[0], rtol=1e-12, atol=1e-15)
        assert e.prediction == model.predict(X[i:i + 1])[0]
        assert e.loss == pytest.approx(row_loss(model, model.coef_, model.intercept_, x, y[i]), rel=1e-12)
        # the backward pass against central differences of the row's loss
        coef, b = np.array(model.coef_, dtype=float), np.array(model.intercept_, dtype=float)
        for k in range(coef.shape[0]):
            for j in range(coef.shape[1]):
                h = 1e-6 * max(1.0, abs(coef[k, j]))
                up, down = coef.copy(), coef.copy()
                up[k, j] += h
                down[k, j] -= h
                fd = (row_loss(model, up, b, x, y[i]) - row_loss(model, down, b, x, y[i])) / (2 * h)
                assert e.dw[k, j] == pytest.approx(fd, rel=1e-5, abs=1e-7)
            bu, bd = b.copy(), b.copy()
            bu[k] += 1e-6
            bd[k] -= 1e-6
            fd = (row_loss(model, coef, bu, x, y[i]) - row_loss(model, coef, bd, x, y[i])) / 2e-6
            assert e.db[k] == pytest.approx(fd, rel=1e-5, abs=1e-7)
        np.testing.assert_allclose(e.dw, e.dz[:, None] * x[None, :], rtol=1e-15)


def test_the_table_shows_the_numbers_and_sorts_terms_by_size():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6]
    model = LogisticRegression().fit(X, y)
    e = model.explain(X.iloc[[10]], y.iloc[10])
    text = str(e)
    sizes = np.abs(e.terms[0])
    order = [e.feature_names[j] for j in np.argsort(-sizes)]
    positions = [text.index(name) for name in order]
    assert positions == sorted(positions)  # the largest term first
    assert f"{float(e.z[0]):.6g}" in text and f"{float(e.a[0]):.6g}" in text and f"{e.loss:.6g}" in text
    assert "dz = a - y" in text and "= decision_function" in text
    frame = e.to_frame()
    assert list(frame.index) == list(X.columns) and {"x", "w", "w*x", "dw"} <= set(frame.columns)
    short = e.table(top=2)
    assert "Σ others (4)" in short
    without = model.explain(X.iloc[[10]])
    assert without.loss is None and without.dz is None and "give the label" in str(without)


def test_inputs_are_checked():
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(alpha=1e-3).fit(X, y)
    with pytest.raises(DataError, match="one row; got 2"):
        model.explain(X[:2])
    with pytest.raises(DataError, match="not one of the model's classes"):
        model.explain(X[0], 7)
    e = model.explain(sp.csr_matrix(X[3:4]), 0)
    np.testing.assert_allclose(e.z, model.decision_function(X[3:4])[0], rtol=1e-12)
    assert model.explain(pd.DataFrame(X[:1]).to_numpy()[0].tolist()).prediction == model.predict(X[:1])[0]
