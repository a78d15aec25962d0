"""Figures of analysis.leak_sweep and analysis.timestep_sweep from their saved JSON: accuracy and the
change per stage against leak, time steps and input quantization.

Imports only plotting helpers, numpy and the readers of analysis.saved_results, never the
computing modules. SWEEP_FIGURES maps a sweep's name to the function that draws it.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from analysis.defaults import DT_PER_TAU, REF
from analysis.plotting import ACC_LABEL, CHANGE_LABEL, CI_SEEDS, CLEAN, DELTAS, PAGE, SETTINGS, STAGE_LABEL, \
    delta_style, legend_below, log_y, model_color, plt, positive, save, suptitle
from analysis.saved_results import PROTOCOLS, adv, changes, main_delta, number_at, points_of, quant_points, \
    reference_series, spread, value_of

# the attack suite's and the reference protocol's lines (issue 28), drawn when the points carry them
WORST = SETTINGS["worst"][2]
ENSEMBLE = "worst case over the surrogate ensemble (white-box)"
REF_FGSM, REF_WORST = (f"{what}, {PROTOCOLS['reference']}" for what in ("white-box FGSM", "worst case"))
HOLLOW = {"mfc": "white", "ls": "-.", "lw": 1.0}


def legend_label(text: str) -> str:
    """A long legend entry on two lines, broken at spaces only ("white-box" stays whole, so the caption's
    words are found in the figure)."""
    return textwrap.fill(text, 48, break_on_hyphens=False)


def carries(pts: list[dict], get) -> list[dict]:
    """The points with a number under ``get``."""
    return [p for p in pts if not np.isnan(get(p["eval"]))]


def suite_lines(pts: list[dict], ref: list[dict]) -> list[tuple[str, list[dict], object, dict]]:
    """(label, points, eval -> adversarial accuracy, style) of the lines beyond FGSM, transfer and random: the
    worst case per example over the suite and over the surrogate ensemble, and the points crafted at the
    reference setting (``ref``: analysis.saved_results.reference_series); none for points without them."""
    worst, ensemble = number_at("worst_case", "adv_accuracy"), number_at("ensemble", "worst_case", "adv_accuracy")
    fgsm = lambda e: adv(e, "fgsm")  # noqa: E731
    out = [(WORST, carries(pts, worst), worst, {"ls": "-", "marker": "X"}),
           (ENSEMBLE, carries(pts, ensemble), ensemble, {"ls": "none", "marker": "P", "ms": 6})]
    if len(ref) >= 2:
        out += [(REF_FGSM, carries(ref, fgsm), fgsm, {"marker": "o", **HOLLOW}),
                (REF_WORST, carries(ref, worst), worst, {"marker": "X", **HOLLOW})]
    return [line for line in out if line[1]]


def line(ax, pts, x, get, **kw) -> None:
    """``get(eval)`` in % against x; error bars: the 95 % interval over a point's seeds, when it has several."""
    y = [100 * get(p["eval"]) for p in pts]
    err = [100 * spread(p, get) for p in pts]
    ax.errorbar(x, y, yerr=err if any(e > 0 for e in err) else None, capsize=3, **kw)


def accuracy_panel(ax, pts, key, xlabel, color, refs=(), log2=False, invert=False, protocol_ref=()) -> None:
    """Clean (grey) and per perturbation (the model's colour, the perturbation's line style) against ``key``,
    with the suite's lines and those crafted at the reference setting (``protocol_ref``: the reference-protocol
    series) when there are some; ``refs``: (label, point) of other models drawn as thin horizontal lines in
    their own colour."""
    x = [p["job"][key] for p in pts]
    if pts:
        line(ax, pts, x, lambda e: e["clean_accuracy"], fmt="o-", color=CLEAN, label="clean")
        for name in DELTAS:
            if not all(np.isnan([adv(p["eval"], name) for p in pts])):
                line(ax, pts, x, lambda e, name=name: adv(e, name), color=color, **delta_style(name))
        for label, some, get, style in suite_lines(pts, list(protocol_ref)):   # long labels: two lines in the legend
            line(ax, some, [p["job"][key] for p in some], get, color=color, label=legend_label(label), **style)
    for ref_label, ref, ref_color in refs:
        ax.axhline(100 * ref["eval"]["clean_accuracy"], color=CLEAN, lw=0.8, ls=(0, (1, 1)),
                   label=f"{ref_label}: clean")
        for name in ("fgsm", "transfer"):
            if name in ref["eval"]["deltas"]:
                ax.axhline(100 * adv(ref["eval"], name), color=ref_color, lw=0.8, ls=SETTINGS[DELTAS[name][0]][0],
                           label=f"{ref_label}: {DELTAS[name][1]}")
    if log2:
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
    if invert:
        ax.invert_xaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ACC_LABEL)
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
        ax.set_xticks(xs, res["stages"], rotation=40, ha="right", fontsize=7)
    log_y(ax)
    ax.set_xlabel(STAGE_LABEL)
    ax.set_ylabel(CHANGE_LABEL, fontsize=7)
    if pts:
        ax.set_title(f"change per stage, {main_delta(pts[0]['eval'])} d (dotted: noise floor)")
        ax.legend(fontsize=6.5, ncol=2 if len(pts) > 3 else 1)


def _eps_title(summary):
    """eps, n and what the error bars are (the training budget is in REPORT.md's section title)."""
    s = summary["settings"]
    bars = CI_SEEDS + f" ({s['seeds']} seeds)" if s.get("seeds", 1) > 1 else "no error bars (one seed)"
    return f"eps = {s['eps']:g}, n = {s['n_test']} (the first {s['n_test']} test images); {bars}"


SWEEP_CMD = {"leak_sweep": "python -m analysis.leak_sweep", "timestep_sweep": "python -m analysis.timestep_sweep"}


def sweep_grid(columns: list, path, title: str, missing: list):
    """The sweep's models as columns (accuracy on top, change per stage below), those with points only;
    ``columns``: (title, points, key, xlabel, fmt, kw, color) each. None, with nothing drawn, if no model has points."""
    cols = [c for c in columns if c[1]]
    if not cols:
        return None
    fig, axes = plt.subplots(2, len(cols), figsize=(PAGE, 6.0), squeeze=False, layout="constrained")
    for c, (label, pts, key, xlabel, fmt, kw, color) in enumerate(cols):
        accuracy_panel(axes[0, c], pts, key, xlabel, color, **kw)
        axes[0, c].set_title(label)
        change_panel(axes[1, c], pts, key, fmt)
    legend_below(fig, axes[0], ncol=2)
    suptitle(fig, title)
    return save(fig, path, missing)


def absent(columns: list, command: str) -> list:
    return [(f"{label} (no points)", command) for label, pts, *_ in columns if not pts]


def with_reference(summary: dict, kind: str, key: str, fixed: dict) -> tuple[list[dict], list[dict]]:
    """A series' swept points and its reference-protocol series (empty without such points)."""
    pts = points_of(summary, kind, key, fixed)
    return pts, reference_series(pts, points_of(summary, kind, key, fixed, "reference"), key)[0]


def leak_figure(summary: dict, path):
    snn, snn_ref = with_reference(summary, "snn", "leak", {"levels": 256})
    bio, bio_ref = with_reference(summary, "bio", "tau_exc_ms", {"levels": 256})
    cnn = points_of(summary, "cnn", "levels", {"levels": 256})
    kw = {"refs": [("CNN", cnn[0], model_color("cnn"))] if cnn else [], "invert": True}
    columns = [("surrogate-gradient SNN", snn, "leak", "leak per time step (1 = IF; right: more leak)", "leak {:g}",
                {**kw, "protocol_ref": snn_ref}, model_color("snn")),
               ("Brian2 STDP network", bio, "tau_exc_ms", f"exc tau (ms; right: more leak; dt = tau/{1 / DT_PER_TAU:g})",
                "tau {:g} ms", {**kw, "protocol_ref": bio_ref}, model_color("bio"))]
    return sweep_grid(columns, path, f"Leak sweep: {_eps_title(summary)}", absent(columns, SWEEP_CMD["leak_sweep"]))


def timestep_figure(summary: dict, path):
    """The time-step figure at ``path``, and the quantization figure beside it; returns the first's Drawn
    (the second's: quantization_figure, as analysis.figures calls it)."""
    path = Path(path)
    snn, snn_ref = with_reference(summary, "snn", "T", {"levels": 256, "leak": summary["leak"]})
    bio, bio_ref = with_reference(summary, "bio", "present_ms", {"levels": 256, "tau_exc_ms": REF["tau_exc_ms"]})
    cnn = points_of(summary, "cnn", "levels", {"levels": 256})
    refs = [("CNN", cnn[0], model_color("cnn"))] if cnn else []
    columns = [(f"surrogate-gradient SNN (leak {summary['leak']:g})", snn, "T",
                f"time steps T (the baselines use {REF['T']})", "T = {}",
                {"refs": refs, "log2": True, "protocol_ref": snn_ref}, model_color("snn")),
               ("Brian2 STDP network", bio, "present_ms", "presentation time per image (ms)", "{:g} ms",
                {"refs": refs, "protocol_ref": bio_ref}, model_color("bio"))]
    drawn = sweep_grid(columns, path, f"Time-step sweep: {_eps_title(summary)}",
                       absent(columns, SWEEP_CMD["timestep_sweep"]))
    quantization_figure(summary, path.with_name("quantization_sweep"))
    return drawn


QUANT_MODELS = {"snn": (model_color("snn"), "SNN"), "bio": (model_color("bio"), "Brian2 STDP"),
                "cnn": (model_color("cnn"), "CNN")}


def quantization_figure(summary: dict, path):
    """None, with nothing drawn, when no model has two quantization levels; a model with fewer is named missing."""
    kinds = [k for k in QUANT_MODELS if len(quant_points(summary, k)) >= 2]
    missing = [(f"{QUANT_MODELS[k][1]} (fewer than two quantization levels)",
                f"{SWEEP_CMD['timestep_sweep']} --quantize {k}") for k in QUANT_MODELS if k not in kinds]
    if not kinds:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE, 3.9), layout="constrained")
    extra = {}   # the suite's and the reference protocol's lines: label -> style, for the legend
    for kind in kinds:
        color, label = QUANT_MODELS[kind]
        pts = quant_points(summary, kind)
        x = [p["job"]["levels"] for p in pts]
        ref = reference_series(pts, quant_points(summary, kind, "reference"), "levels")[0]
        for what, some, get, style in suite_lines(pts, ref):
            line(a, some, [p["job"]["levels"] for p in some], get, color=color, label=legend_label(f"{label}: {what}"),
                 **style)
            extra[what] = style
        # colour: the model; line style: clean (thin, dash-dot), white-box, transfer, as everywhere
        line(a, pts, x, lambda e: e["clean_accuracy"], fmt=".-.", lw=0.9, color=color, label=f"{label}: clean")
        line(a, pts, x, lambda e: adv(e, "fgsm"), color=color, **{**delta_style("fgsm"), "label": f"{label}: white-box FGSM"})
        b.plot(x, [changes(p["eval"], "fgsm")[p["eval"]["stages"].index("input")] for p in pts], color=color,
               **{**delta_style("fgsm"), "label": f"{label}: own FGSM d"})
        if "transfer" in pts[0]["eval"]["deltas"]:
            line(a, pts, x, lambda e: adv(e, "transfer"), color=color,
                 **{**delta_style("transfer"), "label": f"{label}: transfer"})
            b.plot(x, [changes(p["eval"], "transfer")[p["eval"]["stages"].index("input")] for p in pts],
                   color=color, **{**delta_style("transfer"), "label": f"{label}: transfer d"})
    # With fewer levels than this, half a level step exceeds eps: a perturbation moves a pixel across
    # a rounding boundary only if it starts within eps of one. With more, any pixel near a boundary
    # jumps a whole step, larger than eps itself.
    eps = summary["settings"]["eps"]
    boundary = 1 + 1 / (2 * eps)
    levels = sorted({*summary["levels"], *summary.get("bio_levels", [])})
    for ax in (a, b):
        ax.axvline(boundary, color="0.5", ls="-.", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [f"{v}\n(none)" if v >= 256 else str(v) for v in levels])
        ax.set_xlabel("input quantization levels (before Poisson encoding)")
    a.set_ylabel(ACC_LABEL)
    a.set_ylim(0, 100)
    a.set_title("accuracy")
    b.set_ylabel("relative L1 change of the input")
    b.set_title("how much of d survives quantization")
    # colour: the model, line style: what is measured (the same in both panels): six entries, not one per line
    from matplotlib.lines import Line2D
    handles = [(Line2D([], [], color=QUANT_MODELS[k][0], lw=3), QUANT_MODELS[k][1]) for k in kinds]
    handles += [(Line2D([], [], color="0.3", ls="-.", marker=".", lw=0.9), "clean")]
    handles += [(Line2D([], [], color="0.3", ls=delta_style(n)["ls"], marker=delta_style(n)["marker"]),
                 {"fgsm": "white-box FGSM (right: its own d)", "transfer": "transfer (right: its d)"}[n])
                for n in ("fgsm", "transfer")]
    handles += [(Line2D([], [], color="0.3", **{k: v for k, v in style.items() if k != "ms"}), legend_label(what))
                for what, style in extra.items()]
    legend_below(fig, handles=handles, ncol=3)
    suptitle(fig, f"Input pre-quantization: {_eps_title(summary)}\n(dash-dotted vertical: half a level step = eps, "
                 f"{boundary:g} levels)")
    return save(fig, path, missing)


SWEEP_FIGURES = {"leak_sweep": leak_figure, "timestep_sweep": timestep_figure}
