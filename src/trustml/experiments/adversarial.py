"""Exercise 3: FGSM and PGD attacks, FGSM and PGD adversarial training on MNIST.

Models (weights cached): the standard model (`mnist-standard-cnn`, part a), a plain-FGSM-trained
model and an FGSM-RS-trained model (part c), a PGD-trained model (part d) and PGD training at
the standard radius 0.3 (part e), all the same `FastCNN` family. Evaluations, cached apart from
the models so that a new attack never retrains a model, one pair per model:
`ex3-eval-<model>` (clean, FGSM and our PGD ensemble on the whole test set, every eps) and
`ex3-autoattack-<model>` (AutoAttack on a fixed subset, run on the images our PGD left robust:
the per-image worst case of the field's standard evaluation).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from trustml.adversarial.attacks import fgsm
from trustml.adversarial.ensemble import autoattack, worst_case
from trustml.adversarial.evaluation import robust_correct
from trustml.adversarial.specs import FGSM, PGD, TopTargetsPGD, strong_pgd
from trustml.adversarial.training import METHODS, adversarial_train
from trustml.core.budget import Budget
from trustml.core.cache import HASH_WHEN_SET, Result, experiment, run_or_load
from trustml.core.chapters import declare_chapter
from trustml.core.device import get_device
from trustml.core.keys import number_key
from trustml.core.torch_utils import count_parameters, predict
from trustml.core.validate import NON_NEGATIVE, POSITIVE, UNIT, check_config
from trustml.data import load_mnist, to_float
from trustml.experiments.classifier import fast_cnn_from
from trustml.models.mnist import FastCNN

EVAL_EPS = (0.1, 0.2, 0.3, 0.5)
CHECK_SIZE = 1000  # training images held out for the per-epoch PGD check


# ---------------------------------------------------------------- robust models (parts c, d, e)

@dataclass(frozen=True)
class RobustTrainingConfig:
    method: str  # "fgsm" (plain), "fgsm_rs" (Wong et al. 2020) or "pgd" (Madry et al. 2018)
    eps: float
    epochs: int
    train_limit: int | None
    pgd_steps: int = 7
    eps_warmup_epochs: float = 2.0
    lr: float = 3e-3
    batch_size: int = 128
    width: int = 1
    seed: int = 0
    # bf16 autocast for the training steps where the device computes it (hashed when set)
    bf16: bool = field(default=False, metadata=HASH_WHEN_SET)

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT, eps_warmup_epochs=NON_NEGATIVE, lr=POSITIVE)
        if self.method not in METHODS:
            raise ValueError(f"RobustTrainingConfig.method must be one of {list(METHODS)}, "
                             f"got {self.method!r}")


def _train_robust(config: RobustTrainingConfig) -> Result:
    x, y = load_mnist("train")
    x = to_float(x)
    check_x, check_y = x[-CHECK_SIZE:], y[-CHECK_SIZE:]
    x, y = x[:-CHECK_SIZE], y[:-CHECK_SIZE]
    if config.train_limit is not None:
        x, y = x[: config.train_limit], y[: config.train_limit]
    torch.manual_seed(config.seed)
    model = FastCNN(config.width)
    device = get_device()
    model.to(device)
    history = adversarial_train(
        model, x.to(device), y.to(device), method=config.method, eps=config.eps,
        epochs=config.epochs, lr=config.lr, batch_size=config.batch_size, seed=config.seed,
        check_x=check_x.to(device), check_y=check_y.to(device), pgd_steps=config.pgd_steps,
        eps_warmup_epochs=config.eps_warmup_epochs, bf16=config.bf16,
        keep_best=config.method != "fgsm")  # plain FGSM shows the failure: keep its last epoch
    model.cpu()
    return Result(metrics={"history": history, "parameters": count_parameters(model),
                           "n_train": len(x), "device": str(device)},
                  weights={"model": model.state_dict()})


FGSM_PLAIN_MODEL_CONFIGS = {
    "full": RobustTrainingConfig(method="fgsm", eps=0.25, epochs=10, train_limit=None, bf16=True),
    "smoke": RobustTrainingConfig(method="fgsm", eps=0.2, epochs=1, train_limit=1_000, bf16=True),
}
FGSM_MODEL_CONFIGS = {
    "full": RobustTrainingConfig(method="fgsm_rs", eps=0.25, epochs=10, train_limit=None, bf16=True),
    "smoke": RobustTrainingConfig(method="fgsm_rs", eps=0.2, epochs=1, train_limit=1_000, bf16=True),
}
PGD_MODEL_CONFIGS = {  # PGD steps per batch in adversarial training: 5 (full), 3 (smoke)
    "full": RobustTrainingConfig(method="pgd", eps=0.25, epochs=8, train_limit=None, pgd_steps=5,
                                 bf16=True),
    "smoke": RobustTrainingConfig(method="pgd", eps=0.2, epochs=1, train_limit=1_000, pgd_steps=3,
                                  bf16=True),
}
STRONG_MODEL_CONFIGS = {
    budget: dataclasses.replace(config, eps=0.3, epochs=8 if budget == "full" else 1,
                                eps_warmup_epochs=3.0)
    for budget, config in PGD_MODEL_CONFIGS.items()
}


@experiment("ex3-fgsm-plain-model", version=1, configs=FGSM_PLAIN_MODEL_CONFIGS,
            metrics=("device", "history", "n_train", "parameters"))
def train_plain_fgsm_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(c) Plain FGSM adversarial training (no random start, step eps), last epoch kept."""
    return _train_robust(config)


@experiment("ex3-fgsm-model", version=1, configs=FGSM_MODEL_CONFIGS,
            metrics=("device", "history", "n_train", "parameters"))
def train_fgsm_rs_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(c) FGSM adversarial training with a random start, catastrophic-overfitting guard."""
    return _train_robust(config)


@experiment("ex3-pgd-model", version=1, configs=PGD_MODEL_CONFIGS,
            metrics=("device", "history", "n_train", "parameters"))
def pgd_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(d) PGD adversarial training (Madry et al. 2018)."""
    return _train_robust(config)


@experiment("ex3-strong-model", version=1, configs=STRONG_MODEL_CONFIGS,
            metrics=("device", "history", "n_train", "parameters"))
def strong_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(e) A stronger defence: PGD training at the standard MNIST radius 0.3."""
    return _train_robust(config)


MODELS = {  # model experiment -> label in text and tables (models apart from attacks: -AT)
    "mnist-standard-cnn": "standard",
    "ex3-fgsm-plain-model": "FGSM-AT",
    "ex3-fgsm-model": "FGSM-RS-AT",
    "ex3-pgd-model": "PGD-AT(0.25)",
    "ex3-strong-model": "PGD-AT(0.3)",
}
DEFENDED_MODELS = ("ex3-pgd-model", "ex3-strong-model")  # the two PGD defences of (d) and (e)
SHORT = {  # model experiment -> the suffix of its evaluations' names
    "mnist-standard-cnn": "standard", "ex3-fgsm-plain-model": "fgsm",
    "ex3-fgsm-model": "fgsm-rs", "ex3-pgd-model": "pgd", "ex3-strong-model": "pgd-0.3",
}


def load_model(name: str, budget: Budget | str | None = None) -> tuple[FastCNN, Result]:
    """A cached model of this chapter (trained on first use), in eval mode on the CPU."""
    if name not in MODELS:
        raise ValueError(f"unknown exercise-3 model {name!r}; choose one of {sorted(MODELS)}")
    result = run_or_load(name, budget=budget)
    return fast_cnn_from(result), result


def _test_set(limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_mnist("test")
    x = to_float(x)
    return (x, y) if limit is None else (x[:limit], y[:limit])


# ------------------------------------------------------- clean / FGSM / PGD on the test set

@dataclass(frozen=True)
class AttackEvalConfig:
    """FGSM and our PGD ensemble on the test set. Our PGD is the per-image worst case of the
    textbook attack (cross-entropy, constant step 2.5 eps / steps, `ce_restarts` random starts)
    and the fixed one (margin loss, targeted at each of the `targets` likeliest wrong classes,
    `targeted_steps` steps of size 2 eps decaying on a cosine)."""

    model: str
    eps: tuple[float, ...]
    test_limit: int | None
    ce_steps: int
    ce_restarts: int
    targets: int
    targeted_steps: int
    samples: int = 5
    batch_size: int = 1000
    shards: int = 2  # each batch attacked in this many parts side by side (see attacks.pgd)
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT)
        _check_models(self, (self.model,))


def _check_models(config, names: tuple[str, ...]) -> None:
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise ValueError(f"{type(config).__name__}: unknown models {unknown}; "
                         f"choose from {sorted(MODELS)}")


_EVAL = {"full": {"test_limit": None, "ce_steps": 40, "ce_restarts": 1, "targets": 3,
                  "targeted_steps": 50},
         "smoke": {"test_limit": 300, "ce_steps": 5, "ce_restarts": 1, "targets": 2,
                   "targeted_steps": 5}}

def our_pgd(config: AttackEvalConfig | RadiusSweepConfig, eps: float
            ) -> list[tuple[str, PGD | TopTargetsPGD]]:
    """The two members of our PGD ensemble at `eps` (`specs.strong_pgd` with the settings
    `ce_steps`, `ce_restarts`, `targets`, `targeted_steps`, `shards`, `seed` of `config`)."""
    return strong_pgd(eps, ce_steps=config.ce_steps, ce_restarts=config.ce_restarts,
                      targets=config.targets, targeted_steps=config.targeted_steps,
                      shards=config.shards, seed=config.seed)


def evaluate_attacks(config: AttackEvalConfig, budget: Budget) -> Result:
    """Clean, FGSM and our PGD ensemble per eps on the test set (per image, which attack broke
    it), plus `samples` random test images and their FGSM and PGD versions at every eps."""
    model, _ = load_model(config.model, budget)
    x, y = _test_set(config.test_limit)
    gen = torch.Generator().manual_seed(config.seed)
    logits = predict(model, x)
    clean_pred = logits.argmax(1)
    # softmax probability of the true class exactly 1 in float32: the cross-entropy's gradient
    # then loses its true-class term (why the textbook attack stalls on a confident model)
    saturated = logits.softmax(1).gather(1, y[:, None])[:, 0] == 1.0
    metrics: dict = {"model": config.model, "n": len(y),
                     "clean": float((clean_pred == y).float().mean()),
                     "saturated": float(saturated.float().mean()),
                     "fgsm": {}, "pgd": {}, "pgd_ce": {}, "seconds": {}}
    arrays: dict[str, np.ndarray] = {"clean": (clean_pred == y).numpy().astype(np.uint8)}
    pick = torch.randperm(len(y), generator=gen)[: config.samples]
    for eps in config.eps:
        label = MODELS[config.model]
        start = time.perf_counter()
        robust = robust_correct(model, x, y, FGSM(eps), config.batch_size,
                                desc=f"{label}: FGSM eps={eps}")
        metrics["seconds"][f"fgsm@{eps}"] = time.perf_counter() - start
        metrics["fgsm"][number_key(eps)] = float(robust.float().mean())
        arrays[f"robust/fgsm/{eps}"] = robust.numpy().astype(np.uint8)
        start = time.perf_counter()
        attacks = our_pgd(config, eps)
        report = worst_case(model, x, y, attacks, config.batch_size)
        metrics["seconds"][f"pgd@{eps}"] = time.perf_counter() - start
        metrics["pgd"][number_key(eps)] = float(report.robust.float().mean())
        metrics["pgd_ce"][number_key(eps)] = report.accuracy()["pgd_ce"]
        for name in report.names:
            arrays[f"broken/{name}/{eps}"] = report.broken_by[name].numpy().astype(np.uint8)
        arrays[f"robust/pgd/{eps}"] = report.robust.numpy().astype(np.uint8)
        samples = {"fgsm": fgsm(model, x[pick], y[pick], eps)}
        ce, margin = (attack for _, attack in attacks)
        x_ce = ce(model, x[pick], y[pick])
        broken = predict(model, x_ce).argmax(1) != y[pick]
        x_margin = margin(model, x[pick], y[pick])  # the fixed attack where the textbook one fails
        samples["pgd"] = torch.where(broken[:, None, None, None], x_ce, x_margin)
        for name, x_adv in samples.items():
            arrays[f"samples/{name}/{eps}"] = x_adv.numpy()
            arrays[f"samples/{name}/{eps}/pred"] = predict(model, x_adv).argmax(1).numpy()
    arrays["samples/index"] = pick.numpy()
    arrays["samples/clean"] = x[pick].numpy()
    arrays["samples/label"] = y[pick].numpy()
    arrays["samples/clean_pred"] = clean_pred[pick].numpy()
    return Result(metrics=metrics, arrays=arrays)


def eval_name(model: str) -> str:
    return f"ex3-eval-{SHORT[model]}"


def autoattack_name(model: str) -> str:
    return f"ex3-autoattack-{SHORT[model]}"


for _model in MODELS:
    experiment(eval_name(_model), version=1,
               metrics=("clean", "fgsm", "model", "n", "pgd", "pgd_ce", "saturated", "seconds"), configs={
        budget: AttackEvalConfig(model=_model, eps=EVAL_EPS, **sizes)
        for budget, sizes in _EVAL.items()})(evaluate_attacks)


# ------------------------------------------------------------------------ AutoAttack (all parts)

@dataclass(frozen=True)
class AutoAttackConfig:
    """AutoAttack (torchattacks' APGD-CE, APGD-T, FAB-T, Square; the paper's iteration counts at
    the full budget) on the first `n` test images, on the images our PGD left robust. All four
    attacks run at the radii `full_eps` (every radius at both budgets); at any others, only the
    two APGD attacks."""

    model: str
    eps: tuple[float, ...]
    full_eps: tuple[float, ...]
    n: int
    apgd_steps: int
    fab_steps: int
    square_queries: int
    batch_size: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT)
        _check_models(self, (self.model,))
        if not set(self.full_eps) <= set(self.eps):
            raise ValueError(f"AutoAttackConfig.full_eps must be among eps {self.eps}, "
                             f"got {self.full_eps}")


AUTOATTACK_NAMES = ("APGD-CE", "APGD-T", "FAB-T", "Square")
# all four attacks at every radius (the field's standard: a radius where FAB-T and Square do not
# run may overstate robustness; Square alone broke images beyond our PGD at 0.2)
_AUTOATTACK = {"full": {"full_eps": EVAL_EPS, "n": 1000, "apgd_steps": 100, "fab_steps": 100,
                        "square_queries": 5000},
               "smoke": {"full_eps": EVAL_EPS, "n": 100, "apgd_steps": 5, "fab_steps": 5,
                         "square_queries": 20}}


def evaluate_autoattack(config: AutoAttackConfig, budget: Budget) -> Result:
    """Per eps, which attack of AutoAttack first breaks each image that our PGD left robust."""
    model, _ = load_model(config.model, budget)
    ours = run_or_load(eval_name(config.model), budget=budget)
    if ours.metrics["n"] < config.n:
        raise ValueError(f"{type(config).__name__}.n = {config.n} exceeds the "
                         f"{ours.metrics['n']} images of {eval_name(config.model)}")
    x, y = _test_set(config.n)
    metrics: dict = {"model": config.model, "n": config.n, "accuracy": {}, "added": {},
                     "seconds": {}}
    arrays: dict[str, np.ndarray] = {}
    for eps in config.eps:
        robust = torch.from_numpy(ours.arrays[f"robust/pgd/{eps}"][: config.n].astype(bool))
        start = time.perf_counter()
        attacks = autoattack(eps, apgd_steps=config.apgd_steps, fab_steps=config.fab_steps,
                             square_queries=config.square_queries, seed=config.seed)
        if eps not in config.full_eps:
            attacks = attacks[:2]  # APGD-CE and APGD-T
        report = worst_case(model, x, y, attacks, config.batch_size, candidates=robust)
        metrics["seconds"][number_key(eps)] = time.perf_counter() - start
        metrics["accuracy"][number_key(eps)] = {"pgd": float(robust.float().mean()),
                                         **{k: v for k, v in report.accuracy().items()
                                            if k != "clean"}}
        metrics["added"][number_key(eps)] = report.added()
        for name in report.names:
            arrays[f"broken/{name}/{eps}"] = report.broken_by[name].numpy().astype(np.uint8)
        arrays[f"robust/{eps}"] = report.robust.numpy().astype(np.uint8)
    return Result(metrics=metrics, arrays=arrays)


for _model in MODELS:
    experiment(autoattack_name(_model), version=2,
               metrics=("accuracy", "added", "model", "n", "seconds"), configs={
        budget: AutoAttackConfig(model=_model, eps=EVAL_EPS, **sizes)
        for budget, sizes in _AUTOATTACK.items()})(evaluate_autoattack)


# ------------------------------------------- the PGD defences between 0.2 and 0.3 (parts d, e)

@dataclass(frozen=True)
class RadiusSweepConfig:
    """Our PGD (the ensemble of `our_pgd`, the settings of the test-set evaluation) against the
    `models` on the first `test_limit` test images at the radii `eps`: where between the
    assignment's radii 0.2 and 0.3 the model trained at 0.25 falls."""

    models: tuple[str, ...]
    eps: tuple[float, ...]
    test_limit: int
    ce_steps: int
    ce_restarts: int
    targets: int
    targeted_steps: int
    batch_size: int = 1000
    shards: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT)
        _check_models(self, self.models)
        if list(self.eps) != sorted(set(self.eps)):
            raise ValueError(f"RadiusSweepConfig.eps must be increasing, got {self.eps}")


SWEEP_EPS = (0.2, 0.225, 0.25, 0.275, 0.3)
RADIUS_SWEEP_CONFIGS = {
    budget: RadiusSweepConfig(models=DEFENDED_MODELS, eps=SWEEP_EPS,
                              test_limit=1000 if budget == "full" else 100,
                              **{k: v for k, v in _EVAL[budget].items() if k != "test_limit"})
    for budget in ("full", "smoke")
}


@experiment("ex3-radius-sweep", version=1, configs=RADIUS_SWEEP_CONFIGS,
            metrics=("clean", "models", "n", "pgd", "pgd_ce", "seconds"))
def radius_sweep(config: RadiusSweepConfig, budget: Budget) -> Result:
    """Per model and eps: the share of the test images still correct after our PGD (and after
    its first member, the textbook attack), and which images survive."""
    x, y = _test_set(config.test_limit)
    metrics: dict = {"models": list(config.models), "n": len(y), "clean": {}, "pgd": {},
                     "pgd_ce": {}, "seconds": {}}
    arrays: dict[str, np.ndarray] = {}
    for name in config.models:
        model, _ = load_model(name, budget)
        for key in ("pgd", "pgd_ce", "seconds"):
            metrics[key][name] = {}
        for eps in config.eps:
            start = time.perf_counter()
            report = worst_case(model, x, y, our_pgd(config, eps), config.batch_size)
            metrics["seconds"][name][number_key(eps)] = time.perf_counter() - start
            metrics["clean"][name] = float(report.clean.float().mean())
            metrics["pgd"][name][number_key(eps)] = float(report.robust.float().mean())
            metrics["pgd_ce"][name][number_key(eps)] = report.accuracy()["pgd_ce"]
            arrays[f"robust/{name}/{eps}"] = report.robust.numpy().astype(np.uint8)
    return Result(metrics=metrics, arrays=arrays)


CHAPTER = declare_chapter(
    "chapters/ex3-adversarial.qmd",
    (*(name for model in MODELS for name in (model, eval_name(model), autoattack_name(model))),
     "ex3-radius-sweep"),
    "trustml.views.adversarial", command="ex3",
    title="exercise 3 (attacks, adversarial training)",
    parts={
        "a": ("mnist-standard-cnn",),
        "b": (eval_name("mnist-standard-cnn"), autoattack_name("mnist-standard-cnn")),
        "c": ("ex3-fgsm-plain-model", eval_name("ex3-fgsm-plain-model"),
              autoattack_name("ex3-fgsm-plain-model"), "ex3-fgsm-model",
              eval_name("ex3-fgsm-model"), autoattack_name("ex3-fgsm-model")),
        "d": ("ex3-pgd-model", eval_name("ex3-pgd-model"), autoattack_name("ex3-pgd-model")),
        "e": ("ex3-strong-model", eval_name("ex3-strong-model"),
              autoattack_name("ex3-strong-model"), "ex3-radius-sweep"),
    })

# the appendix that extends this chapter beyond the questions: the same experiments
APPENDIX = declare_chapter("chapters/app-ex3-defence.qmd", CHAPTER.experiments, CHAPTER.view)
