"""Experiment definitions; importing this package registers them all in `trustml.core.cache`."""

from trustml.experiments import (
    adversarial,  # noqa: F401
    cifar,  # noqa: F401
    classifier,  # noqa: F401
    data_overview,  # noqa: F401
    generative,  # noqa: F401
    membership,  # noqa: F401
    robust_regression,  # noqa: F401
    vae_bpd,  # noqa: F401
    vae_theory,  # noqa: F401
)
