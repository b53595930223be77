"""The CIFAR-10 extension (HW3, question 2) from the command line:
`python scripts/ext_cifar10.py [--part 2.1a] [--budget smoke]`.

Same as `python -m trustml ext-cifar`: runs (or loads from the cache) its experiments and prints
their tables.
"""

import sys

from trustml.cli import main

if __name__ == "__main__":
    sys.exit(main(["ext-cifar", *sys.argv[1:]]))
