r"""What an $(\varepsilon,\delta)$-DP guarantee allows a membership attack.

For any test between neighbouring data sets, an $(\varepsilon,\delta)$-DP mechanism forces
$\mathrm{TPR}\le e^{\varepsilon}\mathrm{FPR}+\delta$ and, applied to the complementary test,
$1-\mathrm{FPR}\le e^{\varepsilon}(1-\mathrm{TPR})+\delta$ (Kairouz, Oh & Viswanath 2015). The
ROC curve of every attack lies under the smaller of the two lines.
"""

from __future__ import annotations

import numpy as np

from trustml.core.validate import NON_NEGATIVE, UNIT, real


def dp_tpr_bound(fpr: np.ndarray | float, epsilon: float, delta: float) -> np.ndarray:
    """Largest TPR at each false-positive rate that $(\\varepsilon,\\delta)$-DP allows."""
    epsilon = real(epsilon, "epsilon", NON_NEGATIVE)
    delta = real(delta, "delta", UNIT)
    fpr = np.asarray(fpr, dtype=np.float64)
    if np.isnan(fpr).any() or (fpr < 0).any() or (fpr > 1).any():
        raise ValueError("fpr must lie in [0, 1]")
    first = np.exp(epsilon) * fpr + delta
    second = 1.0 - np.exp(-epsilon) * (1.0 - delta - fpr)
    return np.clip(np.minimum(first, second), 0.0, 1.0)
