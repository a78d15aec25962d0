"""Every figure of the robustness analysis from saved JSON/NPZ, and ``results/REPORT.md``.

    python -m analysis.figures                   # after analysis.damping / leak_sweep / timestep_sweep
    python -m analysis.figures --results results --bio-run runs/stdp-mnist-n100-s0

Nothing is trained or attacked here. Read: ``RESULTS/damping/`` (damping.json,
examples.npz, raster.npz), ``RESULTS/sweeps/{leak,timestep}_sweep.json``,
``RESULTS/compare/*/compare.json`` (analysis.compare), every analysis.attack
``attack.json`` under the runs folder and RESULTS, and the receptive fields
of ``--bio-run``. A missing input is skipped with a note in the report.
Figures go to ``RESULTS/figures`` as PNG and PDF, in the style of
analysis.plotting; each seed claim of Sharmin et al. is judged in the report
(reproduced / partly / not reproduced) with its numbers.
"""
from __future__ import annotations

import argparse
import datetime
import math
import os
from pathlib import Path

import numpy as np

from analysis.damping import DEFAULT_RUNS, RUNS
from analysis.leak_sweep import DEFAULTS, DT_PER_TAU, REF
from analysis.plotting import log_y, plt, save
from bio.checkpoint import load_json, load_npz

DELTAS = {"fgsm": ("C3", "o", "white-box FGSM (own gradient, EOT)"),
          "transfer": ("C0", "s", "FGSM transferred from the source CNN (black-box)"),
          "random": ("C2", "^", "random sign (control)")}
MODEL_ORDER = ("cnn", "converted", "snn", "bio")
FULL = 256   # quantization levels of the 8-bit originals: no pre-quantization
CHANGE_LABEL = "relative change ||f(x+d) - f(x)||$_1$ / ||f(x)||$_1$"
STAGE_LABEL = "stage, input to output"
EPS_LABEL = "epsilon (L-inf, pixel scale [0, 1])"


# --- reading results --------------------------------------------------------------------
def _v(summary):
    return np.nan if summary is None or summary.get("value") is None else summary["value"]


def changes(res: dict, delta: str):
    d = res["deltas"][delta]["change"]
    return np.array([_v(d.get(s)) for s in res["stages"]])


def main_delta(res: dict) -> str:
    """The perturbation compared across models: the same d for all (transfer) when there is one."""
    return "transfer" if "transfer" in res["deltas"] else "fgsm"


def stage_ratio(res: dict, stage: str, delta: str | None = None) -> float:
    """Change at ``stage`` over change at the first stage (what the network was given)."""
    c = dict(zip(res["stages"], changes(res, delta or main_delta(res))))
    return c[stage] / c[res["stages"][0]] if c[res["stages"][0]] else np.nan


def last_hidden(res: dict) -> str:
    hidden = [s for s in res["stages"] if s.startswith("L") or s == "exc counts"]
    rates = [s for s in hidden if not s.endswith("mem")]
    return (rates or hidden or [res["stages"][-1]])[-1]


def adv(res: dict, delta: str, key: str = "adv_accuracy") -> float:
    d = res["deltas"].get(delta)
    return np.nan if d is None else d[key]


def redraw(res: dict) -> str:
    """ASR of a fresh Poisson draw with no perturbation at all: the floor of a stochastic model's ASR."""
    return pct(res["redraw"]["attack_success_rate"]) if res.get("redraw") else "-"


def pct(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def num(v, fmt=".2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


# --- damping ----------------------------------------------------------------------------
def positive(v):
    """Zeros (a deterministic stage has no noise floor) cannot sit on a log axis."""
    v = np.asarray(v, float)
    return np.where(v > 0, v, np.nan)


def figure_legend(fig, axes, ncol=4) -> None:
    """One legend for the whole figure, every label once."""
    seen = {}
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(seen.values(), seen.keys(), loc="lower center", ncol=ncol, fontsize=8, bbox_to_anchor=(0.5, -0.02))


def damping_panel(ax, res: dict, title: str, deltas=None) -> None:
    xs = np.arange(len(res["stages"]))
    for name in deltas or res["deltas"]:
        if name not in res["deltas"]:
            continue
        color, marker, label = DELTAS[name]
        v = changes(res, name)
        ci = [res["deltas"][name]["change"][s].get("ci95") or [np.nan, np.nan] for s in res["stages"]]
        lo, hi = np.array([c[0] for c in ci], float), np.array([c[1] for c in ci], float)
        ax.errorbar(xs, v, yerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], color=color, marker=marker,
                    ls="-" if name != "random" else "--", capsize=2, label=label)
    if res.get("noise_floor"):
        ax.plot(xs, positive([_v(res["noise_floor"].get(s)) for s in res["stages"]]), ":", color="0.3", marker=".",
                label="Poisson noise floor (two clean draws)")
    log_y(ax)
    ax.set_xticks(xs, res["stages"], rotation=40, ha="right", fontsize=8)
    ax.set_xlabel(STAGE_LABEL, fontsize=8)
    ax.set_title(title, fontsize=10)


def main_eps(data: dict) -> str:
    """The eps the report and the damping figure show: the sweeps' eps when it was measured."""
    eps = sorted({e for k in data["models"] for e in data["models"][k]}, key=float)
    return f"{DEFAULTS['eps']:g}" if f"{DEFAULTS['eps']:g}" in eps else eps[0]


def damping_figure(data: dict, path) -> None:
    """Change per stage at the main eps, one panel per model (other eps: accuracy_eps_figure)."""
    kinds = [k for k in MODEL_ORDER if k in data["models"]]
    if not kinds:
        return
    eps_list = [main_eps(data)]
    fig, axes = plt.subplots(len(eps_list), len(kinds), figsize=(3.6 * len(kinds), 3.6 * len(eps_list)),
                             squeeze=False, sharey=True)
    for r, eps in enumerate(eps_list):
        for c, kind in enumerate(kinds):
            res = data["models"][kind].get(eps)
            if res is None:
                axes[r, c].set_axis_off()
                continue
            damping_panel(axes[r, c], res, f"{res['label']}\neps = {eps}, n = {res['n']}")
        axes[r, 0].set_ylabel(CHANGE_LABEL, fontsize=8)
    fig.suptitle("How far a perturbation gets: relative change per stage (bars: bootstrap 95% CI)")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    figure_legend(fig, axes, ncol=4 if len(kinds) > 2 else 2)
    save(fig, path)


def accuracy_eps_figure(data: dict | None, attacks: dict, path) -> bool:
    """Accuracy against eps for every model measured at several eps: the damping models (top:
    accuracy, bottom: change of the last hidden layer over the input's) and the Brian2 runs of
    analysis.attack (crafted on the twin, scored on Brian2). False when nothing has two eps."""
    kinds = [k for k in MODEL_ORDER if data and k in data["models"] and len(data["models"][k]) > 1]
    if not kinds and not attacks:
        return False
    cols = len(kinds) + len(attacks)
    fig, axes = plt.subplots(2, cols, figsize=(3.7 * cols, 7), squeeze=False)
    for c, kind in enumerate(kinds):
        runs = sorted(data["models"][kind].values(), key=lambda r: r["eps"])
        ax, bx = axes[0, c], axes[1, c]
        eps = [0.0] + [r["eps"] for r in runs]
        ax.plot(eps, [100 * np.mean([r["clean_accuracy"] for r in runs])] * len(eps), ":", color="0.2",
                label="clean")
        for name, (color, marker, label) in DELTAS.items():
            if all(name in r["deltas"] for r in runs):
                ax.plot(eps, [100 * runs[0]["clean_accuracy"]] + [100 * adv(r, name) for r in runs], marker=marker,
                        color=color, ls="-" if name != "random" else "--", label=label)
                bx.plot(eps[1:], [stage_ratio(r, last_hidden(r), name) for r in runs], marker=marker, color=color,
                        ls="-" if name != "random" else "--", label=label)
        ax.set_title(f"{runs[0]['label']}\nn = {runs[0]['n']}", fontsize=9)
        bx.axhline(1, color="0.5", lw=1)
        bx.set_ylabel(f"change of {last_hidden(runs[0])} / change of input", fontsize=8)
        bx.set_title("above 1: amplified, below 1: damped", fontsize=8)
    for c, (name, summary) in enumerate(attacks.items(), start=len(kinds)):
        ax = axes[0, c]
        clean = 100 * summary["clean"]["brian2"]["assignment"]
        for k, attack in enumerate(dict.fromkeys(r["attack"] for r in summary["results"])):
            rows = sorted((r for r in summary["results"] if r["attack"] == attack), key=lambda r: r["eps"])
            acc = [100 * r["brian2"]["assignment"]["adv_accuracy"] for r in rows]
            if attack == "square":   # on its own smaller subset: no shared clean point
                ax.plot([r["eps"] for r in rows], acc, "^--", color="C4",
                        label=f"Square, query black-box on Brian2 (n = {rows[0]['n']})")
            elif attack == "square-art":
                ax.plot([r["eps"] for r in rows], acc, "v--", color="C2",
                        label=f"Square (ART), mean of {rows[0]['query_draws']} draws, on Brian2 (n = {rows[0]['n']})")
            else:
                ax.plot([0.0] + [r["eps"] for r in rows], [clean] + acc, "o-" if attack == "fgsm" else "s-",
                        color="C3" if attack == "fgsm" else "C1", label=f"{attack.upper()} crafted on the twin")
        ax.set_title(f"Brian2 STDP, run {name}\nn = {summary['n_test']} (analysis.attack)", fontsize=9)
        axes[1, c].set_axis_off()
    for ax in axes[0]:
        ax.axhline(10, color="0.6", lw=1, ls=":")
        ax.set_xlabel(EPS_LABEL, fontsize=8)
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=6, loc="lower left")
    for bx in axes[1, :len(kinds)]:
        bx.set_xlabel(EPS_LABEL, fontsize=8)
    fig.suptitle("Accuracy against the size of the perturbation (dotted at 10 %: chance)", fontsize=10)
    fig.tight_layout()
    save(fig, path)
    return True


# --- sweeps -----------------------------------------------------------------------------
def points_of(summary: dict, kind: str, key: str, fixed: dict) -> list[dict]:
    """The sweep's points of ``kind`` with every setting in ``fixed``, sorted by ``key``."""
    pts = [p for p in summary["points"] if p["job"]["kind"] == kind
           and all(p["job"].get(k) == v for k, v in fixed.items())]
    return sorted(pts, key=lambda p: p["job"][key])


def accuracy_panel(ax, pts, key, xlabel, refs=(), log2=False, invert=False) -> None:
    x = [p["job"][key] for p in pts]
    if pts:
        ax.plot(x, [100 * p["eval"]["clean_accuracy"] for p in pts], "o-", color="0.2", label="clean")
        for name in ("fgsm", "transfer", "random"):
            y = [100 * adv(p["eval"], name) for p in pts]
            if not all(np.isnan(y)):
                color, marker, label = DELTAS[name]
                ax.plot(x, y, marker=marker, color=color, ls="-" if name != "random" else "--", label=label)
    for ref_label, ref in refs:
        ax.axhline(100 * ref["eval"]["clean_accuracy"], color="0.2", ls=":", lw=1.2, label=f"{ref_label}: clean")
        for name in ("fgsm", "transfer"):
            if name in ref["eval"]["deltas"]:
                ax.axhline(100 * adv(ref["eval"], name), color=DELTAS[name][0], ls=":", lw=1.2,
                           label=f"{ref_label}: {name}")
    if log2:
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
    if invert:
        ax.invert_xaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)


def change_panel(ax, pts, key, fmt) -> None:
    """Change per stage, one line per sweep value (the same d for all: transfer, else own FGSM)."""
    cmap = plt.get_cmap("viridis")
    for k, p in enumerate(pts):
        res = p["eval"]
        delta = main_delta(res)
        color = cmap(k / max(1, len(pts) - 1))
        xs = np.arange(len(res["stages"]))
        ax.plot(xs, changes(res, delta), "o-", color=color, label=fmt.format(p["job"][key]))
        if res.get("noise_floor"):
            ax.plot(xs, positive([_v(res["noise_floor"].get(s)) for s in res["stages"]]), ":", color=color, lw=1)
        ax.set_xticks(xs, res["stages"], rotation=40, ha="right", fontsize=8)
    log_y(ax)
    ax.set_xlabel(STAGE_LABEL, fontsize=8)
    ax.set_ylabel(CHANGE_LABEL, fontsize=8)
    if pts:
        ax.set_title(f"change per stage under {main_delta(pts[0]['eval'])} d (dotted: Poisson noise floor)",
                     fontsize=9)
        ax.legend(fontsize=7)


def _eps_title(summary):
    s = summary["settings"]
    return f"eps = {s['eps']:g}, n = {s['n_test']}; {summary['scale']}"


def leak_figure(summary: dict, path) -> None:
    snn = points_of(summary, "snn", "leak", {"levels": 256})
    bio = points_of(summary, "bio", "tau_exc_ms", {"levels": 256})
    cnn = points_of(summary, "cnn", "levels", {"levels": 256})
    refs = [("CNN", cnn[0])] if cnn else []
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    accuracy_panel(axes[0, 0], snn, "leak", "membrane leak per time step (1 = IF; right: more leak)", refs,
                   invert=True)
    axes[0, 0].set_title("surrogate-gradient SNN")
    accuracy_panel(axes[0, 1], bio, "tau_exc_ms", f"exc membrane time constant (ms; right: more leak; dt = tau/{1 / DT_PER_TAU:g})",
                   refs, invert=True)
    axes[0, 1].set_title("Brian2 STDP network")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    change_panel(axes[1, 0], snn, "leak", "leak {:g}")
    change_panel(axes[1, 1], bio, "tau_exc_ms", "tau {:g} ms")
    fig.suptitle(f"Leak sweep ({_eps_title(summary)})", fontsize=9)
    fig.tight_layout()
    save(fig, path)


def timestep_figure(summary: dict, path) -> None:
    path = Path(path)
    snn = points_of(summary, "snn", "T", {"levels": 256, "leak": summary["leak"]})
    bio = points_of(summary, "bio", "present_ms", {"levels": 256, "tau_exc_ms": REF["tau_exc_ms"]})
    cnn = points_of(summary, "cnn", "levels", {"levels": 256})
    refs = [("CNN", cnn[0])] if cnn else []
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    accuracy_panel(axes[0, 0], snn, "T", f"time steps T (SNN; the baselines use {REF['T']})", refs, log2=True)
    axes[0, 0].set_title(f"surrogate-gradient SNN (leak {summary['leak']:g})")
    accuracy_panel(axes[0, 1], bio, "present_ms", "presentation time per image (ms)", refs)
    axes[0, 1].set_title("Brian2 STDP network")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    change_panel(axes[1, 0], snn, "T", "T = {}")
    change_panel(axes[1, 1], bio, "present_ms", "{:g} ms")
    fig.suptitle(f"Time-step sweep ({_eps_title(summary)})", fontsize=9)
    fig.tight_layout()
    save(fig, path)
    quantization_figure(summary, path.with_name("quantization_sweep"))


QUANT_MODELS = {"snn": ("C3", "SNN"), "bio": ("C4", "Brian2 STDP"), "cnn": ("C7", "CNN")}


def quant_points(summary, kind):
    fixed = {"snn": {"T": REF["T"], "leak": summary["leak"]},
             "bio": {"present_ms": REF["present_ms"], "tau_exc_ms": REF["tau_exc_ms"]},
             "cnn": {}}[kind]
    return points_of(summary, kind, "levels", fixed)


def quantization_figure(summary: dict, path) -> None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 5.2))
    for kind, (color, label) in QUANT_MODELS.items():
        pts = quant_points(summary, kind)
        if len(pts) < 2:
            continue
        x = [p["job"]["levels"] for p in pts]
        a.plot(x, [100 * p["eval"]["clean_accuracy"] for p in pts], "o:", color=color, label=f"{label}: clean")
        a.plot(x, [100 * adv(p["eval"], "fgsm") for p in pts], "o-", color=color, label=f"{label}: white-box FGSM")
        if "transfer" in pts[0]["eval"]["deltas"]:
            a.plot(x, [100 * adv(p["eval"], "transfer") for p in pts], "s--", color=color,
                   label=f"{label}: transfer")
            b.plot(x, [changes(p["eval"], "transfer")[p["eval"]["stages"].index("input")] for p in pts], "s--",
                   color=color, label=f"{label}: transfer d")
        b.plot(x, [changes(p["eval"], "fgsm")[p["eval"]["stages"].index("input")] for p in pts], "o-",
               color=color, label=f"{label}: own FGSM d")
    # With fewer levels than this, half a level step exceeds eps: a perturbation moves a pixel across
    # a rounding boundary only if it starts within eps of one. With more, any pixel near a boundary
    # jumps a whole step, larger than eps itself.
    eps = summary["settings"]["eps"]
    boundary = 1 + 1 / (2 * eps)
    levels = sorted({*summary["levels"], *summary.get("bio_levels", [])})
    for ax in (a, b):
        ax.axvline(boundary, color="0.5", ls="-.", lw=1, label=f"half a level step = eps ({boundary:g} levels)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [f"{v}\n(none)" if v >= 256 else str(v) for v in levels])
        ax.set_xlabel("input quantization levels (before Poisson encoding)")
    a.set_ylabel("test accuracy (%)")
    a.set_ylim(0, 100)
    a.set_title("accuracy (dotted: clean, solid: white-box FGSM, dashed: transfer)", fontsize=9)
    b.set_ylabel("relative L1 change of the quantized input")
    b.set_title("how much of d survives quantization", fontsize=9)
    for ax in (a, b):
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    fig.suptitle(f"Input pre-quantization ({_eps_title(summary)})", fontsize=9)
    fig.tight_layout()
    save(fig, path)


SWEEP_FIGURES = {"leak_sweep": leak_figure, "timestep_sweep": timestep_figure}


# --- the Brian2 network ---------------------------------------------------------------------
def raster_figure(r: dict, path) -> None:
    fig = plt.figure(figsize=(10, 6.5))
    gs = fig.add_gridspec(3, 2, width_ratios=[1, 5], height_ratios=[2, 1.3, 1.3])
    ax_img = fig.add_subplot(gs[0, 0])
    ax_img.imshow(r["image"].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    ax_img.set_axis_off()
    ax_img.set_title("input image", fontsize=9)
    axes = [fig.add_subplot(gs[k, 1]) for k in range(3)]
    assigned, tab = r["assignments"], plt.get_cmap("tab10")
    sizes = {"input": r["image"].size, "exc": int(r["n_exc"]), "inh": int(r["n_exc"])}
    for ax, group, ylabel in zip(axes, ("input", "exc", "inh"), ("input neuron (pixel)", "exc neuron", "inh neuron")):
        i, t = r[f"{group}_i"], r[f"{group}_t"]
        if group == "exc":
            for c in np.unique(assigned[i]):
                sel = assigned[i] == c
                ax.scatter(t[sel], i[sel], s=14, color=tab(int(c) % 10), label=f"class {c}" if c >= 0 else "none")
            ax.legend(title="assigned", fontsize=7, title_fontsize=7, loc="upper right")
        else:
            ax.scatter(t, i, s=2 if group == "input" else 12, c="k", marker="|" if group == "input" else "o", lw=0.6)
        ax.set_xlim(0, float(r["present_ms"]))
        ax.set_ylim(-0.5, sizes[group] - 0.5)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{group}: {len(i)} spikes", fontsize=9, loc="left")
    axes[-1].set_xlabel("time (ms)")
    fig.suptitle(f"Brian2 network on one test image ({int(r['n_exc'])} exc neurons"
                 + (f"; shown again with the input boosted by {float(r['boost_hz']):g} Hz, as the readout does"
                    if float(r["boost_hz"]) else "") + ")", fontsize=10)
    fig.tight_layout()
    save(fig, path)


def gallery_figure(examples: dict, data: dict, path, n_show: int = 6) -> None:
    """Clean test images, then per perturbation (each model's own FGSM, then the transfer and
    random ones all models share) the perturbation d and the perturbed image, at the main eps."""
    eps = main_eps(data)
    labels = {k: data["models"][k][eps]["label"] for k in data["models"] if eps in data["models"][k]}
    kinds = [k for k in MODEL_ORDER if k in labels]
    sets = [(f"{labels[k]}:\nits own white-box FGSM", examples.get(f"{k}__fgsm__eps{eps}")) for k in kinds]
    sets += [(DELTAS[name][2].replace(" (", ":\n("), next((examples[f"{k}__{name}__eps{eps}"] for k in kinds
                                                           if f"{k}__{name}__eps{eps}" in examples), None))
             for name in ("transfer", "random")]
    sets = [(label, x) for label, x in sets if x is not None]
    clean = examples["x"][:n_show]
    n = len(clean)
    fig, axes = plt.subplots(1 + 2 * len(sets), n, figsize=(1.05 * n + 3.2, 1.1 * (1 + 2 * len(sets))),
                             squeeze=False)
    grey = dict(cmap="gray", vmin=0, vmax=1)
    for j in range(n):
        axes[0, j].imshow(clean[j].reshape(28, 28), **grey)
    axes[0, 0].set_ylabel("clean", rotation=0, ha="right", va="center", fontsize=8)
    diverging = None
    for i, (label, x_adv) in enumerate(sets):
        delta = x_adv[:n] - clean
        for j in range(n):
            diverging = axes[1 + 2 * i, j].imshow(delta[j].reshape(28, 28), cmap="seismic", vmin=-float(eps),
                                                  vmax=float(eps))
            axes[2 + 2 * i, j].imshow(x_adv[j].reshape(28, 28), **grey)
        axes[1 + 2 * i, 0].set_ylabel(f"{label}\nperturbation d", rotation=0, ha="right", va="center", fontsize=7)
        axes[2 + 2 * i, 0].set_ylabel("x + d", rotation=0, ha="right", va="center", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)
    fig.suptitle(f"Adversarial examples at eps = {eps} (first {n} test images)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.9, 0.98))
    if diverging is not None:
        cax = fig.add_axes((0.92, 0.3, 0.015, 0.4))
        fig.colorbar(diverging, cax=cax).set_label("d (pixel intensity, [0, 1] scale)", fontsize=8)
    save(fig, path)


def compare_figure(summary: dict, path) -> None:
    """Accuracy against eps from analysis.compare: white-box solid, black-box dashed. At a single eps,
    analysis.compare's own bar chart (no line to draw)."""
    s = summary["settings"]
    if len(s["eps"]) < 2:
        from analysis.compare import figure
        figure(summary, path)
        return
    fig, axes = plt.subplots(1, len(s["attacks"]), figsize=(5.5 * len(s["attacks"]), 4), squeeze=False)
    for ax, name in zip(axes[0], s["attacks"]):
        for k, m in enumerate(summary["models"]):
            cells = [c for c in summary["cells"] if c["target"] == m["key"] and c["attack"] == name]
            for setting, ls in (("white", "-"), *((f"black-{r}", "--") for r in summary["sources"])):
                pts = sorted((c["eps"], c["adv_accuracy"]) for c in cells
                             if c["setting"] == setting and c.get("adv_accuracy") is not None)
                if pts:
                    ax.plot([0] + [p[0] for p in pts], [100 * m["clean_accuracy"]] + [100 * p[1] for p in pts],
                            ls=ls, marker="o", color=f"C{k}",
                            label=f"{m['label']}: " + ("white-box" if setting == "white" else setting))
        ax.axhline(10, color="0.5", lw=1, ls=":")
        ax.set_xlabel("epsilon (L-inf, pixel scale [0, 1])")
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 100)
        ax.set_title(f"{name.upper()}, n = {summary['n_test']} (analysis.compare)")
        ax.legend(fontsize=6)
    save(fig, path)


# --- the report -----------------------------------------------------------------------------
def compare_two(a: float, b: float, n: float, m: float | None = None) -> int:
    """+1 if proportion a (of n) exceeds b (of m, default n) by more than two standard errors
    of the difference, -1 if it falls short by as much, 0 if neither."""
    m = n if m is None else m
    if any(v is None or math.isnan(v) for v in (a, b)) or min(n, m) <= 0:
        return 0
    se = math.sqrt(max(a * (1 - a), 1e-6) / n + max(b * (1 - b), 1e-6) / m)
    return int(np.sign(a - b)) if abs(a - b) > 2 * se else 0


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
    first = _v(res["deltas"][delta]["change"][res["stages"][0]])
    lo, hi = ci_of(res, stage, delta)
    return 1 if hi < first else -1 if lo > first else 0


def stated(sign: int, yes: str = "SNN lower", no: str = "SNN higher") -> str:
    return {1: yes, -1: no, 0: "within noise"}[sign]


def verdict(signs: list[int]) -> str:
    """Sub-findings that agree with the claim (+1), contradict it (-1) or are unclear (0)."""
    if signs and all(s > 0 for s in signs):
        return "reproduced"
    if any(s > 0 for s in signs):
        return "partly"
    return "not reproduced"


def blackbox_verdict(snn_vs_cnn_black: int, gap_larger_black: bool) -> str:
    """Reproduced: the SNN beats the CNN under transfer, by more than under white-box attack.
    Partly: one of the two, with the SNN at least level under transfer."""
    if snn_vs_cnn_black > 0 and gap_larger_black:
        return "reproduced"
    if snn_vs_cnn_black > 0 or (snn_vs_cnn_black == 0 and gap_larger_black):
        return "partly"
    return "not reproduced"


def evaluated(made: dict):
    """(label, evaluation, n) of every model measured, from damping and the sweeps."""
    for res in (made.get("damping") or {}).get("models", {}).values():
        for e in res.values():
            yield f"damping: {e['label']}", e, e["n"]
    for name in ("leak_sweep", "timestep_sweep"):
        for p in (made.get(name) or {}).get("points", []):
            j = p["job"]
            tag = {"snn": "SNN leak {leak:g}, T {T}", "cnn": "CNN",
                   "bio": "Brian2 tau {tau_exc_ms:g} ms, {present_ms:g} ms"}[j["kind"]].format(**j)
            yield f"{name}: {tag}, {j['levels']} levels", p["eval"], j["n_test"]


class Report:
    def __init__(self, out: Path, figdir: Path):
        self.lines, self.notes, self.claims, self.out, self.figdir = [], [], [], out, figdir

    def fig(self, name: str, sentence: str) -> None:
        rel = os.path.relpath(self.figdir / f"{name}.png", self.out.parent)
        self.lines += [f"![{name}]({rel})", "", f"*{sentence}*", ""]

    def table(self, head: list[str], rows: list[list[str]], sentence: str) -> None:
        self.lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        self.lines += ["| " + " | ".join(r) + " |" for r in rows]
        self.lines += ["", sentence, ""]


def sweep_rows(pts: list[dict], label) -> list[list[str]]:
    rows = []
    for p in pts:
        e = p["eval"]
        floor = (e.get("noise_floor") or {}).get("input spikes")
        rows.append([label(p["job"]), pct(e["clean_accuracy"]), redraw(e), pct(adv(e, "fgsm")),
                     pct(adv(e, "fgsm", "attack_success_rate")), pct(adv(e, "transfer")),
                     pct(adv(e, "transfer", "attack_success_rate")), pct(adv(e, "random")),
                     num(stage_ratio(e, last_hidden(e))), num(stage_ratio(e, "output")),
                     num(changes(e, main_delta(e))[e["stages"].index("input spikes")]) if "input spikes" in e[
                         "stages"] else "-", num(_v(floor))])
    return rows


SWEEP_HEAD = ["model", "clean %", "redraw flip %", "FGSM adv %", "FGSM ASR %", "transfer adv %", "transfer ASR %", "random adv %",
              "last hidden / input change", "output / input change", "input-spike change", "input-spike noise floor"]


def suspect(e: dict, n: int) -> str | None:
    """Why a white-box number is not to be trusted (Athalye et al. 2018): an attack with the model's
    own gradient that does worse than transfer or random noise is being fooled (masked gradients)."""
    w = adv(e, "fgsm", "attack_success_rate")
    for other in ("transfer", "random"):
        o = adv(e, other, "attack_success_rate")
        if compare_two(o, w, n * e["clean_accuracy"]) > 0:
            return f"white-box ASR {pct(w)}% below {other} {pct(o)}%"
    return None


def trend(pts: list[dict], delta: str, n: int, lo_first: bool) -> tuple[int, str]:
    """+1 if the ASR is lower at the first point than at the last (the claim's direction); a
    suspect white-box endpoint counts as no evidence."""
    if len(pts) < 2 or delta not in pts[0]["eval"]["deltas"]:
        return 0, "n/a"
    a, b = (adv(p["eval"], delta, "attack_success_rate") for p in (pts[0], pts[-1]))
    txt = f"{pct(a)}% -> {pct(b)}%"
    if delta == "fgsm" and any(suspect(p["eval"], n) for p in (pts[0], pts[-1])):
        return 0, txt + " (white-box suspect, not counted)"
    na, nb = (n * p["eval"]["clean_accuracy"] for p in (pts[0], pts[-1]))   # ASR counts clean-correct images
    return compare_two(b, a, nb, na) if lo_first else compare_two(a, b, na, nb), txt


def compare_cells(summary: dict) -> dict:
    """(net, attack, setting) -> cell at the smallest eps of an analysis.compare summary."""
    eps0 = min(summary["settings"]["eps"])
    nets = {m["key"]: m["net"] for m in summary["models"]}
    return {(nets[c["target"]], c["attack"], c["setting"]): c for c in summary["cells"]
            if c["eps"] == eps0 and c.get("adv_accuracy") is not None and c["target"] in nets}


def compare_masked(cells: dict, n: int) -> dict:
    """(net, attack) -> why its white-box number looks like gradient masking: a many-step PGD no stronger
    than one FGSM step, or the model's own gradient weaker than a transfer from another model."""
    out = {}
    for (net, attack, setting), c in cells.items():
        if setting != "white":
            continue
        fgsm_ = cells.get((net, "fgsm", "white"))
        if attack == "pgd" and fgsm_ and compare_two(fgsm_["adv_accuracy"], c["adv_accuracy"], n) <= 0:
            out[(net, "pgd")] = (f"white-box PGD {pct(c['adv_accuracy'])}% is no stronger than FGSM "
                                 f"{pct(fgsm_['adv_accuracy'])}%")
        for (net2, attack2, setting2), b in cells.items():
            if net2 == net and attack2 == attack and setting2.startswith("black") \
                    and compare_two(c["adv_accuracy"], b["adv_accuracy"], n) > 0:
                out[(net, attack)] = (f"white-box {attack.upper()} {pct(c['adv_accuracy'])}% weaker than transfer "
                                      f"({setting2}) {pct(b['adv_accuracy'])}%")
    return out


def compare_claims(summary: dict) -> tuple[tuple | None, list[str]]:
    """Seed claim 4 on analysis.compare: the surrogate SNN beats the CNN under transfer, by more than
    under white-box attack, and a converted SNN does not. Per attack; masked white-box numbers are
    flagged and not counted."""
    cells, n = compare_cells(summary), summary["n_test"]
    masked = compare_masked(cells, n)
    flags = [f"analysis.compare, {net} {attack.upper()}: {why}" for (net, attack), why in masked.items()]
    black = next((f"black-{r}" for r in summary["sources"] if r == "cnn"), None)
    signs, parts = [], []
    for attack in summary["settings"]["attacks"]:
        get = {net: {st: cells.get((net, attack, st)) for st in ("white", black)} for net in ("cnn", "snn", "converted")}
        if not (black and get["cnn"][black] and get["snn"][black] and get["cnn"]["white"] and get["snn"]["white"]):
            continue
        acc = {(net, st): c["adv_accuracy"] for net, d in get.items() for st, c in d.items() if c}
        b = acc[("snn", black)] - acc[("cnn", black)]
        beats = compare_two(acc[("snn", black)], acc[("cnn", black)], n)
        signs.append(beats)
        txt = f"{attack.upper()}: SNN - CNN black-box {100 * b:+.1f} points ({stated(beats, 'SNN better', 'SNN worse')})"
        if ("snn", attack) in masked or ("cnn", attack) in masked:
            txt += ", white-box gap not counted (masked gradients suspected)"
        else:
            w = acc[("snn", "white")] - acc[("cnn", "white")]
            four = [acc[k] for k in (("snn", black), ("cnn", black), ("snn", "white"), ("cnn", "white"))]
            se = math.sqrt(sum(max(v * (1 - v), 1e-6) for v in four) / n)
            mostly = 0 if abs(b - w) <= 2 * se else int(np.sign(b - w))   # is the gap larger under black-box?
            signs.append(mostly)
            txt += (f", white-box {100 * w:+.1f} points (gap {'larger' if mostly > 0 else 'smaller' if mostly < 0 else 'no different'}"
                    " under black-box)")
        if ("converted", black) in acc:
            cb = acc[("converted", black)] - acc[("cnn", black)]
            conv = compare_two(acc[("converted", black)], acc[("cnn", black)], n)
            signs.append(-conv if conv else 1)   # the claim: a converted net does not gain
            txt += f"; converted SNN - CNN black-box {100 * cb:+.1f} points ({stated(conv, 'better', 'worse')})"
        parts.append(txt)
    if not parts:
        return None, flags
    src = next((m["label"] for m in summary["models"] if m["net"] == "cnn"), "CNN")
    text = (f"eps {min(summary['settings']['eps']):g}, n {n}, black-box source: another CNN "
            f"(compare.json 'sources'; target {src}); " + "; ".join(parts))
    return ("SNNs resist gradient attacks better than the CNN, mostly black-box; converted SNNs do not "
            "[analysis.compare]", verdict(signs), text), flags


def listing(pts: list[dict], key: str, delta: str) -> str:
    """Every point's ASR, not only the endpoints the verdict compares."""
    return ", ".join(f"{p['job'][key]:g}: {pct(adv(p['eval'], delta, 'attack_success_rate'))}%" for p in pts)


# A Brian2 training budget below this gave networks under 80 % clean (issue #10: 20k examples, 79.7-80.6 %).
MIN_BIO_TRAIN = 20000


def stale_inputs(made: dict) -> list[str]:
    """Saved results computed with settings this project has since found wanting, each with what to re-run."""
    out = []
    for name in ("leak_sweep", "timestep_sweep"):
        sweep = made.get(name)
        budget = (sweep or {}).get("settings", {}).get("bio_n_train")
        if budget is not None and budget < MIN_BIO_TRAIN:
            out.append(f"{name}: its Brian2 points were trained on {budget:,} STDP examples, too few for a "
                       f"well-trained network (>= {MIN_BIO_TRAIN:,} gives >= 80 % clean); re-run "
                       f"`python -m analysis.{name} --bio-n-train {MIN_BIO_TRAIN}`")
    for dset, summary in (made.get("compare") or {}).items():
        if "worst_case" not in summary:
            out.append(f"compare {dset}: made before the worst-case suite (bias-free CNNs, "
                       f"{summary['settings'].get('pgd_steps')}-step PGD, no APGD, no zero-gradient share); "
                       f"re-run `python -m analysis.compare --dset {dset}`")
    return out


def write_report(res_dir: Path, fig_dir: Path, made: dict, notes: list[str]) -> Path:
    out = res_dir / "REPORT.md"
    R = Report(out, fig_dir)
    damp = made.get("damping")
    leak = made.get("leak_sweep")
    ts = made.get("timestep_sweep")
    comp = made.get("compare")

    # --- damping
    if damp:
        eps = main_eps(damp)
        res = {k: damp["models"][k][eps] for k in MODEL_ORDER if k in damp["models"] and eps in damp["models"][k]}
        rows = []
        for k, r in res.items():
            floor = (r.get("noise_floor") or {}).get("input spikes")
            rows.append([r["label"], pct(r["clean_accuracy"]), redraw(r), pct(adv(r, "fgsm")), pct(adv(r, "transfer")),
                         pct(adv(r, "random")), num(changes(r, main_delta(r))[0]),
                         num(stage_ratio(r, last_hidden(r))), num(stage_ratio(r, "output")), num(_v(floor))])
        R.lines += [f"## 1. Where a perturbation dies out (analysis.damping, eps = {eps}, n = {damp['n']})", ""]
        src = damp.get("source") or "none"
        R.table(["model", "clean %", "redraw flip %", "white-box FGSM adv %", "transfer adv %", "random adv %",
                 "input change", "last hidden / input", "output / input", "input-spike noise floor"], rows,
                f"Change ratios use the transfer perturbation (FGSM on the source CNN {src}), the same d for every "
                "model; a ratio below 1 means the network shrinks the perturbation, above 1 that it amplifies it.")
        R.fig("damping", "Relative L1 change per stage for the three perturbations; the dotted line is the change "
              "between two Poisson draws of the clean image.")
        if "gallery" in made:
            R.fig("gallery", "Clean test images, the perturbations and the perturbed images.")
        c, s = res.get("cnn"), res.get("snn")
        if c and s and "transfer" in s["deltas"]:
            # The same d and images for both, so their changes at a stage compare directly; a sub-finding
            # counts only when the bootstrap intervals do not overlap.
            lc, ls_ = last_hidden(c), last_hidden(s)
            signs = [ci_below(s, ls_, c, lc), ci_below(s, "output", c, "output")]
            txt = (f"same d (FGSM transferred from the source CNN, eps {eps}, n {damp['n']}), change relative to the "
                   f"input's: last hidden layer CNN {num(stage_ratio(c, lc))} ({lc}) vs SNN {num(stage_ratio(s, ls_))} "
                   f"({ls_}; {stated(signs[0])}); output CNN {num(stage_ratio(c, 'output'))} vs SNN "
                   f"{num(stage_ratio(s, 'output'))} ({stated(signs[1])}); the CNN itself passes "
                   f"{num(stage_ratio(c, lc))} of it on, not all")
            if "bio" in res:   # conductance-based LIF neurons too: the claim predicts damping there as well
                b = res["bio"]
                signs.append(damped(b, "exc counts"))
                txt += (f"; Brian2 network (conductance LIF): exc counts / input {num(stage_ratio(b, 'exc counts'))} "
                        f"({stated(signs[-1], 'damped', 'amplified')}), output / input "
                        f"{num(stage_ratio(b, 'output'))}")
            if "converted" in res:
                v = res["converted"]
                txt += (f"; converted IF SNN: last hidden / input {num(stage_ratio(v, last_hidden(v)))}, "
                        f"output / input {num(stage_ratio(v, 'output'))}")
            sweep_cnn = points_of(leak, "cnn", "levels", {"levels": FULL}) if leak else []
            sweep_snn = points_of(leak, "snn", "leak", {"levels": FULL}) if leak else []
            ref = next((p for p in sweep_snn if p["job"]["leak"] == REF["leak"]), None)
            if sweep_cnn and ref and "transfer" in ref["eval"]["deltas"]:
                # the sweep's CNN and SNN share a training budget and the same d on the same images
                ec, es = sweep_cnn[0]["eval"], ref["eval"]
                signs.append(ci_below(es, last_hidden(es), ec, last_hidden(ec)))
                txt += (f"; leak sweep's models (same training budget): last hidden / input CNN "
                        f"{num(stage_ratio(ec, last_hidden(ec)))} vs SNN leak {REF['leak']:g} "
                        f"{num(stage_ratio(es, last_hidden(es)))} ({stated(signs[-1])}), over leaks "
                        + ", ".join(f"{p['job']['leak']:g}: {num(stage_ratio(p['eval'], last_hidden(p['eval'])))}"
                                    for p in sweep_snn[::-1]))
            R.claims.append(("ReLU passes a perturbation on, LIF neurons damp it layer by layer", verdict(signs), txt))
        # analysis.compare measures the same models on five times the images, with PGD too: that is the
        # black-box claim's evidence when it is there; the damping data stand in only without it.
        if c and s and "transfer" in s["deltas"] and not comp:
            n = damp["n"]
            white = adv(s, "fgsm") - adv(c, "fgsm")
            black = adv(s, "transfer") - adv(c, "transfer")
            masked = suspect(s, n) or suspect(c, n)
            self_src = damp.get("source") and Path(damp["source"]).resolve() == Path(c["run"]).resolve()
            R.claims.append(("SNNs resist mostly black-box (transfer) attacks [damping data]",
                             blackbox_verdict(compare_two(adv(s, "transfer"), adv(c, "transfer"), n),
                                              black > white and not masked),
                             f"eps {eps}, n {n}: SNN - CNN adversarial accuracy white-box {100 * white:+.1f} points"
                             + (" (masked gradients suspected: not counted)" if masked else "")
                             + f", black-box {100 * black:+.1f} points" + (
                                 " (the source is the target CNN itself, so its 'black-box' is white-box)"
                                 if self_src else "")))
    else:
        notes.append("no results/damping/damping.json: run python -m analysis.damping")

    # --- leak sweep
    if leak:
        n = leak["settings"]["n_test"]
        snn = points_of(leak, "snn", "leak", {"levels": 256})
        bio = points_of(leak, "bio", "tau_exc_ms", {"levels": 256})
        cnn = points_of(leak, "cnn", "levels", {"levels": 256})
        R.lines += [f"## 2. Leak sweep (eps = {leak['settings']['eps']:g}, n = {n}; {leak['scale']})", ""]
        rows = sweep_rows(cnn, lambda j: "CNN") + sweep_rows(snn[::-1], lambda j: f"SNN leak {j['leak']:g}") \
            + sweep_rows(bio[::-1], lambda j: f"Brian2 tau {j['tau_exc_ms']:g} ms")
        R.table(SWEEP_HEAD, rows, "Rows run from least to most leak; ASR is the share of correctly classified "
                "images the attack turns wrong; 'redraw flip' is the ASR of a fresh Poisson draw with no perturbation "
                "at all, the floor under a stochastic model's ASR; change ratios as in section 1. One trained model "
                "per row, so a row's differences include training noise.")
        R.fig("leak_sweep", "Accuracy against leak (top) and the change per stage at each leak (bottom).")
        snn_desc = snn[::-1]   # IF first
        bio_desc = sorted(bio, key=lambda p: -p["job"]["tau_exc_ms"])
        parts, signs = [], []
        for label, pts in (("SNN leak", snn_desc), ("Brian2 tau_exc", bio_desc)):
            if len(pts) < 2:
                continue
            key = "leak" if label.startswith("SNN") else "tau_exc_ms"
            for delta in ("fgsm", "transfer"):
                sgn, txt = trend(pts, delta, n, lo_first=False)
                signs.append(sgn)
                parts.append(f"{label} {pts[0]['job'][key]:g} -> {pts[-1]['job'][key]:g}: {delta} ASR {txt} "
                             f"(all: {listing(pts, key, delta)}; {stated(sgn, 'significant', 'reversed')})")
            parts.append(f"clean {pct(pts[0]['eval']['clean_accuracy'])}% -> {pct(pts[-1]['eval']['clean_accuracy'])}%")
        if len(bio_desc) >= 2:
            clean = [p["eval"]["clean_accuracy"] for p in bio_desc]
            if compare_two(max(clean), min(clean), n):
                parts.append("caveat: the Brian2 networks differ in clean accuracy and dt shrinks with tau (the twin "
                             "integrates more steps), so their white-box ASR mixes leak with network and gradient "
                             "quality; the transfer ASR (the same d for all) is the fairer of the two")
        if signs:
            R.claims.append(("More leak gives more robustness", verdict(signs), "; ".join(parts)))
    else:
        notes.append("no sweeps/leak_sweep.json: run python -m analysis.leak_sweep")

    # --- time steps and quantization
    if ts:
        n = ts["settings"]["n_test"]
        snn = points_of(ts, "snn", "T", {"levels": 256, "leak": ts["leak"]})
        bio = points_of(ts, "bio", "present_ms", {"levels": 256, "tau_exc_ms": REF["tau_exc_ms"]})
        R.lines += [f"## 3. Time steps and input quantization (eps = {ts['settings']['eps']:g}, n = {n}; "
                    f"{ts['scale']})", ""]
        R.table(SWEEP_HEAD, sweep_rows(snn, lambda j: f"SNN T = {j['T']}")
                + sweep_rows(bio, lambda j: f"Brian2 {j['present_ms']:g} ms"),
                "Fewer time steps (shorter presentation) mean coarser Poisson discretization of the input.")
        R.fig("timestep_sweep", "Accuracy against time steps / presentation time (top) and the change per stage "
              "(bottom).")
        rows = []
        for kind, (_, label) in QUANT_MODELS.items():
            rows += sweep_rows(quant_points(ts, kind), lambda j, label=label: f"{label}, {j['levels']} levels")
        R.table(SWEEP_HEAD, rows, "Models trained and tested on images pre-quantized to the given number of levels "
                "(256: the 8-bit originals); the attacker perturbs the original image.")
        R.fig("quantization_sweep", "Accuracy against quantization levels (left) and the part of the perturbation "
              "left after quantization (right). Left of the dash-dotted line half a level step exceeds eps, so "
              "rounding removes most of d; right of it a pixel near a rounding boundary jumps a whole step, more "
              "than eps.")
        parts, signs = [], []
        for label, pts in (("SNN T", snn), ("Brian2 presentation ms", bio)):
            if len(pts) >= 2:
                key = "T" if label.startswith("SNN") else "present_ms"
                for delta in ("fgsm", "transfer"):
                    sgn, txt = trend(pts, delta, n, lo_first=True)
                    signs.append(sgn)
                    parts.append(f"{label} {pts[0]['job'][key]:g} -> {pts[-1]['job'][key]:g}: {delta} ASR {txt} "
                                 f"(all: {listing(pts, key, delta)}; {stated(sgn, 'significant', 'reversed')})")
        for kind in ("snn", "bio", "cnn"):
            pts = quant_points(ts, kind)
            if len(pts) < 2:
                continue
            for delta in ("fgsm", "transfer"):
                sgn, txt = trend(pts, delta, n, lo_first=True)
                if kind != "cnn":   # the CNN is the control: does quantization alone do it?
                    signs.append(sgn)
                by_level = listing(pts, "levels", delta)
                parts.append(f"{'control, ' if kind == 'cnn' else ''}{QUANT_MODELS[kind][1]} levels "
                             f"{pts[0]['job']['levels']} -> {pts[-1]['job']['levels']}: {delta} ASR {txt} "
                             f"(by levels {by_level}; {stated(sgn, 'significant', 'reversed')})")
        cq = quant_points(ts, "cnn")
        if len(cq) >= 2 and trend(cq, "fgsm", n, lo_first=True)[0] > 0:
            parts.append("the CNN control gains too: pre-quantization protects any network, spiking or not")
        boundary = 1 + 1 / (2 * ts["settings"]["eps"])
        for kind in ("snn", "bio", "cnn"):
            pts = quant_points(ts, kind)
            full = next((p for p in pts if p["job"]["levels"] >= FULL), None)
            mid = [p for p in pts if boundary < p["job"]["levels"] < FULL]
            if full and mid:
                worst = max(mid, key=lambda p: adv(p["eval"], "fgsm", "attack_success_rate"))
                a, b = (adv(p["eval"], "fgsm", "attack_success_rate") for p in (worst, full))
                if compare_two(a, b, n * worst["eval"]["clean_accuracy"], n * full["eval"]["clean_accuracy"]) > 0:
                    parts.append(f"{QUANT_MODELS[kind][1]} at {worst['job']['levels']} levels (half a step below eps) "
                                 f"is more vulnerable than unquantized (fgsm ASR {pct(a)}% vs {pct(b)}%): rounding "
                                 "lets an eps step jump a whole level")
        if len(bio) >= 2 and compare_two(bio[-1]["eval"]["clean_accuracy"], bio[0]["eval"]["clean_accuracy"], n) > 0:
            parts.append(f"caveat: the shorter Brian2 presentations also give a weaker, noisier network (clean "
                         f"{pct(bio[0]['eval']['clean_accuracy'])}% -> {pct(bio[-1]['eval']['clean_accuracy'])}%, "
                         f"redraw flips {redraw(bio[0]['eval'])}% -> {redraw(bio[-1]['eval'])}%)")
        if signs:
            R.claims.append(("Poisson discretization: fewer time steps and pre-quantized inputs give more "
                             "robustness", verdict(signs), "; ".join(parts)))
    else:
        notes.append("no sweeps/timestep_sweep.json: run python -m analysis.timestep_sweep")

    # --- compare (black-box vs white-box, fuller)
    masked_compare = []
    if comp:
        R.lines += ["## 4. White-box against black-box (analysis.compare)", ""]
        for name, summary in comp.items():
            R.fig(f"compare_{name}", f"Clean, white-box and black-box accuracy of every model of analysis.compare "
                  f"({name}, eps {', '.join(f'{e:g}' for e in summary['settings']['eps'])}).")
            claim, flags = compare_claims(summary)
            if claim:
                R.claims.append(claim)
            masked_compare += flags
    # --- the rest
    if made.get("accuracy_vs_eps") or made.get("attack"):
        R.lines += ["## 5. Accuracy against epsilon", ""]
        if made.get("accuracy_vs_eps"):
            R.fig("accuracy_vs_eps", "Every model measured at several eps: accuracy under its own white-box FGSM, "
                  "the transferred FGSM and random signs (top), and how much of the transferred d reaches the last "
                  "hidden layer (bottom); right, the Brian2 runs of analysis.attack (crafted on the twin, scored on "
                  "Brian2; no random control there).")
        for name in made.get("attack", {}):
            R.fig(f"accuracy_vs_eps_{name}", f"The Brian2 run {name} alone, with its twin's own accuracy: the "
                  "twin-crafted attacks transfer to Brian2.")
    if made.get("receptive_fields") or made.get("raster"):
        R.lines += ["## 6. The Brian2 network", ""]
        if made.get("receptive_fields"):
            R.fig("receptive_fields", f"Input weights learned by STDP ({made['receptive_fields']}) and their "
                  "sparsity.")
        if made.get("raster"):
            run = (damp or {}).get("settings", {}).get("bio", "the damping run")
            R.fig("raster", f"Input, excitatory and inhibitory spikes of the frozen network ({run}, the one of "
                  "section 1) on the first test image: sparse exc activity, each exc spike followed by its inh partner.")

    checks = [f"- {f}" for f in masked_compare]
    for label, e, n in evaluated(made):
        why = suspect(e, n)
        if why:
            checks.append(f"- {label}: {why}")
    R.lines += ["## Checks of the attacks", "",
                "A white-box attack weaker than a transfer attack or random noise, or a many-step PGD no stronger than "
                "one FGSM step, points at masked gradients (Athalye et al. 2018); "
                + ("these white-box numbers are flagged and not counted in the verdicts:" if checks
                   else "no evaluated model showed it."), ""] + checks + [""]

    head = ["# Why spiking networks resist attacks: results", "",
            f"Generated by `python -m analysis.figures` on {datetime.date.today().isoformat()} from saved JSON/NPZ. "
            "Seed claims are from Sharmin et al. (2019, 2020); a difference counts only when it exceeds two standard "
            "errors of the difference of two proportions on the test set used.", "",
            "Limits: each sweep point is one trained model (one seed) scored on the first test images (n in each "
            "section), so differences of a few points are within noise; the sweeps' models are small (the training "
            "budget in each section's title); the Brian2 networks differ between sections (damping, compare, attack "
            "and each sweep point use their own runs, named there); a Brian2 white-box attack is crafted on its torch "
            "twin, so it is only as strong as the twin's gradient.", "",
            ]
    stale = stale_inputs(made)
    if stale:
        head += ["**Stale inputs**: these results predate fixes and are shown as they were computed; their verdicts "
                 "below are provisional until they are re-run:", ""] + [f"- {t}" for t in stale] + [""]
    head += ["## Seed claims", "", "| claim | verdict | numbers |", "|---|---|---|"]
    head += [f"| {c} | **{v}** | {t} |" for c, v, t in R.claims] or ["| (no results yet) | - | - |"]
    tail = (["", "## Skipped inputs", ""] + [f"- {n}" for n in notes]) if notes else []
    out.write_text("\n".join(head + [""] + R.lines + tail) + "\n")
    return out


# --- CLI --------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m analysis.figures", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--results", default="results", help="results folder (damping/, sweeps/, compare/)")
    p.add_argument("--bio-run", default=str(DEFAULT_RUNS["bio"]), help="a bio run for the receptive fields")
    p.add_argument("--runs", default=str(RUNS), help="where to look for analysis.attack's attack.json files")
    p.add_argument("--out", default=None, help="figure folder (default RESULTS/figures)")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    res = Path(args.results)
    figdir = Path(args.out) if args.out else res / "figures"
    made, notes = {}, []

    def attempt(what, fn):
        try:
            fn()
        except Exception as e:   # one unreadable input must not stop the others
            notes.append(f"{what}: {type(e).__name__}: {e}")

    damping_json = res / "damping" / "damping.json"
    if damping_json.exists():
        made["damping"] = load_json(damping_json)
        attempt("damping figure", lambda: damping_figure(made["damping"], figdir / "damping"))
        if (res / "damping" / "examples.npz").exists():
            attempt("gallery", lambda: (gallery_figure(load_npz(res / "damping" / "examples.npz"), made["damping"],
                                                       figdir / "gallery"), made.__setitem__("gallery", True)))
        if (res / "damping" / "raster.npz").exists():
            attempt("raster", lambda: (raster_figure(load_npz(res / "damping" / "raster.npz"), figdir / "raster"),
                                       made.__setitem__("raster", True)))
        else:
            notes.append("no damping/raster.npz (analysis.damping writes it when it measures a Brian2 run)")
    for name, fn in SWEEP_FIGURES.items():
        path = res / "sweeps" / f"{name}.json"
        if path.exists():
            made[name] = load_json(path)
            attempt(name, lambda fn=fn, name=name: fn(made[name], figdir / name))
    comp = {p.parent.name: load_json(p) for p in sorted(res.glob("compare/*/compare.json"))}
    for name, summary in comp.items():
        attempt(f"compare {name}", lambda s=summary, n=name: compare_figure(s, figdir / f"compare_{n}"))
    if comp:
        made["compare"] = comp
    else:
        notes.append("no compare/*/compare.json (analysis.compare)")
    attacks = sorted({*Path(args.runs).glob("*/attack*/attack.json"), *res.glob("**/attack.json")})
    from analysis.attack_figures import accuracy_vs_eps
    attack_summaries = {}
    for path in attacks:
        def one(path=path):
            summary = load_json(path)
            name = Path(summary["settings"]["run"]).name
            while name in attack_summaries:
                name += "+"
            accuracy_vs_eps(summary, figdir / f"accuracy_vs_eps_{name}")
            attack_summaries[name] = summary
        attempt(f"attack {path}", one)
    if attack_summaries:
        made["attack"] = attack_summaries
    if not attacks:
        notes.append(f"no analysis.attack attack.json under {args.runs} or {res}")
    attempt("accuracy against eps", lambda: made.__setitem__(
        "accuracy_vs_eps", accuracy_eps_figure(made.get("damping"), attack_summaries, figdir / "accuracy_vs_eps")))
    weights = Path(args.bio_run) / "weights.npz"
    if weights.exists():
        from bio.figures import receptive_fields
        attempt("receptive fields", lambda: (receptive_fields(load_npz(weights)["w"], figdir / "receptive_fields"),
                                             made.__setitem__("receptive_fields", args.bio_run)))
    else:
        notes.append(f"no {weights}: no receptive fields")
    report = write_report(res, figdir, made, notes)
    print(f"figures in {figdir}; report {report}" + (f"; {len(notes)} note(s)" if notes else ""))
    return made


if __name__ == "__main__":
    main()
