"""Exercise 4 from the command line: `python scripts/ex4_membership.py [--budget smoke]`.

Same as `python -m trustml ex4`: runs (or loads from the cache) both membership-inference
experiments and prints their tables.
"""

import sys

from trustml.cli import main

if __name__ == "__main__":
    sys.exit(main(["ex4", *sys.argv[1:]]))
