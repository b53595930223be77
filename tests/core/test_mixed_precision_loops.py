"""Every training loop's `bf16` switch: its training forward passes run under bf16 autocast
(where the device computes bf16), its evaluations in float32, and off it changes nothing."""

from __future__ import annotations

import pytest
import torch

from trustml.adversarial.training import adversarial_train
from trustml.core import precision
from trustml.generative.gan import Discriminator, Generator
from trustml.generative.training import train_gan, train_vae
from trustml.generative.vae import MLPVAE
from trustml.models.mnist import FastCNN
from trustml.models.training import train_classifier


def _record_autocast(module: torch.nn.Module, seen: list[tuple[int, bool]]) -> None:
    """Append (batch size, autocast on) at every forward pass of `module`: the loops below
    train on batches of 4 and evaluate or check on 3 images, so the size tells them apart."""
    module.register_forward_pre_hook(
        lambda m, args: seen.append((len(args[0]), torch.is_autocast_enabled("cpu"))))


def _images(n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _run(loop: str, bf16: bool, seen: list) -> None:
    x, y = _images()
    torch.manual_seed(0)
    if loop == "classifier":
        model = FastCNN()
        _record_autocast(model, seen)
        train_classifier(model, x, y, epochs=1, lr=1e-3, batch_size=4, seed=0, x_test=x[:3],
                         y_test=y[:3], bf16=bf16)
    elif loop == "adversarial":
        model = FastCNN()
        _record_autocast(model, seen)
        adversarial_train(model, x, y, method="pgd", eps=0.1, epochs=1, lr=1e-3, batch_size=4,
                          seed=0, check_x=x[:3], check_y=y[:3], pgd_steps=2, check_steps=2,
                          eps_warmup_epochs=0.0, bf16=bf16)
    elif loop == "vae":
        model = MLPVAE(2, (16, 8))
        _record_autocast(model.encoder, seen)
        train_vae(model, x, x[:3], epochs=1, lr=1e-3, batch_size=4, seed=0,
                  snapshot_epochs=(1,), fixed_z=torch.zeros(2, 2), bf16=bf16)
    else:
        G, D = Generator(4, (8, 16)), Discriminator((16, 8))
        _record_autocast(D, seen)
        flat = x.flatten(1) * 2 - 1
        train_gan(G, D, flat, flat[:3], epochs=1, lr=1e-3, beta1=0.5, batch_size=4, seed=0,
                  snapshot_epochs=(), fixed_noise=torch.zeros(2, 4), bf16=bf16)


LOOPS = ("classifier", "adversarial", "vae", "gan")


@pytest.mark.parametrize("loop", LOOPS)
def test_bf16_trains_under_autocast_and_evaluates_in_float32(loop, monkeypatch):
    monkeypatch.setattr(precision, "_cpu_has_bf16", lambda: True)
    seen: list[tuple[int, bool]] = []
    _run(loop, True, seen)
    assert all(on for n, on in seen if n == 4), seen  # the training steps (attacks included)
    assert any(n == 3 for n, _ in seen) and not any(on for n, on in seen if n == 3), seen


@pytest.mark.parametrize("loop", LOOPS)
def test_without_bf16_or_without_the_hardware_nothing_runs_under_autocast(loop, monkeypatch):
    for supported, bf16 in ((True, False), (False, True)):
        monkeypatch.setattr(precision, "_cpu_has_bf16", lambda s=supported: s)
        seen: list[tuple[int, bool]] = []
        _run(loop, bf16, seen)
        assert seen and not any(on for _, on in seen), (supported, bf16, seen)


def test_every_mnist_training_config_asks_for_bf16_and_the_switch_is_hashed():
    """The MNIST models train under bf16 autocast at both budgets, and `bf16` is part of their
    hashes (hashed only when set: a float32 config keeps the hash it had before the field)."""
    import dataclasses

    import trustml.experiments  # noqa: F401  (registers every experiment)
    from trustml.core.cache import REGISTRY, config_hash

    for name in ("mnist-standard-cnn", "ex3-fgsm-plain-model", "ex3-fgsm-model", "ex3-pgd-model",
                 "ex3-strong-model", "ex1-vae", "ex1-gan", "ex1-convgan", "ext-vae-bpd"):
        exp = REGISTRY[name]
        for budget in ("full", "smoke"):
            config = exp.configs[budget]
            assert config.bf16 is True, (name, budget)
            off = dataclasses.replace(config, bf16=False)
            assert config_hash(exp, off) != config_hash(exp, config), name
            assert "bf16" not in trustml.core.cache._jsonable(off), name
