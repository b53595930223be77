"""CIFAR-10 on a CPU: a small residual network, its fast training recipe, and the chapter's
adversarial measurements (random noise, transfer, gradient identities)."""
