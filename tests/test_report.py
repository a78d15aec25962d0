"""REPORT.md's verdicts on small fabricated results: the statistics (analysis.verdicts), every seed claim
(analysis.seed_claims) with its verdict coming out each way and its key number in the text, and the writer
(analysis.report) putting a claim's row on the page."""
import math

import numpy as np

from analysis import seed_claims, verdicts
from analysis.report import write_report
from analysis.seed_claims import PUBLISHED_ACCURACY, SEED000_FGSM

N = 1000   # test images: two standard errors of a difference near 50 % are ~4.5 points


# --- fabricated results -----------------------------------------------------------------------
def change(ratios: dict) -> dict:
    """stage -> (change relative to the input's, half-width of its 95 % interval); the input's is 1."""
    return {"input": {"value": 1.0, "ci95": [0.95, 1.05]},
            **{s: {"value": v, "ci95": [v - h, v + h]} for s, (v, h) in ratios.items()}}


def evaluation(asr: dict, clean=0.9, ratios=None, **extra) -> dict:
    """An analysis.measurement evaluation: attack (delta) -> its ASR; the stages' changes the same for each."""
    ratios = ratios or {"L1": (0.5, 0.05), "output": (0.5, 0.05)}
    return {"clean_accuracy": clean, "stages": ["input", *ratios], **extra,
            "deltas": {d: {"adv_accuracy": clean * (1 - a), "attack_success_rate": a, "change": change(ratios)}
                       for d, a in asr.items()}}


def damping_of(**models) -> dict:
    return {"n": N, "source": "runs/cnn-s1", "models": {k: {"0.1": {"label": k.upper(), "run": f"runs/{k}-s0",
                                                                    "n": N, **e}} for k, e in models.items()}}


def point(kind: str, asr: dict, clean=0.9, seed=0, **job) -> dict:
    return {"job": {"kind": kind, "seed": seed, "levels": 256, "n_test": N, **job}, "eval": evaluation(asr, clean)}


def both(fgsm: float, transfer: float | None = None) -> dict:
    return {"fgsm": fgsm, "transfer": fgsm if transfer is None else transfer}


# --- the statistics ---------------------------------------------------------------------------
def test_compare_two_counts_only_differences_beyond_two_standard_errors():
    assert verdicts.compare_two(0.6, 0.4, N) == 1 and verdicts.compare_two(0.4, 0.6, N) == -1
    assert verdicts.compare_two(0.52, 0.50, N) == 0           # 2 points on 1,000 images: noise
    assert verdicts.compare_two(0.6, 0.4, 20) == 0            # 20 points on 20 images: noise too
    assert verdicts.compare_two(0.6, 0.4, N, m=10) == 0       # the second proportion's n counts
    assert verdicts.compare_two(math.nan, 0.4, N) == 0 and verdicts.compare_two(0.6, None, N) == 0


def test_welch_tests_the_seeds_spread():
    low, high = [0.10, 0.11, 0.09], [0.50, 0.52, 0.48]
    assert verdicts.welch(high, low) == 1 and verdicts.welch(low, high) == -1
    assert verdicts.welch([0.3, 0.3, 0.3], [0.3, 0.3, 0.3]) == 0                # identical, no spread
    assert verdicts.welch([0.1, 0.5, 0.3], [0.1, 0.5, 0.3]) == 0                # identical, with spread
    assert verdicts.welch([0.30, 0.10, 0.50], [0.20, 0.35, 0.05]) == 0          # overlapping
    assert verdicts.welch([0.9], [0.1]) == 0                                    # one seed: no test


def test_intervals_and_verdict_words():
    low = {"stages": ["input", "L1"], "deltas": {"transfer": {"change": change({"L1": (0.3, 0.05)})}}}
    high = {"stages": ["input", "L1"], "deltas": {"transfer": {"change": change({"L1": (0.8, 0.05)})}}}
    amplified = {"stages": ["input", "L1"], "deltas": {"transfer": {"change": change({"L1": (1.5, 0.1)})}}}
    assert verdicts.ci_below(low, "L1", high, "L1") == 1 and verdicts.ci_below(high, "L1", low, "L1") == -1
    assert verdicts.ci_below(low, "L1", low, "L1") == 0
    assert verdicts.damped(low, "L1") == 1 and verdicts.damped(amplified, "L1") == -1
    assert verdicts.stated(1) == "SNN lower" and verdicts.stated(0, "a", "b") == "within noise"
    assert verdicts.verdict([1, 1]) == "reproduced" and verdicts.verdict([1, 0, -1]) == "partly"
    assert verdicts.verdict([0, -1]) == verdicts.verdict([]) == "not reproduced"
    assert verdicts.blackbox_verdict(1, True) == "reproduced"
    assert verdicts.blackbox_verdict(1, False) == verdicts.blackbox_verdict(0, True) == "partly"
    assert verdicts.blackbox_verdict(-1, True) == verdicts.blackbox_verdict(0, False) == "not reproduced"


def test_trend_compares_the_endpoints_and_ignores_a_suspect_white_box_one():
    falling = [point("snn", both(0.6), leak=1.0), point("snn", both(0.2), leak=0.8)]
    assert verdicts.trend(falling, "transfer", N, lo_first=False) == (1, "60.0% -> 20.0%")
    assert verdicts.trend(falling, "transfer", N, lo_first=True)[0] == -1
    assert verdicts.trend(falling[:1], "fgsm", N, lo_first=False) == (0, "n/a")
    masked = [point("snn", both(0.1, 0.6), leak=1.0), point("snn", both(0.05), leak=0.8)]   # fgsm << transfer
    assert verdicts.suspect(masked[0]["eval"], N) == "white-box ASR 10.0% below transfer 60.0%"
    assert verdicts.trend(masked, "fgsm", N, lo_first=False) == (0, "10.0% -> 5.0% (white-box suspect, not counted)")
    (sign, text), _ = verdicts.sweep_trends(falling, "SNN leak", "leak", N, lo_first=False)
    assert sign == 1 and text == ("SNN leak 1 -> 0.8: fgsm ASR 60.0% -> 20.0% (all: 1: 60.0%, 0.8: 20.0%; "
                                  "significant)")


def test_masked_gradient_checks_of_a_compare_table():
    cells = {("snn", "fgsm", "white"): {"adv_accuracy": 0.8}, ("snn", "fgsm", "black-cnn"): {"adv_accuracy": 0.4},
             ("cnn", "fgsm", "white"): {"adv_accuracy": 0.2}, ("cnn", "pgd", "white"): {"adv_accuracy": 0.3},
             ("cnn", "fgsm", "black-cnn"): {"adv_accuracy": 0.3}}
    masked = verdicts.compare_masked(cells, N)
    assert masked == {("snn", "fgsm"): "white-box FGSM 80.0% weaker than transfer (black-cnn) 40.0%",
                      ("cnn", "pgd"): "white-box PGD 30.0% is no stronger than FGSM 20.0%"}
    summary = {"models": [{"key": "c", "label": "CNN", "zero_grad_share": 0.57}, {"key": "s", "label": "SNN",
                                                                                   "zero_grad_share": 0.01}],
               "worst_case": [{"target": "c", "attacks": ["fgsm", "pgd"], "adv_accuracy": 0.05, "eps": 0.1}]}
    assert verdicts.zero_grad_flags(summary) == [
        "analysis.compare, CNN: 57.0% of its input-gradient entries are exactly 0 (sign-gradient attacks cannot "
        "move them); worst case over fgsm, pgd: 5.0% at eps 0.1"]


# --- Sharmin et al.: damping ------------------------------------------------------------------
def damping_pair(snn_hidden: float, snn_output: float, **extra):
    cnn = evaluation(both(0.5, 0.3), ratios={"L1": (0.8, 0.05), "output": (0.9, 0.05)})
    snn = evaluation(both(0.5, 0.3), ratios={"L1": (snn_hidden, 0.05), "output": (snn_output, 0.05)})
    return damping_of(cnn=cnn, snn=snn, **extra)


def test_damping_claim_each_way():
    claim = seed_claims.damping_claim(damping_pair(0.3, 0.4))
    assert claim.verdict == "reproduced" and "last hidden layer CNN 0.80 (L1) vs SNN 0.30 (L1; SNN lower)" in claim.numbers
    assert "output CNN 0.90 vs SNN 0.40 (SNN lower)" in claim.numbers
    assert seed_claims.damping_claim(damping_pair(0.3, 0.9)).verdict == "partly"          # output: overlapping
    claim = seed_claims.damping_claim(damping_pair(1.2, 1.3))
    assert claim.verdict == "not reproduced" and "vs SNN 1.20 (L1; SNN higher)" in claim.numbers
    bio = evaluation(both(0.5, 0.3), ratios={"exc counts": (1.6, 0.1), "output": (1.0, 0.1)})
    claim = seed_claims.damping_claim(damping_pair(0.3, 0.4, bio=bio))   # the Brian2 network amplifies it
    assert claim.verdict == "partly" and "exc counts / input 1.60 (amplified)" in claim.numbers
    assert seed_claims.damping_claim(damping_of(cnn=evaluation(both(0.5)))) is None   # no SNN


def test_damping_claim_reads_the_leak_sweeps_models():
    sweep = {"points": [point("cnn", both(0.5)), point("snn", both(0.5), leak=0.99), point("snn", both(0.5), leak=1.0)]}
    sweep["points"][0]["eval"]["deltas"]["transfer"]["change"] = change({"L1": (0.9, 0.05), "output": (0.9, 0.05)})
    sweep["points"][1]["eval"]["deltas"]["transfer"]["change"] = change({"L1": (0.2, 0.05), "output": (0.2, 0.05)})
    claim = seed_claims.damping_claim(damping_pair(0.3, 0.4), sweep)
    assert claim.verdict == "reproduced"
    assert "last hidden / input CNN 0.90 vs SNN leak 0.99 0.20 (SNN lower), over leaks 1: 0.50, 0.99: 0.20" in claim.numbers


def test_blackbox_damping_claim_each_way():
    def claim_of(cnn_adv, snn_adv):   # (white, transfer) adversarial accuracy; clean 0.9
        cnn, snn = (evaluation({"fgsm": 1 - w / 0.9, "transfer": 1 - b / 0.9}) for w, b in (cnn_adv, snn_adv))
        return seed_claims.blackbox_damping_claim(damping_of(cnn=cnn, snn=snn))

    claim = claim_of((0.2, 0.3), (0.25, 0.7))
    assert claim.verdict == "reproduced" and "white-box +5.0 points, black-box +40.0 points" in claim.numbers
    assert claim_of((0.2, 0.3), (0.65, 0.7)).verdict == "partly"          # beats it, by less than white-box
    assert claim_of((0.2, 0.7), (0.2, 0.3)).verdict == "not reproduced"   # worse under transfer
    masked = claim_of((0.2, 0.3), (0.9, 0.7))   # the SNN's own gradient is weaker than the transfer: not counted
    assert masked.verdict == "partly" and "(masked gradients suspected: not counted)" in masked.numbers
    self_source = damping_of(cnn=evaluation(both(0.5)), snn=evaluation(both(0.5)))
    self_source["source"] = "runs/cnn-s0"
    assert "its 'black-box' is white-box" in seed_claims.blackbox_damping_claim(self_source).numbers


# --- Sharmin et al.: the sweeps ---------------------------------------------------------------
def leak_sweep_of(if_asr: dict, leaky_asr: dict, bio=()) -> dict:
    """The IF SNN (leak 1) and a leaky one (0.8); ``bio``: (tau_exc_ms, asr, clean) of Brian2 points."""
    pts = [point("cnn", both(0.5)), point("snn", if_asr, leak=1.0, T=8), point("snn", leaky_asr, leak=0.8, T=8)]
    pts += [point("bio", asr, clean, tau_exc_ms=tau, present_ms=350.0) for tau, asr, clean in bio]
    return {"settings": {"n_test": N, "eps": 0.1}, "points": pts}


def test_leak_claim_each_way():
    claim = seed_claims.leak_claim(leak_sweep_of(both(0.6, 0.4), both(0.2, 0.1)))
    assert claim.verdict == "reproduced"
    assert "SNN leak 1 -> 0.8: transfer ASR 40.0% -> 10.0% (all: 1: 40.0%, 0.8: 10.0%; significant)" in claim.numbers
    assert "clean 90.0% -> 90.0%" in claim.numbers
    assert seed_claims.leak_claim(leak_sweep_of(both(0.6, 0.2), both(0.2))).verdict == "partly"   # transfer level
    claim = seed_claims.leak_claim(leak_sweep_of(both(0.2, 0.1), both(0.6, 0.4)))
    assert claim.verdict == "not reproduced" and "fgsm ASR 20.0% -> 60.0%" in claim.numbers and "reversed" in claim.numbers
    one_point = {"settings": {"n_test": N}, "points": [point("snn", both(0.6), leak=1.0, T=8)]}
    assert seed_claims.leak_claim(one_point) is None   # no trend


def test_leak_claim_reads_the_brian2_points_from_long_tau_to_short():
    bio = ((50.0, both(0.3), 0.6), (200.0, both(0.5), 0.9))
    claim = seed_claims.leak_claim(leak_sweep_of(both(0.6), both(0.2), bio=bio))
    assert claim.verdict == "reproduced" and "Brian2 tau_exc 200 -> 50: fgsm ASR 50.0% -> 30.0%" in claim.numbers
    assert "caveat: the Brian2 networks differ in clean accuracy" in claim.numbers


def timestep_sweep_of(few_steps: float, full: float, coarse: float, cnn_level_asr=None, mid=None) -> dict:
    """The SNN's ASR at T 4, at T 8 (256 levels: one point of both sweeps) and at T 8 on 2 levels; the CNN's on 2
    and 256 levels; ``mid``: the SNN's at 16 levels (between eps's half step and the full 256)."""
    pts = [point("snn", both(few_steps), T=4, leak=0.99), point("snn", both(full), T=8, leak=0.99),
           point("snn", both(coarse), T=8, leak=0.99, levels=2)]
    if cnn_level_asr:
        pts += [point("cnn", both(a), levels=lv) for lv, a in zip((2, 256), cnn_level_asr)]
    if mid is not None:
        pts.append(point("snn", both(mid), T=8, leak=0.99, levels=16))
    return {"settings": {"n_test": N, "eps": 0.1}, "leak": 0.99, "points": pts}


def test_discretization_claim_each_way():
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.2, 0.6, 0.2))
    assert claim.verdict == "reproduced"
    assert "SNN T 4 -> 8: fgsm ASR 20.0% -> 60.0% (all: 4: 20.0%, 8: 60.0%; significant)" in claim.numbers
    assert "SNN levels 2 -> 256: transfer ASR 20.0% -> 60.0% (by levels 2: 20.0%, 256: 60.0%; significant)" \
        in claim.numbers
    assert seed_claims.discretization_claim(timestep_sweep_of(0.2, 0.6, 0.8)).verdict == "partly"
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.8, 0.6, 0.8))
    assert claim.verdict == "not reproduced" and "SNN T 4 -> 8: fgsm ASR 80.0% -> 60.0%" in claim.numbers


def test_discretization_claim_counts_no_cnn_control_and_names_the_half_step():
    # the CNN gains from quantization, the SNN not: the control's trend is shown, not counted
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.8, 0.6, 0.8, cnn_level_asr=(0.2, 0.6)))
    assert claim.verdict == "not reproduced" and "control, CNN levels 2 -> 256: fgsm ASR 20.0% -> 60.0%" in claim.numbers
    assert "the CNN control gains too" in claim.numbers
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.2, 0.6, 0.2, mid=0.8))
    assert "SNN at 16 levels (half a step below eps) is more vulnerable than unquantized (fgsm ASR 80.0% vs 60.0%)" \
        in claim.numbers
    assert seed_claims.discretization_claim({"settings": {"n_test": N, "eps": 0.1}, "leak": 0.99, "points": []}) is None


# --- Sharmin et al. and seed 000 on analysis.compare ------------------------------------------
def compare_of(white: dict, black: dict | None = None, worst: dict | None = None, dset="mnist", attacks=("fgsm",)):
    """analysis.compare's summary at seed 000's eps: net -> white-box (FGSM) and black-box (from the CNN
    source) adversarial accuracy, and net -> worst case."""
    eps = SEED000_FGSM[dset]["eps"]
    models = [{"key": f"{net}-s0", "net": net, "label": net.upper()} for net in white]
    cells = [{"target": f"{net}-s0", "attack": a, "eps": eps, "setting": "white", "adv_accuracy": acc}
             for net, acc in white.items() for a in attacks]
    cells += [{"target": f"{net}-s0", "attack": a, "eps": eps, "setting": "black-cnn", "adv_accuracy": acc}
              for net, acc in (black or {}).items() for a in attacks]
    return {"n_test": N, "settings": {"dset": dset, "eps": [eps], "attacks": list(attacks)}, "models": models,
            "sources": {"cnn": {"path": "runs/cnn-s1", "label": "CNN (s1)"}} if black else {}, "cells": cells,
            "worst_case": [{"target": f"{net}-s0", "eps": eps, "adv_accuracy": acc, "attacks": list(attacks)}
                           for net, acc in (worst or {}).items()]}


def test_blackbox_compare_claim_each_way():
    claim = seed_claims.blackbox_compare_claim(
        compare_of({"cnn": 0.1, "snn": 0.2, "converted": 0.1}, {"cnn": 0.3, "snn": 0.7, "converted": 0.3}))
    assert claim.verdict == "reproduced" and claim.statement.endswith("[analysis.compare, MNIST]")
    assert ("FGSM: SNN - CNN black-box +40.0 points (SNN better), white-box +10.0 points (gap larger under black-box); "
            "converted SNN - CNN black-box +0.0 points (within noise)") in claim.numbers
    claim = seed_claims.blackbox_compare_claim(compare_of({"cnn": 0.1, "snn": 0.5}, {"cnn": 0.3, "snn": 0.7}))
    assert claim.verdict == "partly" and "(gap no different under black-box)" in claim.numbers
    claim = seed_claims.blackbox_compare_claim(compare_of({"cnn": 0.2, "snn": 0.2}, {"cnn": 0.7, "snn": 0.3}))
    assert claim.verdict == "not reproduced" and "black-box -40.0 points (SNN worse)" in claim.numbers
    # the converted SNN gaining under transfer contradicts the claim
    claim = seed_claims.blackbox_compare_claim(
        compare_of({"cnn": 0.1, "snn": 0.2, "converted": 0.1}, {"cnn": 0.3, "snn": 0.7, "converted": 0.7}))
    assert claim.verdict == "partly" and "converted SNN - CNN black-box +40.0 points (better)" in claim.numbers
    masked = seed_claims.blackbox_compare_claim(compare_of({"cnn": 0.1, "snn": 0.9}, {"cnn": 0.3, "snn": 0.7}))
    assert masked.verdict == "reproduced" and "white-box gap not counted (masked gradients suspected)" in masked.numbers
    assert seed_claims.blackbox_compare_claim(compare_of({"cnn": 0.1, "snn": 0.2})) is None   # no black-box source


def transfer_matrix_of(wrong: dict, n: int = 400, seed: int = 0) -> dict:
    """An analysis.transfer_matrix matrix whose every cell crafted on source s is wrong on a random share wrong[s]
    of the images (the diagonal is white-box); sources named snn-* spike."""
    rng, names = np.random.default_rng(seed), list(wrong)
    labels = rng.integers(0, 10, n)
    cells = []
    for attack in ("fgsm", "pgd"):
        for s in names:
            for t in names:
                pred = np.where(rng.random(n) < wrong[s], (labels + 1) % 10, labels)
                cells.append({"source": s, "target": t, "attack": attack, "white_box": s == t, "black_box": s != t,
                              "pred": "".join(map(str, pred)), "adv_accuracy": float((pred == labels).mean())})
    return {"dset": "mnist", "eps": 0.1, "n_test": n, "attacks": ["fgsm", "pgd"], "order": names, "cells": cells,
            "labels": "".join(map(str, labels)), "models": {k: {"spiking": k.startswith("snn")} for k in names}}


def test_transfer_claim_each_way():
    stronger = seed_claims.transfer_claim(transfer_matrix_of({"cnn-a": 0.1, "cnn-b": 0.1, "snn-a": 0.4, "snn-b": 0.4}))
    assert stronger.verdict == "reproduced" and stronger.statement.endswith("[analysis.transfer_matrix, MNIST]")
    assert "cnn-a FGSM: crafted on snn-a, snn-b" in stronger.numbers and "against on cnn-b" in stronger.numbers
    assert "(estimate, low, high) = (-" in stronger.numbers and "SNN-crafted stronger" in stronger.numbers
    weaker = seed_claims.transfer_claim(transfer_matrix_of({"cnn-a": 0.4, "cnn-b": 0.4, "snn-a": 0.1, "snn-b": 0.1}))
    assert weaker.verdict == "not reproduced" and "SNN-crafted weaker" in weaker.numbers
    level = seed_claims.transfer_claim(transfer_matrix_of({"cnn-a": 0.0, "cnn-b": 0.0, "snn-a": 0.0, "snn-b": 0.0}))
    assert level.verdict == "not reproduced" and "(estimate, low, high) = (+0.0, +0.0, +0.0)" in level.numbers
    assert "within noise" in level.numbers
    # stronger on the SNN targets only: partly
    mixed = transfer_matrix_of({"cnn-a": 0.1, "cnn-b": 0.1, "snn-a": 0.4, "snn-b": 0.4})
    for c in mixed["cells"]:
        if c["target"].startswith("cnn") and c["source"].startswith("snn"):
            c["pred"] = mixed["labels"]   # SNN-crafted examples fool no CNN
    assert seed_claims.transfer_claim(mixed).verdict == "partly"
    assert seed_claims.transfer_claim(transfer_matrix_of({"cnn-a": 0.1, "cnn-b": 0.1})) is None   # no spiking source


def test_snn_fgsm_claim_each_way():
    claim = seed_claims.snn_fgsm_claim(compare_of({"cnn": 0.4, "snn": 0.7, "stdp-net": 0.8},
                                                  worst={"cnn": 0.1, "snn": 0.4, "stdp-net": 0.5}))
    assert claim.verdict == "reproduced"
    assert "SNN - CNN FGSM +30.0 points (70.0 against 40.0 %, SNN higher)" in claim.numbers
    assert "(seed 000, FGSM at eps 0.1: cnn 41.67 %, snn 70.90 %, stdp-net 80.57 %)" in claim.numbers
    claim = seed_claims.snn_fgsm_claim(compare_of({"cnn": 0.4, "snn": 0.7}, worst={"cnn": 0.1, "snn": 0.1}))
    assert claim.verdict == "partly" and "SNN - CNN worst case +0.0 points (10.0 against 10.0 %, within noise)" \
        in claim.numbers
    claim = seed_claims.snn_fgsm_claim(compare_of({"cnn": 0.7, "snn": 0.4}, worst={"cnn": 0.4, "snn": 0.1}))
    assert claim.verdict == "not reproduced" and "SNN - CNN FGSM -30.0 points" in claim.numbers
    assert seed_claims.snn_fgsm_claim(compare_of({"snn": 0.7}, worst={"snn": 0.4})) is None   # no CNN


def test_stdp_claim_each_way():
    layer = lambda share: [{"share_below": {"0.05": share}, "n_weights": 2000}]  # noqa: E731
    sparsity = {"dset": "mnist", "cut": 0.05, "models": {"a": {"net": "snn", "layers": layer(0.07)},
                                                         "b": {"net": "stdp", "layers": layer(0.40)}}}
    stronger = compare_of({"snn": 0.7, "stdp-net": 0.85}, worst={"snn": 0.3, "stdp-net": 0.5})
    claim = seed_claims.stdp_claim(stronger, sparsity)
    assert claim.verdict == "reproduced" and "FGSM 85.0 against 70.0 % (STDP higher)" in claim.numbers
    assert "STDP 40.0 %, SNN 7.0 %" in claim.numbers and "(seed 000, FGSM: 80.57 against 70.90 %)" in claim.numbers
    claim = seed_claims.stdp_claim(stronger, None)   # more robust, its mechanism not measured
    assert claim.verdict == "partly" and "first-layer sparsity not measured on MNIST" in claim.numbers
    claim = seed_claims.stdp_claim(compare_of({"snn": 0.8, "stdp-net": 0.6}, worst={"snn": 0.5, "stdp-net": 0.3}),
                                   sparsity)
    assert claim.verdict == "not reproduced" and "worst case 30.0 against 50.0 % (STDP lower)" in claim.numbers
    assert seed_claims.stdp_claim(compare_of({"snn": 0.8}, worst={"snn": 0.5}), sparsity) is None


# --- seed 000's clean accuracies --------------------------------------------------------------
def test_accuracy_claim_each_way():
    published = {net: v for net, (v, who) in PUBLISHED_ACCURACY["mnist"].items() if who == "seed 000"}

    def claim_of(offsets: dict):
        runs = [{"run": f"{net}-s0", "net": net, "seed": 0, "test_accuracy": published[net] + d, "n_test": 10000,
                 "train_seconds": 600.0, "threads": 2} for net, d in offsets.items()]
        return seed_claims.accuracy_claim({"dset": "mnist", "runs": runs})

    claim = claim_of({"cnn": 0.001, "snn": 0, "stdp": -0.001})
    assert claim.verdict == "reproduced" and claim.statement.startswith("Seed 000's clean accuracies on MNIST")
    assert "CNN 99.34 % on 10,000 images (10 min training, 2 threads) against seed 000's 99.24 % (reached)" \
        in claim.numbers
    claim = claim_of({"cnn": 0, "snn": -0.05, "stdp": 0})
    assert claim.verdict == "partly" and "SNN (surrogate gradient) 94.20 %" in claim.numbers and "(short)" in claim.numbers
    assert claim_of({"cnn": -0.05, "snn": -0.05, "stdp": -0.05}).verdict == "not reproduced"
    claim = claim_of({"cnn": 0})   # the other two not trained yet
    assert claim.verdict == "partly" and "SNN + STDP layer: not trained yet (seed 000: 99.25 %)" in claim.numbers
    assert claim_of({}) is None
    assert seed_claims.accuracy_claim({"dset": "fashion", "runs": []}) is None   # nothing published


def test_published_numbers_are_the_seed_papers():
    assert SEED000_FGSM["mnist"] == {"eps": 0.1, "cnn": 0.4167, "snn": 0.7090, "stdp-net": 0.8057}
    assert SEED000_FGSM["cifar10"]["stdp-net"] == 0.6432 and PUBLISHED_ACCURACY["cifar10"]["converted"][0] == 0.856
    assert {who for d in PUBLISHED_ACCURACY.values() for _, who in d.values()} == {"seed 000", "Sharmin et al."}


# --- the writer -------------------------------------------------------------------------------
def test_report_writes_each_claim_as_a_row_and_names_what_is_missing(tmp_path):
    made = {"leak_sweep": {**leak_sweep_of(both(0.6, 0.4), both(0.2, 0.1)), "scale": "tiny"}}
    notes = []
    text = write_report(tmp_path, made, notes).read_text()
    assert "| More leak gives more robustness | **reproduced** | SNN leak 1 -> 0.8: fgsm ASR 60.0% -> 20.0%" in text
    assert "## 2. Leak sweep (eps = 0.1, n = 1000; tiny)" in text and "| SNN leak 0.8 | 90.0 |" in text
    assert notes == ["no results/damping/damping.json: run python -m analysis.damping",
                     "no sweeps/timestep_sweep.json: run python -m analysis.timestep_sweep"]
    assert "## Skipped inputs" in text and made["captions"] == {}
    empty = write_report(tmp_path, {}, []).read_text()
    assert "| (no results yet) | - | - |" in empty and "no evaluated model showed it." in empty


CLAIMS = sorted(n for n in vars(seed_claims) if n.endswith("_claim") and callable(getattr(seed_claims, n)))


def test_every_claim_function_is_tested_here():
    assert len(CLAIMS) == 9
    source = open(__file__).read()
    assert [n for n in CLAIMS if f"test_{n}_each_way" not in source] == []
