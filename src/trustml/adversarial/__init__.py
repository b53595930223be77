"""Adversarial robustness on MNIST: models, attacks, training loops, evaluation."""
