import numpy as np
import pytest
import torch

from trustml.generative.conv_gan import ConvDiscriminator, ConvGenerator
from trustml.generative.gan import Discriminator, Generator, discriminator_loss, generator_loss
from trustml.generative.metrics import frechet_distance
from trustml.generative.training import train_vae
from trustml.generative.vae import MLPVAE, elbo_terms, kl_standard_normal, reparameterize


def test_kl_matches_closed_form_and_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4) * 0.3
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(kl_standard_normal(mu, logvar), expected)
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    torch.testing.assert_close(kl_standard_normal(mu, logvar), mc, atol=0.03, rtol=0.02)
    assert torch.all(kl_standard_normal(torch.zeros(2, 5), torch.zeros(2, 5)) == 0)


def test_reparameterisation_gradient_flows_to_mean_and_variance():
    mu = torch.zeros(5, 3, requires_grad=True)
    logvar = torch.zeros(5, 3, requires_grad=True)
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    (z ** 2).sum().backward()
    assert mu.grad is not None and logvar.grad is not None
    assert mu.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0


def test_shapes():
    vae = MLPVAE(latent=7)
    x = torch.rand(6, 1, 28, 28)
    terms = elbo_terms(vae, x, torch.Generator().manual_seed(0))
    assert terms.reconstruction.shape == terms.kl.shape == (6,)
    assert vae.sample(torch.randn(4, 7)).shape == (4, 1, 28, 28)
    G, D = Generator(noise_dim=16), Discriminator()
    fake = G(torch.randn(5, 16))
    assert fake.shape == (5, 1, 28, 28) and 0 <= float(fake.min()) and float(fake.max()) <= 1
    assert D(fake).shape == (5,)


def test_vae_loss_decreases_on_a_tiny_batch():
    torch.manual_seed(0)
    patterns = (torch.rand(4, 1, 28, 28) > 0.7).float()
    x = patterns.repeat(8, 1, 1, 1)  # 32 images, 4 distinct: a model can memorise them
    vae = MLPVAE(latent=4, hidden=(64, 32))
    history, _ = train_vae(vae, x, x, epochs=100, lr=3e-3, batch_size=32, seed=0,
                           snapshot_epochs=(), fixed_z=torch.zeros(1, 4))
    first = history["train_rec"][0] + history["train_kl"][0]
    last = history["test_rec"][-1] + history["test_kl"][-1]
    assert last < 0.5 * first


def test_kl_warmup_lets_the_code_carry_more_while_it_lasts():
    """While the KL weight is still near 0 (a warm-up far longer than the run) the training loss
    is almost the reconstruction alone, so the encoder sends more nats through z than with the
    full KL penalty; the logged KL is the unweighted one either way."""
    torch.manual_seed(0)
    x = (torch.rand(4, 1, 28, 28) > 0.7).float().repeat(8, 1, 1, 1)
    kls = []
    for warmup in (0.0, 1000.0):
        torch.manual_seed(0)
        vae = MLPVAE(latent=4, hidden=(64, 32))
        history, _ = train_vae(vae, x, x, epochs=30, lr=3e-3, batch_size=32, seed=0,
                               snapshot_epochs=(), fixed_z=torch.zeros(1, 4),
                               kl_warmup_epochs=warmup)
        kls.append(history["train_kl"][-1])
    assert kls[1] > 2 * kls[0]


def test_gan_generator_step_lowers_its_loss():
    torch.manual_seed(0)
    G, D = Generator(noise_dim=8), Discriminator(dropout=0.0)
    D.eval()
    z = torch.randn(64, 8)
    opt = torch.optim.Adam(G.parameters(), lr=1e-3)
    before = float(generator_loss(D(G(z))))
    for _ in range(20):
        loss = generator_loss(D(G(z)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(generator_loss(D(G(z)))) < before
    assert float(discriminator_loss(torch.full((3,), 10.0), torch.full((3,), -10.0), 1.0)) < 1e-3


def test_sampling_is_deterministic_for_a_seed():
    torch.manual_seed(0)
    vae = MLPVAE(latent=3)
    a = vae.sample(torch.randn(4, 3, generator=torch.Generator().manual_seed(5)))
    b = vae.sample(torch.randn(4, 3, generator=torch.Generator().manual_seed(5)))
    assert torch.equal(a, b)
    e1 = elbo_terms(vae, torch.rand(2, 1, 28, 28).round(), torch.Generator().manual_seed(1))
    torch.manual_seed(123)  # the global seed must not matter
    x = torch.ones(2, 1, 28, 28) * 0.5
    t1 = elbo_terms(vae, x, torch.Generator().manual_seed(1)).loss
    t2 = elbo_terms(vae, x, torch.Generator().manual_seed(1)).loss
    assert torch.equal(t1, t2) and e1.loss.shape == (2,)


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5000, 3))
    mu, cov = a.mean(0), np.cov(a, rowvar=False)
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0, abs=1e-8)
    shift = np.array([1.0, 2.0, 2.0])
    assert frechet_distance(mu + shift, cov, mu, cov) == pytest.approx(9.0, rel=1e-6)
    # 1-D closed form: (m1-m2)^2 + (s1-s2)^2
    assert frechet_distance(np.zeros(1), np.eye(1) * 4, np.ones(1), np.eye(1)) == pytest.approx(2.0)


def test_conv_gan_shapes_range_and_one_training_step():
    torch.manual_seed(0)
    G, D = ConvGenerator(noise_dim=8, channels=4), ConvDiscriminator(channels=4)
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert D(x).shape == (5,)
    opt = torch.optim.Adam(G.parameters(), 1e-2)
    before = [p.detach().clone() for p in G.parameters()]
    loss = generator_loss(D(G(torch.randn(5, 8))))
    loss.backward()
    opt.step()
    assert all(not torch.equal(a, b) for a, b in zip(before, G.parameters(), strict=True))
    assert float(discriminator_loss(D(x), D(x))) > 0


def test_conv_gan_rejects_bad_sizes():
    with pytest.raises(ValueError, match="channels"):
        ConvGenerator(8, 0)
    with pytest.raises(ValueError, match="noise_dim"):
        ConvGenerator(0, 4)
    with pytest.raises(ValueError, match="channels"):
        ConvDiscriminator(-1)


def _history(epochs):
    return [{"epoch": e, "train_rec": 160.0 - 10 * e, "train_kl": 10.0 + e,
             "test_rec": 120.0 - 5 * e, "test_kl": 12.0, "train_d": 0.7 + 0.01 * e,
             "train_g": 2.0 - 0.02 * e, "test_d": 0.4 + 0.02 * e, "test_g": 1.5,
             "seconds": 1.0} for e in epochs]


@pytest.mark.parametrize("figure", ["vae_curves_figure", "gan_curves_figure"])
@pytest.mark.parametrize("epochs", [(1, 2), tuple(range(1, 11))])
def test_curves_figures_are_two_graphs_showing_every_epoch(figure, epochs):
    """1(a) and 1(b) ask for two graphs, the training set and the test set: two axes, each with
    its own y-range holding every epoch's value (the first epochs included), also for a run as
    short as the smoke budget's."""
    from trustml.core.cache import Result
    from trustml.views import generative

    fig = getattr(generative, figure)(Result(metrics={"history": _history(epochs)}))
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["training set", "test set"]
    for ax in axes:
        lo, hi = ax.get_ylim()
        values = np.concatenate([line.get_ydata() for line in ax.get_lines()])
        assert lo <= values.min() and values.max() <= hi
        assert hi < 1.2 * values.max()  # sized to its own curves, not the other graph's
    assert axes[0].get_ylim() != axes[1].get_ylim()
