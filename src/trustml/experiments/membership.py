"""Exercise 4: membership inference on Gaussian means and on logistic regression."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed

from trustml.core.budget import Budget
from trustml.core.cache import Result, experiment
from trustml.core.chapters import declare_chapter
from trustml.core.progress import progress
from trustml.core.validate import NON_NEGATIVE, POSITIVE, PROBABILITY, Interval, check_config
from trustml.privacy import gaussian_mean as gm
from trustml.privacy import lira
from trustml.privacy import logistic as lr
from trustml.privacy.dp_bound import dp_tpr_bound
from trustml.privacy.threshold import (
    auc,
    best_threshold,
    pooled_tpr_interval,
    roc_curve,
    threshold_accuracy,
    tpr_at_fpr,
    tpr_at_fprs,
)


# --------------------------------------------------------------------------- (a) Gaussian mean
@dataclass(frozen=True)
class GaussianMeanConfig:
    n: int
    dims: tuple[int, ...]
    reps: int  # independent worlds per d
    defence_d: int
    defence_sigma2: tuple[float, ...]
    defence_reps: int
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, defence_sigma2=NON_NEGATIVE)


def grid(hi: float, points: int) -> tuple[float, ...]:
    """`points` values from 0 to `hi`, rounded to 6 decimals (a noise-variance grid)."""
    return tuple(np.round(np.linspace(0.0, hi, points), 6))


def log_grid(lo: float, hi: float, points: int) -> tuple[float, ...]:
    """0, then `points` log-spaced values from `lo` to `hi` (4 significant digits)."""
    return (0.0, *(float(f"{v:.4g}") for v in np.geomspace(lo, hi, points)))


GAUSSIAN_CONFIGS = {
    "full": GaussianMeanConfig(n=50, dims=tuple(range(10, 501, 10)), reps=200, defence_d=50,
                               defence_sigma2=grid(1.0, 21), defence_reps=1000),
    "smoke": GaussianMeanConfig(n=50, dims=tuple(range(10, 101, 30)), reps=10, defence_d=50,
                                defence_sigma2=grid(1.0, 3), defence_reps=20),
}


def _summary(samples: np.ndarray) -> np.ndarray:
    """Rows: mean, 95 % CI half-width of the mean, 10th and 90th percentile (last axis)."""
    mean = samples.mean(-1)
    half = 1.96 * samples.std(-1, ddof=1) / np.sqrt(samples.shape[-1])
    lo, hi = np.percentile(samples, [10, 90], axis=-1)
    return np.stack([mean, half, lo, hi])


@experiment("ex4-gaussian-mean", version=1, configs=GAUSSIAN_CONFIGS,
            metrics=("defence_d", "defence_reps", "n", "reps"))
def gaussian_mean_experiment(config: GaussianMeanConfig, budget: Budget) -> Result:
    """Threshold attack on a released Gaussian mean, over d and under the noise defence."""
    rng = np.random.default_rng(config.seed)
    n = config.n
    in_sample, fresh, thresholds = [], [], []
    for d in progress(config.dims, desc="ex4 Gaussian d"):
        ins, outs, _ = gm.simulate_scores(d, n, config.reps, rng)
        fit = best_threshold(in_scores=ins, out_scores=outs)
        ins2, outs2, _ = gm.simulate_scores(d, n, config.reps, rng)  # fresh worlds
        in_sample.append(fit.accuracy)
        fresh.append(threshold_accuracy(in_scores=ins2, out_scores=outs2, threshold=fit.threshold))
        thresholds.append(fit.threshold)
    dims = np.array(config.dims, dtype=float)

    d = config.defence_d
    norms, acc_in_sample, acc_fresh = [], [], []
    for sigma2 in progress(config.defence_sigma2, desc="ex4 noise defence"):
        ins, outs, mu = gm.simulate_scores(d, n, config.defence_reps, rng, sigma2)
        fit = best_threshold(in_scores=ins, out_scores=outs)
        # the attacker calibrates one threshold on half of the worlds, applies it to the others
        half = config.defence_reps // 2
        t_star = float(np.median(fit.threshold[:half]))
        norms.append(np.linalg.norm(mu, axis=1))
        acc_in_sample.append(fit.accuracy)
        acc_fresh.append(threshold_accuracy(in_scores=ins[half:], out_scores=outs[half:], threshold=t_star))
    sig = np.array(config.defence_sigma2)
    return Result(
        metrics={"n": n, "reps": config.reps, "defence_d": d, "defence_reps": config.defence_reps},
        arrays={
            "dims": dims,
            "in_sample": _summary(np.array(in_sample)),
            "fresh": _summary(np.array(fresh)),
            "threshold": _summary(np.array(thresholds)),
            "theory": np.array([gm.predicted_accuracy(k, n) for k in dims]),
            "theory_simple": np.array([gm.simple_prediction(k, n) for k in dims]),
            "sigma2": sig,
            "norm": _summary(np.array(norms)),
            "norm_theory": np.sqrt(d * (1 / n + sig)),
            "defence_in_sample": _summary(np.array(acc_in_sample)),
            "defence_fresh": _summary(np.array(acc_fresh)),
            "defence_theory": np.array([gm.predicted_accuracy(d, n, s) for s in sig]),
        },
    )


# ----------------------------------------------------------------- (b, c) logistic regression
@dataclass(frozen=True)
class LogisticConfig:
    ns: tuple[int, ...]
    C_strong: float  # the regularised model of the n sweep
    max_iter: int
    noise_n: int
    noise_C: float  # the regularised model of the noise experiment
    noise_sigma2: tuple[float, ...]
    noise_draws: int
    defence_Cs: tuple[float, ...]
    early_stop_iters: tuple[int, ...]
    dp_noise: tuple[float, ...]
    dp_steps: int
    dp_lr: float
    dp_clip: float
    dp_delta: float
    population: int  # LiRA: models per kind, each on a random half of the pool
    targets: int  # how many of them are attacked in turn (the others are its shadow models)
    bootstrap: int  # resamples of the target models for the TPR intervals
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, C_strong=POSITIVE, noise_C=POSITIVE, noise_sigma2=NON_NEGATIVE,
                     defence_Cs=POSITIVE, dp_noise=POSITIVE, dp_lr=POSITIVE, dp_clip=POSITIVE,
                     dp_delta=PROBABILITY, population=Interval(6))
        if self.population % 2:
            raise ValueError(f"LogisticConfig.population must be even, got {self.population}")
        if self.targets > self.population:
            raise ValueError(f"LogisticConfig.targets must be <= population ({self.population}),"
                             f" got {self.targets}")


def _logistic_config(ns: tuple[int, ...], max_iter: int, noise_n: int, sigma_points: int,
                     noise_draws: int, population: int, targets: int,
                     bootstrap: int) -> LogisticConfig:
    return LogisticConfig(
        ns=ns, C_strong=0.01, max_iter=max_iter, noise_n=noise_n, noise_C=0.1,
        noise_sigma2=log_grid(1e-4, 5.0, sigma_points), noise_draws=noise_draws,
        defence_Cs=(1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0),
        early_stop_iters=(1, 2, 4, 8, 16, 32, 64), dp_noise=(2.0, 4.0, 8.0, 16.0, 32.0),
        dp_steps=50, dp_lr=2.0, dp_clip=1.0, dp_delta=1e-5, population=population,
        targets=targets, bootstrap=bootstrap)


LOGISTIC_CONFIGS = {
    "full": _logistic_config(ns=(100, 200, 400, 800, 1600, 2500, 5000, 10000), max_iter=1000,
                             noise_n=400, sigma_points=24, noise_draws=50, population=66,
                             targets=32, bootstrap=200),
    "smoke": _logistic_config(ns=(50, 100), max_iter=50, noise_n=60, sigma_points=3,
                              noise_draws=3, population=6, targets=3, bootstrap=20),
}
FPRS = (1e-3, 1e-2)  # where the TPR is reported
ROC_GRID = np.geomspace(1e-4, 1.0, 161)  # where the pooled ROC curves are stored


def _fit(X, y, C, max_iter):
    return lr.fit_logistic(X, y, C, max_iter)


def _attack_summary(in_scores: np.ndarray,
                    out_scores: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """Best-threshold accuracy, TPR at 1 % FPR and AUC, plus the ROC curve (fpr, tpr)."""
    fit = best_threshold(in_scores=in_scores, out_scores=out_scores)
    fpr, tpr = roc_curve(in_scores=in_scores, out_scores=out_scores)
    summary = {"accuracy": float(fit.accuracy),
               "tpr_at_1pct_fpr": tpr_at_fpr(in_scores=in_scores, out_scores=out_scores, fpr=0.01),
               "auc": float(np.trapezoid(tpr, fpr))}
    return summary, fpr, tpr


def _evaluate(model: lr.LinearModel, Xi, yi, Xo, yo) -> dict:
    acc_in = float(lr.accuracy(model.W, model.b, Xi, yi))
    acc_out = float(lr.accuracy(model.W, model.b, Xo, yo))
    loss, _, _ = _attack_summary(-lr.log_loss_per_example(model.W, model.b, Xi, yi),
                                 -lr.log_loss_per_example(model.W, model.b, Xo, yo))
    return {"train_acc": acc_in, "test_acc": acc_out,
            "correctness_attack": float(lr.correctness_attack_accuracy(acc_in, acc_out)),
            "loss_attack": loss["accuracy"], "loss_tpr_1pct": loss["tpr_at_1pct_fpr"]}


def _population(config: LogisticConfig, kind: str, X: np.ndarray, y: np.ndarray,
                masks: np.ndarray, rng: np.random.Generator, parallel: Parallel) -> list:
    """One model of `kind` ("none", "l2" or "dp<noise multiplier>") per training mask."""
    if kind.startswith("dp"):
        return lr.dp_gd_population(X, y, masks, steps=config.dp_steps, clip=config.dp_clip,
                                   noise_multiplier=float(kind[2:]), lr=config.dp_lr, rng=rng)
    C = {"none": None, "l2": config.noise_C}[kind]
    return parallel(delayed(_fit)(X[m], y[m], C, config.max_iter)
                    for m in progress(masks, desc=f"ex4 LiRA population ({kind})"))


def _population_attacks(config: LogisticConfig, Xi, yi, Xo, yo, held_out: tuple, rng: np.random.Generator,
                        parallel: Parallel) -> tuple[dict, dict[str, np.ndarray]]:
    """Every attack on `targets` models of each kind, each target attacked with the rest of its
    population as shadow models; TPRs pooled over targets with bootstrap intervals. The pool is
    the n members and n non-members; `held_out` (images, labels) measures test accuracy."""
    pool_X, pool_y = np.concatenate([Xi, Xo]), np.concatenate([yi, yo])
    masks = lira.complementary_splits(config.population, len(pool_X), rng)
    kinds = ["none", "l2", *(f"dp{nm:g}" for nm in config.dp_noise)]
    attacks, arrays = {}, {"roc_fpr": ROC_GRID}
    for kind in kinds:
        models = _population(config, kind, pool_X, pool_y, masks, rng, parallel)
        phi = np.stack([lr.confidence_logit(m.W, m.b, pool_X, pool_y) for m in models])
        targets = models[: config.targets]
        member = masks[: config.targets]
        scores = {
            "correctness": np.stack([lr.correct(m.W, m.b, pool_X, pool_y) for m in targets]),
            "loss": -np.stack([lr.log_loss_per_example(m.W, m.b, pool_X, pool_y)
                               for m in targets]),
            **{f"lira_{v}": lira.leave_one_out(phi, masks, config.targets, v)[0]
               for v in lira.VARIANTS},
        }
        attacks[kind] = {}
        for attack, s in scores.items():
            s = s.astype(np.float64)
            fit = best_threshold(in_scores=s[member], out_scores=s[~member])
            arrays[f"roc_{kind}_{attack}"] = tpr_at_fprs(in_scores=s[member], out_scores=s[~member],
                                                         fprs=ROC_GRID)
            tpr = pooled_tpr_interval(s, member, FPRS, config.bootstrap, rng)
            attacks[kind][attack] = {
                "accuracy": float(fit.accuracy),
                "auc": auc(in_scores=s[member], out_scores=s[~member]),
                "tpr": {f"{f:g}": tpr[:, i].tolist() for i, f in enumerate(FPRS)},
                "test_acc": float(np.mean([lr.accuracy(m.W, m.b, *held_out) for m in targets])),
            }
        if kind.startswith("dp"):
            eps = lr.dp_gd_epsilon(config.dp_steps, float(kind[2:]), config.dp_delta)
            attacks[kind]["epsilon"] = eps
            arrays[f"bound_{kind}"] = dp_tpr_bound(ROC_GRID, eps, config.dp_delta)
        else:  # what the statistic looks like to the attacker: target 0 and its shadow models
            arrays[f"phi_{kind}"] = phi[0]
            arrays[f"member_{kind}"] = masks[0]
            arrays[f"separation_{kind}"] = lira.separation(phi[1:], masks[1:])
    return attacks, arrays


@experiment("ex4-logistic", version=2, configs=LOGISTIC_CONFIGS,
            metrics=("C_strong", "attacks", "defences", "dp_delta", "dp_steps", "fprs", "noise_C",
                     "noise_base", "noise_n", "population", "sweep", "targets"))
def logistic_experiment(config: LogisticConfig, budget: Budget) -> Result:
    """Membership inference on Fashion-MNIST logistic regression: n sweep, noise, defences, LiRA."""
    rng = np.random.default_rng(config.seed)
    n_max = max(max(config.ns), config.noise_n)
    X_all, y_all, Xt_all, yt_all = lr.fashion_features(n_max, n_max)
    parallel = Parallel(n_jobs=2)

    # (b) train/test accuracy and the correctness attack over n, two models
    models = {"none": None, "l2": config.C_strong}
    jobs = [(name, n) for n in config.ns for name in models]
    fits = parallel(delayed(_fit)(X_all[:n], y_all[:n], models[name], config.max_iter)
                    for name, n in progress(jobs, desc="ex4 n sweep"))
    sweep = []
    for (name, n), model in zip(jobs, fits, strict=True):
        row = _evaluate(model, X_all[:n], y_all[:n], Xt_all[:n], yt_all[:n])
        row.update(model=name, n=n, n_iter=model.n_iter, converged=model.converged,
                   warnings=list(model.warnings))
        sweep.append(row)

    # (b) Gaussian noise on all parameters at n = noise_n
    n = config.noise_n
    Xi, yi, Xo, yo = X_all[:n], y_all[:n], Xt_all[:n], yt_all[:n]
    noise_models = {"none": None, "l2": config.noise_C}
    base = dict(zip(noise_models, parallel(delayed(_fit)(Xi, yi, C, config.max_iter)
                                           for C in noise_models.values()), strict=True))
    arrays: dict[str, np.ndarray] = {"noise_sigma2": np.array(config.noise_sigma2)}
    for name, model in base.items():
        tr, te = [], []
        for sigma2 in config.noise_sigma2:
            W, b = lr.noisy_parameters(model, sigma2, config.noise_draws, rng)
            tr.append(lr.accuracy(W, b, Xi, yi))
            te.append(lr.accuracy(W, b, Xo, yo))
        tr, te = np.array(tr), np.array(te)
        arrays[f"noise_{name}_train"] = tr
        arrays[f"noise_{name}_test"] = te
        arrays[f"noise_{name}_attack"] = lr.correctness_attack_accuracy(tr, te)

    # (c) stronger attacks: populations of models on random halves of the pool, each attacked
    held_out = (Xt_all[n:], yt_all[n:])  # test images outside the pool
    attacks, population_arrays = _population_attacks(config, Xi, yi, Xo, yo, held_out, rng,
                                                     parallel)
    arrays.update(population_arrays)

    # (c) defences on the same axes: stronger L2, early stopping, DP-GD
    defence_jobs = ([("l2", C, C, config.max_iter) for C in config.defence_Cs]
                    + [("early", it, None, it) for it in config.early_stop_iters])
    defence_fits = parallel(delayed(_fit)(Xi, yi, C, it)
                            for _, _, C, it in progress(defence_jobs, desc="ex4 defences"))
    defences = []
    for (kind, knob, _, _), model in zip(defence_jobs, defence_fits, strict=True):
        defences.append({"defence": kind, "knob": knob, **_evaluate(model, Xi, yi, Xo, yo)})
    for nm in config.dp_noise:
        model = lr.dp_gd(Xi, yi, steps=config.dp_steps, clip=config.dp_clip, noise_multiplier=nm,
                         lr=config.dp_lr, rng=rng)
        eps = lr.dp_gd_epsilon(config.dp_steps, nm, config.dp_delta)
        defences.append({"defence": "dp", "knob": nm, "epsilon": eps,
                         **_evaluate(model, Xi, yi, Xo, yo)})

    return Result(
        metrics={"sweep": sweep, "attacks": attacks, "defences": defences,
                 "noise_base": {k: {"n_iter": m.n_iter, "converged": m.converged,
                                    "weight_norm": float(np.linalg.norm(m.W))}
                                for k, m in base.items()},
                 "noise_n": n, "C_strong": config.C_strong, "noise_C": config.noise_C,
                 "population": config.population, "targets": config.targets,
                 "fprs": list(FPRS), "dp_delta": config.dp_delta, "dp_steps": config.dp_steps},
        arrays=arrays,
    )


CHAPTER = declare_chapter(
    "chapters/ex4-membership.qmd", ("ex4-gaussian-mean", "ex4-logistic"),
    "trustml.views.membership", command="ex4",
    title="exercise 4 (membership inference)")

# the appendix that extends this chapter beyond the questions: the same experiments
APPENDIX = declare_chapter("chapters/app-ex4-attacks.qmd", CHAPTER.experiments, CHAPTER.view)
