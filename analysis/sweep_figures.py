"""Figures of analysis.leak_sweep and analysis.timestep_sweep from their saved JSON: accuracy and the
change per stage against leak, time steps and input quantization.

Imports only plotting helpers, numpy and the readers of analysis.saved_results, never the
computing modules. SWEEP_FIGURES maps a sweep's name to the function that draws it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.defaults import DT_PER_TAU, REF
from analysis.plotting import CHANGE_LABEL, DELTAS, STAGE_LABEL, log_y, plt, positive, save
from analysis.saved_results import adv, changes, main_delta, points_of, quant_points, spread, value_of


def line(ax, pts, x, get, **kw) -> None:
    """``get(eval)`` in % against x; error bars: the 95 % interval over a point's seeds, when it has several."""
    y = [100 * get(p["eval"]) for p in pts]
    err = [100 * spread(p, get) for p in pts]
    ax.errorbar(x, y, yerr=err if any(e > 0 for e in err) else None, capsize=3, **kw)


def accuracy_panel(ax, pts, key, xlabel, refs=(), log2=False, invert=False) -> None:
    x = [p["job"][key] for p in pts]
    if pts:
        line(ax, pts, x, lambda e: e["clean_accuracy"], fmt="o-", color="0.2", label="clean")
        for name in ("fgsm", "transfer", "random"):
            if not all(np.isnan([adv(p["eval"], name) for p in pts])):
                color, marker, label = DELTAS[name]
                line(ax, pts, x, lambda e, name=name: adv(e, name), marker=marker, color=color,
                     ls="-" if name != "random" else "--", label=label)
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
            ax.plot(xs, positive([value_of(res["noise_floor"].get(s)) for s in res["stages"]]), ":", color=color, lw=1)
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
    bars = "; error bars: 95 % interval over seeds" if s.get("seeds", 1) > 1 else ""
    return f"eps = {s['eps']:g}, n = {s['n_test']}; {summary['scale']}{bars}"


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


def quantization_figure(summary: dict, path) -> None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 5.2))
    for kind, (color, label) in QUANT_MODELS.items():
        pts = quant_points(summary, kind)
        if len(pts) < 2:
            continue
        x = [p["job"]["levels"] for p in pts]
        line(a, pts, x, lambda e: e["clean_accuracy"], fmt="o:", color=color, label=f"{label}: clean")
        line(a, pts, x, lambda e: adv(e, "fgsm"), fmt="o-", color=color, label=f"{label}: white-box FGSM")
        if "transfer" in pts[0]["eval"]["deltas"]:
            line(a, pts, x, lambda e: adv(e, "transfer"), fmt="s--", color=color, label=f"{label}: transfer")
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
