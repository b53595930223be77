"""Generative models: the MLP and categorical VAEs, the GANs, their training loops and metrics."""
