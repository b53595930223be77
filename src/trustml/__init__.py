"""trustml: generative models, adversarial robustness and privacy, reproducibly."""

__version__ = "0.1.0"
