"""The plain classifier loop: Adam with a one-cycle schedule, cross-entropy (the standard MNIST
CNN). The adversarial loops are `trustml.adversarial.training` (MNIST) and
`trustml.fasttrain.training` (CIFAR-10)."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from trustml.core.precision import training_autocast
from trustml.core.progress import per_batch
from trustml.core.torch_utils import accuracy, minibatches


def train_classifier(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float,
    batch_size: int, seed: int, x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None, desc: str = "classifier", bf16: bool = False,
) -> dict[str, list[float]]:
    """Adam with a cosine learning-rate schedule, cross-entropy loss; with `bf16` each step's
    forward pass runs under bf16 autocast where the device supports it (the accuracies in
    float32)."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    batches_per_epoch = -(-len(x) // batch_size)
    steps = epochs * batches_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    history: dict[str, list[float]] = {"train_loss": [], "test_acc": [], "seconds": []}
    model.train()
    for _, tick in per_batch(epochs, batches_per_epoch, desc):
        start, total, count = time.perf_counter(), 0.0, 0
        for idx in minibatches(len(x), batch_size, gen):
            with training_autocast(device, bf16):
                loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
            tick()
        history["train_loss"].append(total / count)
        history["seconds"].append(time.perf_counter() - start)
        if x_test is not None and y_test is not None:
            history["test_acc"].append(accuracy(model, x_test, y_test))
    model.eval()
    return history
