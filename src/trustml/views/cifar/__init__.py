"""The CIFAR-10 chapter's tables, figures and computed sentences (HW3, question 2).

The package splits the jobs: `common` (constants, helpers, `compute`), `tables`, `figures`
and `prose` (the sentences); everything is re-exported here, so a chapter calls `view.<name>`.
"""

from __future__ import annotations

from collections.abc import Mapping

from trustml.core.cache import Result
from trustml.experiments.cifar import (  # noqa: F401  (the chapter reads the radii from the view)
    PIXEL,
    REFERENCE_FGSM_EPS,
    REFERENCE_PGD_EPS,
    REFERENCE_STD,
)
from trustml.views.cifar.common import (  # noqa: F401
    CLASSES,
    DEFENCE_EVALS,
    EPS8,
    EXPERIMENTS,
    MEMBER_LABELS,
    MODEL_LABELS,
    NOISE_NAMES,
    PARTS,
    PGD_EVALS,
    PROSE_LABELS,
    PUBLISHED,
    STANDARD_EVAL,
    STUDY_LABELS,
    TRAINING,
    _all_model_metrics,
    _bool,
    _compare_rows,
    _table,
    after_members,
    at_radius,
    compute,
    eps_label,
    eps_name,
    overstatement_points,
    radii,
    study_measures,
    weak_measures,
    worst,
)
from trustml.views.cifar.figures import check_figure, curve_figure, samples_figure  # noqa: F401
from trustml.views.cifar.prose import (  # noqa: F401
    MASKED_GAP,
    SURVIVES,
    _flat_fgsm,
    _signed,
    adversarial_loss_defence_sentence,
    advice_sentence,
    after_members_text,
    answer_facts,
    augmentation_closing,
    augmentation_facts,
    augmentation_verdict,
    augmentation_weak_sentence,
    checks_facts,
    cost_facts,
    cure_sentence,
    curve_sentence,
    defence_sentence,
    defences_verdict,
    evaluation_facts,
    gradient_facts,
    halves_sentence,
    interval_text,
    members_sentence,
    noise_facts,
    overfitting_sentence,
    overstatement,
    part_time,
    pgd_defence_sentence,
    pgd_versus_fgsm,
    radius_sentence,
    reference_reading,
    resnet18_cost,
    standard_attack_facts,
    standard_facts,
    survivors,
    tradeoff_sentence,
    transfer_facts,
)
from trustml.views.cifar.tables import (  # noqa: F401
    added_table,
    all_models_table,
    augmentation_table,
    cost_table,
    defence_table,
    eps_table,
    gradients_table,
    noise_table,
    published_table,
    transfer_table,
)


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for `python -m trustml ext-cifar`, of the experiments in `results`."""
    by = dict(results)
    lines = []
    if "cifar-standard" in by:
        f = standard_facts(by["cifar-standard"])
        lines.append(f"standard model: test accuracy {f['accuracy']}, {f['epochs']} epochs in "
                     f"{f['minutes']} ({f['images_per_second']} images/s, {f['precision']})")
    if STANDARD_EVAL in by:
        lines += ["\n2.1(a) standard model under attack", eps_table(by[STANDARD_EVAL]).text()]
    if "cifar-noise" in by:
        lines += ["\n2.1(b) FGSM against random noise", noise_table(by["cifar-noise"]).text()]
    if "cifar-study" in by:
        lines += ["\n2.1(c) transfer", transfer_table(by["cifar-study"]).text(),
                  "\n2.1(d) augmentation", augmentation_table(by["cifar-study"]).text(),
                  augmentation_verdict(by["cifar-study"])]
    for key in DEFENCE_EVALS:
        if key in by:
            lines += [f"\n{MODEL_LABELS[key]}", eps_table(by[key]).text()]
    if "cifar-gradients" in by:
        lines += ["\n2.3(b) adversarial loss against the appended batch",
                  gradients_table(by["cifar-gradients"]).text()]
    return "\n".join(lines)
