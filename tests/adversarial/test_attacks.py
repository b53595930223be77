import math

import pytest
import torch
import torchattacks
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trustml.adversarial.attacks import attack_loss, fgsm, margin_loss, pgd


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 3))


def batch(seed: int = 0, n: int = 8):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


@settings(max_examples=40, deadline=None)
@given(eps=st.floats(0, 1), seed=st.integers(0, 1000), restarts=st.integers(1, 3),
       random_start=st.booleans(), loss=st.sampled_from(["ce", "margin"]))
def test_ball_and_box_constraints(eps, seed, restarts, random_start, loss):
    model = tiny_model(seed % 7)
    x, y = batch(seed)
    for x_adv in (fgsm(model, x, y, eps),
                  pgd(model, x, y, eps, steps=5, restarts=restarts, random_start=random_start,
                      loss=loss, generator=torch.Generator().manual_seed(seed))):
        assert x_adv.shape == x.shape
        assert float((x_adv - x).abs().max()) <= eps + 1e-6
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0


def test_pgd_loss_at_least_fgsm():
    model = tiny_model()
    x, y = batch(1, n=64)
    with torch.no_grad():
        ce_fgsm = attack_loss(model(fgsm(model, x, y, 0.1)), y, "ce")
        ce_pgd = attack_loss(model(pgd(model, x, y, 0.1, steps=20, step_size=0.01,
                                       random_start=False)), y, "ce")
    assert float(ce_pgd.mean()) >= float(ce_fgsm.mean()) - 1e-6


def test_determinism_with_a_seed():
    model = tiny_model()
    x, y = batch(2)
    a = pgd(model, x, y, 0.2, steps=5, restarts=2, generator=torch.Generator().manual_seed(3))
    b = pgd(model, x, y, 0.2, steps=5, restarts=2, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_eps_out_of_range_rejected(eps):
    model = tiny_model()
    x, y = batch()
    with pytest.raises(ValueError, match="eps must be"):
        fgsm(model, x, y, eps)
    with pytest.raises(ValueError, match="eps must be"):
        pgd(model, x, y, eps)


@pytest.mark.parametrize("training", [True, False])
def test_model_mode_and_parameters_restored(training):
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train(training)
    x, y = batch()
    fgsm(model, x, y, 0.1)
    pgd(model, x, y, 0.1, steps=3)
    assert model.training is training
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_margin_loss_sign():
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    y = torch.tensor([0, 0])
    assert margin_loss(logits, y).tolist() == [-2.0, 2.0]


def test_targeted_attack_reaches_target_on_a_linear_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x, y = batch(4, n=16)
    target = (y + 1) % 3
    x_adv = pgd(model, x, y, 1.0, steps=50, step_size=0.05, target=target)
    assert (model(x_adv).argmax(1) == target).float().mean() > 0.9


def test_matches_torchattacks():
    model = tiny_model()
    x, y = batch(5, n=32)
    ours = fgsm(model, x, y, 0.1)
    theirs = torchattacks.FGSM(model, eps=0.1)(x, y)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)
    ours = pgd(model, x, y, 0.1, steps=10, step_size=0.02, random_start=False)
    theirs = torchattacks.PGD(model, eps=0.1, alpha=0.02, steps=10, random_start=False)(x, y)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


def test_robust_accuracy_never_exceeds_clean_accuracy():
    from trustml.adversarial.evaluation import robust_correct

    model = tiny_model(3)
    x, y = batch(9, n=64)
    clean = model(x).argmax(1) == y
    identity = robust_correct(model, x, y, lambda m, xb, yb: xb)  # a no-op "attack"
    assert torch.equal(identity, clean)
    robust = robust_correct(model, x, y, lambda m, xb, yb: pgd(m, xb, yb, 0.3, steps=10))
    assert not bool((robust & ~clean).any()) and int(robust.sum()) <= int(clean.sum())


def test_fast_cnn_shapes():
    from trustml.core.torch_utils import count_parameters
    from trustml.models.mnist import FastCNN

    model = FastCNN()
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert model.features(torch.rand(3, 1, 28, 28)).shape == (3, 100)
    assert count_parameters(model) == 166_406


@settings(max_examples=25, deadline=None)
@given(eps=st.floats(0, 1), seed=st.integers(0, 1000), queries=st.integers(1, 30))
def test_square_attack_stays_in_ball_and_box(eps, seed, queries):
    from tests.square_attack import square_attack

    model = tiny_model(seed % 5)
    x, y = batch(seed)
    x_adv = square_attack(model, x, y, eps, queries=queries,
                          generator=torch.Generator().manual_seed(seed))
    assert x_adv.shape == x.shape
    assert float((x_adv - x).abs().max()) <= eps + 1e-6
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0


def test_square_attack_fools_a_linear_model():
    from tests.square_attack import square_attack

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x, y = batch(4, n=64)
    x_adv = square_attack(model, x, y, 0.3, queries=200, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fooled_clean = (model(x).argmax(1) != y).float().mean()
        fooled = (model(x_adv).argmax(1) != y).float().mean()
    assert fooled > fooled_clean + 0.2


def test_early_stop_is_never_weaker_than_the_last_iterate():
    model = tiny_model(1)
    x, y = batch(6, n=128)
    kwargs = dict(steps=15, step_size=0.03, random_start=False)
    last = pgd(model, x, y, 0.15, **kwargs)
    early = pgd(model, x, y, 0.15, early_stop=True, **kwargs)
    with torch.no_grad():
        correct_last = model(last).argmax(1) == y
        correct_early = model(early).argmax(1) == y
    assert not bool((correct_early & ~correct_last).any())
    assert float((early - x).abs().max()) <= 0.15 + 1e-6


def test_top_targets_stay_in_ball_and_box_and_beat_each_of_their_runs():
    from trustml.adversarial.attacks import pgd_top_targets

    model = tiny_model(2)
    x, y = batch(7, n=64)
    union = pgd_top_targets(model, x, y, 0.2, targets=2, steps=10,
                            generator=torch.Generator().manual_seed(0))
    assert float((union - x).abs().max()) <= 0.2 + 1e-6
    assert float(union.min()) >= 0 and float(union.max()) <= 1
    with torch.no_grad():
        logits = model(x)
        fooled_union = model(union).argmax(1) != y
    order = logits.masked_fill(torch.nn.functional.one_hot(y, 3).bool(), -1e9).argsort(
        1, descending=True)
    for rank in range(2):  # the union breaks every image its first run breaks, and as many overall
        adv = pgd(model, x, y, 0.2, steps=10, step_size=0.4, loss="margin", target=order[:, rank],
                  early_stop=True, schedule="cosine",
                  generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            fooled = model(adv).argmax(1) != y
        if rank == 0:
            assert not (fooled & ~fooled_union & (logits.argmax(1) == y)).any()
        assert int(fooled_union.sum()) >= int((fooled & (logits.argmax(1) == y)).sum())


@pytest.mark.parametrize("targets", [0, 3, -1])
def test_top_targets_rejects_impossible_target_counts(targets):
    from trustml.adversarial.attacks import pgd_top_targets

    x, y = batch(0)
    with pytest.raises(ValueError, match="targets"):
        pgd_top_targets(tiny_model(), x, y, 0.1, targets=targets)


@given(alpha=st.floats(1e-4, 1), steps=st.integers(1, 200))
def test_step_sizes_constant_and_cosine(alpha, steps):
    from trustml.adversarial.attacks import step_sizes

    assert step_sizes(alpha, steps) == [alpha] * steps
    cosine = step_sizes(alpha, steps, "cosine")
    assert len(cosine) == steps and cosine[0] == pytest.approx(alpha)
    assert all(a >= b >= 0 for a, b in zip(cosine[:-1], cosine[1:], strict=True))
    assert cosine[-1] <= alpha * (1 + math.cos(math.pi * (steps - 1) / steps)) / 2 + 1e-12


def test_unknown_schedule_is_refused_in_one_line():
    x, y = batch(0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        pgd(tiny_model(), x, y, 0.1, schedule="linear")


def test_margin_targets_move_a_saturated_model_where_cross_entropy_cannot():
    """Logits so far apart that softmax(z)_y == 1 in float32: the cross-entropy's gradient
    loses its true-class term; the margin loss still has a gradient of norm > 0."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([200.0, 0.0, 0.0]))
        model[1].weight[0].fill_(1.0)
    x = torch.full((4, 1, 4, 4), 0.5)
    y = torch.zeros(4, dtype=torch.long)
    xr = x.clone().requires_grad_(True)
    logits = model(xr)
    assert bool((logits.softmax(1)[:, 0] == 1.0).all())
    (ce_grad,) = torch.autograd.grad(attack_loss(logits, y, "ce").sum(), xr)
    xr = x.clone().requires_grad_(True)
    (margin_grad,) = torch.autograd.grad(attack_loss(model(xr), y, "margin").sum(), xr)
    assert float(ce_grad.abs().max()) == 0.0 and float(margin_grad.abs().min()) > 0.0


def test_layer_table_adds_up_and_restores_the_mode():
    from trustml.core.torch_utils import count_parameters
    from trustml.models.mnist import FastCNN, layer_table

    model = FastCNN(2).train()
    rows = layer_table(model)
    assert model.training
    assert sum(r["parameters"] for r in rows) == count_parameters(model)
    assert rows[-1]["output"] == (10,) and rows[-2]["output"] == (200,)


def test_grey_image_bound_holds_for_any_model(real_data_root):
    """Every MNIST test image is within 0.5 of the all-grey image, so the constant attack
    x_adv = 0.5 is legal at eps 0.5 and leaves at most the largest class correct."""
    from trustml.adversarial.evaluation import robust_correct
    from trustml.data import load_mnist, to_float
    from trustml.views.adversarial import grey_bound

    x, y = load_mnist("test")
    x = to_float(x)
    assert abs(grey_bound() - 0.1135) < 1e-9
    model = tiny_model(0)
    model = nn.Sequential(nn.AvgPool2d(7), model)  # 28x28 -> 4x4 for the tiny model
    grey = robust_correct(model, x, y, lambda m, xb, yb: torch.full_like(xb, 0.5))
    assert float((torch.full_like(x, 0.5) - x).abs().max()) <= 0.5
    assert float(grey.float().mean()) <= grey_bound()


def test_shards_give_the_same_images_without_a_random_start_and_restore_the_model():
    model = tiny_model(3).train()
    flags = [p.requires_grad for p in model.parameters()]
    x, y = batch(5, n=37)
    threads = torch.get_num_threads()
    whole = pgd(model, x, y, 0.2, steps=6, random_start=False, early_stop=True)
    parts = pgd(model, x, y, 0.2, steps=6, random_start=False, early_stop=True, shards=3)
    assert torch.allclose(whole, parts, atol=1e-6)
    assert model.training and [p.requires_grad for p in model.parameters()] == flags
    assert torch.get_num_threads() == threads


def test_shards_are_deterministic_for_a_seed():
    model = tiny_model(4)
    x, y = batch(6, n=40)

    def run(seed):
        return pgd(model, x, y, 0.2, steps=4, restarts=2, shards=2,
                   generator=torch.Generator().manual_seed(seed))

    assert torch.equal(run(1), run(1))
    assert float((run(1) - x).abs().max()) <= 0.2 + 1e-6


def _pgd_out_of_place(model, x, y, eps, alphas, random_start, restarts, loss, target, generator,
                      early_stop):
    """The PGD loop as it was before its step was updated in place (a fresh tensor per
    operation): the in-place loop must give the same bits."""
    from trustml.adversarial.attacks import _fooled, _input_gradient

    best = x.clone()
    best_loss = torch.full((len(x),), float("-inf"))
    active = torch.ones(len(x), dtype=torch.bool)
    for _ in range(restarts):
        idx = active.nonzero()[:, 0]
        if len(idx) == 0:
            break
        xa, ya = x[idx], y[idx]
        ta = None if target is None else target[idx]
        if random_start:
            noise = torch.rand(xa.shape, generator=generator)
            delta = ((2 * noise - 1) * eps + xa).clamp(0.0, 1.0) - xa
        else:
            delta = torch.zeros_like(xa)
        for alpha in alphas:
            grad, logits = _input_gradient(model, xa + delta, ya, loss, ta)
            if early_stop:
                fooled = _fooled(logits, ya, ta)
                if fooled.any():
                    best[idx[fooled]] = (xa + delta)[fooled].detach()
                    active[idx[fooled]] = False
                    keep = ~fooled
                    idx, xa, ya, delta, grad = idx[keep], xa[keep], ya[keep], delta[keep], grad[keep]
                    ta = None if ta is None else ta[keep]
                    if len(idx) == 0:
                        break
            delta = (delta + alpha * grad.sign()).clamp(-eps, eps)
            delta = (xa + delta).clamp(0.0, 1.0) - xa
        if len(idx) == 0:
            continue
        x_adv = (xa + delta).detach()
        if restarts == 1:
            best[idx] = x_adv
            break
        logits = model(x_adv)
        values = attack_loss(logits, ya, loss, ta)
        success = _fooled(logits, ya, ta)
        better = success | (values > best_loss[idx])
        best[idx[better]] = x_adv[better]
        best_loss[idx] = torch.maximum(best_loss[idx], values)
        active[idx[success]] = False
    return best.detach()


@pytest.mark.parametrize("restarts,early_stop,random_start,loss,targeted", [
    (1, False, False, "ce", False), (3, False, True, "ce", False), (2, True, True, "margin", False),
    (1, True, False, "ce", True), (3, True, True, "margin", True)])
def test_in_place_steps_give_the_same_bits(restarts, early_stop, random_start, loss, targeted):
    from trustml.adversarial.attacks import step_sizes

    model = tiny_model(4).eval()
    x, y = batch(11, n=48)
    target = (y + 1) % 3 if targeted else None
    ours = pgd(model, x, y, 0.2, steps=7, restarts=restarts, early_stop=early_stop,
               random_start=random_start, loss=loss, target=target,
               generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        for p in model.parameters():
            p.requires_grad_(False)
    before = _pgd_out_of_place(model, x, y, 0.2, step_sizes(2.5 * 0.2 / 7, 7), random_start,
                               restarts, loss, target, torch.Generator().manual_seed(5),
                               early_stop)
    assert torch.equal(ours, before)


def test_pgd_takes_a_gradient_that_is_an_expanded_view():
    class SumPool(nn.Module):  # d(sum)/dx is an expanded (stride-0) tensor: never written to
        def forward(self, x):
            return x.sum((1, 2, 3))[:, None] * torch.tensor([1.0, -1.0])

    x, y = batch(2, n=6)
    x_adv = pgd(SumPool(), x, y % 2, 0.1, steps=3, random_start=False)
    assert float((x_adv - x).abs().max()) <= 0.1 + 1e-6


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 1000), restarts=st.integers(1, 2), early_stop=st.booleans(),
       random_start=st.booleans(), loss=st.sampled_from(["ce", "margin"]),
       targeted=st.booleans(), shards=st.integers(1, 3))
def test_chunked_gradients_give_the_same_images(seed, restarts, early_stop, random_start, loss,
                                                targeted, shards):
    """PGD computes its gradients in chunks (attacks.CHUNK_BYTES): any chunk gives the same
    bits, on a convolutional net with pooling as on a small MLP."""
    import trustml.adversarial.attacks as attacks
    from trustml.models.mnist import StandardCNN

    torch.manual_seed(seed)
    model = StandardCNN().eval()
    g = torch.Generator().manual_seed(seed)
    x, y = torch.rand(40, 1, 28, 28, generator=g), torch.randint(0, 10, (40,), generator=g)
    target = (y + 1) % 10 if targeted else None

    def run() -> torch.Tensor:
        return pgd(model, x, y, 0.1, steps=3, restarts=restarts, early_stop=early_stop,
                   random_start=random_start, loss=loss, target=target, shards=shards,
                   generator=torch.Generator().manual_seed(seed))

    default = attacks.CHUNK_BYTES
    attacks.CHUNK_BYTES = 2**40  # no chunking
    try:
        whole = run()
        attacks.CHUNK_BYTES = 1  # the smallest chunks: 16 images
        assert attacks.chunk_size(model, x) == 16
        assert torch.equal(run(), whole)
    finally:
        attacks.CHUNK_BYTES = default


def test_chunk_size_follows_the_activations_and_leaves_no_hook():
    import trustml.adversarial.attacks as attacks
    from trustml.models.mnist import FastCNN, StandardCNN

    x = torch.rand(1000, 1, 28, 28)
    big, small = StandardCNN().eval(), FastCNN().eval()
    # StandardCNN's leaf outputs for one image: 2 x 32x28x28 (conv, ReLU), 32x14x14 (pool),
    # 2 x 64x14x14, 64x7x7, the flattened 3136, 2 x 128, 10 and the normalised 784 pixels
    floats = 2 * 32 * 28 * 28 + 32 * 14 * 14 + 2 * 64 * 14 * 14 + 64 * 7 * 7 + 3136 + 2 * 128 + 10
    assert attacks.activation_bytes(big, x) in (4 * floats, 4 * (floats + 784))
    assert attacks.chunk_size(big, x) < attacks.chunk_size(small, x)
    assert attacks.chunk_size(big, x[:5]) == 5 and attacks.chunk_size(big, x[:0]) == 1
    assert not any(m._forward_hooks for m in big.modules())
