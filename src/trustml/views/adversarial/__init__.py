"""Exercise 3's tables, figures and computed sentences.

The package splits the jobs: `common` (constants, helpers, `compute`), `tables`, `figures`
and `prose` (the sentences); everything is re-exported here, so a chapter calls `view.<name>`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from trustml.core.cache import Result
from trustml.experiments.adversarial import (
    MODELS,
    autoattack_name,
    eval_name,
)
from trustml.views.adversarial.common import (  # noqa: F401
    DEFENDED,
    EXPERIMENTS,
    MODEL_NAMES,
    PAIRED_ON,
    PARTS,
    PUBLISHED,
    PUBLISHED_PARAMS,
    _short_args,
    _styled,
    aa_result,
    accuracies,
    accuracy_ci,
    autoattack_members,
    collapse_summary,
    compute,
    eval_result,
    grey_bound,
    largest_pgd_gap,
    masked,
    paired,
    radii,
    radius_sweep,
    saturated_share,
    torch_bool,
    training_history,
    worst_case_ci,
)
from trustml.views.adversarial.figures import curve_figure, images_figure, samples_figure, training_figure  # noqa: F401
from trustml.views.adversarial.prose import (  # noqa: F401
    added_sentence,
    autoattack_cost_sentence,
    autoattack_sentence,
    failed_checks,
    fall_sentence,
    masked_sentence,
    masking_sentence,
    plain_fgsm_asked_sentence,
    plain_fgsm_failure_sentence,
    published_sentence,
    rising_fgsm_sentence,
    trend_sentences,
    verdict,
)
from trustml.views.adversarial.tables import (  # noqa: F401
    added_table,
    architecture_table,
    eps_table,
    grid_table,
    paired_tests,
    published_table,
    radius_sweep_table,
    sanity_checks,
    timing_table,
)
from trustml.views.format import fmt_pct


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for the command line (`python -m trustml ex3`), of the experiments in
    `results` (name -> result)."""
    by_name = dict(results)
    lines = []
    if "mnist-standard-cnn" in by_name:
        acc, lo, hi = accuracy_ci(by_name["mnist-standard-cnn"])
        table = architecture_table(by_name["mnist-standard-cnn"], styled=False)
        lines += ["(a) standard model", table.to_string(index=False),
                  f"test accuracy {fmt_pct(acc, 2)} (95 % CI {fmt_pct(lo, 2)}-{fmt_pct(hi, 2)})"]
    for model in MODEL_NAMES[1:]:
        if model in by_name:
            h = training_history(by_name[model])
            lines += [f"\n{MODELS[model]} training (held-out batch)",
                      h[["epoch", "train_loss", "check_clean", "check_pgd", "collapsed",
                         "seconds"]].round(4).to_string(index=False)]
    for model in MODEL_NAMES:
        if eval_name(model) in by_name:
            m = by_name[eval_name(model)].metrics
            table = pd.DataFrame({"FGSM": m["fgsm"], "textbook PGD": m["pgd_ce"],
                                  "our PGD": m["pgd"]}).T * 100
            lines += [f"\n{MODELS[model]}: accuracy (%) on {m['n']:,} test images, "
                      f"clean {fmt_pct(m['clean'], 2)}", table.round(2).to_string()]
        if autoattack_name(model) in by_name:
            a = by_name[autoattack_name(model)].metrics
            table = pd.DataFrame(a["accuracy"]) * 100
            lines += [f"{MODELS[model]}: on the first {a['n']:,} test images, accuracy (%) after "
                      "our PGD and then each attack of AutoAttack", table.round(2).to_string()]
    if "ex3-radius-sweep" in by_name:
        m = by_name["ex3-radius-sweep"].metrics
        table = pd.DataFrame({MODELS[model]: m["pgd"][model] for model in m["models"]}).T * 100
        lines += [f"\nour PGD between 0.2 and 0.3: accuracy (%) on the first {m['n']:,} test images",
                  table.round(1).to_string()]
    return "\n".join(lines)

