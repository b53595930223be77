"""Pick the compute device: `$TRUSTML_DEVICE`, else cuda, else mps, else cpu."""

from __future__ import annotations

import os

import torch

from trustml.core.errors import DeviceError

ENV_DEVICE = "TRUSTML_DEVICE"


def _available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    backend = getattr(torch.backends, device.type, None) or getattr(torch, device.type, None)
    is_available = getattr(backend, "is_available", None)
    return bool(is_available and is_available())


def get_device() -> torch.device:
    """The device named by `$TRUSTML_DEVICE` (`DeviceError` if unknown or unavailable), else the
    best one available."""
    requested = os.environ.get(ENV_DEVICE, "").strip()
    if requested:
        try:
            device = torch.device(requested)
        except (RuntimeError, ValueError):
            raise DeviceError(f"{ENV_DEVICE}={requested!r} is not a device; use cpu, cuda, "
                              "cuda:N or mps, or unset it to pick the best one") from None
        if not _available(device):
            raise DeviceError(f"{ENV_DEVICE}={requested!r} is not available on this machine "
                              f"(torch {torch.__version__}); use cpu, or unset it to pick the "
                              "best one available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
