"""The seed papers' claims, one function each, and the numbers they publish, as one table to check against them.

The papers are the seed documents in ``../shared/seeds/`` beside the checkout (summarised in BACKGROUND.md,
section 1): seed 000 (STDP for robust SNNs; its "Key Findings" table), seeds 001 and 003 (Sharmin et al.
2019 / 2020). Each claim function reads saved results (analysis.damping's damping.json, the sweeps' JSON,
analysis.compare's compare.json, analysis.accuracy_table's summaries) and returns a :class:`Claim`, or None
when the results it needs are not there; analysis.report writes it as a row of REPORT.md's "Seed claims".

Sharmin et al. (seeds 001, 003):

- :func:`damping_claim`: ReLU passes a perturbation on, LIF neurons damp it layer by layer;
- :func:`blackbox_damping_claim`, :func:`blackbox_compare_claim`: SNNs resist gradient attacks better than a
  CNN, mostly black-box (transfer), and a converted SNN does not (the second on analysis.compare's fuller
  table, the first on the damping models when there is none);
- :func:`leak_claim`: more leak gives more robustness;
- :func:`discretization_claim`: fewer time steps and pre-quantized inputs give more robustness.

Seed 000: :func:`snn_fgsm_claim` (an SNN keeps more than a CNN under white-box FGSM), :func:`stdp_claim` (an
STDP-learned layer adds robustness through sparse connectivity), :func:`accuracy_claim` (its clean accuracies).
The statistics are analysis.verdicts'.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from analysis.defaults import DSET_NAMES, MODEL_ORDER, NET_LABELS, REF
from analysis.saved_results import FULL, adv, last_hidden, main_eps, num, pct, points_of, quant_points, redraw, \
    stage_ratio
from analysis.sweep_figures import QUANT_MODELS
from analysis.verdicts import blackbox_verdict, ci_below, compare_masked, compare_two, damped, stated, suspect, \
    sweep_trends, transfer_effects, verdict

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


class Claim(NamedTuple):
    """One row of REPORT.md's "Seed claims": what the seed says, the verdict (reproduced / partly / not
    reproduced) and the numbers behind it."""
    statement: str
    verdict: str
    numbers: str


# --- Sharmin et al. on the damping models and the sweeps --------------------------------------
def damping_models(damping: dict) -> dict:
    """Model -> its analysis.damping result at the report's eps (saved_results.main_eps), in MODEL_ORDER."""
    eps = main_eps(damping)
    return {k: damping["models"][k][eps] for k in MODEL_ORDER if k in damping["models"] and eps in damping["models"][k]}


def damping_claim(damping: dict, leak_sweep: dict | None = None) -> Claim | None:
    """ReLU passes a perturbation on, LIF neurons damp it: the SNN's change, relative to the input's, is below
    the CNN's at the last hidden layer and the output, under the same transferred d; the Brian2 network damps
    it too; and so does the leak sweep's reference SNN against its CNN (same training budget)."""
    eps, models = main_eps(damping), damping_models(damping)
    cnn, snn = models.get("cnn"), models.get("snn")
    if not (cnn and snn and "transfer" in snn["deltas"]):
        return None
    # The same d and images for both, so their changes at a stage compare directly; a sub-finding
    # counts only when the bootstrap intervals do not overlap.
    cnn_layer, snn_layer = last_hidden(cnn), last_hidden(snn)
    signs = [ci_below(snn, snn_layer, cnn, cnn_layer), ci_below(snn, "output", cnn, "output")]
    text = (f"same d (FGSM transferred from the source CNN, eps {eps}, n {damping['n']}), change relative to the "
            f"input's: last hidden layer CNN {num(stage_ratio(cnn, cnn_layer))} ({cnn_layer}) vs SNN "
            f"{num(stage_ratio(snn, snn_layer))} ({snn_layer}; {stated(signs[0])}); output CNN "
            f"{num(stage_ratio(cnn, 'output'))} vs SNN {num(stage_ratio(snn, 'output'))} ({stated(signs[1])}); "
            f"the CNN itself passes {num(stage_ratio(cnn, cnn_layer))} of it on, not all")
    if "bio" in models:   # conductance-based LIF neurons too: the claim predicts damping there as well
        bio = models["bio"]
        signs.append(damped(bio, "exc counts"))
        text += (f"; Brian2 network (conductance LIF): exc counts / input {num(stage_ratio(bio, 'exc counts'))} "
                 f"({stated(signs[-1], 'damped', 'amplified')}), output / input {num(stage_ratio(bio, 'output'))}")
    if "converted" in models:
        converted = models["converted"]
        text += (f"; converted IF SNN: last hidden / input {num(stage_ratio(converted, last_hidden(converted)))}, "
                 f"output / input {num(stage_ratio(converted, 'output'))}")
    sweep_cnn = points_of(leak_sweep, "cnn", "levels", {"levels": FULL}) if leak_sweep else []
    sweep_snn = points_of(leak_sweep, "snn", "leak", {"levels": FULL}) if leak_sweep else []
    reference = next((p for p in sweep_snn if p["job"]["leak"] == REF["leak"]), None)
    if sweep_cnn and reference and "transfer" in reference["eval"]["deltas"]:
        # the sweep's CNN and SNN share a training budget and the same d on the same images
        sweep_cnn_eval, sweep_snn_eval = sweep_cnn[0]["eval"], reference["eval"]
        signs.append(ci_below(sweep_snn_eval, last_hidden(sweep_snn_eval), sweep_cnn_eval, last_hidden(sweep_cnn_eval)))
        text += (f"; leak sweep's models (same training budget): last hidden / input CNN "
                 f"{num(stage_ratio(sweep_cnn_eval, last_hidden(sweep_cnn_eval)))} vs SNN leak {REF['leak']:g} "
                 f"{num(stage_ratio(sweep_snn_eval, last_hidden(sweep_snn_eval)))} ({stated(signs[-1])}), over leaks "
                 + ", ".join(f"{p['job']['leak']:g}: {num(stage_ratio(p['eval'], last_hidden(p['eval'])))}"
                             for p in sweep_snn[::-1]))
    return Claim("ReLU passes a perturbation on, LIF neurons damp it layer by layer", verdict(signs), text)


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
    return Claim("SNNs resist mostly black-box (transfer) attacks [damping data]",
                 blackbox_verdict(compare_two(adv(snn, "transfer"), adv(cnn, "transfer"), n),
                                  black > white and not masked),
                 f"eps {eps}, n {n}: SNN - CNN adversarial accuracy white-box {100 * white:+.1f} points"
                 + (" (masked gradients suspected: not counted)" if masked else "")
                 + f", black-box {100 * black:+.1f} points"
                 + (" (the source is the target CNN itself, so its 'black-box' is white-box)"
                    if source_is_target else ""))


def leak_points(leak_sweep: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """The leak sweep's CNN, SNN (by leak) and Brian2 (by tau_exc) points on unquantized images."""
    return (points_of(leak_sweep, "cnn", "levels", {"levels": FULL}),
            points_of(leak_sweep, "snn", "leak", {"levels": FULL}),
            points_of(leak_sweep, "bio", "tau_exc_ms", {"levels": FULL}))


def leak_claim(leak_sweep: dict) -> Claim | None:
    """More leak gives more robustness: from the least leaky point to the most, the ASR falls (white-box and
    transfer, SNN leak and Brian2 tau_exc)."""
    n = leak_sweep["settings"]["n_test"]
    _, snn, bio = leak_points(leak_sweep)
    least_leak_first = (("SNN leak", "leak", snn[::-1]),   # IF first
                        ("Brian2 tau_exc", "tau_exc_ms", sorted(bio, key=lambda p: -p["job"]["tau_exc_ms"])))
    parts, signs = [], []
    for label, key, pts in least_leak_first:
        if len(pts) < 2:
            continue
        for sign, text in sweep_trends(pts, label, key, n, lo_first=False):
            signs.append(sign)
            parts.append(text)
        parts.append(f"clean {pct(pts[0]['eval']['clean_accuracy'])}% -> {pct(pts[-1]['eval']['clean_accuracy'])}%")
    if len(bio) >= 2:
        clean = [p["eval"]["clean_accuracy"] for p in bio]
        if compare_two(max(clean), min(clean), n):
            parts.append("caveat: the Brian2 networks differ in clean accuracy and dt shrinks with tau (the twin "
                         "integrates more steps), so their white-box ASR mixes leak with network and gradient "
                         "quality; the transfer ASR (the same d for all) is the fairer of the two")
    if not signs:
        return None
    return Claim("More leak gives more robustness", verdict(signs), "; ".join(parts))


def timestep_points(timestep_sweep: dict) -> tuple[list[dict], list[dict]]:
    """The timestep sweep's SNN (by T) and Brian2 (by presentation ms) points on unquantized images."""
    return (points_of(timestep_sweep, "snn", "T", {"levels": FULL, "leak": timestep_sweep["leak"]}),
            points_of(timestep_sweep, "bio", "present_ms", {"levels": FULL, "tau_exc_ms": REF["tau_exc_ms"]}))


def discretization_claim(timestep_sweep: dict) -> Claim | None:
    """Poisson discretization: fewer time steps (shorter presentation) and coarser pre-quantized inputs give a
    lower ASR. The CNN on quantized images is the control (does quantization alone do it?) and does not count."""
    n = timestep_sweep["settings"]["n_test"]
    snn, bio = timestep_points(timestep_sweep)
    parts, signs = [], []
    for label, key, pts in (("SNN T", "T", snn), ("Brian2 presentation ms", "present_ms", bio)):
        if len(pts) >= 2:
            for sign, text in sweep_trends(pts, label, key, n, lo_first=True):
                signs.append(sign)
                parts.append(text)
    cnn_gains = False
    for kind in ("snn", "bio", "cnn"):
        pts = quant_points(timestep_sweep, kind)
        if len(pts) < 2:
            continue
        label = f"{'control, ' if kind == 'cnn' else ''}{QUANT_MODELS[kind][1]} levels"
        for delta, (sign, text) in zip(("fgsm", "transfer"),
                                       sweep_trends(pts, label, "levels", n, lo_first=True, listed="by levels")):
            if kind != "cnn":
                signs.append(sign)
            cnn_gains |= kind == "cnn" and delta == "fgsm" and sign > 0
            parts.append(text)
    if cnn_gains:
        parts.append("the CNN control gains too: pre-quantization protects any network, spiking or not")
    parts += half_step_vulnerable(timestep_sweep, n)
    if len(bio) >= 2 and compare_two(bio[-1]["eval"]["clean_accuracy"], bio[0]["eval"]["clean_accuracy"], n) > 0:
        parts.append(f"caveat: the shorter Brian2 presentations also give a weaker, noisier network (clean "
                     f"{pct(bio[0]['eval']['clean_accuracy'])}% -> {pct(bio[-1]['eval']['clean_accuracy'])}%, "
                     f"redraw flips {redraw(bio[0]['eval'])}% -> {redraw(bio[-1]['eval'])}%)")
    if not signs:
        return None
    return Claim("Poisson discretization: fewer time steps and pre-quantized inputs give more robustness",
                 verdict(signs), "; ".join(parts))


def half_step_vulnerable(timestep_sweep: dict, n: int) -> list[str]:
    """Quantized models more vulnerable than unquantized ones at a level count where an eps step crosses half a
    level (rounding lets it jump a whole one): the worst such point against the unquantized one."""
    boundary = 1 + 1 / (2 * timestep_sweep["settings"]["eps"])
    out = []
    for kind in ("snn", "bio", "cnn"):
        pts = quant_points(timestep_sweep, kind)
        full = next((p for p in pts if p["job"]["levels"] >= FULL), None)
        mid = [p for p in pts if boundary < p["job"]["levels"] < FULL]
        if full and mid:
            worst = max(mid, key=lambda p: adv(p["eval"], "fgsm", "attack_success_rate"))
            a, b = (adv(p["eval"], "fgsm", "attack_success_rate") for p in (worst, full))
            if compare_two(a, b, n * worst["eval"]["clean_accuracy"], n * full["eval"]["clean_accuracy"]) > 0:
                out.append(f"{QUANT_MODELS[kind][1]} at {worst['job']['levels']} levels (half a step below eps) "
                           f"is more vulnerable than unquantized (fgsm ASR {pct(a)}% vs {pct(b)}%): rounding "
                           "lets an eps step jump a whole level")
    return out


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
    signs, parts = [], []
    for attack in summary["settings"]["attacks"]:
        get = {net: {st: cells.get((net, attack, st)) for st in ("white", black)}
               for net in ("cnn", "snn", "converted")}
        if not (black and get["cnn"][black] and get["snn"][black] and get["cnn"]["white"] and get["snn"]["white"]):
            continue
        acc = {(net, st): c["adv_accuracy"] for net, d in get.items() for st, c in d.items() if c}
        black_gap = acc[("snn", black)] - acc[("cnn", black)]
        beats = compare_two(acc[("snn", black)], acc[("cnn", black)], n)
        signs.append(beats)
        text = (f"{attack.upper()}: SNN - CNN black-box {100 * black_gap:+.1f} points "
                f"({stated(beats, 'SNN better', 'SNN worse')})")
        if ("snn", attack) in masked or ("cnn", attack) in masked:
            text += ", white-box gap not counted (masked gradients suspected)"
        else:
            white_gap = acc[("snn", "white")] - acc[("cnn", "white")]
            four = [acc[k] for k in (("snn", black), ("cnn", black), ("snn", "white"), ("cnn", "white"))]
            se = math.sqrt(sum(max(v * (1 - v), 1e-6) for v in four) / n)
            larger = 0 if abs(black_gap - white_gap) <= 2 * se else int(np.sign(black_gap - white_gap))
            signs.append(larger)   # is the gap larger under black-box?
            text += (f", white-box {100 * white_gap:+.1f} points (gap "
                     f"{'larger' if larger > 0 else 'smaller' if larger < 0 else 'no different'} under black-box)")
        if ("converted", black) in acc:
            converted_gap = acc[("converted", black)] - acc[("cnn", black)]
            converted = compare_two(acc[("converted", black)], acc[("cnn", black)], n)
            signs.append(-converted if converted else 1)   # the claim: a converted net does not gain
            text += (f"; converted SNN - CNN black-box {100 * converted_gap:+.1f} points "
                     f"({stated(converted, 'better', 'worse')})")
        parts.append(text)
    if not parts:
        return None
    source = next((m["label"] for m in summary["models"] if m["net"] == "cnn"), "CNN")
    numbers = (f"eps {seed_eps(summary):g}, n {n}, black-box source: another CNN "
               f"(compare.json 'sources'; target {source}); " + "; ".join(parts))
    return Claim("SNNs resist gradient attacks better than the CNN, mostly black-box; converted SNNs do not "
                 f"[analysis.compare, {name}]", verdict(signs), numbers)


def transfer_claim(matrix: dict) -> Claim | None:
    """Sharmin et al. 2019: attacks crafted on an SNN transfer better (black-box) than attacks crafted on an ANN. Per
    target and attack of analysis.transfer_matrix, the target's accuracy under SNN- minus ANN-crafted examples,
    paired per example, 95 % interval (analysis.verdicts.transfer_effects); +1 where it lies below 0."""
    effects = transfer_effects(matrix)
    if not effects:
        return None
    parts = [f"{e['target']} {e['attack'].upper()}: crafted on {', '.join(e['snn_sources'])} {pct(e['snn_accuracy'])} "
             f"against on {', '.join(e['ann_sources'])} {pct(e['ann_accuracy'])} %, (estimate, low, high) = ("
             + ", ".join(f"{100 * v:+.1f}" for v in e["effect"]) + ") points ("
             + stated(e["sign"], "SNN-crafted stronger", "SNN-crafted weaker") + ")" for e in effects]
    name = DSET_NAMES.get(matrix["dset"], matrix["dset"])
    return Claim(f"Attacks crafted on an SNN are stronger black-box than attacks crafted on an ANN "
                 f"[analysis.transfer_matrix, {name}]", verdict([e["sign"] for e in effects]),
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
    signs, parts = [], []
    for kind, label in (("snn", "SNN"), ("stdp-net", "SNN + STDP layer")):
        if (kind, "fgsm") not in white:
            continue
        for name, a, b in (("FGSM", white[(kind, "fgsm")], white[("cnn", "fgsm")]),
                           ("worst case", worst.get(kind), worst.get("cnn"))):
            signs.append(compare_two(a, b, n))
            parts.append(f"{label} - CNN {name} {100 * (a - b):+.1f} points ({pct(a)} against {pct(b)} %, "
                         f"{stated(signs[-1], 'SNN higher', 'SNN lower')})")
    if not parts:
        return None
    seed = ", ".join(f"{k} {100 * ref[k]:.2f} %" for k in ("cnn", "snn", "stdp-net") if k in ref)
    numbers = (f"eps {eps:g}, n {n}, white-box: " + "; ".join(parts)
               + (f" (seed 000, FGSM at eps {ref['eps']:.4g}: {seed})" if ref else ""))
    return Claim(f"SNNs keep more than a CNN under white-box attack [seed 000, analysis.compare, "
                 f"{DSET_NAMES.get(dset, dset)}]", verdict(signs), numbers)


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
    signs, parts = [], []
    for name, (a, b) in acc.items():
        signs.append(compare_two(a, b, n))
        parts.append(f"{name} {100 * a:.1f} against {100 * b:.1f} % ({stated(signs[-1], 'STDP higher', 'STDP lower')})")
    numbers = f"eps {eps0:g}, n {n}, white-box, SNN + STDP layer against the surrogate SNN: " + "; ".join(parts)
    ref = SEED000_FGSM.get(dset)
    if ref:
        numbers += f" (seed 000, FGSM: {100 * ref['stdp-net']:.2f} against {100 * ref['snn']:.2f} %)"
    judged = verdict(signs)   # on robustness: sparsity is the claimed mechanism, not the claim
    same_dset = sparsity and sparsity.get("dset", "mnist") == dset   # weight_sparsity's file before dset: MNIST
    first = {m["net"]: m["layers"][0] for m in sparsity["models"].values()} if same_dset else {}
    if {"snn", "stdp"} <= set(first):
        cut = f"{sparsity['cut']:g}"
        share = {net: first[net]["share_below"][cut] for net in ("stdp", "snn")}
        sparser = compare_two(share["stdp"], share["snn"], first["stdp"]["n_weights"], first["snn"]["n_weights"])
        if judged == "reproduced" and sparser <= 0:
            judged = "partly"   # more robust, but not through a sparser first layer
        numbers += (f"; first-layer weights below {100 * sparsity['cut']:g} % of their unit's largest: STDP "
                    f"{100 * share['stdp']:.1f} %, SNN {100 * share['snn']:.1f} %")
    else:
        if judged == "reproduced":
            judged = "partly"   # more robust, through a mechanism not measured here
        numbers += f"; first-layer sparsity not measured on {DSET_NAMES.get(dset, dset)} (analysis.weight_sparsity)"
    return Claim("An STDP-learned layer makes an SNN more robust, through sparse connectivity [seed 000, "
                 f"analysis.compare, {DSET_NAMES.get(dset, dset)}]", judged, numbers)


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
    signs, parts = [], []
    for net, v in seed.items():
        run = ours.get(net)
        if run is None:
            parts.append(f"{NET_LABELS[net]}: not trained yet (seed 000: {100 * v:.2f} %)")
            continue
        sign = compare_two(run["test_accuracy"], v, run["n_test"])
        signs.append(1 if sign >= 0 else -1)
        parts.append(f"{NET_LABELS[net]} {100 * run['test_accuracy']:.2f} % on {run['n_test']:,} images "
                     f"({training_seconds(run) / 60:.0f} min training, {run['threads']} threads) against seed 000's "
                     f"{100 * v:.2f} % ({'reached' if sign >= 0 else 'short'})")
    if not signs:
        return None
    judged = verdict(signs) if len(signs) == len(seed) else ("partly" if max(signs) > 0 else "not reproduced")
    name = DSET_NAMES.get(summary["dset"], summary["dset"])
    return Claim(f"Seed 000's clean accuracies on {name} (CNN, SNN, SNN + STDP) [analysis.accuracy_table]", judged,
                 "; ".join(parts))
