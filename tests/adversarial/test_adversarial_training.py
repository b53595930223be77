import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trustml.adversarial.attacks import fgsm
from trustml.adversarial.bench import bench_attacks
from trustml.adversarial.training import adversarial_examples, adversarial_train


def data(n=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 4, 4, generator=g)
    y = (x.mean((1, 2, 3)) > 0.5).long()
    return x, y


@pytest.mark.parametrize("method", ["fgsm", "fgsm_rs", "pgd"])
def test_adversarial_training_runs_and_tracks_pgd(method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    x, y = data()
    history = adversarial_train(model, x, y, method=method, eps=0.05, epochs=3, lr=1e-2,
                                batch_size=32, seed=0, check_x=x[:32], check_y=y[:32],
                                pgd_steps=3, check_steps=3)
    assert len(history["check_pgd"]) == 3 and not model.training
    assert all(0 <= a <= 1 for a in history["check_pgd"] + history["check_clean"])
    assert len(history["train_loss"]) == 3 and history["train_loss"][-1] < history["train_loss"][0]


def test_keep_best_restores_the_best_epoch_and_keep_last_does_not(monkeypatch):
    import trustml.adversarial.training as training

    x, y = data()
    check_x = x[:16]
    states = {}
    for keep_best in (True, False):
        robust = iter([0.5, 0.9, 0.1])  # held-out PGD accuracy per epoch: a collapse in epoch 3
        monkeypatch.setattr(training, "accuracy",
                            lambda model, a, b, r=robust: 1.0 if a is check_x else next(r))
        torch.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
        history = adversarial_train(model, x, y, method="fgsm", eps=0.1, epochs=3, lr=1e-2,
                                    batch_size=32, seed=0, check_x=check_x, check_y=y[:16],
                                    check_steps=2, keep_best=keep_best)
        assert history["collapsed"] == [0.0, 0.0, 1.0]
        states[keep_best] = model[1].weight.detach().clone()
    assert not torch.equal(states[True], states[False])


def test_unknown_training_method_is_refused():
    x, y = data()
    with pytest.raises(ValueError, match="method must be one of"):
        adversarial_train(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), x, y, method="trades",
                          eps=0.1, epochs=1, lr=1e-2, batch_size=32, seed=0, check_x=x,
                          check_y=y)


def test_fgsm_rs_examples_stay_in_the_ball():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    x, y = data(32)
    x_adv = fgsm(model, x, y, 0.1, random_start=True, step=0.125,
                 generator=torch.Generator().manual_seed(0))
    assert float((x_adv - x).abs().max()) <= 0.1 + 1e-6
    assert 0 <= float(x_adv.min()) and float(x_adv.max()) <= 1


def _hand_written_fgsm_rs(model, x, y, eps, alpha, generator, random_start):
    """The FGSM-RS step the MNIST loop used before it shared `attacks.fgsm` (train mode, the
    gradient of the mean loss): the shared one must give the same images."""
    delta = (torch.rand(x.shape, generator=generator) * 2 - 1) * eps if random_start else \
        torch.zeros_like(x)
    delta = ((x + delta).clamp(0, 1) - x).requires_grad_(True)
    loss = F.cross_entropy(model(x + delta), y)
    (grad,) = torch.autograd.grad(loss, delta)
    delta = (delta + alpha * grad.sign()).clamp(-eps, eps)
    return (x + delta).clamp(0, 1).detach()


@pytest.mark.parametrize("method", ["fgsm", "fgsm_rs"])
def test_the_shared_fgsm_makes_the_same_training_batches_as_the_old_hand_written_step(method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = data(64)
    y = y % 3
    alpha = 0.1 if method == "fgsm" else 0.125
    old = _hand_written_fgsm_rs(model, x, y, 0.1, alpha, torch.Generator().manual_seed(3),
                                method == "fgsm_rs")
    new = adversarial_examples(model, x, y, method, 0.1, step=alpha,
                               generator=torch.Generator().manual_seed(3))
    assert torch.equal(old, new)


def test_bench_reports_identical_images_and_a_ratio():
    r = bench_attacks(batch=16, steps=2, rounds=3)
    assert r["identical"] == 1.0 and r["rounds"] == 3
    assert 0 < r["ratio_min"] <= r["ratio_q1"] <= r["ratio"] <= r["ratio_q3"] <= r["ratio_max"]


def test_bench_quotes_the_median_of_the_rounds_ratios():
    from trustml.adversarial.bench import summarise

    # ours 1 s every round; theirs 1.3 s but one round slowed to 9 s and one sped up to 0.5 s:
    # the median ratio stays 1.3 (the ratio of the best times, 0.5 / 1, would say 0.5)
    r = summarise([1.0] * 5, [1.3, 9.0, 1.3, 0.5, 1.3])
    assert r["ratio"] == pytest.approx(1.3) and r["rounds"] == 5
    assert (r["ratio_min"], r["ratio_max"]) == pytest.approx((0.5, 9.0))
    assert r["ratio_q1"] == pytest.approx(1.3) and r["ratio_q3"] == pytest.approx(1.3)
    assert summarise([2.0], [3.0])["ratio_q1"] == pytest.approx(1.5)
    with pytest.raises(ValueError):
        summarise([1.0, 1.0], [1.0])


def test_bench_alternates_which_side_runs_first():
    from trustml.adversarial.bench import alternating_rounds

    calls = []
    ours_s, theirs_s = alternating_rounds(lambda: calls.append("o"), lambda: calls.append("t"), 4)
    assert "".join(calls) == "ottootto" and len(ours_s) == len(theirs_s) == 4


def test_eps_warmup_ramps_the_training_radius(monkeypatch):
    import trustml.adversarial.training as training

    seen = []
    real = training.fgsm

    def spy(model, x, y, eps, **options):
        seen.append(eps)
        return real(model, x, y, eps, **options)

    monkeypatch.setattr(training, "fgsm", spy)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    x, y = data()
    adversarial_train(model, x, y, method="fgsm_rs", eps=0.2, epochs=2, lr=1e-2, batch_size=32,
                      seed=0, check_x=x[:16], check_y=y[:16], check_steps=2, eps_warmup_epochs=1)
    assert seen[:4] == pytest.approx([0.05, 0.1, 0.15, 0.2]) and seen[4:] == [0.2] * 4


def test_ex3_part_from_the_command_line(cache_dir, capsys):
    from trustml.cli import main

    assert main(["ex3", "--part", "a", "--budget", "smoke"]) == 0
    out = capsys.readouterr().out
    assert "(a) standard model" in out and "total" in out and "mnist-standard-cnn" in out


def test_attack_precision_compares_float32_and_bf16_steps_on_the_same_images():
    """Each precision's robust share falls member by member from the clean accuracy, and the
    images only one precision broke are counted (both sides classified in float32)."""
    from trustml.adversarial.bench import Autocast, attack_precision
    from trustml.models.mnist import FastCNN

    torch.manual_seed(0)
    model = FastCNN().eval()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 1, 28, 28, generator=g), torch.randint(0, 10, (24,), generator=g)
    r = attack_precision(model, x, y, 0.1, batch=10, ce_steps=2, targets=1, targeted_steps=2)
    for precision in ("float32", "bf16"):
        assert r["compare"]["clean"] >= r[precision]["pgd_ce"] >= r[precision]["pgd_margin"]
    assert r["compare"]["broken_only_in_float32"] >= 0 and r["compare"]["broken_only_in_bf16"] >= 0
    assert Autocast(model)(x).dtype == torch.float32
