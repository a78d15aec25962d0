"""REPORT.md's verdicts on small fabricated results: the statistics (analysis.verdicts, analysis.effects), every
seed claim (analysis.seed_claims) with its verdict coming out each way and its key number in the text, the sweep
claims on the attack suite, the surrogate ensemble and the reference protocol (issue 28), and the writer
(analysis.report) putting a claim's row, its flags and its effects (the forest plot) on the page."""
import json
import math

import numpy as np
import pytest

from analysis import effects, seed_claims, sweep_effects, verdicts
from analysis.forest_figure import forest_rows
from analysis.report import evaluated, write_report
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


def test_end_effect_compares_the_endpoints_and_a_suspect_white_box_one_is_not_counted():
    falling = [point("snn", both(0.6), leak=1.0), point("snn", both(0.2), leak=0.8)]
    e = sweep_effects.end_effect(falling[0], falling[1], "transfer", "x", lo_first=False)
    se = math.sqrt((0.6 * 0.4 + 0.2 * 0.8) / (N * 0.9))   # one seed: two standard errors of two proportions
    assert (e.estimate, e.low, e.high) == pytest.approx((-40, -40 - 200 * se, -40 + 200 * se))
    assert effects.status(e) == "reproduced" and e.how == "two standard errors"
    assert effects.status(sweep_effects.end_effect(*falling, "transfer", "x", lo_first=True)) == "reversed"
    masked = [point("snn", both(0.1, 0.6), leak=1.0), point("snn", both(0.05), leak=0.8)]   # fgsm << transfer
    assert verdicts.suspect(masked[0]["eval"], N) == "white-box ASR 10.0% below transfer 60.0%"
    fgsm = sweep_effects.series_effects(masked, "leak", "SNN leak", N, lo_first=False).parts[0]
    assert fgsm.measure == "fgsm" and not fgsm.effect.counted
    assert fgsm.verdict_part == ("SNN leak 1 -> 0.8 fgsm ASR", "white-box suspect")
    assert fgsm.text.endswith("(all: 1: 10.0%, 0.8: 5.0%; white-box suspect, not counted)")
    (fgsm, transfer), flags = sweep_effects.series_effects(falling, "leak", "SNN leak", N, lo_first=False)[1:]
    assert flags == [] and transfer.text.startswith("SNN leak 1 -> 0.8: transfer ASR 60.0% -> 20.0%, difference -40.0 [")
    assert "slope -20.0 [-, -] points per 0.1 more leak (1 - leak) (all: 1: 60.0%, 0.8: 20.0%; reproduced)" \
        in transfer.text   # two values: a slope, no interval


def test_effect_intervals_exclude_zero_exactly_when_the_verdicts_tests_find_a_difference():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = (list(rng.normal(m, rng.uniform(0.01, 0.2), size=rng.integers(2, 6))) for m in rng.uniform(0, 1, 2))
        d, lo, hi = effects.welch_interval(a, b)
        assert d == pytest.approx(np.mean(a) - np.mean(b))
        assert (1 if lo > 0 else -1 if hi < 0 else 0) == verdicts.welch(a, b)
        p, q, n = *rng.uniform(0, 1, 2), int(rng.integers(20, 2000))
        d, lo, hi = effects.proportion_interval(p, q, n)
        assert (1 if lo > 0 else -1 if hi < 0 else 0) == verdicts.compare_two(p, q, n)
    assert effects.welch_interval([0.3, 0.3], [0.1, 0.1]) == pytest.approx((0.2, 0.2, 0.2))   # no spread at all
    slope, lo, hi = effects.slope_interval([0, 1, 2, 0, 1, 2], [1, 3, 5, 1, 3, 5])
    assert (slope, lo, hi) == pytest.approx((2, 2, 2))
    assert math.isnan(effects.slope_interval([1, 2], [3, 4])[1])
    # the damping claim's effects: the intervals' test of analysis.verdicts, as a difference
    low = {"stages": ["input", "L1"], "deltas": {"transfer": {"change": change({"L1": (0.3, 0.05)})}}}
    high = {"stages": ["input", "L1"], "deltas": {"transfer": {"change": change({"L1": (0.8, 0.05)})}}}
    near = {"stages": ["input", "L1"], "deltas": {"transfer": {"change": change({"L1": (0.35, 0.05)})}}}
    for a, b in ((low, high), (high, low), (low, near)):
        assert effects.sign_of(seed_claims.change_effect("x", a, "L1", b, "L1")) == verdicts.ci_below(a, "L1", b, "L1")
        assert effects.sign_of(seed_claims.damped_effect("x", a, "L1")) == verdicts.damped(a, "L1")
    assert seed_claims.change_effect("x", low, "L1", high, "L1").estimate == pytest.approx(-0.5)


def test_verdict_words_from_named_parts():
    def e(lo, hi, expect=1, margin=5.0):
        return effects.Effect("x", (lo + hi) / 2, lo, hi, "ASR points", expect, margin=margin)
    assert [effects.status(x) for x in (e(1, 9), e(-9, -1), e(-3, 4), e(-3, 8), e(-3, 8, margin=None))] == \
        ["reproduced", "reversed", "no effect", "inconclusive", "within noise"]
    assert effects.status(e(-9, 1, expect=-1)) == "inconclusive" and effects.status(e(-9, -1, expect=-1)) == "reproduced"
    assert effects.verdict_of([("a", "reproduced"), ("b", "reproduced")]) == ("reproduced", "")
    assert effects.verdict_of([("a", "no effect"), ("b", "no effect")]) == ("no effect", "")
    assert effects.verdict_of([("a", "no effect"), ("b", "inconclusive")]) == ("not reproduced", "")
    assert effects.verdict_of([("a", "inconclusive"), ("b", "inconclusive")]) == ("inconclusive", "")
    assert effects.verdict_of([("a", "reproduced"), ("b", "reversed"), ("c", "no effect")]) == \
        ("partly", "reproduced for a; not for b (reversed), c (no effect)")
    assert effects.verdict_of([]) == ("not reproduced", "")
    # a part whose claim is that there is no effect (expect 0): within the margin it holds, an equivalence test
    none = [effects.status(e(lo, hi, expect=0)) for lo, hi in ((-3, 4), (1, 4), (6, 9), (-9, -6), (1, 8), (-3, 8))]
    assert none == ["reproduced", "reproduced", "effect found", "effect found", "effect found", "inconclusive"]
    assert [effects.status(e(lo, hi, expect=0, margin=None)) for lo, hi in ((-3, 4), (1, 4))] == \
        ["within noise", "effect found"]
    assert effects.verdict_of([("T", "reproduced"), ("levels", "effect found")]) == \
        ("partly", "reproduced for T; not for levels (effect found)")


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


def converged_of(snn_out: list, cnn_out: list, bio_out: list = (), snn_hidden: list | None = None) -> dict:
    """analysis.damping_seeds' converged models from fabricated points: per seed, each model's gain (output change
    over input change) under the transferred d; the SNN's last hidden layer ``snn_hidden`` (default: its gain),
    the CNN's its gain."""
    from analysis.damping_seeds import converged_damping
    from tests.conftest import damping_point
    hidden = snn_hidden or snn_out
    pts = [damping_point("snn", s, v, h) for s, (v, h) in enumerate(zip(snn_out, hidden))]
    pts += [damping_point("cnn", s, v, floor=None) for s, v in enumerate(cnn_out)]
    pts += [damping_point("bio", s, v) for s, v in enumerate(bio_out)]
    return converged_damping(pts)


def test_damping_claim_over_seeds_decides_like_the_sweeps():
    snn, cnn = [0.30, 0.35, 0.40], [0.90, 0.85, 0.95]
    claim = seed_claims.damping_claim(damping_pair(1.2, 1.3), None, converged_of(snn, cnn, bio_out=[0.6, 0.65, 0.7]))
    assert claim.verdict == "reproduced"   # over seeds: the single models' data (amplified) are not read
    assert claim.statement.endswith("[converged models, intervals over seeds]")
    gain, hidden = claim.effects[:2]
    assert (gain.estimate, gain.low, gain.high) == pytest.approx(effects.welch_interval(snn, cnn))
    assert gain.how == "Welch, 3 and 3 seeds" and gain.counted and gain.unit == "relative change"
    assert hidden.name.startswith("SNN - CNN, last hidden / input (L1 rate vs L2)")
    assert "output (gain) CNN 0.90 [" in claim.numbers and "vs SNN 0.35 [" in claim.numbers
    assert "SNN - CNN -0.55 [" in claim.numbers and "(Welch; SNN lower)" in claim.numbers
    shown = {e.name: e for e in claim.effects if not e.counted}
    assert set(shown) == {"SNN - CNN gain, white-box FGSM, each model's own d", "SNN - CNN gain, random signs"}
    bio = claim.effects[-1]
    assert bio.counted and bio.how == "t-interval over 3 seeds" and bio.estimate == pytest.approx(0.65 - 1)
    # the SNN passes more on than the CNN: the verdict flips, on the same rule
    claim = seed_claims.damping_claim(damping_pair(0.3, 0.4), None, converged_of(cnn, snn))
    assert claim.verdict == "not reproduced" and [effects.status(e) for e in claim.effects[:2]] == ["reversed"] * 2
    assert "(Welch; SNN higher)" in claim.numbers
    # overlapping seeds far apart: inconclusive, not a finding either way (the margin: NO_EFFECT_RATIO)
    claim = seed_claims.damping_claim(None, None, converged_of([0.5, 0.9, 0.3], [0.6, 0.4, 0.8]))
    assert claim.verdict == "inconclusive" and effects.status(claim.effects[0]) == "inconclusive"
    assert "(Welch; inconclusive)" in claim.numbers
    # close seeds, the same gain: no effect, within +- NO_EFFECT_RATIO
    same = seed_claims.damping_claim(None, None, converged_of([0.60, 0.61, 0.62], [0.61, 0.60, 0.62])).effects[0]
    assert same.margin == effects.NO_EFFECT_RATIO and effects.status(same) == "no effect"
    # the hidden layer alone damped: partly, its parts named
    claim = seed_claims.damping_claim(None, None, converged_of(cnn, cnn, snn_hidden=snn))
    assert claim.verdict == "partly" and "reproduced for SNN - CNN, last hidden / input" in claim.parts
    # the Brian2 network with one seed: shown, not counted
    bio = seed_claims.damping_claim(None, None, converged_of(snn, cnn, bio_out=[1.5])).effects[-1]
    assert not bio.counted and bio.note == "one seed"


def test_damping_claim_with_one_converged_seed_is_the_single_model_verdict_labelled():
    one = converged_of([0.3], [0.9])
    claim = seed_claims.damping_claim(damping_pair(1.2, 1.3), None, one)   # damping.json decides, labelled
    plain = seed_claims.damping_claim(damping_pair(1.2, 1.3))
    assert claim.verdict == plain.verdict == "not reproduced" and claim.numbers == plain.numbers
    assert claim.statement == plain.statement + " [one model per kind, analysis.damping; the converged models " \
        "have 1 SNN and 1 CNN seeds, too few for an interval over seeds]"
    claim = seed_claims.damping_claim(None, None, one)   # no damping.json: the converged seed's models
    assert claim.verdict == "reproduced" and claim.statement.endswith(
        "[one converged model per kind, seed 0: bootstrap intervals over the test images]")
    assert claim.effects[0].how == "from the two bootstrap intervals" and "n 1000" in claim.numbers
    assert seed_claims.damping_claim(None, None, converged_of([0.3], [])) is None   # no CNN


def test_report_shows_the_converged_damping_table_and_its_claim_when_there_is_one(tmp_path):
    from analysis.damping_figures import converged_figure
    from analysis import captions
    converged = converged_of([0.30, 0.35, 0.40], [0.90, 0.85, 0.95], bio_out=[0.7])
    without = write_report(tmp_path, {"damping": damping_pair(0.3, 0.4)}, []).read_text()
    assert "Converged models" not in without and "converged" not in without.lower()
    made = {"damping": damping_pair(0.3, 0.4), "damping_converged": converged,
            "figures": {"damping_converged": converged_figure(converged, tmp_path / "damping" / "converged")}}
    text = write_report(tmp_path, made, []).read_text()
    section = text.split("## 1. Where a perturbation dies out (analysis.damping, eps = 0.1, n = 1000)")[1]
    assert section.index("| CNN | 90.0 |") < section.index("### Converged models over seeds (the leak sweep's "
                                                             "reference points, 60,000 training images, n = 1000 per "
                                                             "seed)")
    assert "| SNN | 3 | 97.0 [" in section and "| 0.35 [0.23, 0.47] |" in section   # the gain, over 3 seeds
    assert "| BIO | 1 |" in section and "BIO: one seed, so its bracket is the bootstrap interval" in section
    assert "![damping_converged](damping/converged.png)" in section
    caption, promises = made["captions"]["damping_converged"]
    assert (caption, promises) == captions.converged_damping(converged)
    for p in promises:
        assert p.lower() in caption.lower() and made["figures"]["damping_converged"].shows(p), p
    claim = next(c for c in made["claims"] if c.statement.startswith(seed_claims.DAMPING_STATEMENT))
    assert claim.statement.endswith("[converged models, intervals over seeds]") and claim.verdict == "reproduced"
    rows = json.loads((tmp_path / "claims_forest.json").read_text())["rows"]
    assert [r["part"] for r in rows if r["claim"] == claim.statement] == [e.name for e in claim.effects]
    # converged.json alone (no damping.json): the section stands on it
    alone = write_report(tmp_path, {"damping_converged": converged}, []).read_text()
    assert "## 1. Where a perturbation dies out (analysis.damping --from-sweep, eps = 0.1)" in alone
    assert "[converged models, intervals over seeds] | **reproduced**" in alone


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
    assert "SNN leak 1 -> 0.8: transfer ASR 40.0% -> 10.0%, difference -30.0 [-33.8, -26.2] points (two standard " \
        "errors)" in claim.numbers and "(all: 1: 40.0%, 0.8: 10.0%; reproduced)" in claim.numbers
    assert "clean 90.0% -> 90.0%" in claim.numbers and claim.parts == "" and claim.flags == ()
    assert [e.name for e in claim.effects] == ["SNN leak 1 -> 0.8, fgsm ASR difference",
                                               "SNN leak 1 -> 0.8, transfer ASR difference"]
    claim = seed_claims.leak_claim(leak_sweep_of(both(0.6, 0.2), both(0.2)))   # transfer level: no effect
    assert claim.verdict == "partly"
    assert claim.parts == "reproduced for SNN leak 1 -> 0.8 fgsm ASR; not for SNN leak 1 -> 0.8 transfer ASR (no effect)"
    # level on 1,000 images: both intervals lie within +-5 points
    assert seed_claims.leak_claim(leak_sweep_of(both(0.5), both(0.5))).verdict == "no effect"
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
    assert "SNN T 4 -> 8: fgsm ASR 20.0% -> 60.0%, difference +40.0 [" in claim.numbers
    assert "(all: 4: 20.0%, 8: 60.0%; reproduced)" in claim.numbers
    assert "SNN levels 2 -> 256: transfer ASR 20.0% -> 60.0%, difference +40.0 [" in claim.numbers
    assert "(by levels 2: 20.0%, 256: 60.0%; reproduced)" in claim.numbers
    assert seed_claims.discretization_claim(timestep_sweep_of(0.2, 0.6, 0.8)).verdict == "partly"
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.8, 0.6, 0.8))
    assert claim.verdict == "not reproduced" and "SNN T 4 -> 8: fgsm ASR 80.0% -> 60.0%" in claim.numbers


def test_discretization_claim_counts_no_cnn_control_and_names_the_half_step():
    # the CNN gains from quantization, the SNN not: the control's trend is shown, not counted
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.8, 0.6, 0.8, cnn_level_asr=(0.2, 0.6)))
    assert claim.verdict == "not reproduced" and "control, CNN levels 2 -> 256: fgsm ASR 20.0% -> 60.0%" in claim.numbers
    assert "the CNN control gains too" in claim.numbers
    assert [e.counted for e in claim.effects if e.name.startswith("control")] == [False, False]
    claim = seed_claims.discretization_claim(timestep_sweep_of(0.2, 0.6, 0.2, mid=0.8))
    assert "SNN at 16 levels (half a step below eps) is more vulnerable than unquantized (fgsm ASR 80.0% vs 60.0%)" \
        in claim.numbers
    assert seed_claims.discretization_claim({"settings": {"n_test": N, "eps": 0.1}, "leak": 0.99, "points": []}) is None


# --- the converted SNN's series and Poisson against direct input (issue 28, item 6 (a) and (c)) --------
def conv_point(asr: dict, seed: int = 0, craft_at: dict | None = None, kind: str = "converted", **job) -> dict:
    """A point with the deltas of ``asr`` (a converted SNN's: fgsm, bpda, transfer) and, if given, "worst"
    (eval["worst_case"]); the seeds 0, 1, 2 one point apart, so Welch has a spread."""
    jitter = 0.01 * (seed % 3 - 1)
    p = point(kind, {d: a + jitter for d, a in asr.items() if d != "worst"}, seed=seed,
              **job, **({"craft_at": craft_at} if craft_at else {}))
    if "worst" in asr:
        p["eval"]["worst_case"] = {"attacks": ["fgsm", "pgd", "fgsm/bpda", "pgd/bpda"],
                                   "adv_accuracy": 0.9 * (1 - asr["worst"] - jitter),
                                   "attack_success_rate": asr["worst"] + jitter}
    return p


def conv(fgsm: float, bpda: float | None = None, transfer: float = 0.1, **more) -> dict:
    return {"fgsm": fgsm, "bpda": fgsm if bpda is None else bpda, "transfer": transfer, **more}


def converted_sweep_of(by_T: dict, by_levels: dict, encodings: dict | None = None, seeds: int = 3,
                       reference: dict | None = None) -> dict:
    """The time-step sweep's converted SNN (T -> asr at 256 levels, levels -> asr at T 32; T 32 at 256 levels is
    one point of both), ``encodings``: the surrogate SNN at T 8 with "poisson" and "direct" input (-> asr);
    ``reference``: T -> asr of converted points crafted at T 32; ``seeds`` per point."""
    pts = []
    for k in range(seeds):
        pts += [conv_point(a, seed=k, T=T, cnn_model=f"cnn-L256-s{k}") for T, a in by_T.items()]
        pts += [conv_point(a, seed=k, T=32, levels=lv, cnn_model=f"cnn-L{lv}-s{k}") for lv, a in by_levels.items()
                if not (lv == 256 and 32 in by_T)]
        pts += [conv_point(a, seed=k, T=T, craft_at={"T": 32}, cnn_model=f"cnn-L256-s{k}")
                for T, a in (reference or {}).items()]
        pts += [conv_point(a, seed=k, kind="snn", T=8, leak=0.99, **({"encoding": e} if e == "direct" else {}))
                for e, a in (encodings or {}).items()]
    return {"settings": {"n_test": N, "eps": 0.1, "seeds": seeds}, "leak": 0.99, "levels": [], "points": pts,
            "converted_timesteps": sorted(by_T), "converted_levels": sorted(by_levels), "converted_T": 32,
            "encodings": list(encodings or []), "scale": "tiny"}


def test_converted_claim_each_way():
    flat, rising = {16: conv(0.2, 0.5), 128: conv(0.21, 0.5)}, {2: conv(0.1, 0.2), 256: conv(0.2, 0.5)}
    claim = seed_claims.converted_claim(converted_sweep_of(flat, rising))
    assert claim.verdict == "reproduced" and claim.statement.startswith("A converted SNN's robustness depends on")
    # without the suite the stronger of FGSM and BPDA decides; the others and the transfer are shown, not counted
    assert [(e.name, e.counted, e.expect) for e in claim.effects] == [
        ("converted SNN T 16 -> 128, stronger of fgsm and bpda ASR difference", True, 0),
        ("converted SNN T 16 -> 128, fgsm ASR difference", False, 0),
        ("converted SNN T 16 -> 128, bpda ASR difference", False, 0),
        ("converted SNN T 16 -> 128, transfer ASR difference", False, 0),
        ("converted SNN (T 32) levels 2 -> 256, stronger of fgsm and bpda ASR difference", True, 1),
        ("converted SNN (T 32) levels 2 -> 256, fgsm ASR difference", False, 1),
        ("converted SNN (T 32) levels 2 -> 256, bpda ASR difference", False, 1),
        ("converted SNN (T 32) levels 2 -> 256, transfer ASR difference", False, 1)]
    assert "converted SNN T 16 -> 128: stronger of fgsm and bpda ASR 50.0% -> 50.0% (means of 3 and 3 seeds), " \
        "difference +0.0 [-2.3, +2.3] points (Welch, 3 and 3 seeds), slope +0.0 [" in claim.numbers
    assert "(all: 16: 50.0%, 32: 50.0%, 128: 50.0%; reproduced)" in claim.numbers   # T 32: the levels series' 256
    assert "converted SNN (T 32) levels 2 -> 256: stronger of fgsm and bpda ASR 20.0% -> 50.0%" in claim.numbers
    assert "shown, not counted (the claim is white-box)" in claim.numbers and claim.flags == ()
    # T matters (effect found), levels do not (no effect): not reproduced; T matters, levels too: partly
    claim = seed_claims.converted_claim(converted_sweep_of({16: conv(0.2), 128: conv(0.6)},
                                                           {2: conv(0.3), 256: conv(0.3)}))
    assert claim.verdict == "not reproduced" and "+40.0 [" in claim.numbers and "effect found" in claim.numbers
    claim = seed_claims.converted_claim(converted_sweep_of({16: conv(0.2), 128: conv(0.6)}, rising))
    assert claim.verdict == "partly" and claim.parts == (
        "reproduced for converted SNN (T 32) levels 2 -> 256 stronger of fgsm and bpda ASR; not for converted SNN "
        "T 16 -> 128 stronger of fgsm and bpda ASR (effect found)")
    # one seed, 3 points apart on 1,000 images: neither within the margin nor a difference
    claim = seed_claims.converted_claim(converted_sweep_of({16: conv(0.2), 128: conv(0.23)}, rising, seeds=1))
    assert claim.verdict == "partly" and "(inconclusive)" in claim.parts
    # the worst case decides where the points carry it (FGSM and BPDA beside it); the FGSM flag where they disagree
    claim = seed_claims.converted_claim(converted_sweep_of({16: conv(0.2, worst=0.6), 128: conv(0.5, worst=0.6)},
                                                           {2: conv(0.1, worst=0.2), 256: conv(0.2, worst=0.6)}))
    assert claim.verdict == "reproduced"
    assert claim.effects[0].name == "converted SNN T 16 -> 128, worst-case ASR difference"
    assert claim.flags and claim.flags[0].startswith("converted SNN T 16 -> 128: FGSM and the worst case disagree")
    # a series not measured is a part of the claim all the same; no converted points: no claim
    claim = seed_claims.converted_claim(converted_sweep_of({}, rising))
    assert claim.verdict == "partly" and claim.parts.endswith("not for converted SNN T (not measured)")
    assert seed_claims.converted_claim(converted_sweep_of({}, {})) is None


def test_encoding_claim_each_way():
    def claim_of(direct: float, poisson: float):   # worst-case ASR; FGSM level, transfer 40 -> 20 %
        return seed_claims.encoding_claim(converted_sweep_of({}, {}, {
            "poisson": {"fgsm": 0.3, "transfer": 0.2, "worst": poisson},
            "direct": {"fgsm": 0.3, "transfer": 0.4, "worst": direct}}))
    claim = claim_of(0.8, 0.4)
    assert claim.verdict == "reproduced" and claim.statement.startswith("The Poisson encoder alone gives robustness")
    assert "SNN T 8 input direct -> poisson: worst-case ASR 80.0% -> 40.0% (means of 3 and 3 seeds), difference " \
        "-40.0 [-42.3, -37.7] points (Welch, 3 and 3 seeds) (all: direct: 80.0%, poisson: 40.0%; reproduced)" \
        in claim.numbers
    assert [(e.name, e.counted) for e in claim.effects] == [
        ("SNN T 8 input direct -> poisson, worst-case ASR difference", True),
        ("SNN T 8 input direct -> poisson, fgsm ASR difference", False),
        ("SNN T 8 input direct -> poisson, transfer ASR difference", False)]   # shown: -20 points
    assert claim.effects[2].estimate == pytest.approx(-20) and "slope" not in claim.numbers   # two categories
    assert claim.flags[0].startswith("SNN T 8 input direct -> poisson: FGSM and the worst case disagree")
    reversed_ = claim_of(0.4, 0.8)
    assert reversed_.verdict == "not reproduced" and "poisson: 80.0%; reversed)" in reversed_.numbers
    assert claim_of(0.5, 0.5).verdict == "no effect"
    assert seed_claims.encoding_claim(converted_sweep_of({}, {}, {"poisson": conv(0.3)})) is None   # no direct point


def test_report_shows_the_converted_and_encoding_series_when_the_sweep_has_them(tmp_path):
    by_T = {T: conv(0.2, 0.5, worst=0.6) for T in (16, 32, 64, 128)}
    by_levels = {2: conv(0.1, 0.2, worst=0.25), 4: conv(0.1, 0.3, worst=0.4), 8: conv(0.2, 0.4, worst=0.5),
                 256: by_T[32]}
    encodings = {"poisson": {"fgsm": 0.3, "transfer": 0.2, "worst": 0.4},
                 "direct": {"fgsm": 0.5, "transfer": 0.4, "worst": 0.8}}
    summary = converted_sweep_of(by_T, by_levels, encodings,
                                 reference={16: conv(0.1, 0.4, worst=0.5), 128: conv(0.1, 0.4, worst=0.5)})
    made = {"timestep_sweep": summary}
    text = write_report(tmp_path, made, []).read_text()
    assert [c.statement for c in made["claims"]] == [seed_claims.converted_claim(summary).statement,
                                                    seed_claims.encoding_claim(summary).statement]
    for c in made["claims"]:   # a row of the verdict table each, reproduced
        assert f"| {c.statement} | **reproduced** |" in text
    assert "A part whose claim is that there is no effect ('claim = 0' in the plot) is reproduced" in text
    section = text.split("### The converted SNN: time steps and input pre-quantization (levels series at T = 32)")[1]
    converted, encoding = section.split("### Poisson against direct input (surrogate SNN, T = 8)")
    assert "| model | protocol | clean % | redraw flip % | FGSM adv % | FGSM ASR % | BPDA adv % | BPDA ASR % | " \
        "worst-case adv % | worst-case ASR % | transfer adv % |" in converted
    assert converted.count("| converted SNN T = 32, 256 levels (3 seeds) |") == 1   # a point of both series, once
    assert "| converted SNN T = 128, 256 levels (3 seeds) | crafted at the reference setting, scored at the swept " \
        "one |" in converted
    assert "| converted SNN T = 32, 2 levels (3 seeds) | crafted at the swept setting |" in converted
    assert "| converted SNN T 16 -> 128, worst-case ASR | 60.0 -> 60.0 | +0.0 [-2.3, +2.3] |" in converted
    assert "| converted SNN T 16 -> 128, worst-case ASR, crafted at T 32 | 50.0 -> 50.0 |" in converted
    assert "predicts no effect (the converted SNN's T) is reproduced when its whole interval lies within ±5" \
        in converted
    assert "| SNN T = 8, direct input (3 seeds) | 90.0 ± 0.0 | - |" in encoding   # one protocol: no column
    assert "| SNN T 8 input direct -> poisson, worst-case ASR | 80.0 -> 40.0 | -40.0 [-42.3, -37.7] | Welch, 3 and " \
        "3 seeds | - | reproduced |" in encoding
    assert "| SNN T 8 input direct -> poisson, transfer ASR | 40.0 -> 20.0 |" in encoding
    # their effects in the forest plot, the no-effect part marked as such
    rows = json.loads((tmp_path / "claims_forest.json").read_text())["rows"]
    assert [r["part"] for r in rows] == [e.name for c in made["claims"] for e in c.effects]
    decider = "converted SNN T 16 -> 128, worst-case ASR difference"
    assert [(r["expect"], r["status"]) for r in rows if r["part"] == decider] == [(0, "reproduced")]
    assert made["figures"]["claims_forest"].shows("claim = 0: reproduced")
    # the checks name the new points; the surrogate SNN's T table keeps the direct point out
    labels = [label for label, _, _ in evaluated(made)]
    assert "timestep_sweep: converted SNN, T 16, 256 levels" in labels
    assert "timestep_sweep: SNN leak 0.99, T 8, direct input, 256 levels" in labels
    assert "| SNN T = 8, direct input" not in text.split("### The converted SNN")[0]
    # without the series: neither section nor claim (the saved results' report is as it was)
    plain = {**timestep_sweep_of(0.2, 0.6, 0.2), "scale": "tiny"}
    plain = write_report(tmp_path, {"timestep_sweep": plain}, []).read_text()
    assert "### " not in plain and "converted SNN" not in plain and "Poisson encoder" not in plain
    assert "'claim = 0'" not in plain


# --- the attack suite, the surrogate ensemble and the reference protocol (issue 28) ------------
def suite_point(kind: str, asr: dict, seed: int = 0, craft_at: dict | None = None, **job) -> dict:
    """A point measured with the suite: ``asr`` of fgsm, transfer, "worst" (eval["worst_case"]) and, if given,
    "ensemble" (eval["ensemble"]["worst_case"]); the seeds 0, 1, 2 one point apart, so Welch has a spread."""
    jitter = 0.01 * (seed % 3 - 1)
    e = evaluation({d: asr[d] + jitter for d in ("fgsm", "transfer")})
    worst = lambda a: {"attacks": ["fgsm", "pgd", "apgd-ce", "apgd-dlr"], "adv_accuracy": 0.9 * (1 - a - jitter),  # noqa: E731
                       "attack_success_rate": a + jitter}
    e["worst_case"] = worst(asr["worst"])
    if "ensemble" in asr:
        e["ensemble"] = {"members": ["own", "triangle:1", "rate"], "worst_case": worst(asr["ensemble"])}
    p = point(kind, {}, seed=seed, **job, **({"craft_at": craft_at} if craft_at else {}))
    return {**p, "eval": e}


def suite_leak_sweep(ends: tuple[dict, dict], reference: tuple[dict, dict] | None = None) -> dict:
    """A leak sweep measured with the suite, three seeds per point: the SNN at leak 1 and 0.8 (``ends``), the
    reference leak 0.99 between them, and ``reference``: leak 1 and 0.8 crafted at leak 0.99."""
    pts = [suite_point("cnn", {"fgsm": 0.5, "transfer": 0.5, "worst": 0.9}, seed=k) for k in range(3)]
    middle = {m: (ends[0][m] + ends[1][m]) / 2 for m in ends[0]}
    for leak, asr in zip((1.0, 0.99, 0.8), (ends[0], middle, ends[1])):
        pts += [suite_point("snn", asr, seed=k, leak=leak, T=8) for k in range(3)]
    for leak, asr in zip((1.0, 0.8), reference or ()):
        pts += [suite_point("snn", asr, seed=k, leak=leak, T=8, craft_at={"leak": 0.99}) for k in range(3)]
    return {"settings": {"n_test": N, "eps": 0.1, "seeds": 3}, "points": pts, "scale": "tiny"}


def test_the_worst_case_decides_and_report_says_when_fgsm_disagrees(tmp_path):
    # FGSM falls with leak (reproduced), the worst case over the suite does not (no effect): the verdict
    # follows the worst case, and REPORT.md says that the two disagree
    sweep = suite_leak_sweep(({"fgsm": 0.6, "transfer": 0.3, "worst": 0.9}, {"fgsm": 0.2, "transfer": 0.3, "worst": 0.9}))
    claim = seed_claims.leak_claim(sweep)
    assert claim.verdict == "no effect"
    (worst, fgsm, transfer) = claim.effects
    assert worst.name == "SNN leak 1 -> 0.8, worst-case ASR difference" and worst.counted and transfer.counted
    assert not fgsm.counted and effects.status(fgsm) == "reproduced" and effects.status(worst) == "no effect"
    assert len(claim.flags) == 1 and claim.flags[0].startswith(
        "SNN leak 1 -> 0.8: FGSM and the worst case disagree: fgsm ASR difference -40.0 [")
    assert "the verdict follows the worst case" in claim.flags[0]
    text = write_report(tmp_path, {"leak_sweep": sweep}, []).read_text()
    assert "**Read with the verdicts**" in text
    assert f"- More leak gives more robustness: {claim.flags[0]}" in text
    assert "| More leak gives more robustness | **no effect** |" in text
    assert "| worst-case adv % | worst-case ASR % |" in text and "ensemble" not in text.split("## 2.")[1].split("\n\n")[1]
    # agreeing: no flag; without the suite (the saved results) none either, and FGSM decides
    agree = suite_leak_sweep(({"fgsm": 0.6, "transfer": 0.3, "worst": 0.9}, {"fgsm": 0.2, "transfer": 0.3, "worst": 0.5}))
    assert seed_claims.leak_claim(agree).flags == () and seed_claims.leak_claim(agree).verdict == "partly"
    plain = seed_claims.leak_claim(leak_sweep_of(both(0.6, 0.4), both(0.2, 0.1)))
    assert plain.flags == () and plain.effects[0].name == "SNN leak 1 -> 0.8, fgsm ASR difference"
    assert "**Read with the verdicts**" not in write_report(tmp_path, {"leak_sweep": {**leak_sweep_of(
        both(0.6, 0.4), both(0.2, 0.1)), "scale": "tiny"}}, []).read_text()


def test_an_effect_the_surrogate_ensemble_removes_is_flagged_as_gradient_obfuscation(tmp_path):
    # the own surrogate's worst case falls with leak; over the ensemble the ASR stays at 95 %
    ends = ({"fgsm": 0.6, "transfer": 0.4, "worst": 0.9, "ensemble": 0.95},
            {"fgsm": 0.2, "transfer": 0.1, "worst": 0.5, "ensemble": 0.95})
    claim = seed_claims.leak_claim(suite_leak_sweep(ends))
    decider = claim.effects[0]
    assert decider.name == "SNN leak 1 -> 0.8, ensemble worst-case ASR difference" and decider.counted
    assert effects.status(decider) == "no effect" and claim.verdict == "partly"   # transfer still falls
    assert claim.parts == ("reproduced for SNN leak 1 -> 0.8 transfer ASR; not for SNN leak 1 -> 0.8 ensemble "
                           "worst-case ASR (no effect)")
    assert {e.name.split(", ")[1]: e.counted for e in claim.effects} == {
        "ensemble worst-case ASR difference": True, "fgsm ASR difference": False,
        "worst-case ASR difference": False, "transfer ASR difference": True}
    obfuscation = [f for f in claim.flags if f.startswith("gradient obfuscation")]
    assert obfuscation == ["gradient obfuscation: SNN leak 1 -> 0.8: the effect under the own surrogate (worst-case ASR "
                           "difference -40.0 [-42.3, -37.7] points, reproduced) vanishes under the surrogate ensemble "
                           "(+0.0 [-2.3, +2.3], no effect)"]
    assert obfuscation[0] in write_report(tmp_path, {"leak_sweep": suite_leak_sweep(ends)}, []).read_text()
    # the ensemble keeps the effect: no flag
    kept = (ends[0], {**ends[1], "ensemble": 0.55})
    assert not [f for f in seed_claims.leak_claim(suite_leak_sweep(kept)).flags if "obfuscation" in f]


def test_reference_protocol_points_are_shown_in_tables_figure_and_effects(tmp_path):
    from analysis import captions
    from analysis.sweep_figures import ENSEMBLE, REF_FGSM, leak_figure
    ends = ({"fgsm": 0.6, "transfer": 0.4, "worst": 0.9, "ensemble": 0.95},
            {"fgsm": 0.2, "transfer": 0.1, "worst": 0.5, "ensemble": 0.95})
    reference = ({"fgsm": 0.5, "transfer": 0.4, "worst": 0.7}, {"fgsm": 0.45, "transfer": 0.1, "worst": 0.68})
    sweep = suite_leak_sweep(ends, reference)
    text = write_report(tmp_path, {"leak_sweep": sweep}, []).read_text()
    section = text.split("## 2. Leak sweep")[1]
    assert "| model | protocol | clean % |" in section
    assert "| SNN leak 0.8 (3 seeds) | crafted at the reference setting, scored at the swept one | 90.0 ± 0.0 |" in section
    assert "| SNN leak 0.8 (3 seeds) | crafted at the swept setting | 90.0 ± 0.0 |" in section
    # the reference protocol's effect: shown beside the claim's parts, not counted
    ref = [e for e in seed_claims.leak_claim(sweep).effects if "crafted at" in e.name]
    assert [e.name for e in ref] == ["SNN leak 1 -> 0.8, worst-case ASR difference, crafted at leak 0.99"]
    assert not ref[0].counted and ref[0].estimate == pytest.approx(-2.0)
    assert "| SNN leak 1 -> 0.8, worst-case ASR, crafted at leak 0.99 | 70.0 -> 68.0 |" in section
    # the figure draws the reference-protocol series (its points and the swept point at leak 0.99) and the caption
    # names it
    drawn = leak_figure(sweep, tmp_path / "leak_sweep")
    caption, promises = captions.leak_sweep(sweep)
    assert {REF_FGSM, ENSEMBLE} <= set(promises) and "crafted at the reference setting" in caption
    for p in promises:
        assert p.lower() in caption.lower() and drawn.shows(p), p
    plain = {**leak_sweep_of(both(0.6, 0.4), both(0.2, 0.1)), "scale": "tiny"}   # one protocol: neither column nor line
    assert "| protocol |" not in write_report(tmp_path, {"leak_sweep": plain}, []).read_text()
    assert not leak_figure(plain, tmp_path / "plain").shows(REF_FGSM)


def test_timestep_and_quantization_show_the_suite_and_the_reference_protocol(tmp_path):
    from analysis import captions
    from analysis.sweep_figures import REF_FGSM, WORST, quantization_figure, timestep_figure
    pts = []
    for k in range(3):
        for T, a in ((4, 0.3), (8, 0.5), (16, 0.6)):
            pts.append(suite_point("snn", {"fgsm": a, "transfer": a / 2, "worst": a + 0.2}, seed=k, T=T, leak=0.99))
            if T != 8:
                pts.append(suite_point("snn", {"fgsm": 0.4, "transfer": a / 2, "worst": 0.6}, seed=k, T=T, leak=0.99,
                                       craft_at={"T": 8}))
        for kind, extra in (("snn", {"T": 8, "leak": 0.99}), ("cnn", {})):
            pts.append(suite_point(kind, {"fgsm": 0.1, "transfer": 0.1, "worst": 0.2}, seed=k, levels=2, **extra))
            pts.append(suite_point(kind, {"fgsm": 0.3, "transfer": 0.1, "worst": 0.4}, seed=k, levels=2, **extra,
                                   craft_at={"levels": 256}))
        pts.append(suite_point("cnn", {"fgsm": 0.5, "transfer": 0.4, "worst": 0.7}, seed=k))
    summary = {"settings": {"n_test": N, "eps": 0.1, "seeds": 3}, "leak": 0.99, "levels": [2, 256], "points": pts,
               "scale": "tiny"}
    for d, (caption, promises) in ((timestep_figure(summary, tmp_path / "timestep_sweep"),
                                    captions.timestep_sweep(summary)),
                                   (quantization_figure(summary, tmp_path / "quantization_sweep"),
                                    captions.quantization_sweep(summary))):
        assert any(REF_FGSM in p for p in promises) and any(WORST in p for p in promises)
        for p in promises:
            assert p.lower() in caption.lower() and d.shows(p), p
    claim = seed_claims.discretization_claim(summary)
    names = [e.name for e in claim.effects]
    assert "SNN T 4 -> 16, worst-case ASR difference" in names and "SNN levels 2 -> 256, worst-case ASR difference" in names
    assert "SNN T 4 -> 16, worst-case ASR difference, crafted at T 8" in names   # T 8's swept point between them
    assert "SNN levels 2 -> 256, worst-case ASR difference, crafted at levels 256" in names   # 256 itself: swept
    text = write_report(tmp_path, {"timestep_sweep": summary}, []).read_text()
    # a row each (its three seeds merged) for the SNN's T 4 and 16 and the SNN's and the CNN's 2 levels
    assert text.count("| crafted at the reference setting, scored at the swept one |") == 4


def test_forest_plot_data_are_the_claims_effects(tmp_path):
    layer = lambda share: [{"share_below": {"0.05": share}, "n_weights": 2000}]  # noqa: E731
    sparsity = {"dset": "mnist", "cut": 0.05, "models": {"a": {"net": "snn", "layers": layer(0.07)},
                                                         "b": {"net": "stdp", "layers": layer(0.40)}}}
    ends = ({"fgsm": 0.6, "transfer": 0.4, "worst": 0.9, "ensemble": 0.95},
            {"fgsm": 0.2, "transfer": 0.1, "worst": 0.5, "ensemble": 0.95})
    made = {"leak_sweep": suite_leak_sweep(ends, (ends[0], ends[1])), "damping": damping_pair(0.3, 0.4),
            "timestep_sweep": timestep_sweep_of(0.2, 0.6, 0.2, cnn_level_asr=(0.2, 0.6)),
            "compare": {"mnist": compare_of({"cnn": 0.4, "snn": 0.7, "stdp-net": 0.8, "converted": 0.4},
                                            {"cnn": 0.3, "snn": 0.7, "stdp-net": 0.6, "converted": 0.3},
                                            worst={"cnn": 0.1, "snn": 0.4, "stdp-net": 0.5})},
            "sparsity_by_dset": {"mnist": sparsity}}
    made["timestep_sweep"]["scale"] = "tiny"
    text = write_report(tmp_path, made, []).read_text()
    rows = json.loads((tmp_path / "claims_forest.json").read_text())["rows"]
    claims = made["claims"]
    assert len(claims) == 6 and rows == json.loads(json.dumps(forest_rows(claims)))
    expected = [(c.statement, e.name, e.estimate, e.low, e.high, e.unit, e.counted) for c in claims for e in c.effects]
    assert [(r["claim"], r["part"], r["estimate"], r["low"], r["high"], r["unit"], r["counted"]) for r in rows] == \
        expected   # JSON keeps a float exactly
    assert {r["claim"] for r in rows} == {c.statement for c in claims}   # every claim has a row
    assert [r["status"] for r in rows] == [effects.status(e) for c in claims for e in c.effects]
    # at the top, beside the verdict table, with its caption's promises in the picture
    head = text.split("## 1.")[0]
    assert "![claims_forest](claims_forest.png)" in head and (tmp_path / "claims_forest.pdf").exists()
    caption, promises = made["captions"]["claims_forest"]
    for p in promises:
        assert p.lower() in caption.lower() and made["figures"]["claims_forest"].shows(p), p
    drawn = made["figures"]["claims_forest"]
    assert all(drawn.shows(r["part"]) for r in rows) and all(drawn.shows(c.statement) for c in claims)
    assert drawn.size_px[0] <= 1005


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
    assert "difference -" in stronger.numbers and "SNN-crafted stronger" in stronger.numbers
    assert stronger.effects and all(e.high < 0 and e.expect == -1 for e in stronger.effects)   # the forest plot's rows
    weaker = seed_claims.transfer_claim(transfer_matrix_of({"cnn-a": 0.4, "cnn-b": 0.4, "snn-a": 0.1, "snn-b": 0.1}))
    assert weaker.verdict == "not reproduced" and "SNN-crafted weaker" in weaker.numbers
    level = seed_claims.transfer_claim(transfer_matrix_of({"cnn-a": 0.0, "cnn-b": 0.0, "snn-a": 0.0, "snn-b": 0.0}))
    assert level.verdict == "not reproduced" and "difference +0.0 [+0.0, +0.0]" in level.numbers
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
    assert "## Skipped inputs" in text and set(made["captions"]) == {"claims_forest"}
    empty = write_report(tmp_path, {}, []).read_text()
    assert "| (no results yet) | - | - |" in empty and "no evaluated model showed it." in empty


CLAIMS = sorted(n for n in vars(seed_claims) if n.endswith("_claim") and callable(getattr(seed_claims, n)))


def test_every_claim_function_is_tested_here():
    assert len(CLAIMS) == 11
    source = open(__file__).read()
    assert [n for n in CLAIMS if f"test_{n}_each_way" not in source] == []
