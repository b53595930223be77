"""Exercise 2 from the command line: `python scripts/ex2_robust_regression.py [--budget smoke]`.

Same as `python -m trustml ex2`: runs (or loads from the cache) the robust-regression
experiment and prints its tables.
"""

import sys

from trustml.cli import main

if __name__ == "__main__":
    sys.exit(main(["ex2", *sys.argv[1:]]))
