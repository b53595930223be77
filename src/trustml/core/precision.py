"""Mixed precision for training: bf16 autocast where the device computes it natively.

`training_autocast(device, enabled)` is the context a training step runs in: bf16 autocast on a
CUDA device, or on a CPU with AVX-512 BF16 or AMX (where it is about twice as fast as float32
for our convolutions), and a no-op elsewhere, so a config that asks for bf16 still trains (in
float32) on a machine without it. Evaluations, attacks' final classifications and AutoAttack
never run under it: every reported number is computed in float32.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch


@functools.cache
def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            flags = f.read()
    except OSError:
        return False
    return any(flag in flags for flag in (" avx512_bf16", " amx_bf16"))


def bf16_supported(device: torch.device | str) -> bool:
    """Whether `device` computes bf16 natively (CUDA with bf16, or a CPU with AVX-512 BF16 /
    AMX), the condition under which `training_autocast` turns autocast on."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has_bf16()
    return False


@contextlib.contextmanager
def training_autocast(device: torch.device | str, enabled: bool) -> Iterator[bool]:
    """bf16 autocast on `device` when `enabled` and the device supports it; yields whether it
    is on."""
    device = torch.device(device)
    on = bool(enabled) and bf16_supported(device)
    if not on:
        yield False
        return
    with torch.autocast(device.type, dtype=torch.bfloat16):
        yield True


def precision_name(device: torch.device | str, enabled: bool) -> str:
    """'bf16' or 'float32': what `training_autocast(device, enabled)` trains in."""
    return "bf16" if enabled and bf16_supported(device) else "float32"
