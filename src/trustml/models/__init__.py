"""The networks: the MNIST CNNs and the CIFAR-10 residual networks."""
