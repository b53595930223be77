"""What each chapter shows: tables (`views.table.Table`, as Markdown) and figures from cached results.

A chapter cell calls one function from here; no plotting boilerplate lives in a `.qmd`.
Importing a view registers every experiment (the views read results by experiment name).
"""

import trustml.experiments  # noqa: F401  (registers the experiments and declares the chapters)
from trustml.views.legibility import install as _install_legible_figures

_install_legible_figures()  # in a chapter's kernel: legible figures, tagged with their smallest font
