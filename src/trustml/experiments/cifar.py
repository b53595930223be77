"""The CIFAR-10 chapter (the second half of HW3, question 2): the standard model, its attacks,
random noise, transfer, augmentation, and the FGSM and PGD defences.

Experiments, each cached on its own so that a new evaluation never retrains a model:

* `cifar-standard`: the standard ("pretrained") model, trained from scratch; weights kept.
* `cifar-attacks` (2.1a): the standard model's robustness table (see `evaluate`), and
  `cifar-attacks-autoattack`: the same with all four AutoAttack members at every radius.
* `cifar-noise` (2.1b): FGSM against random sign noise and a random l2 direction.
* `cifar-study` (2.1c, 2.1d): models A and B on stratified halves of the training set, and A
  without augmentation: the transfer matrix and the augmentation comparison.
* `cifar-fgsm-defence` (2.2 as asked: the adversarial loss, no random start),
  `cifar-fgsmrs-defence` (2.2's cure: FGSM from a random start), `cifar-pgd-defence` (2.3:
  PGD examples appended to the batch, one forward pass of 2N) and `cifar-pgd-halves-defence`
  (2.3 mended: the same, each half in its own forward pass), `cifar-pgd-halves-11-defence`
  (the mended defence trained at 11/255): fine-tuned from the standard model, weights kept,
  and evaluated by `cifar-eval-fgsm`, `cifar-eval-fgsmrs`, `cifar-eval-pgd`,
  `cifar-eval-pgd-halves` and `cifar-eval-pgd-halves-11`.
* `cifar-gradients` (2.3b): where the adversarial loss and the appended batch differ.
* `cifar-step-costs` (2.2b, 2.3c): the training step of each objective and the attack's cost
  per image, timed side by side.

Every robust accuracy is the per-image worst case over FGSM, PGD-10, our strong PGD and
AutoAttack's members (`evaluate`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from trustml.adversarial.attacks import fgsm, pgd
from trustml.adversarial.ensemble import autoattack, worst_case
from trustml.adversarial.evaluation import robust_correct
from trustml.adversarial.specs import FGSM, PGD, strong_pgd
from trustml.core.budget import Budget, get_budget
from trustml.core.cache import Result, experiment, run_or_load
from trustml.core.chapters import declare_chapter
from trustml.core.device import get_device
from trustml.core.keys import number_key
from trustml.core.precision import precision_name
from trustml.core.progress import progress
from trustml.core.torch_utils import count_parameters, kept_weights, predict
from trustml.core.validate import UNIT, check_config
from trustml.data import load_cifar10
from trustml.fasttrain.training import Defence, Recipe, clone, to_pixels, train
from trustml.models.cifar import CifarResNet

PIXEL = 1 / 255
# the reference solution's radii were set in normalised units, (x - mean) / std; with CIFAR-10's
# per-channel standard deviations (mean 0.2507) they are these radii in pixels
REFERENCE_STD = float(np.mean((0.2470, 0.2435, 0.2616)))
REFERENCE_FGSM_EPS = 0.1 * REFERENCE_STD
REFERENCE_PGD_EPS = 0.01 * REFERENCE_STD
STANDARD_EPS = tuple(k * PIXEL for k in (1, 2, 4, 8))


# ------------------------------------------------------------------------------ the models

@dataclass(frozen=True)
class CifarModelConfig:
    """A `CifarResNet` trained from scratch with `recipe` on the training set (`part`: all of
    it, or one of two stratified halves), first `train_limit` images (smoke budget)."""

    recipe: Recipe
    widths: tuple[int, int, int] = (32, 128, 128)
    part: str = "all"  # "all", "a" or "b" (stratified halves, see measures.stratified_halves)
    train_limit: int | None = None
    test_limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self)
        if self.part not in ("all", "a", "b"):
            raise ValueError(f"CifarModelConfig.part must be 'all', 'a' or 'b', got {self.part!r}")


def training_images(config: CifarModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The uint8 training images and labels a model config trains on."""
    from trustml.adversarial.measures import stratified_halves

    x, y = load_cifar10("train")
    if config.train_limit is not None:
        x, y = x[: config.train_limit], y[: config.train_limit]
    if config.part != "all":
        a, b = stratified_halves(y, seed=0)
        idx = a if config.part == "a" else b
        x, y = x[idx], y[idx]
    return x, y


def standard_training_images(standard: Result) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images the standard model of `standard` (its cached result) trained on,
    which its fine-tuned defences train on too."""
    return training_images(CifarModelConfig(recipe=Recipe(epochs=1),
                                            train_limit=standard.meta["config"]["train_limit"]))


def test_images(limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Test pixels in [0, 1] (channels-last) and labels; the first `limit` images."""
    x, y = load_cifar10("test")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return to_pixels(x), y


TRAIN_ACCURACY_N = 10_000  # training images whose clean accuracy is measured


def train_model(config: CifarModelConfig, desc: str) -> tuple[CifarResNet, dict]:
    """Train one model from scratch; the model (eval mode, CPU) and its training metrics."""
    x, y = training_images(config)
    device = get_device()
    torch.manual_seed(config.seed)
    model = CifarResNet(config.widths).to(device, memory_format=torch.channels_last)
    model.init_whitening(to_pixels(x[:5000], device))
    start = time.perf_counter()
    history = train(model, x, y, config.recipe, seed=config.seed, desc=desc)
    seconds = time.perf_counter() - start
    model.cpu()
    xt, yt = test_images(config.test_limit)
    correct = predict(model, xt).argmax(1) == yt
    seen = min(len(x), TRAIN_ACCURACY_N)  # the training set's accuracy, for the train-test gap
    train_correct = predict(model, to_pixels(x[:seen])).argmax(1) == y[:seen]
    return model, {"history": history, "train_seconds": seconds, "n_train": len(x),
                   "images_per_second": config.recipe.epochs * len(x) / seconds,
                   "parameters": count_parameters(model), "device": str(device),
                   "precision": precision_name(device, config.recipe.bf16),
                   "test_accuracy": float(correct.float().mean()), "n_test": len(yt),
                   "train_accuracy": float(train_correct.float().mean()), "n_train_accuracy": seen,
                   "correct": correct}


def model_from(result: Result, weights: str = "model") -> CifarResNet:
    """The model of a cached result that kept its weights, in eval mode on the CPU,
    channels-last; its widths are read off the weights (a defence's config has none)."""
    state = kept_weights(result, weights)
    widths = tuple(int(state[f"groups.{i}.entry.0.weight"].shape[0]) for i in range(3))
    model = CifarResNet(widths)
    model.load_state_dict(state)
    return model.eval().to(memory_format=torch.channels_last)


_RECIPES = {"full": Recipe(epochs=10), "smoke": Recipe(epochs=1, batch_size=100)}
_SIZES = {"full": {"widths": (32, 128, 128), "train_limit": None, "test_limit": None},
          "smoke": {"widths": (8, 16, 16), "train_limit": 1000, "test_limit": 500}}
STANDARD_CONFIGS = {b: CifarModelConfig(recipe=_RECIPES[b], **_SIZES[b]) for b in _RECIPES}


@experiment("cifar-standard", version=2, configs=STANDARD_CONFIGS,
            metrics=("device", "history", "images_per_second", "n_test", "n_train",
                     "n_train_accuracy", "parameters", "precision", "test_accuracy",
                     "train_accuracy", "train_seconds"))
def standard_model(config: CifarModelConfig, budget: Budget) -> Result:
    """The standard model: CifarResNet trained from scratch, test accuracy; weights kept."""
    model, metrics = train_model(config, "CIFAR-10 standard model")
    correct = metrics.pop("correct")
    return Result(metrics=metrics, arrays={"correct": correct.numpy().astype(np.uint8)},
                  weights={"model": model.state_dict()})


def load_standard(budget: Budget | str | None = None) -> tuple[CifarResNet, Result]:
    """The standard model (trained on first use) and its cached result."""
    result = run_or_load("cifar-standard", budget=budget)
    return model_from(result), result


# -------------------------------------------------------------- one model's robustness table

AUTOATTACK_MEMBERS = ("APGD-CE", "APGD-T", "FAB-T", "Square")


@dataclass(frozen=True)
class EvalConfig:
    """How a model of the chapter is evaluated. Clean accuracy on the first `test_limit` test
    images; on the first `n`, at every radius of `eps` (ascending):

    * the weak attacks a reader would run first: FGSM, and PGD-10 (cross-entropy, `pgd_steps`
      steps of 2.5 eps / steps from a random start, the reference solution's PGD);
    * the worst case per image over those two, our strong PGD (`specs.strong_pgd`: `ce_steps`
      cross-entropy steps, then the margin loss towards each of the `pgd_targets` likeliest
      wrong classes for `targeted_steps` steps) and AutoAttack's members from torchattacks at
      the paper's settings (`apgd_steps`, `fab_steps`, `targets` target classes,
      `square_queries` queries): all four at the radii of `full_eps`, `off_members` at the
      others.

    An image counts as robust at a radius only if it is robust at every smaller one too (an
    adversarial example within a small radius lies within every larger one), so each radius
    attacks only the images the one below left robust."""

    eps: tuple[float, ...]
    test_limit: int | None
    n: int
    full_eps: tuple[float, ...]
    off_members: tuple[str, ...] = ("APGD-CE",)
    pgd_steps: int = 10
    ce_steps: int = 40
    pgd_targets: int = 3
    targeted_steps: int = 50
    apgd_steps: int = 100
    fab_steps: int = 100
    targets: int = 9
    square_queries: int = 5000
    batch_size: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT, full_eps=UNIT)
        if tuple(sorted(set(self.eps))) != tuple(self.eps):
            raise ValueError(f"EvalConfig.eps must be distinct radii in ascending order, got {self.eps}")
        if not set(self.full_eps) <= set(self.eps):
            raise ValueError(f"EvalConfig.full_eps must be radii of eps, got {self.full_eps} "
                             f"not all in {self.eps}")
        unknown = [m for m in self.off_members if m not in AUTOATTACK_MEMBERS]
        if unknown:
            raise ValueError(f"EvalConfig.off_members must be AutoAttack members "
                             f"{list(AUTOATTACK_MEMBERS)}, got {unknown}")
        if self.test_limit is not None and self.n > self.test_limit:
            raise ValueError(f"EvalConfig.n must be at most test_limit, got {self.n} > "
                             f"{self.test_limit}")

    def members(self, eps: float) -> tuple[str, ...]:
        """The AutoAttack members run at `eps`."""
        return AUTOATTACK_MEMBERS if eps in self.full_eps else self.off_members

    def strong_attacks(self, eps: float) -> list[tuple[str, object]]:
        """Our strong PGD, then AutoAttack's members at `eps`, as (name, attack) in the order run."""
        members = self.members(eps)
        aa = [(name, attack) for name, attack in
              autoattack(eps, apgd_steps=self.apgd_steps, fab_steps=self.fab_steps,
                         square_queries=self.square_queries, targets=self.targets,
                         seed=self.seed) if name in members]
        return [*strong_pgd(eps, ce_steps=self.ce_steps, targets=self.pgd_targets,
                            targeted_steps=self.targeted_steps, seed=self.seed), *aa]


EVAL_EPS = tuple(sorted((*STANDARD_EPS, REFERENCE_FGSM_EPS, REFERENCE_PGD_EPS)))
EVAL_CONFIGS = {
    # the standard model: its robust images are few, so two AutoAttack members run everywhere
    "full": EvalConfig(eps=EVAL_EPS, test_limit=None, n=1000, full_eps=(8 * PIXEL,),
                       off_members=("APGD-CE", "APGD-T")),
    "smoke": EvalConfig(eps=EVAL_EPS, test_limit=500, n=60,
                        full_eps=(8 * PIXEL,), pgd_steps=3, ce_steps=3, pgd_targets=1,
                        targeted_steps=3, apgd_steps=3, fab_steps=3, targets=1,
                        square_queries=10),
}
# the defences: APGD-CE below 8/255, all four members at 8/255
DEFENCE_EVAL = {"full": dataclasses.replace(EVAL_CONFIGS["full"], off_members=("APGD-CE",)),
                "smoke": EVAL_CONFIGS["smoke"]}
# the study's three models: the radii where they are above the floor, and 8/255
STUDY_EVAL = {"full": dataclasses.replace(DEFENCE_EVAL["full"],
                                          eps=(REFERENCE_PGD_EPS, PIXEL, 8 * PIXEL)),
              "smoke": dataclasses.replace(EVAL_CONFIGS["smoke"],
                                           eps=(REFERENCE_PGD_EPS, PIXEL, 8 * PIXEL))}


_EVAL_METRICS = ("added", "clean", "clean_n", "fgsm", "members", "n", "n_test", "pgd10",
                 "seconds", "worst")


def attack_at(name: str, config: EvalConfig, eps: float) -> FGSM | PGD:
    """The weak attacks at `eps` as specs (model, x, y) -> x_adv: FGSM (`name` "fgsm") or
    PGD-10 (`name` "pgd10": cross-entropy, `config.pgd_steps` steps, early stopping)."""
    if name == "fgsm":
        return FGSM(eps)
    if name == "pgd10":
        return PGD(eps, steps=config.pgd_steps, loss="ce", early_stop=True, seed=config.seed)
    raise ValueError(f"attack_at: name must be 'fgsm' or 'pgd10', got {name!r}")


def evaluate(model: torch.nn.Module, config: EvalConfig, label: str) -> tuple[dict, dict]:
    """Clean accuracy, FGSM and PGD-10 per radius, and the worst case per radius (see
    `EvalConfig`); per-image results as arrays (`robust/<attack>/<eps>`, and
    `broken/<member>/<eps>` for the images each strong attack broke beyond those before it)."""
    x, y = test_images(config.test_limit)
    clean = predict(model, x).argmax(1) == y
    xs, ys = x[: config.n], y[: config.n]
    metrics: dict = {"clean": float(clean.float().mean()), "n_test": len(y), "n": config.n,
                     "clean_n": float(clean[: config.n].float().mean()),
                     "fgsm": {}, "pgd10": {}, "worst": {}, "added": {}, "members": {},
                     "seconds": {}}
    arrays: dict[str, np.ndarray] = {"clean": clean.numpy().astype(np.uint8)}
    robust_below = clean[: config.n].clone()
    for eps in config.eps:
        key, weak = number_key(eps), {}
        for name in ("fgsm", "pgd10"):
            start = time.perf_counter()
            weak[name] = robust_correct(model, xs, ys, attack_at(name, config, eps),
                                        config.batch_size, desc=f"{label}: {name} {eps * 255:.2f}/255")
            metrics["seconds"][f"{name}@{eps}"] = time.perf_counter() - start
            metrics[name][key] = float(weak[name].float().mean())
            arrays[f"robust/{name}/{eps}"] = weak[name].numpy().astype(np.uint8)
        candidates = robust_below & weak["fgsm"] & weak["pgd10"]
        start = time.perf_counter()
        report = worst_case(model, xs, ys, config.strong_attacks(eps), config.batch_size,
                            candidates=candidates)
        metrics["seconds"][f"worst@{eps}"] = time.perf_counter() - start
        metrics["worst"][key] = float(report.robust.float().mean())
        metrics["added"][key] = report.added()
        metrics["members"][key] = list(report.names)
        for name in report.names:
            arrays[f"broken/{name}/{eps}"] = report.broken_by[name].numpy().astype(np.uint8)
        arrays[f"robust/worst/{eps}"] = report.robust.numpy().astype(np.uint8)
        robust_below = report.robust
    return metrics, arrays


# ------------------------------------------------------------------------ 2.1(a): the attacks

@dataclass(frozen=True)
class AttacksConfig:
    eval: EvalConfig
    samples: int = 5
    sample_eps: float = 8 * PIXEL


ATTACKS_CONFIGS = {b: AttacksConfig(EVAL_CONFIGS[b]) for b in EVAL_CONFIGS}


@experiment("cifar-attacks", version=2, configs=ATTACKS_CONFIGS, metrics=_EVAL_METRICS)
def standard_attacks(config: AttacksConfig, budget: Budget) -> Result:
    """2.1(a): the standard model's robustness table (`evaluate`); sample images that PGD-10
    breaks at `sample_eps`, with their FGSM and PGD-10 versions."""
    model, _ = load_standard(budget)
    metrics, arrays = evaluate(model, config.eval, "standard")
    x, y = test_images(config.eval.n)
    correct = predict(model, x).argmax(1) == y
    broken = torch.from_numpy(~arrays[f"robust/pgd10/{config.sample_eps}"].astype(bool)) & correct
    pick = broken.nonzero()[: config.samples, 0]
    xp, yp = x[pick], y[pick]
    adv = {"fgsm": fgsm(model, xp, yp, config.sample_eps),
           "pgd": attack_at("pgd10", config.eval, config.sample_eps)(model, xp, yp)}
    arrays.update({"samples/clean": xp.numpy(), "samples/label": yp.numpy(),
                   "samples/index": pick.numpy()})
    for name, xa in [("clean", xp), *adv.items()]:
        probs = predict(model, xa).softmax(1)
        arrays[f"samples/{name}/pred"] = probs.argmax(1).numpy()
        arrays[f"samples/{name}/confidence"] = probs.amax(1).numpy()
        if name != "clean":
            arrays[f"samples/{name}"] = xa.numpy()
    return Result(metrics=metrics, arrays=arrays)


def complete(model: torch.nn.Module, base: Result, config: EvalConfig,
             label: str) -> tuple[dict, dict]:
    """`base` (an `evaluate` result of `model`) completed to `config`: at each radius, the
    AutoAttack members `config` runs there and `base` did not, each on the images still robust
    (robust in `base` there, and at every smaller radius after completion); every other number
    as `base` has it, but that an image a new member breaks at a radius leaves the ensembles of
    the larger radii (as in `evaluate`). Metrics and arrays as `evaluate` returns them, with the
    new members' columns and their seconds (`completed@<eps>`)."""
    ran = base.metrics["members"]
    keys = [number_key(eps) for eps in config.eps]
    if sorted(ran) != sorted(keys) or base.metrics["n"] != config.n:
        raise ValueError(f"complete: base must evaluate the radii {list(config.eps)} on {config.n} "
                         f"images, as config does (got radii {sorted(ran)} on "
                         f"{base.metrics['n']}): evaluate with the same EvalConfig but its members")
    x, y = test_images(config.test_limit)
    xs, ys = x[: config.n], y[: config.n]
    metrics = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.metrics.items()}
    arrays = dict(base.arrays)
    robust_below: torch.Tensor | None = None
    for eps, key in zip(config.eps, keys, strict=True):
        attacks = config.strong_attacks(eps)
        names = [name for name, _ in attacks]
        if [n for n in names if n in ran[key]] != list(ran[key]):
            raise ValueError(f"complete: base ran {ran[key]} at {eps}, which config's attacks "
                             f"{names} do not include in that order")
        robust = torch.from_numpy(arrays[f"robust/worst/{eps}"].astype(bool))
        if robust_below is not None:  # broken below by a new member: no candidate here
            robust &= robust_below
            for name in ran[key]:
                broken = arrays[f"broken/{name}/{eps}"].astype(bool) & robust_below.numpy()
                arrays[f"broken/{name}/{eps}"] = broken.astype(np.uint8)
                metrics["added"][key] = {**metrics["added"][key], name: int(broken.sum())}
        todo = [(name, attack) for name, attack in attacks if name not in ran[key]]
        if todo:
            start = time.perf_counter()
            report = worst_case(model, xs, ys, todo, config.batch_size, candidates=robust)
            metrics["seconds"][f"completed@{eps}"] = time.perf_counter() - start
            metrics["added"][key] = {**metrics["added"][key], **report.added()}
            metrics["members"][key] = [*ran[key], *report.names]
            for name in report.names:
                arrays[f"broken/{name}/{eps}"] = report.broken_by[name].numpy().astype(np.uint8)
            robust = report.robust
            print(f"{label}: {', '.join(report.names)} at {eps * 255:.2f}/255 broke "
                  f"{sum(report.added().values())} more", flush=True)
        metrics["worst"][key] = float(robust.float().mean())
        arrays[f"robust/worst/{eps}"] = robust.numpy().astype(np.uint8)
        robust_below = robust
    return metrics, arrays


@dataclass(frozen=True)
class CompletedConfig:
    """The standard model's evaluation with AutoAttack's four members at every radius: `eval`
    is `cifar-attacks`' evaluation with `full_eps` every radius."""

    eval: EvalConfig

    def __post_init__(self) -> None:
        check_config(self)


COMPLETED_CONFIGS = {b: CompletedConfig(dataclasses.replace(c.eval, full_eps=c.eval.eps))
                     for b, c in ATTACKS_CONFIGS.items()}


@experiment("cifar-attacks-autoattack", version=1, configs=COMPLETED_CONFIGS,
            metrics=_EVAL_METRICS)
def standard_attacks_completed(config: CompletedConfig, budget: Budget) -> Result:
    """2.1(a): the standard model's robustness table with all four AutoAttack members at every
    radius: `cifar-attacks` completed (`complete`), its sample images kept."""
    base_config = ATTACKS_CONFIGS[budget.name].eval
    if dataclasses.replace(config.eval, full_eps=base_config.full_eps,
                           off_members=base_config.off_members) != base_config:
        raise ValueError("cifar-attacks-autoattack: config.eval must be cifar-attacks' evaluation "
                         "but for its members (full_eps, off_members)")
    model, _ = load_standard(budget)
    metrics, arrays = complete(model, run_or_load("cifar-attacks", budget=budget), config.eval,
                               "standard")
    return Result(metrics=metrics, arrays=arrays)


# --------------------------------------------------------------- 2.1(b): FGSM against noise

@dataclass(frozen=True)
class NoiseConfig:
    eps: tuple[float, ...]
    n: int
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT)


NOISE_CONFIGS = {"full": NoiseConfig(eps=STANDARD_EPS, n=2000),
                 "smoke": NoiseConfig(eps=(2 * PIXEL, 8 * PIXEL), n=100)}


@experiment("cifar-noise", version=2, configs=NOISE_CONFIGS,
            metrics=("clean", "clean_loss", "dimension", "grad_l1", "grad_l2", "n", "runs"))
def noise(config: NoiseConfig, budget: Budget) -> Result:
    """2.1(b): FGSM, random sign noise and a random l2 direction of FGSM's norms: accuracy, loss
    increase and its first-order prediction (the alignment with the input gradient)."""
    from trustml.adversarial.measures import input_gradients, l2_noise, loss_change, sign_noise

    model, _ = load_standard(budget)
    x, y = test_images(config.n)
    loss, grad = input_gradients(model, x, y)
    gen = torch.Generator().manual_seed(config.seed)
    metrics: dict = {"n": config.n, "clean_loss": float(loss.mean()),
                     "clean": float((predict(model, x).argmax(1) == y).float().mean()),
                     "grad_l1": float(grad.flatten(1).abs().sum(1).mean()),
                     "grad_l2": float(grad.flatten(1).norm(dim=1).mean()),
                     "dimension": x[0].numel(), "runs": {}}
    arrays: dict[str, np.ndarray] = {}
    for eps in config.eps:
        perturbations = {"fgsm": eps * grad.sign(), "sign": sign_noise(x, eps, gen),
                         "l2": l2_noise(x, eps, gen)}
        for name, eta in perturbations.items():
            out = loss_change(model, x, y, eta, grad, loss)
            metrics["runs"][f"{name}@{eps}"] = {
                "accuracy": float(out["correct"].float().mean()),
                "increase": float(out["increase"].mean()),
                "first_order": float(out["first_order"].mean()),
                "first_order_sd": float(out["first_order"].std()),
                "linf": float(out["linf"].max()), "l2": float(out["l2"].mean())}
            arrays[f"increase/{name}/{eps}"] = out["increase"].numpy()
            arrays[f"first_order/{name}/{eps}"] = out["first_order"].numpy()
    return Result(metrics=metrics, arrays=arrays)


# ----------------------------------------------------- 2.1(c) transfer and 2.1(d) augmentation

@dataclass(frozen=True)
class StudyConfig:
    """Model A and model B trained alike on the two stratified halves of the training set, and
    model A's half trained again without augmentation (no flips, no translations)."""

    model: CifarModelConfig  # model A; B and A without augmentation are derived from it
    eval: EvalConfig
    transfer_eps: tuple[float, ...]

    def __post_init__(self) -> None:
        check_config(self, transfer_eps=UNIT)
        if self.model.part != "a":
            raise ValueError(f"StudyConfig.model must be model A (part 'a'), got {self.model.part!r}")

    def models(self) -> dict[str, CifarModelConfig]:
        plain = dataclasses.replace(self.model.recipe, flip=False, translate=0)
        return {"A": self.model, "B": dataclasses.replace(self.model, part="b"),
                "A-noaug": dataclasses.replace(self.model, recipe=plain)}


STUDY_CONFIGS = {
    "full": StudyConfig(CifarModelConfig(Recipe(epochs=3), part="a", **_SIZES["full"]),
                        STUDY_EVAL["full"], transfer_eps=(4 * PIXEL, 8 * PIXEL)),
    "smoke": StudyConfig(CifarModelConfig(_RECIPES["smoke"], part="a", **_SIZES["smoke"]),
                         STUDY_EVAL["smoke"], transfer_eps=(8 * PIXEL,)),
}


@experiment("cifar-study", version=2, configs=STUDY_CONFIGS,
            metrics=("agreement", "agreement_when_both_wrong", "gradient_cosine", "models",
                     "sign_agreement", "transfer", "transfer_n_both_correct"))
def study(config: StudyConfig, budget: Budget) -> Result:
    """2.1(c, d): models A, B (stratified halves) and A without augmentation; their robustness
    tables (the worst case) and training accuracy, the transfer matrix of FGSM and PGD-10
    examples, A and B's agreement and input-gradient cosine."""
    from trustml.adversarial.measures import gradient_cosine, input_gradients, transfer_accuracy

    metrics: dict = {"models": {}, "transfer": {}}
    arrays: dict[str, np.ndarray] = {}
    models = {}
    for name, model_config in config.models().items():
        model, train_metrics = train_model(model_config, f"CIFAR-10 model {name}")
        train_metrics.pop("correct")
        model_metrics, model_arrays = evaluate(model, config.eval, name)
        metrics["models"][name] = {**train_metrics, **model_metrics}
        arrays.update({f"{name}/{k}": v for k, v in model_arrays.items()})
        models[name] = model
    x, y = test_images(config.eval.test_limit)
    pred = {k: predict(models[k], x).argmax(1) for k in ("A", "B")}
    metrics["agreement"] = float((pred["A"] == pred["B"]).float().mean())
    metrics["agreement_when_both_wrong"] = float(
        (pred["A"] == pred["B"])[(pred["A"] != y) & (pred["B"] != y)].float().mean())
    xs, ys = x[: config.eval.n], y[: config.eval.n]
    grads = {k: input_gradients(models[k], xs, ys)[1] for k in ("A", "B")}
    cos = gradient_cosine(grads["A"], grads["B"])
    metrics["gradient_cosine"] = float(cos.mean())
    metrics["sign_agreement"] = float((grads["A"].sign() == grads["B"].sign()).float().mean())
    arrays["gradient_cosine"] = cos.numpy()
    both = (pred["A"][: config.eval.n] == ys) & (pred["B"][: config.eval.n] == ys)
    metrics["transfer_n_both_correct"] = int(both.sum())
    for eps in config.transfer_eps:
        for attack_name in ("fgsm", "pgd10"):
            attack = attack_at(attack_name, config.eval, eps)
            for source in ("A", "B"):
                x_adv = attack(models[source], xs, ys)
                for target in ("A", "B"):  # the target's predictions on the source's examples
                    metrics["transfer"][f"{attack_name}@{eps}/{source}->{target}"] = {
                        "accuracy": transfer_accuracy(models[target], x_adv, ys),
                        "accuracy_both_correct": transfer_accuracy(models[target], x_adv, ys,
                                                                   both),
                    }
    return Result(metrics=metrics, arrays=arrays)


# ---------------------------------------------------------------- 2.2 and 2.3: the defences

@dataclass(frozen=True)
class DefenceConfig:
    """A defence fine-tuned from the standard model with `objective` ("fgsm_mix": the adversarial
    loss of 2.2; "fgsm_rs": FGSM from a random start, 2.2's cure; "pgd_append": PGD examples
    appended to the batch, 2.3) and `recipe`; its PGD-10 accuracy is checked during training on
    the last `check_n` test images, held out from every evaluation (a curve and the
    catastrophic-overfitting flag: no model is selected with it). The weights are kept."""

    objective: str
    recipe: Recipe
    defence: Defence
    check_n: int = 500

    def __post_init__(self) -> None:
        check_config(self)
        if self.objective not in ADVERSARIAL_OBJECTIVES:
            raise ValueError(f"DefenceConfig.objective must be one of "
                             f"{list(ADVERSARIAL_OBJECTIVES)}, got {self.objective!r}")


ADVERSARIAL_OBJECTIVES = ("fgsm_mix", "fgsm_rs", "pgd_append", "pgd_halves")
# fine-tuning from the standard model: a fifth of its peak rate, a short warm-up, no smoothing
_FINE_TUNE = {"lr": 0.2, "warmup": 0.1, "start_lr": 0.2, "final_lr": 0.05, "label_smoothing": 0.0}
_SMOKE_DEFENCE = {"checks": 2, "check_images": 50, "check_steps": 2}


def _defence_configs(objective: str, epochs: float, **defence) -> dict[str, DefenceConfig]:
    smoke = {**defence, **_SMOKE_DEFENCE}
    if "pgd_steps" in smoke:
        smoke["pgd_steps"] = 2
    defence = {"eps": 8 * PIXEL, **defence}
    smoke = {**smoke, "eps": defence["eps"]}
    return {"full": DefenceConfig(objective, Recipe(epochs=epochs, **_FINE_TUNE),
                                  Defence(**defence)),
            "smoke": DefenceConfig(objective, Recipe(epochs=min(epochs, 1), batch_size=100,
                                                     **_FINE_TUNE),
                                   Defence(**smoke), check_n=50)}


# 2.2 as asked: one epoch of the adversarial loss (alpha 0.5), checked 8 times
FGSM_DEFENCE_CONFIGS = _defence_configs("fgsm_mix", 1)
# 2.2's cure (Wong et al. 2020): FGSM from a uniform random start, step 1.25 eps, ten epochs,
# checked twice per epoch
FGSMRS_DEFENCE_CONFIGS = _defence_configs("fgsm_rs", 10, checks=20)
# 2.3: ten-step PGD examples (step 2.5 eps / 10 = 2/255) appended to the batch, eight epochs,
# checked twice per epoch. Four steps of 2.5 eps / 4 (six epochs) masked the gradient in the same
# way: held-out PGD-10 41 %, clean 90 %, the worst case at 8/255 2 %. (The evaluation and the step
# costs do not hash this config: bump `cifar-eval-pgd` and `cifar-step-costs` when it changes.)
PGD_DEFENCE_CONFIGS = _defence_configs("pgd_append", 8, pgd_steps=10, checks=16)
# 2.3 mended: the same examples, loss and recipe, each half through the network in its own
# forward pass, so each has its own batch-norm statistics (bump `cifar-eval-pgd-halves` and
# `cifar-step-costs` when it changes)
PGD_HALVES_DEFENCE_CONFIGS = _defence_configs("pgd_halves", 8, pgd_steps=10, checks=16)
# 2.3 at a larger radius: the two-pass defence trained at 11/255 (its clean half pulls towards
# the clean optimum; a larger training radius pushes back), checked at 8/255 like the others
PGD_HALVES_11_DEFENCE_CONFIGS = _defence_configs("pgd_halves", 8, pgd_steps=10, checks=16,
                                                 eps=11 * PIXEL, check_eps=8 * PIXEL)
DEFENCES = {"fgsm": "FGSM defence", "fgsmrs": "FGSM-RS defence", "pgd": "PGD defence, one pass",
            "pgd-halves": "PGD defence, two passes",
            "pgd-halves-11": "PGD defence, two passes, 11/255"}
_DEFENCE_METRICS = ("epochs", "history", "n_train", "precision", "seconds_per_epoch",
                    "train_seconds")


def _fine_tune(config: DefenceConfig, budget: Budget, label: str) -> Result:
    standard, standard_result = load_standard(budget)
    model = clone(standard)
    device = get_device()
    model.to(device)
    x, y = standard_training_images(standard_result)
    xt, yt = test_images(standard_result.meta["config"]["test_limit"])
    check = (xt[-config.check_n:].to(device), yt[-config.check_n:].to(device))
    start = time.perf_counter()
    history = train(model, x, y, config.recipe, seed=0, objective=config.objective,
                    defence=config.defence, check=check, desc=label)
    seconds = time.perf_counter() - start
    model.cpu().eval()
    metrics = {"history": history, "train_seconds": seconds, "n_train": len(x),
               "epochs": config.recipe.epochs, "seconds_per_epoch": seconds / config.recipe.epochs,
               "precision": precision_name(device, config.recipe.bf16)}
    return Result(metrics=metrics, weights={"model": model.state_dict()})


@experiment("cifar-fgsm-defence", version=2, configs=FGSM_DEFENCE_CONFIGS,
            metrics=_DEFENCE_METRICS)
def fine_tune_fgsm_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.2: fine-tuning with the adversarial loss (alpha = 0.5, FGSM); PGD-10 checks; weights."""
    return _fine_tune(config, budget, DEFENCES["fgsm"])


@experiment("cifar-fgsmrs-defence", version=1, configs=FGSMRS_DEFENCE_CONFIGS,
            metrics=_DEFENCE_METRICS)
def fine_tune_fgsmrs_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.2's cure: fine-tuning on FGSM examples from a random start; PGD-10 checks; weights."""
    return _fine_tune(config, budget, DEFENCES["fgsmrs"])


@experiment("cifar-pgd-defence", version=2, configs=PGD_DEFENCE_CONFIGS,
            metrics=_DEFENCE_METRICS)
def pgd_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.3(a): fine-tuning with PGD examples appended to the batch; PGD-10 checks; weights."""
    return _fine_tune(config, budget, DEFENCES["pgd"])


@experiment("cifar-pgd-halves-defence", version=1, configs=PGD_HALVES_DEFENCE_CONFIGS,
            metrics=_DEFENCE_METRICS)
def pgd_halves_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.3(a) mended: the appended batch with each half's own batch-norm statistics."""
    return _fine_tune(config, budget, DEFENCES["pgd-halves"])


@experiment("cifar-pgd-halves-11-defence", version=1, configs=PGD_HALVES_11_DEFENCE_CONFIGS,
            metrics=_DEFENCE_METRICS)
def pgd_halves_11_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.3 at a larger radius: the two-pass PGD defence trained at 11/255, checked at 8/255."""
    return _fine_tune(config, budget, DEFENCES["pgd-halves-11"])


def load_defence(defence: str, budget: Budget | str | None = None) -> tuple[CifarResNet, Result]:
    """A defence's model (trained on first use) and its cached result; `defence` is one of
    `DEFENCES`."""
    if defence not in DEFENCES:
        raise ValueError(f"defence must be one of {list(DEFENCES)}, got {defence!r}")
    result = run_or_load(f"cifar-{defence}-defence", budget=budget)
    return model_from(result), result


@dataclass(frozen=True)
class DefenceEvalConfig:
    """The robustness table (`evaluate`) of the defence `defence` (one of `DEFENCES`)."""

    defence: str
    eval: EvalConfig

    def __post_init__(self) -> None:
        check_config(self)
        if self.defence not in DEFENCES:
            raise ValueError(f"DefenceEvalConfig.defence must be one of {list(DEFENCES)}, got "
                             f"{self.defence!r}")


def _evaluate_defence(config: DefenceEvalConfig, budget: Budget) -> Result:
    model, _ = load_defence(config.defence, budget)
    metrics, arrays = evaluate(model, config.eval, DEFENCES[config.defence])
    return Result(metrics=metrics, arrays=arrays)


def _eval_configs(defence: str) -> dict[str, DefenceEvalConfig]:
    return {b: DefenceEvalConfig(defence, DEFENCE_EVAL[b]) for b in DEFENCE_EVAL}


@experiment("cifar-eval-fgsm", version=1, configs=_eval_configs("fgsm"), metrics=_EVAL_METRICS)
def evaluate_fgsm_defence(config: DefenceEvalConfig, budget: Budget) -> Result:
    """2.2: the FGSM defence's robustness table (the worst case per radius)."""
    return _evaluate_defence(config, budget)


@experiment("cifar-eval-fgsmrs", version=1, configs=_eval_configs("fgsmrs"),
            metrics=_EVAL_METRICS)
def evaluate_fgsmrs_defence(config: DefenceEvalConfig, budget: Budget) -> Result:
    """2.2: the FGSM-RS defence's robustness table (the worst case per radius)."""
    return _evaluate_defence(config, budget)


@experiment("cifar-eval-pgd", version=2, configs=_eval_configs("pgd"), metrics=_EVAL_METRICS)
def evaluate_pgd_defence(config: DefenceEvalConfig, budget: Budget) -> Result:
    """2.3: the PGD defence's robustness table (the worst case per radius)."""
    return _evaluate_defence(config, budget)


@experiment("cifar-eval-pgd-halves", version=1, configs=_eval_configs("pgd-halves"),
            metrics=_EVAL_METRICS)
def evaluate_pgd_halves_defence(config: DefenceEvalConfig, budget: Budget) -> Result:
    """2.3: the two-pass PGD defence's robustness table (the worst case per radius)."""
    return _evaluate_defence(config, budget)


@experiment("cifar-eval-pgd-halves-11", version=1, configs=_eval_configs("pgd-halves-11"),
            metrics=_EVAL_METRICS)
def evaluate_pgd_halves_11_defence(config: DefenceEvalConfig, budget: Budget) -> Result:
    """2.3: the robustness table of the two-pass PGD defence trained at 11/255."""
    return _evaluate_defence(config, budget)


# --------------------------------------------- 2.2(b), 2.3(c): what a training step costs

@dataclass(frozen=True)
class StepCostsConfig:
    """Each objective's training step timed side by side on the standard model's copy
    (`steps` steps after `warmup` untimed ones, `rounds` rounds alternating the objectives,
    the median kept), and the cost per image of FGSM and of PGD-10 with and without early
    stopping on the standard model's first `attack_n` test images."""

    steps: int
    warmup: int = 2
    rounds: int = 3
    attack_n: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self)


STEP_COSTS_CONFIGS = {"full": StepCostsConfig(steps=6), "smoke": StepCostsConfig(
    steps=1, warmup=1, rounds=1, attack_n=20)}
_STEP_OBJECTIVES = {"clean": None, "fgsm_mix": FGSM_DEFENCE_CONFIGS,
                    "fgsm_rs": FGSMRS_DEFENCE_CONFIGS, "pgd_append": PGD_DEFENCE_CONFIGS,
                    "pgd_halves": PGD_HALVES_DEFENCE_CONFIGS}


def _objective_settings(objective: str, budget: Budget) -> tuple[Recipe, Defence | None]:
    """The recipe and defence settings `objective` trains with at `budget`: the standard
    model's recipe for clean training, the defence's own for the others."""
    configs = _STEP_OBJECTIVES[objective]
    if configs is None:
        return STANDARD_CONFIGS[budget.name].recipe, None
    return configs[budget.name].recipe, configs[budget.name].defence


@experiment("cifar-step-costs", version=3, configs=STEP_COSTS_CONFIGS,
            metrics=("attack_seconds_per_image", "batch_size", "images_per_second", "precision",
                     "robust_early_stop", "robust_full"))
def step_costs(config: StepCostsConfig, budget: Budget) -> Result:
    """2.2(b), 2.3(c): training images per second of each objective, timed side by side, and
    the seconds per image of FGSM and of PGD-10 with and without early stopping."""
    standard, result = load_standard(budget)
    device = get_device()
    x, y = standard_training_images(result)
    times: dict[str, list[float]] = {name: [] for name in _STEP_OBJECTIVES}
    for _ in progress(range(config.rounds), desc="step costs"):
        for name in _STEP_OBJECTIVES:
            recipe, defence = _objective_settings(name, budget)
            n = (config.warmup + config.steps) * recipe.batch_size
            model = clone(standard).to(device)
            timer: list[float] = []
            train(model, x[:n], y[:n], dataclasses.replace(recipe, epochs=1), seed=config.seed,
                  objective=name, defence=defence, check=None, desc=f"step cost {name}",
                  step_timer=timer)
            times[name].append(config.steps * recipe.batch_size / sum(timer[config.warmup:]))
    rate = {name: float(np.median(v)) for name, v in times.items()}
    # FGSM, and PGD-10 with and without early stopping (the evaluation's weak attacks)
    xt, yt = test_images(config.attack_n)
    eval_config = EVAL_CONFIGS[budget.name]
    seconds = {}
    robust = {}
    pgd10 = dataclasses.replace(attack_at("pgd10", eval_config, 8 * PIXEL), seed=config.seed)
    attacks = {"fgsm": attack_at("fgsm", eval_config, 8 * PIXEL), "early_stop": pgd10,
               "full": dataclasses.replace(pgd10, early_stop=False)}
    for name, attack in attacks.items():
        start = time.perf_counter()
        robust[name] = robust_correct(standard, xt, yt, attack, eval_config.batch_size)
        seconds[name] = (time.perf_counter() - start) / len(yt)
    recipe = STANDARD_CONFIGS[budget.name].recipe
    return Result(metrics={"images_per_second": rate, "rounds": times, "batch_size": recipe.batch_size,
                           "precision": precision_name(device, recipe.bf16),
                           "attack_seconds_per_image": seconds,
                           "robust_early_stop": float(robust["early_stop"].float().mean()),
                           "robust_full": float(robust["full"].float().mean())})


# ------------------------------------------------- 2.3(b): adversarial loss vs appended batch

@dataclass(frozen=True)
class GradientsConfig:
    n: int
    eps: float = 8 * PIXEL
    pgd_steps: int = 10
    alphas: tuple[float, ...] = (0.25, 0.5, 0.75)
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT, alphas=UNIT)


GRADIENTS_CONFIGS = {"full": GradientsConfig(n=250), "smoke": GradientsConfig(n=20, pgd_steps=2)}


@experiment("cifar-gradients", version=2, configs=GRADIENTS_CONFIGS,
            metrics=("eps", "n", "rows"))
def gradients(config: GradientsConfig, budget: Budget) -> Result:
    """2.3(b): the parameter gradients of the adversarial loss and of the appended batch, with
    batch-norm in eval and in train mode, for FGSM and PGD examples and several alphas."""
    from trustml.adversarial.measures import objective_gradients

    model, _ = load_standard(budget)
    x, y = load_cifar10("train")
    x, y = to_pixels(x[: config.n]), y[: config.n]
    examples = {"fgsm": fgsm(model, x, y, config.eps),
                "pgd": pgd(model, x, y, config.eps, steps=config.pgd_steps,
                           generator=torch.Generator().manual_seed(config.seed))}
    rows = []
    for attack, x_adv in examples.items():
        for train_mode in (False, True):
            for alpha in config.alphas:
                g_mix, g_app = objective_gradients(model, x, y, x_adv, alpha, train_mode)
                rows.append({"attack": attack, "batch_norm": "train" if train_mode else "eval",
                             "alpha": alpha,
                             "cosine": float(torch.nn.functional.cosine_similarity(
                                 g_mix, g_app, dim=0)),
                             "relative_difference": float((g_mix - g_app).norm() / g_mix.norm())})
    return Result(metrics={"n": config.n, "eps": config.eps, "rows": rows})


CHAPTER = declare_chapter(
    "chapters/ext-cifar10.qmd",
    ("cifar-standard", "cifar-attacks", "cifar-attacks-autoattack", "cifar-noise",
     "cifar-gradients", "cifar-fgsm-defence",
     "cifar-eval-fgsm", "cifar-fgsmrs-defence", "cifar-eval-fgsmrs", "cifar-pgd-defence",
     "cifar-eval-pgd", "cifar-pgd-halves-defence", "cifar-eval-pgd-halves",
     "cifar-pgd-halves-11-defence", "cifar-eval-pgd-halves-11", "cifar-study", "cifar-step-costs"),
    "trustml.views.cifar", command="ext-cifar",
    title="extension: CIFAR-10 attacks and defences (HW3 question 2)",
    parts={  # each part with its prerequisites
        "2.1a": ("cifar-standard", "cifar-attacks", "cifar-attacks-autoattack"),
        "2.1b": ("cifar-standard", "cifar-noise"),
        "2.1c": ("cifar-study",),
        "2.1d": ("cifar-study",),
        "2.2": ("cifar-standard", "cifar-fgsm-defence", "cifar-eval-fgsm",
                "cifar-fgsmrs-defence", "cifar-eval-fgsmrs", "cifar-step-costs"),
        "2.3": ("cifar-standard", "cifar-pgd-defence", "cifar-eval-pgd",
                "cifar-pgd-halves-defence", "cifar-eval-pgd-halves",
                "cifar-pgd-halves-11-defence", "cifar-eval-pgd-halves-11", "cifar-gradients",
                "cifar-step-costs"),
    })

# the appendix that extends this chapter beyond the questions: the same experiments
APPENDIX = declare_chapter("chapters/app-cifar.qmd", CHAPTER.experiments, CHAPTER.view)


def main_attack_precision(budget: str | None = None) -> int:
    """`python -m trustml bench attack-precision`: `adversarial.bench.attack_precision` on the
    FGSM-RS defence at 8/255, first 1,000 test images (smoke: 20 images, 2 steps)."""
    from trustml.adversarial.bench import attack_precision

    smoke = get_budget(budget).name == "smoke"
    n, strong = (20, {"ce_steps": 2, "targets": 1, "targeted_steps": 2}) if smoke else (1000, {})
    model = model_from(run_or_load("cifar-fgsmrs-defence", budget=budget))
    x, y = test_images(n)
    r = attack_precision(model, x, y, 8 * PIXEL, **strong)
    print(f"our strong PGD on the FGSM-RS CIFAR-10 defence, 8/255, first {n:,} test images "
          f"(clean {100 * r['compare']['clean']:.1f} %); robust after each member:")
    for precision in ("float32", "bf16"):
        row = r[precision]
        members = ", ".join(f"{k} {100 * v:.1f} %" for k, v in row.items() if k != "seconds")
        print(f"  steps in {precision:8s} {members}  ({row['seconds']:.0f} s)")
    c = r["compare"]
    print(f"  images only the float32 attack broke: {c['broken_only_in_float32']}; "
          f"only the bf16 one: {c['broken_only_in_bf16']}")
    return 0
