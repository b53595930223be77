"""The standard MNIST CNN (exercise 3a), also the feature extractor of exercise 1's metrics.

It is a `FastCNN` (the architecture of the adversarially trained models of exercise 3, so the
three columns of exercise 3's tables differ only in how the model was trained).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from trustml.core.budget import Budget
from trustml.core.cache import HASH_WHEN_SET, Result, experiment, run_or_load
from trustml.core.device import get_device
from trustml.core.stats import wilson_interval
from trustml.core.torch_utils import accuracy, count_parameters, load_model
from trustml.core.validate import POSITIVE, check_config
from trustml.data import load_mnist, to_float
from trustml.models.mnist import FastCNN, layer_table
from trustml.models.training import train_classifier


@dataclass(frozen=True)
class ClassifierConfig:
    epochs: int
    train_limit: int | None
    lr: float = 5e-3
    batch_size: int = 128
    seed: int = 0
    # bf16 autocast for the training steps where the device computes it (hashed when set)
    bf16: bool = field(default=False, metadata=HASH_WHEN_SET)

    def __post_init__(self) -> None:
        check_config(self, lr=POSITIVE)


CONFIGS = {"full": ClassifierConfig(epochs=10, train_limit=None, bf16=True),
           "smoke": ClassifierConfig(epochs=1, train_limit=1_000, bf16=True)}


@experiment("mnist-standard-cnn", version=2, configs=CONFIGS,
            metrics=("device", "history", "layers", "n_test", "parameters", "test_acc", "test_acc_ci"))
def standard_cnn(config: ClassifierConfig, budget: Budget) -> Result:
    """A CNN trained on MNIST with Adam (one-cycle schedule); test accuracy with a 95 % CI."""
    x, y = load_mnist("train")
    x_test, y_test = load_mnist("test")
    if config.train_limit is not None:
        x, y = x[: config.train_limit], y[: config.train_limit]
    x, x_test = to_float(x), to_float(x_test)
    torch.manual_seed(config.seed)
    model = FastCNN()
    device = get_device()
    model.to(device)
    history = train_classifier(model, x.to(device), y.to(device), epochs=config.epochs,
                               lr=config.lr, batch_size=config.batch_size, seed=config.seed,
                               x_test=x_test.to(device), y_test=y_test.to(device),
                               desc="standard CNN epochs", bf16=config.bf16)
    model.cpu()
    acc = accuracy(model, x_test, y_test)
    correct = round(acc * len(y_test))
    return Result(
        metrics={"test_acc": acc, "test_acc_ci": wilson_interval(correct, len(y_test)),
                 "n_test": len(y_test), "parameters": count_parameters(model),
                 "layers": layer_table(model),
                 "history": history, "device": str(device)},
        weights={"model": model.state_dict()},
    )


def fast_cnn_from(result: Result) -> FastCNN:
    """The `FastCNN` stored in a cached result (its width from the config), in eval mode."""
    return load_model(result, FastCNN, width="width")


def load_standard_cnn(budget: Budget | str | None = None) -> tuple[FastCNN, Result]:
    """The cached standard CNN (trained on first use), in eval mode on the CPU."""
    result = run_or_load("mnist-standard-cnn", budget=budget)
    return fast_cnn_from(result), result
