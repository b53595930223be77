"""Exercise 3 (attacks, adversarial training) from the command line:
`python scripts/ex3_adversarial.py [--part a|b|c|d|e] [--budget smoke]`.

Same as `python -m trustml ex3`: runs (or loads from the cache) its experiments and prints
their tables.
"""

import sys

from trustml.cli import main

if __name__ == "__main__":
    sys.exit(main(["ex3", *sys.argv[1:]]))
