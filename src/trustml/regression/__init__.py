"""Robust regression: the square-root Lasso, the worst-case perturbation and min-max solvers."""
