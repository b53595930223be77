"""The base: budgets, the results cache, devices, errors, paths, progress bars and validation.

Nothing here imports the domain packages (tested in tests/core/test_layout.py)."""
