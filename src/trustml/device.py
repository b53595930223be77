"""Pick the compute device: `$TRUSTML_DEVICE`, else cuda, else mps, else cpu."""

from __future__ import annotations

import os

import torch

ENV_DEVICE = "TRUSTML_DEVICE"


def get_device() -> torch.device:
    requested = os.environ.get(ENV_DEVICE, "").strip()
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
