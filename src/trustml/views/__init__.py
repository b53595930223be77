"""What each chapter shows: tables (`views.table.Table`, as Markdown) and figures from cached results.

A chapter cell calls one function from here; no plotting boilerplate lives in a `.qmd`.
Importing a view registers every experiment (the views read results by experiment name).
"""

import trustml.experiments  # noqa: F401  (registers the experiments and declares the chapters)
