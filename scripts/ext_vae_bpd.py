"""The categorical-VAE extension from the command line:
`python scripts/ext_vae_bpd.py [--budget smoke]`.

Same as `python -m trustml ext-vae`: runs (or loads from the cache) its experiments and prints
their tables.
"""

import sys

from trustml.cli import main

if __name__ == "__main__":
    sys.exit(main(["ext-vae", *sys.argv[1:]]))
