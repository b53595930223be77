r"""A variational auto-encoder for MNIST: Gaussian posterior, Bernoulli likelihood.

The loss is the negative ELBO per image, in nats,
$-\mathrm{ELBO}(x)=\underbrace{-\mathbb E_{q(z|x)}\log p(x|z)}_{\text{reconstruction}}
+\underbrace{\mathrm{KL}(q(z|x)\,\|\,N(0,I))}_{\text{KL}}$, with the reconstruction term the
summed binary cross-entropy over the 784 pixels (continuous targets in [0, 1], as in
pytorch/examples' VAE) estimated with one reparameterised sample, and the KL term in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""KL divergence to the prior of each latent dimension: $\frac12(\mu_j^2+e^{\ell_j}-1-\ell_j)$."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""KL divergence to the prior, per row:
    $\mathrm{KL}(N(\mu,\mathrm{diag}\,e^{\ell})\,\|\,N(0,I))=\frac12\sum_j(\mu_j^2+e^{\ell_j}-1-\ell_j)$."""
    return kl_per_dimension(mu, logvar).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    r"""$z=\mu+\sigma\odot\varepsilon$, $\varepsilon\sim N(0,I)$.

    Differentiable in $\mu$ and $\log\sigma^2$ (the reparameterisation trick)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


class MLPVAE(nn.Module):
    """Encoder 784-512-256-(2 x latent), decoder latent-256-512-784 (ReLU, logits out)."""

    def __init__(self, latent: int = 20, hidden: tuple[int, int] = (512, 256)):
        super().__init__()
        h1, h2 = hidden
        self.latent = latent
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, h1), nn.ReLU(),
                                     nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, h2), nn.ReLU(), nn.Linear(h2, h1),
                                     nn.ReLU(), nn.Linear(h1, 784))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, 1, 28, 28)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder means (pixel probabilities) for latent codes `z`."""
        return torch.sigmoid(self.decode_logits(z))


@dataclass
class ElboTerms:
    reconstruction: torch.Tensor  # (batch,) nats
    kl: torch.Tensor  # (batch,) nats, unweighted
    beta: float = 1.0  # weight of the KL term in the training loss (beta-VAE)

    @property
    def loss(self) -> torch.Tensor:
        """Training loss per image, (batch,): the negative ELBO when beta = 1."""
        return self.reconstruction + self.beta * self.kl


def elbo_terms(model: MLPVAE, x: torch.Tensor, generator: torch.Generator | None = None,
               beta: float = 1.0) -> ElboTerms:
    """Reconstruction (summed BCE, one posterior sample) and KL (closed form) per image."""
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator)
    logits = model.decode_logits(z)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    return ElboTerms(rec, kl_standard_normal(mu, logvar), beta)
