"""Adversarial robustness, for any image classifier of [0, 1] pixels (MNIST and CIFAR-10 here).

The public API: the attacks (`fgsm`, `pgd`, `pgd_top_targets`), the same as frozen specs
(`FGSM`, `PGD`, `TopTargetsPGD`: `spec(model, x, y) -> x_adv`), the per-image worst case over an
ensemble (`worst_case`) and the AutoAttack ensemble from torchattacks (`autoattack`, needs the
`[attacks]` extra), and `robust_correct`. Modules: `attacks`, `specs`, `ensemble`, `evaluation`,
`training` (adversarial training on MNIST, and the batch and robustness check CIFAR's shares),
`measures` (noise, transfer, gradient comparisons), `bench`.
"""

from trustml.adversarial.attacks import fgsm, pgd, pgd_top_targets
from trustml.adversarial.ensemble import EnsembleReport, autoattack, worst_case
from trustml.adversarial.evaluation import robust_correct
from trustml.adversarial.specs import FGSM, PGD, TopTargetsPGD

__all__ = ["FGSM", "PGD", "EnsembleReport", "TopTargetsPGD", "autoattack", "fgsm", "pgd",
           "pgd_top_targets", "robust_correct", "worst_case"]
