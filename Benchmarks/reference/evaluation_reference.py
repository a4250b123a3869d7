"""Reference numbers for Tests/EvaluationTests/ReferenceTests.swift.

Computes scikit-learn's roc_auc_score (binary, macro, micro), scipy's spearmanr and a
scikit-learn LogisticRegression(C=1) fit on small fixed inputs, and prints the inputs and the
results as Swift literals. The inputs are rounded to 3 decimals so that Swift sees exactly
the same numbers. Run once:

    python3 -m venv /tmp/skref-venv && /tmp/skref-venv/bin/pip install scikit-learn scipy numpy
    /tmp/skref-venv/bin/python Benchmarks/reference/evaluation_reference.py
"""
import numpy as np
import scipy
import sklearn
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

rng = np.random.default_rng(20240501)


def swift(name, a):
    a = np.asarray(a)
    if a.dtype == bool:
        body = ", ".join("true" if v else "false" for v in a.ravel())
    else:
        body = ", ".join(repr(float(v)) for v in a.ravel())
    print(f"let {name}: [{'Bool' if a.dtype == bool else 'Double'}] = [{body}]")


print(f"// numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")

# Binary ROC-AUC with ties in the scores.
scores = np.round(rng.integers(0, 8, size=40) / 4.0, 3)
labels = rng.random(40) < 0.4
swift("binaryScores", scores)
swift("binaryLabels", labels)
print(f"let binaryAUC = {float(roc_auc_score(labels, scores))!r}")

# Multi-label: 30 samples x 4 labels, scores row-major (sample, label).
Y = rng.random((30, 4)) < np.array([0.2, 0.4, 0.5, 0.7])
S = np.round(Y * 0.6 + rng.normal(size=(30, 4)), 1)  # rounding creates ties
assert all(0 < Y[:, j].sum() < 30 for j in range(4))
swift("multiScoresRowMajor", S)
swift("multiTruthRowMajor", Y)
print(f"let macroAUC = {float(roc_auc_score(Y, S, average='macro'))!r}")
print(f"let microAUC = {float(roc_auc_score(Y, S, average='micro'))!r}")

# Spearman with ties in both inputs.
x = np.round(rng.normal(size=25), 1)
y = np.round(x + rng.normal(size=25), 0)
swift("spearmanX", x)
swift("spearmanY", y)
print(f"let spearman = {float(spearmanr(x, y).statistic)!r}")

# Logistic regression, C = 1, tight tolerance so the optimum is accurate.
X = np.round(rng.normal(size=(60, 3)) * np.array([1.0, 2.0, 0.5]), 3)
t = (X @ np.array([1.5, -0.7, 2.0]) + 0.3 + rng.logistic(size=60)) > 0
swift("lrXRowMajor", X)
swift("lrY", t)
for C in (1.0, 0.05):
    model = LogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(X, t)
    tag = "C1" if C == 1.0 else "C005"
    swift(f"lrCoef{tag}", model.coef_[0])
    print(f"let lrIntercept{tag} = {float(model.intercept_[0])!r}")
    swift(f"lrProbability{tag}", model.predict_proba(X[:3])[:, 1])
