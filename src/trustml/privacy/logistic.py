"""Logistic regression on Fashion-MNIST and the membership attacks against it.

Models are scikit-learn `LogisticRegression` (multinomial, lbfgs); parameters are handled as
plain arrays `W (classes, features)`, `b (classes,)` so that noise draws can be evaluated in
one batched product.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import sklearn
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from trustml.data import load_fashion_mnist

_SKLEARN_NEW_PENALTY = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 8)


def fashion_features(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first `n_in` training images (members) and first `n_out` test images (non-members),
    flattened and scaled to [0, 1] (float32)."""
    x_tr, y_tr = load_fashion_mnist("train")
    x_te, y_te = load_fashion_mnist("test")
    for n, available, what in ((n_in, len(x_tr), "training"), (n_out, len(x_te), "test")):
        if not 1 <= n <= available:
            raise ValueError(f"n={n} {what} images requested, but Fashion-MNIST has {available}")
    def flat(x):
        return (x.reshape(len(x), -1).numpy() / 255.0).astype(np.float32)

    return flat(x_tr[:n_in]), y_tr[:n_in].numpy(), flat(x_te[:n_out]), y_te[:n_out].numpy()


@dataclass
class LinearModel:
    W: np.ndarray  # (classes, features)
    b: np.ndarray  # (classes,)
    n_iter: int = 0
    converged: bool = True
    warnings: tuple[str, ...] = ()


def fit_logistic(X: np.ndarray, y: np.ndarray, C: float | None, max_iter: int,
                 tol: float = 1e-4) -> LinearModel:
    """Multinomial logistic regression; `C=None` is no regularisation (`penalty=None`).

    Warnings are recorded, not hidden: `converged` is False when lbfgs hit `max_iter`.
    """
    if C is not None and not C > 0:
        raise ValueError(f"C must be > 0 (or None for no penalty), got {C}")
    if C is None:
        kwargs = {"C": np.inf} if _SKLEARN_NEW_PENALTY else {"penalty": None}
    else:
        kwargs = {"C": C}
    model = LogisticRegression(max_iter=max_iter, tol=tol, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    messages = tuple(sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                             for w in caught}))
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return LinearModel(model.coef_.astype(np.float64), model.intercept_.astype(np.float64),
                       int(model.n_iter_.max()), converged, messages)


def logits(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """`X @ W.T + b`, batched over leading axes of W and b: `(..., samples, classes)`."""
    return np.matmul(X, np.swapaxes(W, -1, -2)) + b[..., None, :]


def accuracy(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (logits(W, b, X).argmax(-1) == y).mean(-1)


def correct(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return logits(W, b, X).argmax(-1) == y


def correctness_attack_accuracy(acc_in: np.ndarray, acc_out: np.ndarray) -> np.ndarray:
    """Accuracy of "IN iff correctly classified" on a balanced IN/OUT set.

    IN points are caught when correct, OUT points when wrong:
    $(a_{in} + 1 - a_{out})/2 = 1/2 + (a_{in}-a_{out})/2$ (Yeom et al. 2018: advantage = gap).
    """
    return 0.5 * (np.asarray(acc_in) + 1.0 - np.asarray(acc_out))


def noisy_parameters(model: LinearModel, sigma2: float, draws: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`draws` copies of (W, b) with N(0, sigma2) added to every weight and intercept."""
    if not np.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"the noise variance sigma^2 must be >= 0, got {sigma2}")
    s = np.sqrt(sigma2)
    W = model.W[None] + s * rng.standard_normal((draws, *model.W.shape))
    b = model.b[None] + s * rng.standard_normal((draws, *model.b.shape))
    return W, b


def log_loss_per_example(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = logits(W, b, X)
    return logsumexp(z, axis=-1) - np.take_along_axis(z, y[:, None], -1)[..., 0]


def confidence_logit(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""LiRA's statistic $\phi=\log\frac{p_y}{1-p_y}=z_y-\log\sum_{j\ne y}e^{z_j}$ (stable)."""
    z = logits(W, b, X)
    zy = np.take_along_axis(z, y[:, None], -1)[..., 0]
    others = z.copy()
    np.put_along_axis(others, y[:, None], -np.inf, axis=-1)
    return zy - logsumexp(others, axis=-1)


def dp_gd(X: np.ndarray, y: np.ndarray, *, steps: int, clip: float, noise_multiplier: float,
          lr: float, rng: np.random.Generator, classes: int = 10) -> LinearModel:
    """Full-batch differentially private gradient descent for multinomial logistic regression.

    Each example's gradient $(p_i-e_{y_i})\\otimes[x_i,1]$ has norm
    $\\|p_i-e_{y_i}\\|\\sqrt{\\|x_i\\|^2+1}$, so it is clipped to `clip` in closed form; the sum gets
    $N(0,(\\sigma C)^2 I)$ noise. Each step is a Gaussian mechanism with sensitivity C; see
    `dp_gd_epsilon` for the accounting.
    """
    return dp_gd_population(X, y, np.ones((1, len(X)), bool), steps=steps, clip=clip,
                            noise_multiplier=noise_multiplier, lr=lr, rng=rng, classes=classes)[0]


def dp_gd_population(X: np.ndarray, y: np.ndarray, masks: np.ndarray, *, steps: int, clip: float,
                     noise_multiplier: float, lr: float, rng: np.random.Generator,
                     classes: int = 10) -> list[LinearModel]:
    """`dp_gd` for many models at once: model k trains on the points where `masks[k]` is True.

    The models are independent (their own noise); one batched product per step serves all.
    """
    masks = np.asarray(masks, bool)
    if masks.ndim != 2 or masks.shape[1] != len(X) or (masks.sum(1) == 0).any():
        raise ValueError(f"masks must be (models, {len(X)}) with a point in every row")
    models, d = len(masks), X.shape[1]
    n = masks.sum(1).astype(np.float64)
    W, b = np.zeros((models, classes, d)), np.zeros((models, classes))
    onehot = np.eye(classes)[y]
    feature_norm = np.sqrt((X.astype(np.float64) ** 2).sum(1) + 1.0)
    for _ in range(steps):
        z = logits(W, b, X)  # (models, points, classes)
        p = np.exp(z - logsumexp(z, axis=-1, keepdims=True))
        err = p - onehot
        norms = np.linalg.norm(err, axis=-1) * feature_norm
        err = err * (np.minimum(1.0, clip / np.maximum(norms, 1e-12)) * masks)[..., None]
        gW = np.swapaxes(err, -1, -2) @ X + noise_multiplier * clip * rng.standard_normal(W.shape)
        gb = err.sum(1) + noise_multiplier * clip * rng.standard_normal(b.shape)
        W -= lr * gW / n[:, None, None]
        b -= lr * gb / n[:, None]
    return [LinearModel(W[k], b[k], steps, True, ()) for k in range(models)]


def dp_gd_epsilon(steps: int, noise_multiplier: float, delta: float) -> float:
    r"""$(\varepsilon,\delta)$ of `steps` Gaussian mechanisms (add/remove neighbours) via zCDP.

    Each step is $\rho=1/(2\sigma^2)$-zCDP; composition adds, $\rho=T/(2\sigma^2)$; and
    $\rho$-zCDP implies $(\rho+2\sqrt{\rho\ln(1/\delta)},\delta)$-DP (Bun & Steinke 2016).
    """
    if noise_multiplier <= 0:
        return float("inf")
    rho = steps / (2 * noise_multiplier**2)
    return float(rho + 2 * np.sqrt(rho * np.log(1 / delta)))
