"""The CIFAR-10 chapter (the second half of HW3, question 2): the standard model, its attacks,
random noise, transfer, augmentation, and the FGSM and PGD defences.

Experiments, each cached on its own so that a new evaluation never retrains a model:

* `cifar-standard`: the standard ("pretrained") model, trained from scratch; weights kept.
* `cifar-attacks` (2.1a): clean, FGSM and PGD accuracy of the standard model, AutoAttack.
* `cifar-noise` (2.1b): FGSM against random sign noise and a random l2 direction.
* `cifar-study` (2.1c, 2.1d): models A and B on stratified halves of the training set, and A
  without augmentation: the transfer matrix and the augmentation comparison.
* `cifar-fgsm-defence` (2.2) and `cifar-pgd-defence` (2.3a, c): the two defences, fine-tuned
  from the standard model.
* `cifar-gradients` (2.3b): where the adversarial loss and the appended batch differ.
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
from trustml.adversarial.specs import FGSM, PGD
from trustml.core.budget import Budget
from trustml.core.cache import Result, experiment, run_or_load
from trustml.core.chapters import declare_chapter
from trustml.core.device import get_device
from trustml.core.keys import number_key
from trustml.core.torch_utils import count_parameters, load_model, predict
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


def test_images(limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Test pixels in [0, 1] (channels-last) and labels; the first `limit` images."""
    x, y = load_cifar10("test")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return to_pixels(x), y


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
    return model, {"history": history, "train_seconds": seconds, "n_train": len(x),
                   "images_per_second": config.recipe.epochs * len(x) / seconds,
                   "parameters": count_parameters(model), "device": str(device),
                   "test_accuracy": float(correct.float().mean()), "n_test": len(yt),
                   "correct": correct}


def model_from(result: Result) -> CifarResNet:
    """The model of a cached result that kept its weights, in eval mode, channels-last."""
    model = load_model(result, CifarResNet, widths="widths")
    return model.to(memory_format=torch.channels_last)


_RECIPES = {"full": Recipe(epochs=10), "smoke": Recipe(epochs=1, batch_size=100)}
_SIZES = {"full": {"widths": (32, 128, 128), "train_limit": None, "test_limit": None},
          "smoke": {"widths": (8, 16, 16), "train_limit": 1000, "test_limit": 500}}
STANDARD_CONFIGS = {b: CifarModelConfig(recipe=_RECIPES[b], **_SIZES[b]) for b in _RECIPES}


@experiment("cifar-standard", version=1, configs=STANDARD_CONFIGS,
            metrics=("device", "history", "images_per_second", "n_test", "n_train", "parameters",
                     "test_accuracy", "train_seconds"))
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

@dataclass(frozen=True)
class EvalConfig:
    """How every model of the chapter is evaluated: clean accuracy on the first `test_limit`
    test images; FGSM and PGD (cross-entropy, `pgd_steps` steps of 2.5 eps / steps from a random
    start, as the reference's 10-iteration PGD) on the first `n` at every radius of `eps`;
    AutoAttack on the first `autoattack_n` at `autoattack_eps`, on the images PGD left robust.
    AutoAttack runs torchattacks' APGD-CE, APGD-T, FAB-T and Square with `apgd_steps`,
    `fab_steps`, `targets` target classes and `square_queries` queries."""

    eps: tuple[float, ...]
    autoattack_eps: float
    test_limit: int | None
    n: int
    autoattack_n: int
    pgd_steps: int = 10
    apgd_steps: int = 100
    fab_steps: int = 100
    targets: int = 3
    square_queries: int = 1000
    batch_size: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT, autoattack_eps=UNIT)
        if self.autoattack_eps not in self.eps or self.autoattack_n > self.n:
            raise ValueError("EvalConfig: autoattack_eps must be one of eps and autoattack_n at "
                             f"most n, got {self.autoattack_eps} not in {self.eps} or "
                             f"{self.autoattack_n} > {self.n}")


EVAL_EPS = tuple(sorted((*STANDARD_EPS, REFERENCE_FGSM_EPS, REFERENCE_PGD_EPS, 16 * PIXEL)))
EVAL_CONFIGS = {
    "full": EvalConfig(eps=EVAL_EPS, autoattack_eps=8 * PIXEL, test_limit=None, n=2000,
                       autoattack_n=1000),
    "smoke": EvalConfig(eps=(REFERENCE_PGD_EPS, 8 * PIXEL), autoattack_eps=8 * PIXEL,
                        test_limit=500, n=100, autoattack_n=50, pgd_steps=3, apgd_steps=3,
                        fab_steps=3, targets=1, square_queries=10),
}


def attack_at(name: str, config: EvalConfig, eps: float) -> FGSM | PGD:
    """The chapter's FGSM or PGD (`name`) at `eps`, as an attack spec (model, x, y) -> x_adv; PGD
    is cross-entropy PGD with `config.pgd_steps` steps and early stopping."""
    if name == "fgsm":
        return FGSM(eps)
    return PGD(eps, steps=config.pgd_steps, loss="ce", early_stop=True, seed=config.seed)


def evaluate(model: torch.nn.Module, config: EvalConfig, label: str) -> tuple[dict, dict]:
    """Clean, FGSM and PGD accuracy per radius, and AutoAttack; per-image results as arrays."""
    x, y = test_images(config.test_limit)
    clean = predict(model, x).argmax(1) == y
    xs, ys = x[: config.n], y[: config.n]
    metrics: dict = {"clean": float(clean.float().mean()), "n_test": len(y), "n": config.n,
                     "fgsm": {}, "pgd": {}, "seconds": {}}
    arrays: dict[str, np.ndarray] = {"clean": clean.numpy().astype(np.uint8)}
    for eps in config.eps:
        for name in ("fgsm", "pgd"):
            attack = attack_at(name, config, eps)
            start = time.perf_counter()
            robust = robust_correct(model, xs, ys, attack, config.batch_size,
                                    desc=f"{label}: {name} {eps * 255:.2f}/255")
            metrics["seconds"][f"{name}@{eps}"] = time.perf_counter() - start
            metrics[name][number_key(eps)] = float(robust.float().mean())
            arrays[f"robust/{name}/{eps}"] = robust.numpy().astype(np.uint8)
    eps, n = config.autoattack_eps, config.autoattack_n
    start = time.perf_counter()
    candidates = torch.from_numpy(arrays[f"robust/pgd/{eps}"][:n].astype(bool))
    attacks = autoattack(eps, apgd_steps=config.apgd_steps, fab_steps=config.fab_steps,
                         square_queries=config.square_queries, targets=config.targets,
                         seed=config.seed)
    report = worst_case(model, xs[:n], ys[:n], attacks, config.batch_size, candidates=candidates)
    metrics["seconds"]["autoattack"] = time.perf_counter() - start
    metrics["autoattack"] = {"eps": eps, "n": n, "pgd": float(candidates.float().mean()),
                             "accuracy": {k: v for k, v in report.accuracy().items()},
                             "added": report.added()}
    arrays["autoattack/robust"] = report.robust.numpy().astype(np.uint8)
    return metrics, arrays


# ------------------------------------------------------------------------ 2.1(a): the attacks

@dataclass(frozen=True)
class AttacksConfig:
    eval: EvalConfig
    samples: int = 5
    sample_eps: float = 8 * PIXEL


ATTACKS_CONFIGS = {b: AttacksConfig(EVAL_CONFIGS[b]) for b in EVAL_CONFIGS}


@experiment("cifar-attacks", version=1, configs=ATTACKS_CONFIGS,
            metrics=("autoattack", "clean", "fgsm", "n", "n_test", "pgd", "seconds"))
def standard_attacks(config: AttacksConfig, budget: Budget) -> Result:
    """2.1(a): the standard model's clean, FGSM, PGD and AutoAttack accuracy; sample images."""
    model, _ = load_standard(budget)
    metrics, arrays = evaluate(model, config.eval, "standard")
    x, y = test_images(config.eval.n)
    correct = predict(model, x).argmax(1) == y
    broken = torch.from_numpy(~arrays[f"robust/pgd/{config.sample_eps}"].astype(bool)) & correct
    pick = broken.nonzero()[: config.samples, 0]
    xp, yp = x[pick], y[pick]
    adv = {"fgsm": fgsm(model, xp, yp, config.sample_eps),
           "pgd": attack_at("pgd", config.eval, config.sample_eps)(model, xp, yp)}
    arrays.update({"samples/clean": xp.numpy(), "samples/label": yp.numpy(),
                   "samples/index": pick.numpy()})
    for name, xa in [("clean", xp), *adv.items()]:
        probs = predict(model, xa).softmax(1)
        arrays[f"samples/{name}/pred"] = probs.argmax(1).numpy()
        arrays[f"samples/{name}/confidence"] = probs.amax(1).numpy()
        if name != "clean":
            arrays[f"samples/{name}"] = xa.numpy()
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


@experiment("cifar-noise", version=1, configs=NOISE_CONFIGS,
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
                        EVAL_CONFIGS["full"], transfer_eps=(4 * PIXEL, 8 * PIXEL)),
    "smoke": StudyConfig(CifarModelConfig(_RECIPES["smoke"], part="a", **_SIZES["smoke"]),
                         EVAL_CONFIGS["smoke"], transfer_eps=(8 * PIXEL,)),
}


@experiment("cifar-study", version=1, configs=STUDY_CONFIGS,
            metrics=("agreement", "agreement_when_both_wrong", "gradient_cosine", "models",
                     "sign_agreement", "transfer", "transfer_n_both_correct"))
def study(config: StudyConfig, budget: Budget) -> Result:
    """2.1(c, d): models A, B (stratified halves) and A without augmentation; their robustness
    tables, the transfer matrix, A and B's agreement and input-gradient cosine."""
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
        for attack_name in ("fgsm", "pgd"):
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
    loss of 2.2; "pgd_append": PGD examples appended to the batch, 2.3) and `recipe`; its PGD
    accuracy is checked during training on the last `check_n` test images (a curve only: no
    model is selected with it)."""

    objective: str
    recipe: Recipe
    defence: Defence
    eval: EvalConfig
    check_n: int = 500

    def __post_init__(self) -> None:
        check_config(self)
        if self.objective not in ("fgsm_mix", "pgd_append"):
            raise ValueError("DefenceConfig.objective must be 'fgsm_mix' or 'pgd_append', got "
                             f"{self.objective!r}")


_FINE_TUNE = {"lr": 0.2, "warmup": 0.1, "start_lr": 0.2, "final_lr": 0.05, "label_smoothing": 0.0}
FGSM_DEFENCE_CONFIGS = {
    "full": DefenceConfig("fgsm_mix", Recipe(epochs=1, **_FINE_TUNE), Defence(eps=8 * PIXEL),
                          EVAL_CONFIGS["full"]),
    "smoke": DefenceConfig("fgsm_mix", Recipe(epochs=1, batch_size=100, **_FINE_TUNE),
                           Defence(eps=8 * PIXEL, checks=2, check_images=50, check_steps=2),
                           EVAL_CONFIGS["smoke"], check_n=50),
}
PGD_DEFENCE_CONFIGS = {
    "full": DefenceConfig("pgd_append", Recipe(epochs=0.5, **_FINE_TUNE),
                          Defence(eps=8 * PIXEL, pgd_steps=4), EVAL_CONFIGS["full"]),
    "smoke": DefenceConfig("pgd_append", Recipe(epochs=0.5, batch_size=100, **_FINE_TUNE),
                           Defence(eps=8 * PIXEL, pgd_steps=2, checks=2, check_images=50,
                                   check_steps=2), EVAL_CONFIGS["smoke"], check_n=50),
}


def _fine_tune(config: DefenceConfig, budget: Budget, label: str) -> Result:
    standard, standard_result = load_standard(budget)
    model = clone(standard)
    device = get_device()
    model.to(device)
    x, y = training_images(CifarModelConfig(recipe=config.recipe,
                                            train_limit=standard_result.meta["config"]["train_limit"]))
    xt, yt = test_images(config.eval.test_limit)
    check = (xt[-config.check_n:].to(device), yt[-config.check_n:].to(device))
    start = time.perf_counter()
    history = train(model, x, y, config.recipe, seed=0, objective=config.objective,
                    defence=config.defence, check=check, desc=label)
    seconds = time.perf_counter() - start
    model.cpu().eval()
    metrics, arrays = evaluate(model, config.eval, label)
    metrics.update({"history": history, "train_seconds": seconds, "n_train": len(x),
                    "epochs": config.recipe.epochs,
                    "seconds_per_epoch": seconds / config.recipe.epochs})
    return Result(metrics=metrics, arrays=arrays)


@experiment("cifar-fgsm-defence", version=1, configs=FGSM_DEFENCE_CONFIGS,
            metrics=("autoattack", "clean", "epochs", "fgsm", "history", "n", "n_test", "n_train", "pgd",
                     "seconds", "seconds_per_epoch", "train_seconds"))
def fine_tune_fgsm_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.2: fine-tuning with the adversarial loss (alpha = 0.5, FGSM); PGD checks; evaluation."""
    return _fine_tune(config, budget, "FGSM defence")


@experiment("cifar-pgd-defence", version=1, configs=PGD_DEFENCE_CONFIGS,
            metrics=("autoattack", "clean", "epochs", "fgsm", "history", "n", "n_test", "n_train", "pgd",
                     "seconds", "seconds_per_epoch", "train_seconds"))
def pgd_defence(config: DefenceConfig, budget: Budget) -> Result:
    """2.3(a, c): fine-tuning with PGD examples appended to the batch; PGD checks; evaluation."""
    return _fine_tune(config, budget, "PGD defence")


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


@experiment("cifar-gradients", version=1, configs=GRADIENTS_CONFIGS,
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
    ("cifar-standard", "cifar-attacks", "cifar-noise", "cifar-study", "cifar-fgsm-defence",
     "cifar-pgd-defence", "cifar-gradients"),
    "trustml.views.cifar", command="ext-cifar",
    title="extension: CIFAR-10 attacks and defences (HW3 question 2)",
    parts={  # each part with its prerequisites
        "2.1a": ("cifar-standard", "cifar-attacks"),
        "2.1b": ("cifar-standard", "cifar-noise"),
        "2.1c": ("cifar-study",),
        "2.1d": ("cifar-study",),
        "2.2": ("cifar-standard", "cifar-fgsm-defence"),
        "2.3": ("cifar-standard", "cifar-pgd-defence", "cifar-gradients"),
    })

# the appendix that extends this chapter beyond the questions: the same experiments
APPENDIX = declare_chapter("chapters/app-cifar.qmd", CHAPTER.experiments, CHAPTER.view)
