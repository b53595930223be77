"""Exercise 3: FGSM and PGD attacks, FGSM and PGD adversarial training on MNIST.

Models (weights cached): the standard model (`mnist-standard-cnn`, part a), an FGSM-RS-trained
model (part c), a PGD-trained model (part d) and a stronger defence (part e), all the same
`FastCNN` family. Evaluations (cached apart from the models, so a new attack never retrains a
model): clean, FGSM and PGD accuracy on the test set (parts b-d), and a battery of harder
attacks against the two PGD-trained models (part e).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from trustml.adversarial.attacks import fgsm, pgd, pgd_targeted_all
from trustml.adversarial.evaluation import robust_correct
from trustml.adversarial.models import FastCNN, count_parameters
from trustml.adversarial.square import square_attack
from trustml.adversarial.training import adversarial_train
from trustml.budget import Budget
from trustml.cache import Result, experiment, run_or_load
from trustml.data import load_mnist, to_float
from trustml.device import get_device
from trustml.experiments.classifier import fast_cnn_from
from trustml.training import predict
from trustml.validate import NON_NEGATIVE, POSITIVE, UNIT, check_config

EVAL_EPS = (0.1, 0.2, 0.5)
STRONG_EPS = (0.1, 0.2)
CHECK_SIZE = 1000  # training images held out for the per-epoch PGD check


# ---------------------------------------------------------------- robust models (parts c, d, e)

@dataclass(frozen=True)
class RobustTrainingConfig:
    method: str  # "fgsm_rs" (Wong et al. 2020) or "pgd" (Madry et al. 2018)
    eps: float
    epochs: int
    train_limit: int | None
    pgd_steps: int = 7
    eps_warmup_epochs: float = 2.0
    lr: float = 3e-3
    batch_size: int = 128
    width: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT, eps_warmup_epochs=NON_NEGATIVE, lr=POSITIVE)
        if self.method not in ("fgsm_rs", "pgd"):
            raise ValueError(f"RobustTrainingConfig.method must be 'fgsm_rs' or 'pgd', "
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
        eps_warmup_epochs=config.eps_warmup_epochs)
    model.cpu()
    return Result(metrics={"history": history, "parameters": count_parameters(model),
                           "n_train": len(x), "device": str(device)},
                  weights={"model": model.state_dict()})


FGSM_MODEL_CONFIGS = {
    "full": RobustTrainingConfig(method="fgsm_rs", eps=0.25, epochs=10, train_limit=None),
    "smoke": RobustTrainingConfig(method="fgsm_rs", eps=0.2, epochs=1, train_limit=1_000),
}
PGD_MODEL_CONFIGS = {  # PGD steps per batch in adversarial training: 5 (full), 3 (smoke)
    "full": RobustTrainingConfig(method="pgd", eps=0.25, epochs=8, train_limit=None, pgd_steps=5),
    "smoke": RobustTrainingConfig(method="pgd", eps=0.2, epochs=1, train_limit=1_000, pgd_steps=3),
}
STRONG_MODEL_CONFIGS = {
    budget: dataclasses.replace(config, eps=0.3, epochs=8 if budget == "full" else 1,
                                eps_warmup_epochs=3.0)
    for budget, config in PGD_MODEL_CONFIGS.items()
}


@experiment("ex3-fgsm-model", version=1, configs=FGSM_MODEL_CONFIGS)
def fgsm_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(c) FGSM adversarial training with a random start, catastrophic-overfitting guard."""
    return _train_robust(config)


@experiment("ex3-pgd-model", version=1, configs=PGD_MODEL_CONFIGS)
def pgd_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(d) PGD adversarial training (Madry et al. 2018)."""
    return _train_robust(config)


@experiment("ex3-strong-model", version=1, configs=STRONG_MODEL_CONFIGS)
def strong_model(config: RobustTrainingConfig, budget: Budget) -> Result:
    """(e) A stronger defence: PGD training at a larger eps with a longer schedule."""
    return _train_robust(config)


MODELS = {  # model experiment -> label in tables
    "mnist-standard-cnn": "standard",
    "ex3-fgsm-model": "FGSM-trained",
    "ex3-pgd-model": "PGD-trained",
    "ex3-strong-model": "stronger (e)",
}


def load_model(name: str, budget: Budget | str | None = None) -> tuple[FastCNN, Result]:
    """A cached model of this chapter (trained on first use), in eval mode on the CPU."""
    if name not in MODELS:
        raise ValueError(f"unknown exercise-3 model {name!r}; choose one of {sorted(MODELS)}")
    result = run_or_load(name, budget=budget)
    return fast_cnn_from(result), result


def _timed_robust(model: FastCNN, x: torch.Tensor, y: torch.Tensor, attack, batch_size: int,
                  desc: str) -> tuple[torch.Tensor, float]:
    """`robust_correct` and the seconds it took."""
    start = time.perf_counter()
    robust = robust_correct(model, x, y, attack, batch_size=batch_size, desc=desc)
    return robust, time.perf_counter() - start


def _test_set(limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_mnist("test")
    x = to_float(x)
    return (x, y) if limit is None else (x[:limit], y[:limit])


# ------------------------------------------------------- clean / FGSM / PGD tables (parts b-d)

@dataclass(frozen=True)
class AttackEvalConfig:
    model: str
    eps: tuple[float, ...]
    test_limit: int | None
    pgd_steps: int
    pgd_restarts: int
    samples: int = 5
    batch_size: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT)
        _check_models(self, (self.model,))


def _check_models(config, names: tuple[str, ...]) -> None:
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise ValueError(f"{type(config).__name__}: unknown models {unknown}; "
                         f"choose from {sorted(MODELS)}")


# the evaluation of the tables (b-d), by budget; part (e) runs it on its subset too
_EVAL = {"full": {"test_limit": None, "pgd_steps": 40, "pgd_restarts": 5},
         "smoke": {"test_limit": 300, "pgd_steps": 5, "pgd_restarts": 2}}


def _eval_configs(model: str) -> dict[str, AttackEvalConfig]:
    return {budget: AttackEvalConfig(model=model, eps=EVAL_EPS, **sizes)
            for budget, sizes in _EVAL.items()}


def evaluate_attacks(config: AttackEvalConfig, budget: Budget) -> Result:
    """Clean, FGSM and PGD (restarts, early stop) accuracy on the test set, per eps, plus
    `samples` random adversarial examples per eps (the same images for FGSM and PGD)."""
    model, _ = load_model(config.model, budget)
    x, y = _test_set(config.test_limit)
    gen = torch.Generator().manual_seed(config.seed)
    clean_pred = predict(model, x).argmax(1)
    metrics: dict = {"model": config.model, "n": len(y),
                     "clean": float((clean_pred == y).float().mean()),
                     "fgsm": {}, "pgd": {}, "seconds": {}}
    arrays: dict[str, np.ndarray] = {}
    pick = torch.randperm(len(y), generator=gen)[: config.samples]
    for eps in config.eps:
        attacks = {
            "fgsm": lambda m, a, b, eps=eps: fgsm(m, a, b, eps),
            "pgd": lambda m, a, b, eps=eps: pgd(m, a, b, eps, steps=config.pgd_steps,
                                                restarts=config.pgd_restarts, early_stop=True,
                                                generator=gen),
        }
        for name, attack in attacks.items():
            robust, metrics["seconds"][f"{name}@{eps}"] = _timed_robust(
                model, x, y, attack, config.batch_size, f"{MODELS[config.model]}: {name} eps={eps}")
            metrics[name][str(eps)] = float(robust.float().mean())
            arrays[f"robust/{name}/{eps}"] = robust.numpy().astype(np.uint8)
            x_adv = attack(model, x[pick], y[pick])
            arrays[f"samples/{name}/{eps}"] = x_adv.numpy()
            arrays[f"samples/{name}/{eps}/pred"] = predict(model, x_adv).argmax(1).numpy()
    arrays["samples/index"] = pick.numpy()
    arrays["samples/clean"] = x[pick].numpy()
    arrays["samples/label"] = y[pick].numpy()
    arrays["samples/clean_pred"] = clean_pred[pick].numpy()
    return Result(metrics=metrics, arrays=arrays)


EVALUATIONS = {  # evaluation experiment -> model experiment (the stronger model of part (e)
    # is evaluated by `ex3e-strong-attacks`, with the same PGD on a subset, to fit the budget)
    "ex3b-attacks-standard": "mnist-standard-cnn",
    "ex3c-attacks-fgsm": "ex3-fgsm-model",
    "ex3d-attacks-pgd": "ex3-pgd-model",
}

for _name, _model in EVALUATIONS.items():
    experiment(_name, version=1, configs=_eval_configs(_model))(evaluate_attacks)


# ------------------------------------------------------------------- harder attacks (part e)

@dataclass(frozen=True)
class StrongAttackConfig:
    models: tuple[str, ...]
    eps: tuple[float, ...]
    n: int
    steps: int
    restarts: int
    targeted_steps: int
    square_queries: int
    eval_steps: int  # the chapter's own PGD evaluation, run on the subset too
    eval_restarts: int
    test_limit: int | None = None  # the subset is drawn from the evaluations' test set
    batch_size: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, eps=UNIT)
        _check_models(self, self.models)


def _strong_attack_config(budget: str, n: int, steps: int, restarts: int,
                          square_queries: int) -> StrongAttackConfig:
    sizes = _EVAL[budget]
    return StrongAttackConfig(models=("ex3-pgd-model", "ex3-strong-model"), eps=STRONG_EPS,
                              n=n, steps=steps, restarts=restarts, targeted_steps=steps,
                              square_queries=square_queries, eval_steps=sizes["pgd_steps"],
                              eval_restarts=sizes["pgd_restarts"], test_limit=sizes["test_limit"])


STRONG_ATTACK_CONFIGS = {
    "full": _strong_attack_config("full", n=500, steps=50, restarts=10, square_queries=1000),
    "smoke": _strong_attack_config("smoke", n=100, steps=10, restarts=2, square_queries=50),
}


STRONG_ATTACKS = {  # key -> label; "pgd_eval" is the chapter's evaluation attack
    "pgd_eval": "PGD as in the tables",
    "pgd_ce": "PGD, cross-entropy, many restarts",
    "pgd_margin": "PGD, CW margin loss, many restarts",
    "targeted": "targeted PGD (margin) on every class",
    "square": "Square attack (gradient-free)",
}


@experiment("ex3e-strong-attacks", version=2, configs=STRONG_ATTACK_CONFIGS)
def strong_attacks(config: StrongAttackConfig, budget: Budget) -> Result:
    """(e) Harder attacks on the PGD-trained models: restarts, margin loss, targeted, gradient-free."""
    x, y = _test_set(config.test_limit)
    gen = torch.Generator().manual_seed(config.seed)
    subset = torch.randperm(len(y), generator=gen)[: config.n]
    x, y = x[subset], y[subset]
    metrics: dict = {"n": len(y), "accuracy": {}, "seconds": {}}
    arrays: dict[str, np.ndarray] = {"subset": subset.numpy()}
    for model_name in config.models:
        model, _ = load_model(model_name, budget)
        for eps in config.eps:
            attacks = {
                "pgd_eval": lambda m, a, b, eps=eps: pgd(m, a, b, eps, steps=config.eval_steps,
                                                         restarts=config.eval_restarts,
                                                         early_stop=True, generator=gen),
                "pgd_ce": lambda m, a, b, eps=eps: pgd(m, a, b, eps, steps=config.steps,
                                                       restarts=config.restarts, early_stop=True,
                                                       generator=gen),
                "pgd_margin": lambda m, a, b, eps=eps: pgd(m, a, b, eps, steps=config.steps,
                                                           restarts=config.restarts, loss="margin",
                                                           early_stop=True, generator=gen),
                "targeted": lambda m, a, b, eps=eps: pgd_targeted_all(
                    m, a, b, eps, steps=config.targeted_steps, generator=gen),
                "square": lambda m, a, b, eps=eps: square_attack(
                    m, a, b, eps, queries=config.square_queries, generator=gen),
            }
            union = None
            for attack_name, attack in attacks.items():
                key = f"{model_name}/{eps}/{attack_name}"
                robust, metrics["seconds"][key] = _timed_robust(
                    model, x, y, attack, config.batch_size,
                    f"{MODELS[model_name]}: {attack_name} eps={eps}")
                metrics["accuracy"][key] = float(robust.float().mean())
                arrays[key] = robust.numpy().astype(np.uint8)
                union = robust if union is None else union & robust
            metrics["accuracy"][f"{model_name}/{eps}/all"] = float(union.float().mean())
            arrays[f"{model_name}/{eps}/all"] = union.numpy().astype(np.uint8)
    return Result(metrics=metrics, arrays=arrays)
