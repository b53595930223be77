"""Computed sentences of the categorical-VAE chapter (HW3 1.9-1.11): what the samples look like
during training, which digits sit where on the 2-D manifold, and what beta does."""

from __future__ import annotations

import numpy as np

from trustml.core.cache import Result
from trustml.core.keys import number_key
from trustml.data import load_mnist
from trustml.generative.vae_categorical import quantize
from trustml.views.format import fmt_list
from trustml.views.vae_bpd import REFERENCE_BPD, REFERENCE_EPOCHS


def _ink_stats(levels: np.ndarray) -> tuple[float, float]:
    """(share of pixels with ink, i.e. level >= 1; share of the ink pixels with no inked
    neighbour among their 8) of images of levels (..., 28, 28)."""
    ink = levels.reshape(-1, 28, 28) >= 1
    padded = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
    neighbours = sum(padded[:, 1 + dr: 29 + dr, 1 + dc: 29 + dc]
                     for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0))
    isolated = (ink & (neighbours == 0)).sum() / max(int(ink.sum()), 1)
    return float(ink.mean()), float(isolated)


def sample_stats(result: Result, test_images: int = 2000) -> dict:
    """Per snapshot epoch, of the sampled-pixel images (every pixel drawn from its categorical
    distribution): the share of inked pixels and the share of stray ink (inked pixels without an
    inked neighbour); the same for the first `test_images` test digits, quantised alike."""
    snaps = result.arrays["snapshots"].astype(np.float32)  # (epochs, 2, n, 1, 28, 28), levels / 15
    out = {int(e): _ink_stats(np.rint(snaps[i, 0] * 15))
           for i, e in enumerate(result.metrics["snapshot_epochs"])}
    x, _ = load_mnist("test")
    out["test"] = _ink_stats(quantize(x[:test_images]).numpy())
    return out


def samples_text(result: Result) -> str:
    """What changes in the samples from epoch 0 to the end, with the numbers that show it."""
    st = sample_stats(result)
    epochs = sorted(k for k in st if k != "test")
    first, mid, last = epochs[0], epochs[len(epochs) // 2], epochs[-1]
    pct = lambda v: f"{100 * v:.1f} %"  # noqa: E731
    ink_t = st["test"][0]
    early_close = abs(st[mid][0] - ink_t) < 0.25 * ink_t
    return (
        f"Before training (epoch {first}) the decoder's categorical distributions are close to "
        f"uniform, so a sample is noise: {pct(st[first][0])} of its pixels carry ink, against "
        f"{pct(ink_t)} in real test digits. By epoch {mid} the samples are digits "
        + ("with about the right amount of ink" if early_close else "still with the wrong amount of ink")
        + f" ({pct(st[mid][0])}), but the strokes are ragged and stray pixels dot the "
        f"background: {pct(st[mid][1])} of the inked pixels have no inked neighbour, where real "
        + ("digits have none" if st["test"][1] < 5e-4 else f"digits have {pct(st['test'][1])}")
        + f". At the end (epoch {last}) the strokes are more "
        "continuous and the stray ink "
        + (f"falls to {pct(st[last][1])}" if st[last][1] < st[mid][1] else
           f"stays at {pct(st[last][1])}")
        + "; most of the change happens in the first epochs")
def _place(row: float, col: float, n: int) -> str:
    """Where a point of an n x n grid (row 0 at the top) lies, in words."""
    third = lambda v: int(min(2, v * 3 // n))  # noqa: E731
    vertical = ("top", "middle", "bottom")[third(row + 0.5)]
    horizontal = ("left", "centre", "right")[third(col + 0.5)]
    if vertical == "middle":
        return "the centre" if horizontal == "centre" else f"the {horizontal} side"
    return f"the {vertical}" if horizontal == "centre" else f"the {vertical} {horizontal}"


def manifold_places(result: Result) -> dict[str, list[int]]:
    """Which digits (as the standard CNN reads the grid's cells) sit where: each digit's cells'
    mean position on the grid, in words, mapped to the digits found there (largest share first)."""
    cells = result.arrays["manifold_digits"].astype(int)
    n = int(round(np.sqrt(len(cells))))
    grid = cells.reshape(n, n)
    places: dict[str, list[tuple[int, int]]] = {}
    for digit in range(10):
        rows, cols = np.nonzero(grid == digit)
        if len(rows):
            places.setdefault(_place(rows.mean(), cols.mean(), n), []).append((len(rows), digit))
    return {place: [d for _, d in sorted(found, reverse=True)] for place, found in places.items()}


def _digits(ds: list[int]) -> str:
    return fmt_list(ds)


def manifold_text(result: Result) -> str:
    """One clause: which digits sit where on the decoded grid, column by column ('the left
    column holds 0 (top), 6 and 2 (middle); the middle column 5 (top), ...')."""
    places = manifold_places(result)
    columns = (("left", ("the top left", "the left side", "the bottom left")),
               ("middle", ("the top", "the centre", "the bottom")),
               ("right", ("the top right", "the right side", "the bottom right")))
    parts = []
    for name, cells in columns:
        held = [f"{_digits(places[c])} ({row})" for c, row in zip(cells, ("top", "middle", "bottom"),
                                                                  strict=True) if c in places]
        if held:
            verb = "holds " if not parts else ""
            parts.append(f"the {name} column {verb}" + ", ".join(held))
    return "; ".join(parts)


def beta_answer(result: Result) -> dict[str, str]:
    """The sentences of the beta answer (HW3 1.11), worded for the values the sweep got."""
    betas = sorted(result.metrics["betas"])
    runs = {b: result.metrics["runs"][number_key(b)] for b in betas}
    busy = {b: int(np.sum(np.asarray(r["kl_per_dim"]) > 0.1)) for b, r in runs.items()}
    bpd = {b: r["test_bpd"] for b, r in runs.items()}
    lo, hi, best = betas[0], betas[-1], min(betas, key=bpd.get)
    one = 1.0 if 1.0 in runs else best
    small = [b for b in betas if b < 1]
    big = [b for b in betas if b > 1]
    out = {}
    tie = lowest_betas(result.metrics)
    if len(tie) > 1:
        out["best"] = (
            "The true bound cannot tell "
            + fmt_list(f"β = {b:g}" for b in tie) + " apart ("
            + fmt_list(f"{bpd[b]:.3f}" for b in tie)
            + (" bpd, a difference within its 95 % interval)" if len(tie) == 2 else
               " bpd, differences within their 95 % intervals)")
            + "".join(f", and at β = {b:g} it is worse, {bpd[b]:.3f} bpd" for b in betas
                      if b not in tie and b == hi))
    else:
        out["best"] = (
            f"The true bound is best at β = {best:g} ({bpd[best]:.3f} bpd)"
            + (", the value that optimises it" if best == 1.0 else
               ", although only β = 1 optimises it in training")
            + f"; it is {bpd[lo]:.3f} bpd at β = {lo:g} and {bpd[hi]:.3f} at β = {hi:g}"
            + (": the bound is not monotone in β, because β = 1 is the weight for which the "
               "training loss is the bound itself" if best == 1.0 and lo < 1 < hi else ""))
    if small:
        b = small[0]
        out["small"] = (
            f"With β = {b:g} the code is cheap: the encoder sends {runs[b]['test_kl']:.1f} nats "
            f"through it (against {runs[one]['test_kl']:.1f} at β = 1) and the decoder "
            f"reconstructs better ({runs[b]['test_rec']:.1f} against "
            f"{runs[one]['test_rec']:.1f} nats), but the posteriors move away from the prior, "
            "so codes drawn from the prior land where the decoder was rarely trained"
            + (", and the bound, which counts the KL in full, is worse"
               if bpd[b] > bpd[one] and not _tied(runs, b, one) else
               "; the bound, which counts the KL in full, is about the same, the better "
               "reconstruction paying for the extra KL" if _tied(runs, b, one) else ""))
    if big:
        b = big[-1]
        n_units = len(runs[b]["kl_per_dim"])
        collapsed = n_units - busy[b]
        out["big"] = (
            f"With β = {b:g} the code is expensive: the KL falls to {runs[b]['test_kl']:.1f} nats "
            f"and the reconstruction cost rises to {runs[b]['test_rec']:.1f} nats; only "
            f"{busy[b]} of {n_units} latent units carry more than 0.1 nats (against "
            f"{busy[one]} at β = 1)"
            + (f"; the other {collapsed} have collapsed onto the prior: their posterior is the "
               "prior whatever the image, so they tell the decoder nothing"
               if collapsed > 0 else "")
            + ". In the limit every unit collapses, the code carries no information and the "
              "decoder can only draw an average digit: posterior collapse")
    return out


def reference_comparison(bpd: float, half_width: float, epochs: int) -> str:
    """Our test bpd (with its 95 % half-width) against the reference solution's, in words; the
    reference quotes two decimals, so it stands for anything within 0.005 of the value it gives,
    and the two agree where our interval reaches that."""
    if abs(bpd - REFERENCE_BPD) <= half_width + 0.005:
        verdict = "the same bound to the precision it gives"
    else:
        verdict = ("a tighter bound" if bpd < REFERENCE_BPD else "a looser bound")
    return (f"ours, after {epochs} epochs, {'reaches' if epochs < REFERENCE_EPOCHS else 'gives'} "
            f"{verdict}")


def validation_best_phrase(history) -> str:
    """Where validation bpd was lowest, in words: 'was lowest in epoch 9 (0.571)', or, when
    that is the last epoch, 'fell to its lowest, 0.565, in the last epoch (13)'. `history` is
    the per-epoch frame (`epoch`, `val_bpd`)."""
    best = history.val_bpd.idxmin()
    epoch, value = int(history.epoch[best]), float(history.val_bpd[best])
    if epoch == int(history.epoch.iloc[-1]):
        return f"fell to its lowest, {value:.3f}, in the last epoch ({epoch})"
    return f"was lowest in epoch {epoch} ({value:.3f})"


def _tied(runs: dict, a: float, b: float) -> bool:
    """Whether the test bounds of β = a and β = b differ by no more than the 95 % interval of
    their difference (from the runs' `test_bpd_se`)."""
    se = float(np.hypot(runs[a].get("test_bpd_se", 0.0), runs[b].get("test_bpd_se", 0.0)))
    return abs(runs[a]["test_bpd"] - runs[b]["test_bpd"]) <= 1.96 * se


def lowest_betas(metrics: dict) -> list[float]:
    """The β with the lowest test bound and every β tied with it (`_tied`), ascending."""
    runs = {b: metrics["runs"][number_key(b)] for b in metrics["betas"]}
    best = min(runs, key=lambda b: runs[b]["test_bpd"])
    return sorted(b for b in runs if b == best or _tied(runs, b, best))


def lowest_bound_phrase(metrics: dict) -> str:
    """The β sweep's lowest bound, in words: 'the bound is lowest at β = 1', or the tie when
    other β lie within the 95 % interval of their difference from the lowest."""
    tie = lowest_betas(metrics)
    if len(tie) == 1:
        return f"the bound is lowest at β = {tie[0]:g}"
    return ("the bound is lowest, within its 95 % interval, at "
            + fmt_list(f"β = {b:g}" for b in tie))
