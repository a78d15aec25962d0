"""The seed papers' claims, one function each, and the numbers they publish, as one table to check against them.

The papers are the seed documents in ``../shared/seeds/`` beside the checkout (summarised in BACKGROUND.md,
section 1): seed 000 (STDP for robust SNNs; its "Key Findings" table), seeds 001 and 003 (Sharmin et al.
2019 / 2020). Each claim function reads saved results (analysis.damping's damping.json and converged.json, the
sweeps' JSON, analysis.compare's compare.json, analysis.accuracy_table's summaries) and returns a
:class:`Claim`, or None when the results it needs are not there; analysis.report writes it as a row of
REPORT.md's "Seed claims".

Sharmin et al. (seeds 001, 003):

- :func:`damping_claim`: ReLU passes a perturbation on, LIF neurons damp it layer by layer (analysis.damping_claims,
  re-exported here: over seeds, Welch, on the converged leak sweep's reference models when there are two seeds or
  more; else on one model per kind, from bootstrap intervals over the test images);
- :func:`blackbox_damping_claim`, :func:`blackbox_compare_claim`: SNNs resist gradient attacks better than a
  CNN, mostly black-box (transfer), and a converted SNN does not (the second on analysis.compare's fuller
  table, the first on the damping models when there is none);
- :func:`leak_claim`: more leak gives more robustness;
- :func:`discretization_claim`: fewer time steps and pre-quantized inputs give more robustness;
- :func:`converted_claim` (2020): a converted SNN's robustness depends on the input pre-quantization, not on
  its time steps; :func:`encoding_claim`: the Poisson encoder alone gives robustness (these four in
  analysis.sweep_claims, re-exported here).

Seed 000: :func:`snn_fgsm_claim` (an SNN keeps more than a CNN under white-box FGSM), :func:`stdp_claim` (an
STDP-learned layer adds robustness through sparse connectivity), :func:`accuracy_claim` (its clean accuracies).
The statistics are analysis.verdicts'. Each claim also returns its parts as effects (analysis.effects.Effect:
the difference with its interval, whose sign is the test the verdict counts), for the forest plot of
analysis.forest_figure; a "partly" names its parts.
"""
from __future__ import annotations

import math
from pathlib import Path

from analysis.damping_claims import DAMPING_STATEMENT, change_effect, damped_effect, damping_claim, damping_models
from analysis.defaults import DSET_NAMES, NET_LABELS
from analysis.effects import Claim, Effect, from_effects, name_parts, proportion_interval, scaled, sign_of, status, \
    verdict_of
from analysis.saved_results import adv, main_eps, pct
from analysis.sweep_claims import converted_claim, discretization_claim, encoding_claim, leak_claim, leak_points, \
    timestep_points
from analysis.verdicts import blackbox_verdict, compare_masked, stated, suspect, transfer_effects

__all__ = ["Claim", "DAMPING_STATEMENT", "PUBLISHED_ACCURACY", "SEED000_FGSM", "accuracy_claim",
           "blackbox_compare_claim", "blackbox_damping_claim", "change_effect", "compare_cells", "converted_claim",
           "damped_effect", "damping_claim", "damping_models", "from_effects",
           "discretization_claim", "dset_of", "encoding_claim", "leak_claim", "leak_points", "snn_fgsm_claim",
           "stdp_claim", "timestep_points",
           "training_seconds", "transfer_claim"]

# --- what the seeds publish -------------------------------------------------------------------
# Seed 000's FGSM table ("Key Findings", adversarial accuracy; BACKGROUND.md section 1), keyed by analysis.compare's
# kinds. Its paper states eps only for MNIST (0.1); its released train_cifar10.sh passes 0.018, which it adds to
# normalised images (CNN) or to Poisson spike trains (SNNs), not to pixels (analysis.seed000_protocol).
SEED000_FGSM = {
    "mnist": {"eps": 0.1, "cnn": 0.4167, "snn": 0.7090, "stdp-net": 0.8057},
    "cifar10": {"eps": 0.018, "cnn": 0.5095, "snn": 0.6505, "stdp-net": 0.6432},
}
# Clean test accuracy seed 000 reports ("Test Acc"), and Sharmin et al.'s converted SNN on CIFAR-10 (VGG-9, 85.6 %)
# (the targets of the CPU recipes), with who reports it; keyed by networks.train's net names.
PUBLISHED_ACCURACY = {
    "mnist": {"cnn": (0.9924, "seed 000"), "snn": (0.9920, "seed 000"), "stdp": (0.9925, "seed 000")},
    "cifar10": {"cnn": (0.8709, "seed 000"), "snn": (0.7539, "seed 000"), "stdp": (0.7505, "seed 000"),
                "converted": (0.856, "Sharmin et al.")},
}


# --- effects of the parts, each with the interval its verdict tests ----------------------------
def points_effect(name: str, a: float, b: float, n: float, unit: str = "adversarial accuracy points",
                  **kw) -> Effect:
    """a - b of two proportions on n images in points, +- two standard errors (compare_two's test)."""
    return Effect(name, *scaled(proportion_interval(a, b, n), 100), unit, how="two standard errors", **kw)


# --- Sharmin et al. on the damping models and the sweeps --------------------------------------
def blackbox_damping_claim(damping: dict) -> Claim | None:
    """SNNs resist mostly black-box attacks, on the damping models: the SNN beats the CNN under transfer, by more
    than under white-box FGSM (a masked white-box number does not count). The report uses it only without
    analysis.compare, which measures the same on five times the images, with PGD too."""
    eps, models = main_eps(damping), damping_models(damping)
    cnn, snn = models.get("cnn"), models.get("snn")
    if not (cnn and snn and "transfer" in snn["deltas"]):
        return None
    n = damping["n"]
    white = adv(snn, "fgsm") - adv(cnn, "fgsm")
    black = adv(snn, "transfer") - adv(cnn, "transfer")
    masked = suspect(snn, n) or suspect(cnn, n)
    source_is_target = damping.get("source") and Path(damping["source"]).resolve() == Path(cnn["run"]).resolve()
    beats = points_effect("SNN - CNN under transfer", adv(snn, "transfer"), adv(cnn, "transfer"), n)
    larger = black > white and not masked   # not tested: the white-box and black-box gaps as measured
    word = blackbox_verdict(sign_of(beats), larger)
    parts = [(beats.name, status(beats)), ("gap larger under transfer than white-box",
                                           "reproduced" if larger else "masked" if masked else "not larger")]
    return Claim("SNNs resist mostly black-box (transfer) attacks [damping data]", word,
                 f"eps {eps}, n {n}: SNN - CNN adversarial accuracy white-box {100 * white:+.1f} points"
                 + (" (masked gradients suspected: not counted)" if masked else "")
                 + f", black-box {100 * black:+.1f} points"
                 + (" (the source is the target CNN itself, so its 'black-box' is white-box)"
                    if source_is_target else ""), (beats,), name_parts(parts) if word == "partly" else "")


# --- on analysis.compare's table --------------------------------------------------------------
def dset_of(summary: dict) -> str:
    return summary["settings"].get("dset", "mnist")


def seed_eps(summary: dict) -> float:
    """The eps of the table closest to seed 000's for its dataset (CIFAR-10: 4/255 for its 0.018)."""
    eps = summary["settings"]["eps"]
    ref = SEED000_FGSM.get(dset_of(summary), {}).get("eps")
    return min(eps) if ref is None else min(eps, key=lambda e: abs(e - ref))


def compare_cells(summary: dict) -> dict:
    """(net, attack, setting) -> cell of an analysis.compare summary at seed 000's eps (seed_eps)."""
    eps0 = seed_eps(summary)
    nets = {m["key"]: m["net"] for m in summary["models"]}
    return {(nets[c["target"]], c["attack"], c["setting"]): c for c in summary["cells"]
            if c["eps"] == eps0 and c.get("adv_accuracy") is not None and c["target"] in nets}


def white_and_worst(summary: dict) -> tuple[dict, dict]:
    """At seed_eps: (kind, attack) -> white-box adversarial accuracy (from compare_cells), and kind -> its
    worst case."""
    white = {(net, attack): c["adv_accuracy"] for (net, attack, setting), c in compare_cells(summary).items()
             if setting == "white"}
    kinds, eps = {m["key"]: m["net"] for m in summary["models"]}, seed_eps(summary)
    worst = {kinds[c["target"]]: c["adv_accuracy"] for c in summary["worst_case"]
             if c["eps"] == eps and c["target"] in kinds}
    return white, worst


def blackbox_compare_claim(summary: dict) -> Claim | None:
    """Sharmin et al. on analysis.compare: the surrogate SNN beats the CNN under transfer, by more than under
    white-box attack, and a converted SNN does not. Per attack; masked white-box numbers are not counted
    (analysis.verdicts.compare_masked; REPORT.md's checks name them)."""
    cells, n = compare_cells(summary), summary["n_test"]
    masked = compare_masked(cells, n)
    name = DSET_NAMES.get(dset_of(summary), dset_of(summary))
    black = next((f"black-{r}" for r in summary["sources"] if r == "cnn"), None)
    effects, parts = [], []
    for attack in summary["settings"]["attacks"]:
        get = {net: {st: cells.get((net, attack, st)) for st in ("white", black)}
               for net in ("cnn", "snn", "converted")}
        if not (black and get["cnn"][black] and get["snn"][black] and get["cnn"]["white"] and get["snn"]["white"]):
            continue
        acc = {(net, st): c["adv_accuracy"] for net, d in get.items() for st, c in d.items() if c}
        black_gap = acc[("snn", black)] - acc[("cnn", black)]
        effects.append(points_effect(f"{attack.upper()}: SNN - CNN black-box", acc[("snn", black)],
                                     acc[("cnn", black)], n))
        text = (f"{attack.upper()}: SNN - CNN black-box {100 * black_gap:+.1f} points "
                f"({stated(sign_of(effects[-1]), 'SNN better', 'SNN worse')})")
        if ("snn", attack) in masked or ("cnn", attack) in masked:
            text += ", white-box gap not counted (masked gradients suspected)"
        else:
            white_gap = acc[("snn", "white")] - acc[("cnn", "white")]
            four = [acc[k] for k in (("snn", black), ("cnn", black), ("snn", "white"), ("cnn", "white"))]
            se = math.sqrt(sum(max(v * (1 - v), 1e-6) for v in four) / n)
            d = black_gap - white_gap   # is the gap larger under black-box? two standard errors of four proportions
            effects.append(Effect(f"{attack.upper()}: SNN - CNN gap, black-box minus white-box", 100 * d,
                                  100 * (d - 2 * se), 100 * (d + 2 * se), "adversarial accuracy points",
                                  how="two standard errors"))
            larger = sign_of(effects[-1])
            text += (f", white-box {100 * white_gap:+.1f} points (gap "
                     f"{'larger' if larger > 0 else 'smaller' if larger < 0 else 'no different'} under black-box)")
        if ("converted", black) in acc:
            converted_gap = acc[("converted", black)] - acc[("cnn", black)]
            # the claim: a converted net does not gain (it holds unless it is significantly better)
            effects.append(points_effect(f"{attack.upper()}: converted SNN - CNN black-box (no gain)",
                                         acc[("converted", black)], acc[("cnn", black)], n, expect=-1,
                                         unless_reversed=True))
            text += (f"; converted SNN - CNN black-box {100 * converted_gap:+.1f} points "
                     f"({stated(-sign_of(effects[-1]), 'better', 'worse')})")
        parts.append(text)
    if not parts:
        return None
    source = next((m["label"] for m in summary["models"] if m["net"] == "cnn"), "CNN")
    numbers = (f"eps {seed_eps(summary):g}, n {n}, black-box source: another CNN "
               f"(compare.json 'sources'; target {source}); " + "; ".join(parts))
    return from_effects("SNNs resist gradient attacks better than the CNN, mostly black-box; converted SNNs do not "
                        f"[analysis.compare, {name}]", effects, numbers)


def transfer_claim(matrix: dict) -> Claim | None:
    """Sharmin et al. 2019: attacks crafted on an SNN transfer better (black-box) than attacks crafted on an ANN. Per
    target and attack of analysis.transfer_matrix, the target's accuracy under SNN- minus ANN-crafted examples,
    paired per example, 95 % paired bootstrap interval (analysis.verdicts.transfer_effects): the claim predicts it
    below 0."""
    found = transfer_effects(matrix)
    if not found:
        return None
    effects = [Effect(f"{e['target']} {e['attack'].upper()}: SNN- minus ANN-crafted", *(100 * v for v in e["effect"]),
                      "adversarial accuracy points", expect=-1, how="paired bootstrap 95 %") for e in found]
    parts = [f"{e['target']} {e['attack'].upper()}: crafted on {', '.join(e['snn_sources'])} {pct(e['snn_accuracy'])} "
             f"against on {', '.join(e['ann_sources'])} {pct(e['ann_accuracy'])} %, difference "
             + ", ".join(f"{100 * v:+.1f}" for v in e["effect"][:1]) + " [" + ", ".join(
                 f"{100 * v:+.1f}" for v in e["effect"][1:]) + "] points ("
             + stated(e["sign"], "SNN-crafted stronger", "SNN-crafted weaker") + ")" for e in found]
    name = DSET_NAMES.get(matrix["dset"], matrix["dset"])
    return from_effects(f"Attacks crafted on an SNN are stronger black-box than attacks crafted on an ANN "
                        f"[analysis.transfer_matrix, {name}]", effects,
                        f"eps {matrix['eps']:g}, n {matrix['n_test']}, target accuracy under SNN- against ANN-crafted "
                        "transfer, SNN - ANN paired per example: " + "; ".join(parts))


# --- seed 000 ---------------------------------------------------------------------------------
def snn_fgsm_claim(summary: dict) -> Claim | None:
    """Seed 000's main table: its SNN and SNN + STDP keep more than the CNN under white-box FGSM. Judged on
    FGSM, which the seed reports, and on the worst case over the suite, the number to trust."""
    dset, eps = dset_of(summary), seed_eps(summary)
    white, worst = white_and_worst(summary)
    ref, n = SEED000_FGSM.get(dset, {}), summary["n_test"]
    if ("cnn", "fgsm") not in white:
        return None
    effects, parts = [], []
    for kind, label in (("snn", "SNN"), ("stdp-net", "SNN + STDP layer")):
        if (kind, "fgsm") not in white:
            continue
        for name, a, b in (("FGSM", white[(kind, "fgsm")], white[("cnn", "fgsm")]),
                           ("worst case", worst.get(kind), worst.get("cnn"))):
            if a is None or b is None:
                continue
            effects.append(points_effect(f"{label} - CNN {name}", a, b, n))
            parts.append(f"{label} - CNN {name} {100 * (a - b):+.1f} points ({pct(a)} against {pct(b)} %, "
                         f"{stated(sign_of(effects[-1]), 'SNN higher', 'SNN lower')})")
    if not parts:
        return None
    seed = ", ".join(f"{k} {100 * ref[k]:.2f} %" for k in ("cnn", "snn", "stdp-net") if k in ref)
    numbers = (f"eps {eps:g}, n {n}, white-box: " + "; ".join(parts)
               + (f" (seed 000, FGSM at eps {ref['eps']:.4g}: {seed})" if ref else ""))
    return from_effects(f"SNNs keep more than a CNN under white-box attack [seed 000, analysis.compare, "
                        f"{DSET_NAMES.get(dset, dset)}]", effects, numbers)


def stdp_claim(summary: dict, sparsity: dict | None) -> Claim | None:
    """Seed 000: an SNN whose first layer STDP learned keeps more under attack than the surrogate SNN
    (MNIST, FGSM eps 0.1: 80.57 against 70.90 %; on CIFAR-10 its two nets are level), which it credits
    to STDP's sparse connectivity. Per white-box attack and the worst case; with analysis.weight_sparsity's
    numbers (for the same dataset), whether the STDP layer is the sparser one."""
    dset, eps0, n = dset_of(summary), seed_eps(summary), summary["n_test"]
    white, worst = white_and_worst(summary)
    if not {"snn", "stdp-net"} <= set(worst):
        return None
    acc = {a.upper(): (white[("stdp-net", a)], white[("snn", a)]) for a in summary["settings"]["attacks"]
           if ("stdp-net", a) in white and ("snn", a) in white}
    acc["worst case"] = (worst["stdp-net"], worst["snn"])
    effects, parts = [], []
    for name, (a, b) in acc.items():
        effects.append(points_effect(f"STDP - SNN, {name}", a, b, n))
        parts.append(f"{name} {100 * a:.1f} against {100 * b:.1f} % "
                     f"({stated(sign_of(effects[-1]), 'STDP higher', 'STDP lower')})")
    numbers = f"eps {eps0:g}, n {n}, white-box, SNN + STDP layer against the surrogate SNN: " + "; ".join(parts)
    ref = SEED000_FGSM.get(dset)
    if ref:
        numbers += f" (seed 000, FGSM: {100 * ref['stdp-net']:.2f} against {100 * ref['snn']:.2f} %)"
    named = [(e.name, status(e)) for e in effects]
    judged = verdict_of(named)[0]   # on robustness: sparsity is the claimed mechanism, not the claim
    same_dset = sparsity and sparsity.get("dset", "mnist") == dset   # weight_sparsity's file before dset: MNIST
    first = {m["net"]: m["layers"][0] for m in sparsity["models"].values()} if same_dset else {}
    if {"snn", "stdp"} <= set(first):
        cut = f"{sparsity['cut']:g}"
        share = {net: first[net]["share_below"][cut] for net in ("stdp", "snn")}
        effects.append(Effect(f"first layer, STDP - SNN share of weights below {100 * sparsity['cut']:g} %",
                              *scaled(proportion_interval(share["stdp"], share["snn"], first["stdp"]["n_weights"],
                                                          first["snn"]["n_weights"]), 100),
                              "share of weights points", how="two standard errors"))
        named.append(("a sparser first layer", status(effects[-1])))
        if judged == "reproduced" and sign_of(effects[-1]) <= 0:
            judged = "partly"   # more robust, but not through a sparser first layer
        numbers += (f"; first-layer weights below {100 * sparsity['cut']:g} % of their unit's largest: STDP "
                    f"{100 * share['stdp']:.1f} %, SNN {100 * share['snn']:.1f} %")
    else:
        named.append(("a sparser first layer", "not measured"))
        if judged == "reproduced":
            judged = "partly"   # more robust, through a mechanism not measured here
        numbers += f"; first-layer sparsity not measured on {DSET_NAMES.get(dset, dset)} (analysis.weight_sparsity)"
    return Claim("An STDP-learned layer makes an SNN more robust, through sparse connectivity [seed 000, "
                 f"analysis.compare, {DSET_NAMES.get(dset, dset)}]", judged, numbers, tuple(effects),
                 name_parts(named) if judged == "partly" else "")


def training_seconds(run: dict) -> float:
    """A run's training time; a staged run's (the CIFAR-10 stdp net) counts every stage."""
    return run.get("pipeline_seconds", run["train_seconds"])


def accuracy_claim(summary: dict) -> Claim | None:
    """Seed 000's clean test accuracies on one dataset, against this project's lowest-seed run of each net: a
    net reaches its number unless ours falls short by more than two standard errors (both on n images)."""
    seed = {net: v for net, (v, who) in PUBLISHED_ACCURACY.get(summary["dset"], {}).items() if who == "seed 000"}
    if not seed:
        return None
    ours = {}
    for run in sorted(summary["runs"], key=lambda r: (r["seed"] is None, r["seed"])):
        ours.setdefault(run["net"], run)
    effects, parts, named = [], [], []
    for net, v in seed.items():
        run = ours.get(net)
        if run is None:
            parts.append(f"{NET_LABELS[net]}: not trained yet (seed 000: {100 * v:.2f} %)")
            named.append((NET_LABELS[net], "not trained"))
            continue
        # reached unless ours falls short by more than two standard errors
        effects.append(points_effect(f"{NET_LABELS[net]} - seed 000", run["test_accuracy"], v, run["n_test"],
                                     "clean accuracy points", unless_reversed=True))
        reached = status(effects[-1]) == "reproduced"
        named.append((NET_LABELS[net], status(effects[-1])))
        parts.append(f"{NET_LABELS[net]} {100 * run['test_accuracy']:.2f} % on {run['n_test']:,} images "
                     f"({training_seconds(run) / 60:.0f} min training, {run['threads']} threads) against seed 000's "
                     f"{100 * v:.2f} % ({'reached' if reached else 'short'})")
    if not effects:
        return None
    judged = verdict_of(named)[0] if len(effects) == len(seed) else \
        ("partly" if any(s == "reproduced" for _, s in named) else "not reproduced")
    name = DSET_NAMES.get(summary["dset"], summary["dset"])
    return Claim(f"Seed 000's clean accuracies on {name} (CNN, SNN, SNN + STDP) [analysis.accuracy_table]", judged,
                 "; ".join(parts), tuple(effects), name_parts(named) if judged == "partly" else "")
