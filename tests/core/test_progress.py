"""Training bars tick once per batch (total = epochs x batches, so a rate and a time left show
from the first batches), stay silent when not forced on a non-terminal, and change no number."""

import pytest
import torch

from trustml.core.progress import per_batch


def _tiny_data(n=50):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_per_batch_yields_each_epoch_and_counts_every_batch(monkeypatch):
    monkeypatch.setenv("TRUSTML_PROGRESS", "1")
    seen = []
    for epoch, tick in per_batch(3, 4, "demo"):
        seen.append(epoch)
        for _ in range(4):
            tick()
        bar = tick.__self__
        assert bar.total == 12 and bar.n == 4 * (epoch + 1)
        assert f"epoch {epoch + 1}/3" in bar.postfix
    assert seen == [0, 1, 2]


@pytest.mark.parametrize("loop", ["classifier", "adversarial", "vae", "gan"])
def test_training_bars_tick_per_batch_and_change_nothing(loop, monkeypatch, capsys):
    from trustml.adversarial.training import adversarial_train
    from trustml.generative.gan import Discriminator, Generator
    from trustml.generative.training import train_gan, train_vae
    from trustml.generative.vae import MLPVAE
    from trustml.models.mnist import FastCNN
    from trustml.models.training import train_classifier

    x, y = _tiny_data()

    def run():
        torch.manual_seed(0)
        if loop == "classifier":
            return train_classifier(FastCNN(), x, y, epochs=2, lr=1e-3, batch_size=16, seed=0)
        if loop == "adversarial":
            return adversarial_train(FastCNN(), x, y, method="fgsm", eps=0.1, epochs=2, lr=1e-3,
                                     batch_size=16, seed=0, check_x=x[:8], check_y=y[:8])
        if loop == "vae":
            return train_vae(MLPVAE(latent=2, hidden=(16, 8)), x, x[:10], epochs=2, lr=1e-3,
                             batch_size=16, seed=0, snapshot_epochs=(), fixed_z=torch.zeros(1, 2))[0]
        flat = x.reshape(len(x), -1)
        G, D = Generator(noise_dim=4, hidden=(8, 16)), Discriminator(hidden=(16, 8))
        return train_gan(G, D, flat, flat[:10], epochs=2, lr=1e-3, beta1=0.5, batch_size=16,
                         seed=0, snapshot_epochs=(), fixed_noise=torch.zeros(1, 4))[0]

    def numbers(history):
        return {k: v for k, v in history.items() if k != "seconds"}

    monkeypatch.setenv("TRUSTML_PROGRESS", "0")
    quiet = numbers(run())
    assert capsys.readouterr().err == ""  # silent when off (and when not a terminal)

    import trustml.core.progress as progress_module

    bars = []

    class Recording(progress_module.tqdm):
        def close(self):
            if self.unit == "batch" and not getattr(self, "recorded", False):  # close runs twice
                self.recorded = True
                bars.append((self.total, self.n, self.postfix))
            super().close()

    monkeypatch.setattr(progress_module, "tqdm", Recording)
    monkeypatch.setenv("TRUSTML_PROGRESS", "1")
    shown = numbers(run())
    assert shown == quiet
    # 2 epochs x 4 batches of 16 (the last of 2 images): one tick a batch
    assert bars == [(8, 8, "epoch 2/2")]
