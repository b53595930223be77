r"""A VAE with a categorical pixel decoder on MNIST quantised to 16 levels, in bits per dimension.

Each pixel takes one of `LEVELS` = 16 values; the decoder outputs, per pixel, 16 logits and the
likelihood is categorical, so $-\log p(x\mid z)$ is a sum of 784 cross-entropies and the negative
ELBO is a code length: in bits per dimension, $\text{bpd}=\text{nats}\cdot\log_2 e/784$.
An uninformed model (uniform over 16 values) costs exactly 4 bpd.

The Gaussian posterior, the prior, the KL and the reparameterisation are exercise 1's
(`trustml.generative.vae`); only the networks and the likelihood are new. `iwae_log_likelihood` and
`prior_mc_log_likelihood` estimate $\log p(x)$ by importance sampling, from the encoder and from
the prior.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from trustml.generative.vae import ElboTerms, kl_standard_normal, reparameterize
from trustml.generative.vae_theory import log_normal_diag

LEVELS = 16
PIXELS = 784


def quantize(images: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """uint8 images (0..255) -> integer levels 0..levels-1 (int64), `level = value * levels // 256`."""
    if images.dtype != torch.uint8:
        raise TypeError(f"quantize expects uint8 images, got {images.dtype}")
    return (images.long() * levels) // 256


def dequantize(levels_: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """Integer levels -> the centre of their intensity bin, as uint8 (quantize inverts it)."""
    width = 256 // levels
    return (levels_ * width + width // 2).to(torch.uint8)


def to_unit(levels_: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """Integer levels -> floats in [0, 1] (the encoder's input and the images shown)."""
    return levels_.float() / (levels - 1)


def nats_to_bpd(nats_per_image: torch.Tensor | float, dims: int = PIXELS) -> torch.Tensor | float:
    """Negative log-likelihood per image in nats -> bits per dimension."""
    return nats_per_image / (dims * math.log(2))


def categorical_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """$-\\log p(x\\mid z)$ per image in nats: `logits` (N, L, 28, 28), `x` levels (N, 1, 28, 28)."""
    return F.cross_entropy(logits, x[:, 0], reduction="none").flatten(1).sum(1)


class ConvCategoricalVAE(nn.Module):
    """Conv encoder (28→14→7, then fc) to a Gaussian posterior; deconv decoder to 16 logits/pixel.

    encoder: conv4x4(32, s2)-conv4x4(64, s2)-fc(3136→hidden)-fc(→2·latent), ReLU;
    decoder: fc(latent→hidden)-fc(→3136)-deconv4x4(32, s2)-deconv4x4(levels, s2), ReLU.
    """

    def __init__(self, latent: int = 20, hidden: int = 256, channels: tuple[int, int] = (32, 64),
                 levels: int = LEVELS):
        super().__init__()
        c1, c2 = channels
        self.latent, self.levels, self.c2 = latent, levels, c2
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, 2, 1), nn.ReLU(), nn.Conv2d(c1, c2, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(c2 * 49, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder_fc = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                        nn.Linear(hidden, c2 * 49), nn.ReLU())
        self.decoder_conv = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(c1, levels, 4, 2, 1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`x`: integer levels (N, 1, 28, 28) -> posterior mean and log-variance."""
        mu, logvar = self.encoder(to_unit(x, self.levels)).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent) -> logits (N, levels, 28, 28)."""
        return self.decoder_conv(self.decoder_fc(z).view(-1, self.c2, 7, 7))

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder means in [0, 1] (expected level / (levels - 1)) for latent codes `z`."""
        probs = self.decode_logits(z).softmax(1)
        values = torch.arange(self.levels, dtype=probs.dtype, device=probs.device)
        return (probs * values[:, None, None]).sum(1, keepdim=True) / (self.levels - 1)

    @torch.no_grad()
    def sample_pixels(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images in [0, 1] with every pixel drawn from its categorical distribution."""
        probs = self.decode_logits(z).softmax(1).permute(0, 2, 3, 1).reshape(-1, self.levels)
        draws = torch.multinomial(probs, 1, generator=generator).view(len(z), 1, 28, 28)
        return to_unit(draws, self.levels)


def categorical_elbo_terms(model: ConvCategoricalVAE, x: torch.Tensor,
                           generator: torch.Generator | None = None, beta: float = 1.0) -> ElboTerms:
    """Reconstruction (categorical NLL, one posterior sample) and KL (closed form), nats per image."""
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator)
    return ElboTerms(categorical_nll(model.decode_logits(z), x), kl_standard_normal(mu, logvar), beta)


@torch.no_grad()
def log_importance_weights(model: ConvCategoricalVAE, x: torch.Tensor, k: int, proposal: str,
                           generator: torch.Generator | None = None,
                           max_decodes: int = 2000) -> torch.Tensor:
    r"""(K, N) log importance weights $\log w_k=\log p(x,z_k)-\log r(z_k)$ with $z_k\sim r$.

    `proposal="encoder"`: $r=q(z\mid x)$, $\log w=\log p(x\mid z)+\log p(z)-\log q(z\mid x)$;
    `proposal="prior"`: $r=p(z)$, $\log w=\log p(x\mid z)$. Both are unbiased for $p(x)$ after
    exponentiating and averaging. At most `max_decodes` images are decoded at once.
    """
    if proposal not in ("encoder", "prior"):
        raise ValueError(f"proposal must be 'encoder' or 'prior', got {proposal!r}")
    mu, logvar = model.encode(x)
    chunk = max(1, max_decodes // len(x))
    out = []
    for start in range(0, k, chunk):
        kk = min(chunk, k - start)
        eps = torch.randn((kk, *mu.shape), generator=generator)
        z = eps if proposal == "prior" else mu + (0.5 * logvar).exp() * eps  # (kk, N, latent)
        log_w = -categorical_nll(model.decode_logits(z.reshape(-1, model.latent)),
                                 x.repeat(kk, 1, 1, 1)).view(kk, -1)
        if proposal == "encoder":
            log_w = log_w + log_normal_diag(z, torch.zeros_like(z), torch.zeros_like(z)) \
                - log_normal_diag(z, mu, logvar)
        out.append(log_w)
    return torch.cat(out)


def log_mean_exp(log_w: torch.Tensor, dim: int = 0) -> torch.Tensor:
    r"""$\log\frac1K\sum_k e^{w_k}$ along `dim`, computed stably."""
    return torch.logsumexp(log_w, dim) - math.log(log_w.shape[dim])


def iwae_log_likelihood(model: ConvCategoricalVAE, x: torch.Tensor, k: int,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Importance-sampled $\log p(x)$ per image with $K$ samples from the encoder,
    $\log\frac1K\sum_k p(x\mid z_k)p(z_k)/q(z_k\mid x)$ (Burda et al. 2016).

    In expectation a lower bound on $\log p(x)$ that increases with $K$; $K=1$ is a one-sample
    estimate of the ELBO.
    """
    return log_mean_exp(log_importance_weights(model, x, k, "encoder", generator))


def prior_mc_log_likelihood(model: ConvCategoricalVAE, x: torch.Tensor, k: int,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    r"""The naive Monte-Carlo estimate $\log\frac1K\sum_k p(x\mid z_k)$, $z_k\sim p(z)$, per image.

    Unbiased for $p(x)$ but hopeless in practice: almost every prior sample decodes to another
    digit, so the sum is dominated by rare samples and $\log p(x)$ comes out far too low unless
    $K$ grows exponentially with the latent size.
    """
    return log_mean_exp(log_importance_weights(model, x, k, "prior", generator))


def effective_sample_size(log_w: torch.Tensor) -> torch.Tensor:
    r"""(K, N) log-weights -> per-image effective sample size $(\sum w)^2/\sum w^2$ in [1, K]."""
    return torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0))


def active_units(mu: torch.Tensor, threshold: float = 1e-2) -> torch.Tensor:
    r"""Per latent dimension: is $\mathrm{Var}_x\,\mathbb E_q[z_j]$ above `threshold`?
    (Burda et al. 2016's activity statistic; an inactive unit is ignored by the decoder.)"""
    return mu.var(0) > threshold
