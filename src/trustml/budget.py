"""The one place that defines compute budgets.

`full` is what the report's numbers come from; `smoke` is tiny, so that every code
path runs in seconds (tests and CI). The active budget is `$TRUSTML_BUDGET`, else
`smoke` when `$QUARTO_PROFILE` names the `smoke` profile, else `full`.
Experiments read their sizes from the `Budget` they are given, never from globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_BUDGET = "TRUSTML_BUDGET"


@dataclass(frozen=True)
class Budget:
    """Sizes of every experiment, by budget.

    Fields are grouped by chapter; a chapter's experiment reads only its own fields.
    """

    name: str
    # data chapter
    data_sample_grid: int  # images per side of the sample grid
    data_stats_limit: int | None  # images used for pixel statistics (None: all)
    # exercise 2: robust regression
    ex2_lambda_fractions: tuple[float, ...]
    ex2_random_w: int
    ex2_pga_starts: int
    ex2_pga_steps: int
    ex2_minmax_iters: int
    ex2_subgradient_iters: int
    ex2_grid_points: int
    ex2_pivotal_reps: int
    # standard MNIST CNN (exercise 3a; exercise 1's feature extractor)
    cnn_epochs: int
    cnn_train_limit: int | None
    # exercise 3: adversarial training (c-e) and attack evaluation (b-e)
    ex3_train_limit: int | None
    ex3_train_pgd_steps: int  # PGD steps per batch in adversarial training (d, e)
    ex3_fgsm_eps: float
    ex3_fgsm_epochs: int
    ex3_pgd_eps: float
    ex3_pgd_epochs: int
    ex3_strong_eps: float
    ex3_strong_epochs: int
    ex3_strong_width: int
    ex3_test_limit: int | None
    ex3_pgd_steps: int
    ex3_pgd_restarts: int
    ex3_strong_n: int
    ex3_strong_steps: int
    ex3_strong_restarts: int
    ex3_square_queries: int
    # exercise 1: VAE and GAN
    ex1_epochs: int
    ex1_train_limit: int | None
    ex1_snapshot_every: int
    ex1_metric_samples: int
    # extension: categorical VAE in bits per dimension
    ext_vae_epochs: int
    ext_vae_train_limit: int | None
    ext_small_epochs: int  # the latent-2, beta-sweep and latent-size models
    ext_bound_epochs: int
    ext_bound_images: int
    ext_bound_samples: int
    ext_val_size: int
    ext_test_limit: int | None
    # exercise 4: membership inference
    ex4_max_d: int
    ex4_d_step: int
    ex4_reps: int
    ex4_sigma_points: int
    ex4_defence_reps: int
    ex4_ns: tuple[int, ...]
    ex4_max_iter: int
    ex4_noise_n: int
    ex4_noise_draws: int
    ex4_shadows: int


BUDGETS: dict[str, Budget] = {
    "full": Budget(
        name="full",
        data_sample_grid=10,
        data_stats_limit=None,
        ex2_lambda_fractions=(0.05, 0.3, 1.2),
        ex2_random_w=20,
        ex2_pga_starts=32,
        ex2_pga_steps=300,
        ex2_minmax_iters=40,
        ex2_subgradient_iters=500,
        ex2_grid_points=15,
        ex2_pivotal_reps=20,
        cnn_epochs=10,
        cnn_train_limit=None,
        ex3_train_limit=None,
        ex3_train_pgd_steps=5,
        ex3_fgsm_eps=0.25,
        ex3_fgsm_epochs=10,
        ex3_pgd_eps=0.25,
        ex3_pgd_epochs=8,
        ex3_strong_eps=0.3,
        ex3_strong_epochs=8,
        ex3_strong_width=1,
        ex3_test_limit=None,
        ex3_pgd_steps=40,
        ex3_pgd_restarts=5,
        ex3_strong_n=500,
        ex3_strong_steps=50,
        ex3_strong_restarts=10,
        ex3_square_queries=1000,
        ex1_epochs=50,
        ex1_train_limit=None,
        ex1_snapshot_every=10,
        ex1_metric_samples=10_000,
        ext_vae_epochs=26,
        ext_vae_train_limit=None,
        ext_small_epochs=3,
        ext_bound_epochs=6,
        ext_bound_images=64,
        ext_bound_samples=1000,
        ext_val_size=5000,
        ext_test_limit=None,
        ex4_max_d=500,
        ex4_d_step=10,
        ex4_reps=200,
        ex4_sigma_points=21,
        ex4_defence_reps=1000,
        ex4_ns=(100, 200, 400, 800, 1600, 2500, 5000, 10000),
        ex4_max_iter=1000,
        ex4_noise_n=400,
        ex4_noise_draws=50,
        ex4_shadows=16,
    ),
    "smoke": Budget(
        name="smoke",
        data_sample_grid=4,
        data_stats_limit=2_000,
        ex2_lambda_fractions=(0.3, 1.2),
        ex2_random_w=3,
        ex2_pga_starts=4,
        ex2_pga_steps=30,
        ex2_minmax_iters=5,
        ex2_subgradient_iters=20,
        ex2_grid_points=4,
        ex2_pivotal_reps=2,
        cnn_epochs=1,
        cnn_train_limit=1_000,
        ex3_train_limit=1_000,
        ex3_train_pgd_steps=3,
        ex3_fgsm_eps=0.2,
        ex3_fgsm_epochs=1,
        ex3_pgd_eps=0.2,
        ex3_pgd_epochs=1,
        ex3_strong_eps=0.3,
        ex3_strong_epochs=1,
        ex3_strong_width=1,
        ex3_test_limit=300,
        ex3_pgd_steps=5,
        ex3_pgd_restarts=2,
        ex3_strong_n=100,
        ex3_strong_steps=10,
        ex3_strong_restarts=2,
        ex3_square_queries=50,
        ex1_epochs=2,
        ex1_train_limit=1_000,
        ex1_snapshot_every=1,
        ex1_metric_samples=500,
        ext_vae_epochs=2,
        ext_vae_train_limit=500,
        ext_small_epochs=1,
        ext_bound_epochs=1,
        ext_bound_images=8,
        ext_bound_samples=20,
        ext_val_size=300,
        ext_test_limit=500,
        ex4_max_d=100,
        ex4_d_step=30,
        ex4_reps=10,
        ex4_sigma_points=3,
        ex4_defence_reps=20,
        ex4_ns=(50, 100),
        ex4_max_iter=50,
        ex4_noise_n=60,
        ex4_noise_draws=3,
        ex4_shadows=2,
    ),
}


def budget_name() -> str:
    """Name of the active budget (see module docstring)."""
    explicit = os.environ.get(ENV_BUDGET, "").strip()
    if explicit:
        if explicit not in BUDGETS:
            raise ValueError(
                f"{ENV_BUDGET}={explicit!r} is not a budget; choose one of {sorted(BUDGETS)}"
            )
        return explicit
    profiles = [p.strip() for p in os.environ.get("QUARTO_PROFILE", "").split(",")]
    return "smoke" if "smoke" in profiles else "full"


def get_budget(name: str | None = None) -> Budget:
    """The budget called `name`, or the active one."""
    name = name or budget_name()
    try:
        return BUDGETS[name]
    except KeyError:
        raise ValueError(f"unknown budget {name!r}; choose one of {sorted(BUDGETS)}") from None
