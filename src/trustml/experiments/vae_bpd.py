"""Extension: a VAE with a categorical pixel decoder, in bits per dimension.

Three experiments: the main latent-20 model (curves, test bpd, sample grids); a latent-2 model
trained exactly like it, and both models' likelihood bounds (IWAE against the ELBO and against
naive Monte Carlo from the prior; the latent-2 model's manifold); a beta sweep. The theory questions are
measured in `trustml.experiments.vae_theory`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import norm

from trustml.core.budget import Budget
from trustml.core.cache import HASH_WHEN_SET, Result, experiment, run_or_load
from trustml.core.keys import number_key
from trustml.core.progress import progress
from trustml.core.torch_utils import in_mode
from trustml.core.torch_utils import load_model as load_model_of
from trustml.core.validate import POSITIVE, Interval, check_config
from trustml.data import load_mnist
from trustml.experiments.classifier import load_standard_cnn
from trustml.generative.training import train_vae
from trustml.generative.vae import kl_per_dimension, reparameterize
from trustml.generative.vae_categorical import (
    ConvCategoricalVAE,
    active_units,
    categorical_elbo_terms,
    categorical_nll,
    effective_sample_size,
    log_importance_weights,
    log_mean_exp,
    nats_to_bpd,
    quantize,
)


def quantized_mnist(val_size: int, train_limit: int | None, test_limit: int | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train / validation (the last `val_size` training images) / test, as levels (N, 1, 28, 28)."""
    x, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    x, x_test = quantize(x)[:, None], quantize(x_test)[:, None]
    train, val = x[:-val_size], x[-val_size:]
    if train_limit is not None:
        train = train[:train_limit]
    return train, val, x_test if test_limit is None else x_test[:test_limit]


@dataclass(frozen=True)
class CategoricalVAEConfig:
    epochs: int
    train_limit: int | None
    latent: int = 20
    beta: float = 1.0
    hidden: int = 256
    channels: tuple[int, int] = (32, 64)
    lr: float = 2e-3
    cosine_lr: bool = True
    kl_warmup_epochs: float = 1.0  # the KL weight rises linearly from 0 to 1 over these epochs
    batch_size: int = 128
    val_size: int = 5000
    test_limit: int | None = None
    snapshot_epochs: tuple[int, ...] = (0,)
    samples: int = 64
    seed: int = 0
    # bf16 autocast for the training steps where the device computes it (hashed when set)
    bf16: bool = field(default=False, metadata=HASH_WHEN_SET)

    def __post_init__(self) -> None:
        check_config(self, beta=POSITIVE, lr=POSITIVE, snapshot_epochs=Interval(0),
                     kl_warmup_epochs=Interval(0))


# the data every model of the extension trains and is tested on, by budget
_DATA = {"full": {"train_limit": None, "val_size": 5000, "test_limit": None},
         "smoke": {"train_limit": 500, "val_size": 300, "test_limit": 500}}
# The main model's schedule. The latent-2 model of `ext-vae-latents` and the beta sweep's
# models repeat it (about 13 epochs x 26 s each on the two-core CPU).
_EPOCHS = {"full": 13, "smoke": 2}


def load_model(result: Result) -> ConvCategoricalVAE:
    """The model of a cached result that kept its weights (the main model), in eval mode."""
    return load_model_of(result, ConvCategoricalVAE, weights="vae", latent="latent",
                         hidden="hidden", channels="channels")


@torch.no_grad()
def _per_image(model: ConvCategoricalVAE, x: torch.Tensor, seed: int,
               batch_size: int = 1000) -> dict[str, np.ndarray]:
    """Per test image: reconstruction (one posterior sample), KL, and per-dimension KL and
    posterior means (one encoder pass per batch)."""
    gen = torch.Generator().manual_seed(seed)
    rec, kl_dims, mus = [], [], []
    for i in range(0, len(x), batch_size):
        xb = x[i: i + batch_size]
        mu, logvar = model.encode(xb)
        rec.append(categorical_nll(model.decode_logits(reparameterize(mu, logvar, gen)), xb))
        kl_dims.append(kl_per_dimension(mu, logvar))
        mus.append(mu)
    kl_dims_all = torch.cat(kl_dims)
    return {"rec": torch.cat(rec).numpy(), "kl": kl_dims_all.sum(1).numpy(),
            "kl_dims": kl_dims_all.mean(0).numpy(), "mu": torch.cat(mus).numpy()}


def train_categorical_vae(config: CategoricalVAEConfig, keep_weights: bool = True
                          ) -> tuple[Result, ConvCategoricalVAE]:
    """Train one model; its curves, test bpd (per image), latent statistics and sample grids."""
    train, val, test = quantized_mnist(config.val_size, config.train_limit, config.test_limit)
    torch.manual_seed(config.seed)
    model = ConvCategoricalVAE(config.latent, config.hidden, config.channels)
    fixed_z = torch.randn(config.samples, config.latent, generator=torch.Generator().manual_seed(1))
    pixel_gen = torch.Generator().manual_seed(2)

    def snapshot(z: torch.Tensor) -> torch.Tensor:  # sampled pixels and decoder means, stacked
        with in_mode(model):
            return torch.stack([model.sample_pixels(z, pixel_gen), model.sample(z)])

    start = time.perf_counter()
    history, snaps = train_vae(
        model, train, val, epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
        seed=config.seed, snapshot_epochs=config.snapshot_epochs, fixed_z=fixed_z,
        terms_fn=functools.partial(categorical_elbo_terms, beta=config.beta), eval_name="val",
        snapshot_fn=snapshot, cosine_lr=config.cosine_lr, kl_warmup_epochs=config.kl_warmup_epochs,
        bf16=config.bf16)
    train_seconds = time.perf_counter() - start
    per_image = _per_image(model, test, config.seed)
    nats = per_image["rec"] + per_image["kl"]
    bpd = nats_to_bpd(nats)
    epochs = sorted(snaps)
    return Result(
        metrics={
            "history": history, "snapshot_epochs": epochs, "train_seconds": train_seconds,
            "n_train": len(train), "n_val": len(val), "n_test": len(test),
            "test_rec": float(per_image["rec"].mean()), "test_kl": float(per_image["kl"].mean()),
            "test_bpd": float(bpd.mean()),
            "test_bpd_se": float(bpd.std(ddof=1) / np.sqrt(len(bpd))),
            "kl_per_dim": per_image["kl_dims"].tolist(),
            "active_units": int(active_units(torch.from_numpy(per_image["mu"])).sum()),
        },
        arrays={"snapshots": np.stack([snaps[e] for e in epochs]).astype(np.float16),
                "test_bpd": bpd.astype(np.float32)},
        weights={"vae": model.state_dict()} if keep_weights else {},
    ), model


MAIN_CONFIGS = {
    budget: CategoricalVAEConfig(epochs=e, snapshot_epochs=tuple(sorted({0, min(2, e), e})),
                                 bf16=True, **_DATA[budget])
    for budget, e in _EPOCHS.items()
}


@experiment("ext-vae-bpd", version=2, configs=MAIN_CONFIGS,
            metrics=("active_units", "history", "kl_per_dim", "n_test", "n_train", "n_val",
                     "snapshot_epochs", "test_bpd", "test_bpd_se", "test_kl", "test_rec", "train_seconds"))
def main_model(config: CategoricalVAEConfig, budget: Budget) -> Result:
    """Conv VAE, categorical 16-level decoder, latent 20: bpd curves, test bpd, samples."""
    return train_categorical_vae(config)[0]


# -------------------------------------------------------------------------------- beta sweep

@dataclass(frozen=True)
class BetaSweepConfig:
    """Models trained exactly like the main model (`model`: its data, epochs and schedule),
    with beta * KL in the loss; beta = 1 is the main model itself, loaded from its cache entry."""
    betas: tuple[float, ...]
    model: CategoricalVAEConfig

    def __post_init__(self) -> None:
        check_config(self, betas=POSITIVE)
        if self.model.beta != 1.0:
            raise ValueError(f"BetaSweepConfig.model must be the main model (beta = 1), "
                             f"got beta = {self.model.beta}")

    def run_config(self, beta: float) -> CategoricalVAEConfig:
        """The model of one beta: the main model's configuration with that beta."""
        return dataclasses.replace(self.model, beta=beta)


BETA_CONFIGS = {budget: BetaSweepConfig(betas=(0.5, 1.0, 2.0, 4.0), model=MAIN_CONFIGS[budget])
                for budget in _EPOCHS}


@experiment("ext-vae-beta", version=4, configs=BETA_CONFIGS,
            metrics=("betas", "runs"))
def beta_sweep(config: BetaSweepConfig, budget: Budget) -> Result:
    """Latent-20 models trained like the main model with beta * KL: reconstruction, KL, bpd,
    samples (decoder means and sampled pixels at the last epoch), active units, curves."""
    metrics: dict = {"betas": list(config.betas), "runs": {}}
    arrays: dict[str, np.ndarray] = {}
    for beta in progress(config.betas, desc="beta sweep"):
        if beta == 1.0:
            r = run_or_load("ext-vae-bpd", config.model, budget)
        else:
            r, _ = train_categorical_vae(config.run_config(beta), keep_weights=False)
        metrics["runs"][number_key(beta)] = {k: r.metrics[k] for k in (
            "test_rec", "test_kl", "test_bpd", "test_bpd_se", "kl_per_dim", "active_units",
            "train_seconds", "history")}
        arrays[f"samples/{beta}"] = r.arrays["snapshots"][-1]
    return Result(metrics=metrics, arrays=arrays)


# ------------------------------------------------- latent sizes: the bound and the 2-D manifold

@dataclass(frozen=True)
class LatentsConfig:
    model: CategoricalVAEConfig  # the main model; the latent-2 model is trained exactly like it
    n_images: int  # test images for the likelihood estimates
    samples: int  # K for both estimators, split into `groups` independent estimates
    groups: int
    grid: int = 20  # the latent-2 model's manifold: grid x grid decoded points ...
    quantile_margin: float = 0.05  # ... at Gaussian percentiles from margin to 1 - margin
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, quantile_margin=Interval(0.0, 0.5, lo_open=True, hi_open=True))
        if self.groups > self.samples:
            raise ValueError(f"LatentsConfig.groups must be <= samples ({self.samples}), "
                             f"got {self.groups}")
        if self.model.latent == 2:
            raise ValueError("LatentsConfig.model must be the main model (latent size other "
                             "than 2): the latent-2 model is trained beside it")

    @property
    def latents(self) -> tuple[int, int]:
        return (2, self.model.latent)

    def small_model(self) -> CategoricalVAEConfig:
        """The latent-2 model's configuration: the main model's with a two-dimensional code."""
        return dataclasses.replace(self.model, latent=2)


LATENTS_CONFIGS = {
    "full": LatentsConfig(MAIN_CONFIGS["full"], n_images=64, samples=1000, groups=10),
    "smoke": LatentsConfig(MAIN_CONFIGS["smoke"], n_images=8, samples=20, groups=10),
}


def group_estimates(log_w: torch.Tensor, groups: int) -> torch.Tensor:
    """(K, N) log-weights -> (groups, N) independent estimates of log p(x), K / groups samples each."""
    k = log_w.shape[0] // groups
    return log_mean_exp(log_w[: k * groups].view(groups, k, -1), dim=1)


@torch.no_grad()
def _estimates(model: ConvCategoricalVAE, x: torch.Tensor, k: int, groups: int,
               gen: torch.Generator) -> dict[str, np.ndarray]:
    """Per image: the ELBO (analytic KL), and for both proposals the K-sample estimate, `groups`
    independent (K / groups)-sample estimates and the effective sample size."""
    terms = categorical_elbo_terms(model, x, gen)
    res = {"elbo": (-(terms.reconstruction + terms.kl)).numpy()}
    for proposal in ("encoder", "prior"):
        log_w = log_importance_weights(model, x, k, proposal, gen)
        res[f"{proposal}_full"] = log_mean_exp(log_w).numpy()
        res[f"{proposal}_groups"] = group_estimates(log_w, groups).numpy()
        res[f"{proposal}_ess"] = effective_sample_size(log_w).numpy()
    return res


def _manifold(model: ConvCategoricalVAE, config: LatentsConfig, test: torch.Tensor,
              budget: Budget) -> dict[str, np.ndarray]:
    """Decoder means on a grid of Gaussian percentiles, the digit the standard CNN reads in each
    cell, and the test images' posterior means with their labels."""
    q = norm.ppf(np.linspace(config.quantile_margin, 1 - config.quantile_margin, config.grid))
    # row r from the top has z2 = q[-1 - r]; column c has z1 = q[c]
    z = torch.tensor([[z1, z2] for z2 in q[::-1] for z1 in q], dtype=torch.float32)
    cnn, _ = load_standard_cnn(budget)  # trained with gradients on first use
    labels = load_mnist("test")[1][: len(test)]
    with torch.no_grad():
        means = model.sample(z)
        digits = cnn(means).argmax(1)
        mu = torch.cat([model.encode(test[i: i + 2000])[0] for i in range(0, len(test), 2000)])
    return {"manifold": means.numpy().astype(np.float16), "grid": q,
            "manifold_digits": digits.numpy().astype(np.int8),
            "test_mu": mu.numpy().astype(np.float32), "test_labels": labels.numpy()}


@experiment("ext-vae-latents", version=2, configs=LATENTS_CONFIGS,
            metrics=("latents", "runs", "small_history"))
def latents(config: LatentsConfig, budget: Budget) -> Result:
    """The main model (loaded from the cache, or trained) and a latent-2 model trained exactly
    like it: test bpd, log p(x) by the ELBO, IWAE (encoder proposals) and naive Monte Carlo
    (prior); the latent-2 model's manifold and training curves."""
    main = run_or_load("ext-vae-bpd", config.model, budget)
    small, small_model = train_categorical_vae(config.small_model(), keep_weights=False)
    _, _, test = quantized_mnist(config.model.val_size, None, config.model.test_limit)
    gen = torch.Generator().manual_seed(config.seed)
    x = test[torch.randperm(len(test), generator=gen)[: config.n_images]]
    metrics: dict = {"latents": list(config.latents), "runs": {},
                     "small_history": small.metrics["history"]}
    arrays: dict[str, np.ndarray] = {}
    for latent, result, model in ((2, small, small_model),
                                  (config.model.latent, main, load_model(main))):
        start = time.perf_counter()
        est = _estimates(model, x, config.samples, config.groups, gen)
        metrics["runs"][number_key(latent)] = {
            k: result.metrics[k] for k in ("test_bpd", "test_bpd_se", "test_rec", "test_kl",
                                           "active_units", "train_seconds", "n_train")}
        metrics["runs"][number_key(latent)]["epochs"] = len(result.metrics["history"]["seconds"])
        metrics["runs"][number_key(latent)]["estimate_seconds"] = time.perf_counter() - start
        arrays.update({f"{latent}/{k}": v for k, v in est.items()})
    arrays.update(_manifold(small_model, config, test, budget))
    return Result(metrics=metrics, arrays=arrays)
