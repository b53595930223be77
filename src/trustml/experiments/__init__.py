"""Experiment definitions, one module per chapter; importing this package registers them all in
`trustml.core.cache` and declares every chapter in `trustml.core.chapters`."""

from trustml.core.chapters import CHAPTERS, declare_chapter
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

# the preface and the reproducing appendix show every experiment of every chapter
ALL = tuple(dict.fromkeys(name for chapter in list(CHAPTERS.values()) for name in chapter.experiments))
declare_chapter("index.qmd", ALL, "trustml.views.reproducing")
declare_chapter("chapters/reproducing.qmd", ALL, "trustml.views.reproducing")
