"""The statistics behind REPORT.md's verdicts, and the checks that keep a masked gradient from counting.

A sub-finding is a sign: +1 agrees with the claim, -1 contradicts it, 0 is within noise. Where it comes from:

- :func:`compare_two`: two proportions on n test images, apart by more than two standard errors of their difference;
- :func:`paired_difference`: a paired bootstrap 95 % interval of a difference on the same examples
  (:func:`transfer_effects`: a target's accuracy under spiking- against ANN-crafted transfer attacks);
- :func:`welch`: the seeds' values of two sweep points (Welch's t-test, two-sided 5 %), when a point has several
  seeds, so that training noise counts too;
- :func:`ci_below`, :func:`damped`: disjoint 95 % bootstrap intervals of the change a perturbation makes at a
  network stage (analysis.measurement), for the same perturbation on the same images.

analysis.effects gives the same tests as effect sizes with intervals (a sweep's ends and slope:
analysis.sweep_effects). :func:`verdict` and :func:`blackbox_verdict` turn the signs into the words of the
report (reproduced / partly / not reproduced), :func:`stated` a sign into words of a sentence.
:func:`suspect`, :func:`compare_masked` and :func:`zero_grad_flags` say why a white-box number looks like a
masked gradient (Athalye et al. 2018).
Reads saved results only (analysis.saved_results' accessors).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from analysis.effects import STATUS_OF_SIGN, verdict_of
from analysis.saved_results import adv, pct, value_of


def compare_two(a: float, b: float, n: float, m: float | None = None) -> int:
    """+1 if proportion a (of n) exceeds b (of m, default n) by more than two standard errors
    of the difference, -1 if it falls short by as much, 0 if neither."""
    m = n if m is None else m
    if any(v is None or math.isnan(v) for v in (a, b)) or min(n, m) <= 0:
        return 0
    se = math.sqrt(max(a * (1 - a), 1e-6) / n + max(b * (1 - b), 1e-6) / m)
    return int(np.sign(a - b)) if abs(a - b) > 2 * se else 0


def paired_difference(a, b, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(estimate, low, high): the mean over examples of a - b (per-example values of the same examples, e.g.
    1 where a prediction is right) and its 95 % paired bootstrap interval (examples resampled as pairs)."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if not len(d):
        return math.nan, math.nan, math.nan
    boot = d[np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))].mean(1)
    return float(d.mean()), float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))


def transfer_effects(matrix: dict) -> list[dict]:
    """Per target and attack of analysis.transfer_matrix's matrix: the target's accuracy under examples crafted
    on spiking sources minus under those crafted on ANN sources, paired per example (:func:`paired_difference`;
    with several sources in a group, an example's correctness is its mean over them). Black-box cells only: the
    diagonal and sources sharing weights or seed with the target are left out. ``effect``: (estimate, low, high);
    ``sign``: +1 if the whole interval lies below 0 (spiking-crafted attacks are stronger), -1 if above."""
    labels, models, out = np.array(list(matrix["labels"]), int), matrix["models"], []
    for target in matrix["order"]:
        for attack in matrix["attacks"]:
            cells = [c for c in matrix["cells"] if c["target"] == target and c["attack"] == attack and c["black_box"]]
            group = {k: [c for c in cells if models[c["source"]]["spiking"] == k] for k in (True, False)}
            if not (group[True] and group[False]):
                continue
            right = {k: np.mean([np.array(list(c["pred"]), int) == labels for c in g], axis=0)
                     for k, g in group.items()}
            effect = paired_difference(right[True], right[False])
            out.append({"target": target, "attack": attack, "snn_sources": [c["source"] for c in group[True]],
                        "ann_sources": [c["source"] for c in group[False]], "snn_accuracy": float(right[True].mean()),
                        "ann_accuracy": float(right[False].mean()), "effect": list(effect),
                        "sign": 1 if effect[2] < 0 else -1 if effect[1] > 0 else 0})
    return out


def welch(a: list[float], b: list[float]) -> int:
    """+1 if the seeds' values a exceed b (Welch's t-test, two-sided 5 %), -1 if they fall short, 0 if neither."""
    if min(len(a), len(b)) < 2 or any(math.isnan(v) for v in a + b):
        return 0
    if np.std(a) == 0 and np.std(b) == 0:
        return int(np.sign(np.mean(a) - np.mean(b)))
    t, pval = stats.ttest_ind(a, b, equal_var=False)
    return int(np.sign(t)) if pval < 0.05 else 0


def ci_of(res: dict, stage: str, delta: str = "transfer") -> tuple[float, float]:
    ci = res["deltas"][delta]["change"][stage].get("ci95") or [np.nan, np.nan]
    return float(ci[0]), float(ci[1])


def ci_below(a: dict, stage_a: str, b: dict, stage_b: str, delta: str = "transfer") -> int:
    """+1 if a's change at stage_a lies below b's at stage_b with disjoint 95% intervals, -1 if above, 0 if
    they overlap. Only for the same d on the same images, where the changes compare directly."""
    (lo_a, hi_a), (lo_b, hi_b) = ci_of(a, stage_a, delta), ci_of(b, stage_b, delta)
    return 1 if hi_a < lo_b else -1 if lo_a > hi_b else 0


def damped(res: dict, stage: str, delta: str = "transfer") -> int:
    """+1 if the change at ``stage`` is below the input's (whole 95% interval), -1 if above."""
    first = value_of(res["deltas"][delta]["change"][res["stages"][0]])
    lo, hi = ci_of(res, stage, delta)
    return 1 if hi < first else -1 if lo > first else 0


def stated(sign: int, yes: str = "SNN lower", no: str = "SNN higher") -> str:
    return {1: yes, -1: no, 0: "within noise"}[sign]


def verdict(signs: list[int]) -> str:
    """Sub-findings that agree with the claim (+1), contradict it (-1) or are unclear (0): analysis.effects'
    verdict_of on unnamed parts."""
    return verdict_of([(str(k), STATUS_OF_SIGN[s]) for k, s in enumerate(signs)])[0]


def blackbox_verdict(snn_vs_cnn_black: int, gap_larger_black: bool) -> str:
    """Reproduced: the SNN beats the CNN under transfer, by more than under white-box attack.
    Partly: one of the two, with the SNN at least level under transfer."""
    if snn_vs_cnn_black > 0 and gap_larger_black:
        return "reproduced"
    if snn_vs_cnn_black > 0 or (snn_vs_cnn_black == 0 and gap_larger_black):
        return "partly"
    return "not reproduced"


def suspect(e: dict, n: int, white_asr: float | None = None) -> str | None:
    """Why a white-box number is not to be trusted (Athalye et al. 2018): an attack with the model's
    own gradient that does worse than transfer or random noise is being fooled (masked gradients).
    ``white_asr``: the white-box ASR to check (default FGSM's)."""
    white_asr = adv(e, "fgsm", "attack_success_rate") if white_asr is None else white_asr
    for other in ("transfer", "random"):
        other_asr = adv(e, other, "attack_success_rate")
        if compare_two(other_asr, white_asr, n * e["clean_accuracy"]) > 0:
            return f"white-box ASR {pct(white_asr)}% below {other} {pct(other_asr)}%"
    return None


def compare_masked(cells: dict, n: int) -> dict:
    """(net, attack) -> why its white-box number looks like gradient masking: a many-step PGD no stronger
    than one FGSM step, or the model's own gradient weaker than a transfer from another model. ``cells``:
    (net, attack, setting) -> cell of analysis.compare (analysis.seed_claims.compare_cells)."""
    out = {}
    for (net, attack, setting), cell in cells.items():
        if setting != "white":
            continue
        fgsm = cells.get((net, "fgsm", "white"))
        # PGD starts from FGSM's direction and takes many steps: on a sound gradient it ends at or below FGSM's
        # accuracy on the same images. Flag it only when it does not; "not significantly below" would flag
        # every row of a 200-image table (two standard errors are ~7 points there).
        if attack == "pgd" and fgsm and cell["adv_accuracy"] >= fgsm["adv_accuracy"]:
            out[(net, "pgd")] = (f"white-box PGD {pct(cell['adv_accuracy'])}% is no stronger than FGSM "
                                 f"{pct(fgsm['adv_accuracy'])}%")
        for (net2, attack2, setting2), black in cells.items():
            if net2 == net and attack2 == attack and setting2.startswith("black") \
                    and compare_two(cell["adv_accuracy"], black["adv_accuracy"], n) > 0:
                out[(net, attack)] = (f"white-box {attack.upper()} {pct(cell['adv_accuracy'])}% weaker than transfer "
                                      f"({setting2}) {pct(black['adv_accuracy'])}%")
    return out


# Above this share of exactly-zero input-gradient entries a sign-gradient attack leaves that share of the
# input alone: the audit found ~5 % on a biased max-pool CNN and 57 % on our old bias-free one.
ZERO_GRAD_FLAG = 0.05


def zero_grad_flags(summary: dict) -> list[str]:
    """A model whose input gradient is exactly zero at many entries, and what its worst case says about it."""
    out = []
    for m in summary["models"]:
        share = m.get("zero_grad_share")
        if share is not None and share > ZERO_GRAD_FLAG:
            w = [c for c in summary.get("worst_case", []) if c["target"] == m["key"]]
            out.append(f"analysis.compare, {m['label']}: {pct(share)}% of its input-gradient entries are exactly 0 "
                       f"(sign-gradient attacks cannot move them)" + (
                           f"; worst case over {', '.join(w[0]['attacks'])}: {pct(w[0]['adv_accuracy'])}% at eps "
                           f"{w[0]['eps']:g}" if w else ""))
    return out
