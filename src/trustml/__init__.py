"""trustml: generative models, adversarial robustness and privacy, reproducibly.

`import trustml` is light; the subpackages load on first use, so `trustml.adversarial.pgd`
works after a bare `import trustml`. The library: `trustml.adversarial` (attacks, ensembles,
AutoAttack), `trustml.privacy` (membership inference), `trustml.generative`, `trustml.models`,
`trustml.regression`, `trustml.data`; the base is `trustml.core`; `trustml.experiments` and
`trustml.views` are the book's.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

SUBPACKAGES = ("adversarial", "core", "data", "experiments", "fasttrain", "generative", "models",
               "privacy", "regression", "views")
__all__ = ["__version__", *SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        return importlib.import_module(f"trustml.{name}")
    raise AttributeError(f"module 'trustml' has no attribute {name!r}")
