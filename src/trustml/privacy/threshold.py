"""Threshold attacks: predict IN iff score >= T; the accuracy-maximising T, exactly.

All functions are vectorised over leading batch axes, so many independent repetitions are
fitted in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class ThresholdFit:
    threshold: np.ndarray  # (...,) best T (np.inf means "predict everything OUT")
    accuracy: np.ndarray  # (...,) accuracy of that T on the given scores


def _as_batch(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"{name} must be a non-empty array of scores, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    return a


def best_threshold(*, in_scores: np.ndarray, out_scores: np.ndarray) -> ThresholdFit:
    """The threshold T maximising the accuracy of "IN iff score >= T" over all 2n scores.

    Sort and sweep, O(N log N) for N scores: the rule only changes where T passes a score, so
    the candidates are every distinct score and +inf (everything OUT). Ties are exact: a cut
    may only fall between two *different* sorted values. Among equally good thresholds the
    smallest is returned. Leading axes are batch axes.
    """
    ins = _as_batch(in_scores, "in_scores")
    outs = _as_batch(out_scores, "out_scores")
    if ins.shape[:-1] != outs.shape[:-1]:
        raise ValueError(f"batch shapes differ: {ins.shape[:-1]} vs {outs.shape[:-1]}")
    n_in, n_out = ins.shape[-1], outs.shape[-1]
    scores = np.concatenate([ins, outs], axis=-1)
    is_in = np.concatenate([np.ones(ins.shape, bool), np.zeros(outs.shape, bool)], axis=-1)
    order = np.argsort(scores, axis=-1, kind="stable")
    values = np.take_along_axis(scores, order, axis=-1)
    labels = np.take_along_axis(is_in, order, axis=-1)
    # cut k: predict IN for sorted positions >= k (k = 0..N); correct = IN at/after k + OUT before
    zeros = np.zeros((*values.shape[:-1], 1))
    out_before = np.concatenate([zeros, np.cumsum(~labels, axis=-1)], axis=-1)
    in_before = np.concatenate([zeros, np.cumsum(labels, axis=-1)], axis=-1)
    correct = out_before + (n_in - in_before)
    valid = np.ones(correct.shape, bool)
    valid[..., 1:-1] = values[..., 1:] > values[..., :-1]
    correct = np.where(valid, correct, -1)
    k = np.argmax(correct, axis=-1)
    inf = np.full((*values.shape[:-1], 1), np.inf)
    thresholds = np.take_along_axis(np.concatenate([values, inf], axis=-1), k[..., None], -1)[..., 0]
    accuracy = np.take_along_axis(correct, k[..., None], -1)[..., 0] / (n_in + n_out)
    return ThresholdFit(threshold=thresholds, accuracy=accuracy)


def threshold_accuracy(*, in_scores: np.ndarray, out_scores: np.ndarray, threshold) -> np.ndarray:
    """Accuracy of "IN iff score >= threshold" (threshold broadcast over the batch axes)."""
    ins = _as_batch(in_scores, "in_scores")
    outs = _as_batch(out_scores, "out_scores")
    t = np.asarray(threshold, dtype=np.float64)[..., None]
    correct = (ins >= t).sum(-1) + (outs < t).sum(-1)
    return correct / (ins.shape[-1] + outs.shape[-1])


def tpr_at_fprs(*, in_scores: np.ndarray, out_scores: np.ndarray, fprs) -> np.ndarray:
    """Largest true-positive rate of a threshold whose false-positive rate is <= each of `fprs`."""
    ins = np.sort(_as_batch(in_scores, "in_scores").ravel())
    outs = np.sort(_as_batch(out_scores, "out_scores").ravel())
    fprs = np.atleast_1d(np.asarray(fprs, dtype=np.float64))
    if np.isnan(fprs).any() or (fprs < 0).any() or (fprs > 1).any():
        raise ValueError(f"fpr must be in [0, 1], got {fprs}")
    allowed = np.floor(fprs * len(outs)).astype(int)  # OUT scores allowed at or above T
    # T just above the (allowed+1)-th largest OUT score: at most `allowed` OUT scores reach it
    t = np.nextafter(outs[np.maximum(len(outs) - allowed - 1, 0)], np.inf)
    tpr = (len(ins) - np.searchsorted(ins, t, side="left")) / len(ins)
    return np.where(allowed >= len(outs), 1.0, tpr)


def tpr_at_fpr(*, in_scores: np.ndarray, out_scores: np.ndarray, fpr: float) -> float:
    """Largest true-positive rate of a threshold whose false-positive rate is <= fpr."""
    if not 0 <= fpr <= 1:
        raise ValueError(f"fpr must be in [0, 1], got {fpr}")
    return float(tpr_at_fprs(in_scores=in_scores, out_scores=out_scores, fprs=[fpr])[0])


def pooled_tpr_interval(scores: np.ndarray, is_member: np.ndarray, fprs, reps: int,
                        rng: np.random.Generator, level: float = 0.95) -> np.ndarray:
    """TPR at each of `fprs` on the scores pooled over target models, with a bootstrap interval.

    `scores` and `is_member` are `(targets, points)`; the bootstrap resamples target models
    (the independent units) with replacement. Returns `(3, len(fprs))`: estimate, lower, upper.
    """
    scores, is_member = np.asarray(scores, dtype=np.float64), np.asarray(is_member, bool)
    if scores.ndim != 2 or scores.shape != is_member.shape:
        raise ValueError("scores and is_member must be (targets, points) arrays of one shape")
    if reps < 1 or not 0 < level < 1:
        raise ValueError(f"need reps >= 1 and level in (0, 1), got {reps} and {level}")

    def pooled(rows):
        s, m = scores[rows].ravel(), is_member[rows].ravel()
        return tpr_at_fprs(in_scores=s[m], out_scores=s[~m], fprs=fprs)

    estimate = pooled(np.arange(len(scores)))
    boot = np.stack([pooled(rng.integers(0, len(scores), len(scores))) for _ in range(reps)])
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return np.stack([estimate, lo, hi])


def auc(*, in_scores: np.ndarray, out_scores: np.ndarray) -> float:
    """Area under the ROC curve: P(IN score > OUT score) + P(tie) / 2 (Mann-Whitney, by ranks)."""
    ins = _as_batch(in_scores, "in_scores").ravel()
    outs = _as_batch(out_scores, "out_scores").ravel()
    ranks = rankdata(np.concatenate([ins, outs]))  # average ranks: ties count one half
    return float((ranks[: len(ins)].sum() - len(ins) * (len(ins) + 1) / 2) / (len(ins) * len(outs)))


def roc_curve(*, in_scores: np.ndarray, out_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) over all thresholds, from (0, 0) to (1, 1)."""
    ins = _as_batch(in_scores, "in_scores").ravel()
    outs = _as_batch(out_scores, "out_scores").ravel()
    thresholds = np.concatenate([[np.inf], np.unique(np.concatenate([ins, outs]))[::-1]])
    tpr = (ins[None] >= thresholds[:, None]).mean(1)
    fpr = (outs[None] >= thresholds[:, None]).mean(1)
    return fpr, tpr
