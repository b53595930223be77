"""Dataset loaders returning torch tensors: uint8 images and int64 labels."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from trustml.core.errors import DataError
from trustml.data.files import data_root, read_verified
from trustml.data.idx import IMAGES_MAGIC, LABELS_MAGIC, parse_idx

Split = Literal["train", "test"]

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

_IDX_PREFIX = {"train": "train", "test": "t10k"}


def _check_split(split: str) -> None:
    if split not in _IDX_PREFIX:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


@functools.lru_cache(maxsize=8)
def _idx_pair(folder: str, split: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = _IDX_PREFIX[split]
    images_rel = f"{folder}/raw/{prefix}-images-idx3-ubyte"
    labels_rel = f"{folder}/raw/{prefix}-labels-idx1-ubyte"
    images = parse_idx(read_verified(images_rel, root), name=images_rel,
                       expected_magic=IMAGES_MAGIC)
    labels = parse_idx(read_verified(labels_rel, root), name=labels_rel,
                       expected_magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{folder} {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def _load_idx(folder: str, split: str, root: str | os.PathLike[str] | None):
    _check_split(split)
    images, labels = _idx_pair(folder, split, str(Path(data_root(root)).resolve()))
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def load_mnist(
    split: Split = "train", root: str | os.PathLike[str] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images `(N, 28, 28)` uint8 and labels `(N,)` int64 (N = 60,000 or 10,000)."""
    return _load_idx("MNIST", split, root)


def load_fashion_mnist(
    split: Split = "train", root: str | os.PathLike[str] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST images `(N, 28, 28)` uint8 and labels `(N,)` int64."""
    return _load_idx("FashionMNIST", split, root)


@functools.lru_cache(maxsize=2)
def _cifar10(split: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    images, labels = [], []
    for name in names:
        rel = f"cifar-10-batches-bin/{name}"
        raw = np.frombuffer(read_verified(rel, root), dtype=np.uint8)
        if raw.size % 3073:
            raise DataError(f"{rel}: {raw.size} bytes is not a whole number of 3,073-byte records")
        records = raw.reshape(-1, 3073)
        labels.append(records[:, 0].astype(np.int64))
        images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(images), np.concatenate(labels)


def load_cifar10(
    split: Split = "train", root: str | os.PathLike[str] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 images `(N, 3, 32, 32)` uint8 (channels first) and labels `(N,)` int64."""
    _check_split(split)
    images, labels = _cifar10(split, str(Path(data_root(root)).resolve()))
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float32 in [0, 1], with a channel axis for (N, H, W) input."""
    x = images.float().div_(255.0)
    return x.unsqueeze(1) if x.ndim == 3 else x
