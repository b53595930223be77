"""Exercise 1: a VAE and a GAN on MNIST, and a measured comparison."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from trustml.core.budget import Budget
from trustml.core.cache import HASH_WHEN_SET, Result, experiment, run_or_load
from trustml.core.chapters import declare_chapter
from trustml.core.torch_utils import load_model
from trustml.core.validate import POSITIVE, Interval, check_config
from trustml.data import load_mnist, to_float
from trustml.experiments.classifier import load_standard_cnn
from trustml.generative.conv_gan import ConvDiscriminator, ConvGenerator
from trustml.generative.gan import Discriminator, Generator
from trustml.generative.metrics import (
    class_histogram,
    features,
    frechet_bootstrap,
    frechet_by_size,
)
from trustml.generative.precision_recall import manifold, precision_recall_of
from trustml.generative.training import train_gan, train_vae
from trustml.generative.vae import MLPVAE


def _mnist(train_limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    x, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    if train_limit is not None:
        x = x[:train_limit]
    return to_float(x), to_float(x_test)


def _snapshot_epochs(epochs: int, every: int) -> tuple[int, ...]:
    return (0, *range(every, epochs + 1, every))


def _training_result(history: dict, snaps: dict[int, np.ndarray],
                     weights: dict[str, dict[str, torch.Tensor]]) -> Result:
    """Curves, sample grids (float16, in epoch order) and weights of a trained generative model."""
    epochs = sorted(snaps)
    return Result(
        metrics={"history": history, "snapshot_epochs": epochs},
        arrays={"snapshots": np.stack([snaps[e] for e in epochs]).astype(np.float16)},
        weights=weights,
    )


@dataclass(frozen=True)
class _TrainingSizes:
    """What the VAE and the GAN share: epochs, training images (None: all), snapshot period."""

    epochs: int
    train_limit: int | None
    snapshot_every: int


@dataclass(frozen=True)
class VAEConfig(_TrainingSizes):
    latent: int = 20
    hidden: tuple[int, int] = (512, 256)
    lr: float = 1e-3
    batch_size: int = 128
    samples: int = 64
    seed: int = 0
    # bf16 autocast for the training steps where the device computes it (hashed when set)
    bf16: bool = field(default=False, metadata=HASH_WHEN_SET)

    def __post_init__(self) -> None:
        check_config(self, lr=POSITIVE)


# the VAE and the GAN train on the same data for the same epochs, by budget
_TRAINING = {"full": {"epochs": 50, "train_limit": None, "snapshot_every": 10},
             "smoke": {"epochs": 2, "train_limit": 1_000, "snapshot_every": 1}}
VAE_CONFIGS = {budget: VAEConfig(**sizes, bf16=True) for budget, sizes in _TRAINING.items()}


@experiment("ex1-vae", version=1, configs=VAE_CONFIGS,
            metrics=("history", "snapshot_epochs"))
def vae_experiment(config: VAEConfig, budget: Budget) -> Result:
    """MLP VAE (Bernoulli likelihood) on MNIST: ELBO curves and sample grids."""
    x, x_test = _mnist(config.train_limit)
    torch.manual_seed(config.seed)
    model = MLPVAE(config.latent, config.hidden)
    fixed_z = torch.randn(config.samples, config.latent, generator=torch.Generator().manual_seed(1))
    history, snaps = train_vae(model, x, x_test, epochs=config.epochs, lr=config.lr,
                               batch_size=config.batch_size, seed=config.seed,
                               snapshot_epochs=_snapshot_epochs(config.epochs, config.snapshot_every),
                               fixed_z=fixed_z, bf16=config.bf16)
    return _training_result(history, snaps, {"vae": model.state_dict()})


@dataclass(frozen=True)
class _GANTraining(_TrainingSizes):
    """What both GANs share: noise, Adam, batch size, label smoothing, sample grid, seed."""

    noise_dim: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    batch_size: int = 256
    real_label: float = 0.9
    samples: int = 64
    seed: int = 0
    # bf16 autocast for the training steps where the device computes it (hashed when set)
    bf16: bool = field(default=False, metadata=HASH_WHEN_SET)

    def __post_init__(self) -> None:
        check_config(self, lr=POSITIVE, beta1=Interval(0.0, 1.0, hi_open=True),
                     real_label=Interval(0.0, 1.0, lo_open=True))


@dataclass(frozen=True)
class GANConfig(_GANTraining):
    g_hidden: tuple[int, int] = (256, 512)
    d_hidden: tuple[int, int] = (256, 128)


GAN_CONFIGS = {budget: GANConfig(**sizes, bf16=True) for budget, sizes in _TRAINING.items()}
CONV_GAN_EPOCHS = 4  # sized so that exercise 1 fits its budget on two CPU cores


@dataclass(frozen=True)
class ConvGANConfig(_GANTraining):
    batch_size: int = 64
    channels: int = 16


CONV_GAN_CONFIGS = {"full": ConvGANConfig(epochs=CONV_GAN_EPOCHS, train_limit=None, snapshot_every=1,
                                           bf16=True),
                    "smoke": ConvGANConfig(**_TRAINING["smoke"], bf16=True)}


def _gan_result(config: _GANTraining,
                build: Callable[[], tuple[nn.Module, nn.Module]]) -> Result:
    """Train the GAN that `build()` makes (after seeding) on MNIST: curves, grids, weights."""
    x, x_test = _mnist(config.train_limit)
    torch.manual_seed(config.seed)
    G, D = build()
    fixed = torch.randn(config.samples, config.noise_dim, generator=torch.Generator().manual_seed(1))
    history, snaps = train_gan(G, D, x, x_test, epochs=config.epochs, lr=config.lr,
                               beta1=config.beta1, batch_size=config.batch_size, seed=config.seed,
                               snapshot_epochs=_snapshot_epochs(config.epochs, config.snapshot_every),
                               fixed_noise=fixed, real_label=config.real_label, bf16=config.bf16)
    return _training_result(history, snaps,
                            {"generator": G.state_dict(), "discriminator": D.state_dict()})


@experiment("ex1-gan", version=1, configs=GAN_CONFIGS,
            metrics=("history", "snapshot_epochs"))
def gan_experiment(config: GANConfig, budget: Budget) -> Result:
    """MLP GAN (non-saturating loss, label smoothing, Adam beta1 = 0.5) on MNIST."""
    return _gan_result(config, lambda: (Generator(config.noise_dim, config.g_hidden),
                                        Discriminator(config.d_hidden)))


@experiment("ex1-convgan", version=1, configs=CONV_GAN_CONFIGS,
            metrics=("history", "snapshot_epochs"))
def conv_gan_experiment(config: ConvGANConfig, budget: Budget) -> Result:
    """DCGAN-style convolutional GAN, same losses and training loop as the MLP GAN."""
    return _gan_result(config, lambda: (ConvGenerator(config.noise_dim, config.channels),
                                        ConvDiscriminator(config.channels)))


@dataclass(frozen=True)
class CompareConfig:
    samples: int
    bootstrap: int  # resamples for the Fréchet distance's interval
    sizes: tuple[int, ...]  # smaller sample sizes at which the Fréchet distance is re-estimated
    size_repeats: int
    pr_k: int = 3  # neighbours defining the manifolds of precision and recall
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self)
        if max(self.sizes) >= self.samples:
            raise ValueError(f"CompareConfig.sizes must be < samples ({self.samples}), "
                             f"got {self.sizes}")


COMPARE_CONFIGS = {
    "full": CompareConfig(samples=10_000, bootstrap=50, sizes=(500, 1000, 2000, 5000),
                          size_repeats=4),
    "smoke": CompareConfig(samples=500, bootstrap=10, sizes=(100, 250), size_repeats=2),
}
GENERATORS = {"VAE": "ex1-vae", "GAN": "ex1-gan", "conv GAN": "ex1-convgan"}


def load_vae(result: Result) -> MLPVAE:
    return load_model(result, MLPVAE, weights="vae", latent="latent", hidden="hidden")


def load_generator(result: Result) -> Generator:
    return load_model(result, Generator, weights="generator", noise_dim="noise_dim",
                      hidden="g_hidden")


def load_conv_generator(result: Result) -> ConvGenerator:
    return load_model(result, ConvGenerator, weights="generator", noise_dim="noise_dim",
                      channels="channels")


@torch.no_grad()
def _samples(budget: Budget, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """`n` samples of each generative model (the VAE's decoder means)."""
    vae = load_vae(run_or_load("ex1-vae", budget=budget))
    G = load_generator(run_or_load("ex1-gan", budget=budget))
    C = load_conv_generator(run_or_load("ex1-convgan", budget=budget))
    return {"VAE": vae.sample(torch.randn(n, vae.latent, generator=gen)),
            "GAN": G(torch.randn(n, G.noise_dim, generator=gen)),
            "conv GAN": C(torch.randn(n, C.noise_dim, generator=gen))}


@experiment("ex1-compare", version=4, configs=COMPARE_CONFIGS,
            metrics=("fid", "fid_ci", "n", "pr", "pr_k"))
def compare_experiment(config: CompareConfig, budget: Budget) -> Result:
    """Fréchet distance (bootstrap interval, several sample sizes), precision and recall in the
    standard CNN's feature space, and class coverage of samples."""
    cnn, _ = load_standard_cnn(budget)
    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    n = min(config.samples, len(x_test))
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    samples = _samples(budget, n, gen)
    real_test = to_float(x_test[:n])
    real_train = to_float(x_train[torch.randperm(len(x_train), generator=gen)[:n]])
    ref = features(cnn, real_test)
    ref_manifold = manifold(ref, config.pr_k, "test features")
    sets = {"train images (floor)": real_train, **samples}
    fid, fid_ci, pr, arrays = {}, {}, {}, {"sizes": np.array(config.sizes)}
    for name, xs in sets.items():
        f = features(cnn, xs)
        est, lo, hi = frechet_bootstrap(f, ref, config.bootstrap, rng)
        fid[name], fid_ci[name] = est, [lo, hi]
        arrays[f"fid_size/{name}"] = frechet_by_size(f, ref, config.sizes, config.size_repeats, rng)
        precision, recall = precision_recall_of(ref_manifold, manifold(f, config.pr_k, name))
        pr[name] = {"precision": precision, "recall": recall}
    hist = {name: class_histogram(cnn, xs) for name, xs in
            {"test images": real_test, "train images (floor)": real_train, **samples}.items()}
    arrays.update({f"hist/{k}": v for k, v in hist.items()})
    return Result(metrics={"fid": fid, "fid_ci": fid_ci, "pr": pr, "n": n, "pr_k": config.pr_k},
                  arrays=arrays)


CHAPTER = declare_chapter(
    "chapters/ex1-generative.qmd",
    ("ex1-vae", "ex1-gan", "ex1-convgan", "mnist-standard-cnn", "ex1-compare"),
    "trustml.views.generative", command="ex1", title="exercise 1 (VAE, GAN, conv GAN)",
    parts={"vae": ("ex1-vae",), "gan": ("ex1-gan",), "convgan": ("ex1-convgan",)},
    part_option="model", parallel=("ex1-vae", "ex1-gan", "ex1-convgan"))

# the appendix that extends this chapter beyond the questions: the same experiments
APPENDIX = declare_chapter("chapters/app-ex1-convgan.qmd", CHAPTER.experiments, CHAPTER.view)
