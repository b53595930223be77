"""Training loops of the generative models: a VAE and a GAN on in-memory tensors (no DataLoader).

Each loop is seeded, shows a progress bar on a terminal, and returns per-epoch histories.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from trustml.core.precision import training_autocast
from trustml.core.progress import per_batch
from trustml.core.torch_utils import in_mode, minibatches
from trustml.generative.gan import discriminator_loss, generator_loss
from trustml.generative.vae import ElboTerms, elbo_terms

TermsFn = Callable[[nn.Module, torch.Tensor, torch.Generator], ElboTerms]


@torch.no_grad()
def vae_evaluate(model: nn.Module, x: torch.Tensor, seed: int = 0,
                 batch_size: int = 2000, terms_fn: TermsFn = elbo_terms) -> tuple[float, float]:
    """Mean reconstruction and KL (nats per image) over `x`, one seeded posterior sample each."""
    gen = torch.Generator().manual_seed(seed)
    rec = kl = 0.0
    with in_mode(model):
        for i in range(0, len(x), batch_size):
            terms = terms_fn(model, x[i: i + batch_size], gen)
            rec += float(terms.reconstruction.sum())
            kl += float(terms.kl.sum())
    return rec / len(x), kl / len(x)


def train_vae(
    model: nn.Module, x: torch.Tensor, x_test: torch.Tensor, *, epochs: int, lr: float,
    batch_size: int, seed: int, snapshot_epochs: Sequence[int], fixed_z: torch.Tensor,
    terms_fn: TermsFn = elbo_terms, eval_name: str = "test",
    snapshot_fn: Callable[[torch.Tensor], torch.Tensor] | None = None, cosine_lr: bool = False,
    kl_warmup_epochs: float = 0.0, bf16: bool = False,
) -> tuple[dict[str, list[float]], dict[int, np.ndarray]]:
    """Adam on the (beta-weighted) negative ELBO given by `terms_fn`. The train curve is the
    average over each epoch's batches (as pytorch/examples reports it); the `eval_name` curve is
    a full pass over `x_test` after each epoch. Snapshots: `snapshot_fn(fixed_z)` (default: the
    decoder means, `model.sample`). `cosine_lr` decays the learning rate to 0 over training.
    `kl_warmup_epochs` > 0 scales the KL term of the training loss by a weight rising linearly
    from 0 to 1 over that many epochs (the logged terms are always unweighted). With `bf16`
    each step's forward pass runs under bf16 autocast where the device supports it; the
    `eval_name` curve and the snapshots are computed in float32."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = -(-len(x) // batch_size)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps_per_epoch)
             if cosine_lr else None)
    warmup_steps, step = kl_warmup_epochs * steps_per_epoch, 0
    history: dict[str, list[float]] = {
        k: [] for k in ("train_rec", "train_kl", f"{eval_name}_rec", f"{eval_name}_kl", "seconds")}
    snap = snapshot_fn or model.sample
    snapshots = {0: snap(fixed_z).numpy()} if 0 in snapshot_epochs else {}
    for epoch, tick in per_batch(epochs, steps_per_epoch, "VAE"):
        epoch += 1  # epochs count from 1 (snapshot 0 is before training)
        start, rec_sum, kl_sum = time.perf_counter(), 0.0, 0.0
        model.train()
        for idx in minibatches(len(x), batch_size, gen):
            with training_autocast(device, bf16):
                terms = terms_fn(model, x[idx], gen)
            step += 1
            if step < warmup_steps:
                loss = (terms.reconstruction + step / warmup_steps * terms.beta * terms.kl).mean()
            else:
                loss = terms.loss.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            rec_sum += float(terms.reconstruction.detach().sum())
            kl_sum += float(terms.kl.detach().sum())
            tick()
        history["seconds"].append(time.perf_counter() - start)
        history["train_rec"].append(rec_sum / len(x))
        history["train_kl"].append(kl_sum / len(x))
        test_rec, test_kl = vae_evaluate(model, x_test, seed, terms_fn=terms_fn)
        history[f"{eval_name}_rec"].append(test_rec)
        history[f"{eval_name}_kl"].append(test_kl)
        if epoch in snapshot_epochs:
            snapshots[epoch] = snap(fixed_z).numpy()
    model.eval()
    return history, snapshots


@torch.no_grad()
def gan_test_losses(G: nn.Module, D: nn.Module, x_test: torch.Tensor, seed: int,
                    batch_size: int = 2000) -> tuple[float, float]:
    """Held-out losses, both networks in eval mode: the discriminator on all test images plus
    as many fresh fakes, the generator on those fresh fakes."""
    gen = torch.Generator().manual_seed(seed)
    d_total = g_total = 0.0
    with in_mode(G, D):
        for i in range(0, len(x_test), batch_size):
            real = x_test[i: i + batch_size]
            z = torch.randn(len(real), G.noise_dim, generator=gen)
            fake_logits = D(G(z))
            d_total += float(discriminator_loss(D(real), fake_logits, real_label=1.0)) * len(real)
            g_total += float(generator_loss(fake_logits)) * len(real)
    return d_total / len(x_test), g_total / len(x_test)


def train_gan(
    G: nn.Module, D: nn.Module, x: torch.Tensor, x_test: torch.Tensor, *, epochs: int,
    lr: float, beta1: float, batch_size: int, seed: int, snapshot_epochs: Sequence[int],
    fixed_noise: torch.Tensor, real_label: float = 0.9, bf16: bool = False,
) -> tuple[dict[str, list[float]], dict[int, np.ndarray]]:
    """Alternating Adam steps (beta1 = 0.5): one discriminator step, one generator step; with
    `bf16` the forward passes of both steps run under bf16 autocast where the device supports
    it (the held-out losses and the snapshots in float32)."""
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(beta1, 0.999))
    history: dict[str, list[float]] = {k: [] for k in ("train_d", "train_g", "test_d", "test_g",
                                                       "d_real", "d_fake", "seconds")}

    def snapshot() -> np.ndarray:
        with torch.no_grad(), in_mode(G):
            return G(fixed_noise).numpy()

    snapshots = {0: snapshot()} if 0 in snapshot_epochs else {}
    for epoch, tick in per_batch(epochs, -(-len(x) // batch_size), "GAN"):
        epoch += 1  # epochs count from 1 (snapshot 0 is before training)
        start = time.perf_counter()
        sums = dict.fromkeys(("d", "g", "real", "fake"), 0.0)
        G.train()
        D.train()
        for idx in minibatches(len(x), batch_size, gen):
            real = x[idx]
            z = torch.randn(len(idx), G.noise_dim, generator=gen)
            with training_autocast(device, bf16):
                fake = G(z)
                real_logits, fake_logits = D(real), D(fake.detach())
                d_loss = discriminator_loss(real_logits, fake_logits, real_label)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            with training_autocast(device, bf16):
                g_loss = generator_loss(D(fake))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            sums["d"] += float(d_loss.detach()) * len(idx)
            sums["g"] += float(g_loss.detach()) * len(idx)
            sums["real"] += float(torch.sigmoid(real_logits.detach()).sum())
            sums["fake"] += float(torch.sigmoid(fake_logits.detach()).sum())
            tick()
        history["seconds"].append(time.perf_counter() - start)
        history["train_d"].append(sums["d"] / len(x))
        history["train_g"].append(sums["g"] / len(x))
        history["d_real"].append(sums["real"] / len(x))
        history["d_fake"].append(sums["fake"] / len(x))
        test_d, test_g = gan_test_losses(G, D, x_test, seed + epoch)
        history["test_d"].append(test_d)
        history["test_g"].append(test_g)
        if epoch in snapshot_epochs:
            snapshots[epoch] = snapshot()
    G.eval()
    D.eval()
    return history, snapshots
