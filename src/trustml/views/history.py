"""Per-epoch training histories as tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustml.core.cache import Result


def epoch_frame(result: Result) -> pd.DataFrame:
    """`result.metrics["history"]` (lists, one value per epoch) with an `epoch` column from 1."""
    h = pd.DataFrame(result.metrics["history"])
    h["epoch"] = np.arange(1, len(h) + 1)
    return h
