"""Membership inference: threshold attacks, the Gaussian-mean model, logistic regression."""
