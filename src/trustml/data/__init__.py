"""Data layer: verified MNIST, Fashion-MNIST and CIFAR-10 without torchvision."""

from trustml.data.datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    to_float,
)
from trustml.data.files import data_root, download, read_verified
from trustml.data.idx import encode_idx, parse_idx

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "data_root",
    "download",
    "encode_idx",
    "load_cifar10",
    "load_fashion_mnist",
    "load_mnist",
    "parse_idx",
    "read_verified",
    "to_float",
]
