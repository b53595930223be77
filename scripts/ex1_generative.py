"""Exercise 1 from the command line: `python scripts/ex1_generative.py [--model vae|gan]`.

Same as `python -m trustml ex1`: trains (or loads from the cache) the VAE and the GAN, the
standard CNN used for the metrics, and prints the curves and the comparison.
"""

import sys

from trustml.cli import main

if __name__ == "__main__":
    sys.exit(main(["ex1", *sys.argv[1:]]))
