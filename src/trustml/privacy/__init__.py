"""Membership inference: threshold attacks and their metrics, LiRA, the Gaussian-mean model,
logistic regression (with DP-GD) and the (epsilon, delta)-DP bound on an attack's ROC curve.

The public API takes the members' and the non-members' scores by name (`in_scores=`,
`out_scores=`), so scikit-learn's `(labels, scores)` order cannot be read as something else.
"""

from trustml.privacy.dp_bound import dp_tpr_bound
from trustml.privacy.lira import lira_scores
from trustml.privacy.threshold import (
    auc,
    best_threshold,
    roc_curve,
    threshold_accuracy,
    tpr_at_fpr,
    tpr_at_fprs,
)

__all__ = ["auc", "best_threshold", "dp_tpr_bound", "lira_scores", "roc_curve",
           "threshold_accuracy", "tpr_at_fpr", "tpr_at_fprs"]
