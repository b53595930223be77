"""Fast CIFAR-10 training on a CPU (the airbench-style recipe) and its adversarial objectives."""
