"""Figures of analysis.leak_sweep and analysis.timestep_sweep from their saved JSON: accuracy and the
change per stage against leak, time steps and input quantization (a column per model: the surrogate SNN, the
Brian2 network and, in the time-step figure, the converted SNN, its FGSM through its source CNN (BPDA) a line of
its own), and the surrogate SNN with Poisson against direct input (:func:`encoding_figure`).

Imports only plotting helpers, numpy and the readers of analysis.saved_results, never the
computing modules. SWEEP_FIGURES maps a sweep's name to the function that draws it.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from analysis.defaults import DT_PER_TAU, REF, REF_CONVERTED_T
from analysis.plotting import ACC_LABEL, CHANGE_LABEL, CI_SEEDS, CLEAN, DELTAS, PAGE, SETTINGS, STAGE_LABEL, \
    delta_style, legend_below, log_y, model_color, plt, positive, save, suptitle
from analysis.saved_results import FULL, PROTOCOLS, adv, changes, encoding_points, main_delta, number_at, points_of, \
    quant_points, reference_series, spread, value_of

# the attack suite's and the reference protocol's lines (issue 28), drawn when the points carry them
WORST = SETTINGS["worst"][2]
ENSEMBLE = "worst case over the surrogate ensemble (white-box)"
REF_FGSM, REF_WORST = (f"{what}, {PROTOCOLS['reference']}" for what in ("white-box FGSM", "worst case"))
HOLLOW = {"mfc": "white", "ls": "-.", "lw": 1.0}
# a converted SNN's FGSM through the CNN it was converted from (its delta "bpda"): dash-dot-dot, diamonds
BPDA = "BPDA: white-box FGSM through the CNN it was converted from"
BPDA_STYLE = {"ls": (0, (5, 1.5, 1, 1.5, 1, 1.5)), "marker": "D", "ms": 3.5}


def legend_label(text: str, width: int = 48) -> str:
    """A long legend entry on two lines, broken at spaces only ("white-box" stays whole, so the caption's
    words are found in the figure)."""
    return textwrap.fill(text, width, break_on_hyphens=False)


def carries(pts: list[dict], get) -> list[dict]:
    """The points with a number under ``get``."""
    return [p for p in pts if not np.isnan(get(p["eval"]))]


def suite_lines(pts: list[dict], ref: list[dict]) -> list[tuple[str, list[dict], object, dict]]:
    """(label, points, eval -> adversarial accuracy, style) of the lines beyond FGSM, transfer and random: a
    converted SNN's FGSM through its source CNN (BPDA), the worst case per example over the suite and over the
    surrogate ensemble, and the points crafted at the reference setting (``ref``:
    analysis.saved_results.reference_series); none for points without them."""
    worst, ensemble = number_at("worst_case", "adv_accuracy"), number_at("ensemble", "worst_case", "adv_accuracy")
    fgsm, bpda = (lambda e, d=d: adv(e, d) for d in ("fgsm", "bpda"))
    out = [(BPDA, carries(pts, bpda), bpda, BPDA_STYLE),
           (WORST, carries(pts, worst), worst, {"ls": "-", "marker": "X"}),
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


def timestep_columns(summary: dict) -> list:
    """The time-step figure's columns (sweep_grid's tuples, the same for every model): the surrogate SNN by T,
    the Brian2 network by presentation time and the converted SNN by T (256 levels), each with its
    reference-protocol series (kw "protocol_ref") and the CNN as thin horizontal lines."""
    snn, snn_ref = with_reference(summary, "snn", "T", {"levels": FULL, "leak": summary["leak"]})
    bio, bio_ref = with_reference(summary, "bio", "present_ms", {"levels": FULL, "tau_exc_ms": REF["tau_exc_ms"]})
    conv, conv_ref = with_reference(summary, "converted", "T", {"levels": FULL})
    cnn = points_of(summary, "cnn", "levels", {"levels": FULL})
    refs = [("CNN", cnn[0], model_color("cnn"))] if cnn else []
    conv_t = summary.get("converted_T", REF_CONVERTED_T)
    return [(f"surrogate-gradient SNN (leak {summary['leak']:g})", snn, "T",
             f"time steps T (the baselines use {REF['T']})", "T = {}",
             {"refs": refs, "log2": True, "protocol_ref": snn_ref}, model_color("snn")),
            ("Brian2 STDP network", bio, "present_ms", "presentation time per image (ms)", "{:g} ms",
             {"refs": refs, "protocol_ref": bio_ref}, model_color("bio")),
            ("converted SNN (IF, from the CNN)", conv, "T", f"time steps T (reference {conv_t})", "T = {}",
             {"refs": refs, "log2": True, "protocol_ref": conv_ref}, model_color("converted"))]


def timestep_figure(summary: dict, path):
    """The time-step figure at ``path``, and the quantization and encoding figures beside it; returns the
    first's Drawn (the others': quantization_figure and encoding_figure, as analysis.figures calls them)."""
    path = Path(path)
    columns = timestep_columns(summary)
    drawn = sweep_grid(columns, path, f"Time-step sweep: {_eps_title(summary)}",
                       absent(columns, SWEEP_CMD["timestep_sweep"]))
    quantization_figure(summary, path.with_name("quantization_sweep"))
    encoding_figure(summary, path.with_name("encoding"))
    return drawn


QUANT_MODELS = {"snn": (model_color("snn"), "SNN"), "bio": (model_color("bio"), "Brian2 STDP"),
                "cnn": (model_color("cnn"), "CNN"), "converted": (model_color("converted"), "converted SNN")}


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
    levels = sorted({*summary["levels"], *summary.get("bio_levels", []), *summary.get("converted_levels", [])})
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
    nb = "\u00a0"   # no line break inside "T = 32"
    at = f"; SNN at T{nb}={nb}{REF['T']}, converted SNN at T{nb}={nb}{summary.get('converted_T', REF_CONVERTED_T)}" \
        if "converted" in kinds else ""
    suptitle(fig, f"Input pre-quantization: {_eps_title(summary)}\n(dash-dotted vertical: half a level step = eps, "
                 f"{boundary:g} levels{at})")
    return save(fig, path, missing)


# --- Poisson against direct input (the surrogate SNN at the reference T) ------------------------------------
ENCODINGS = {"poisson": ("Poisson input", {"color": model_color("snn")}),
             "direct": ("direct input (constant current)", {"color": "white", "edgecolor": model_color("snn"),
                                                            "hatch": "////"})}
ENCODING_CMD = f"{SWEEP_CMD['timestep_sweep']} --encodings poisson direct"


def encoding_bars(summary: dict) -> tuple[list[tuple[str, dict]], list[tuple[str, object]], list]:
    """The encoding figure's data: (encoding, merged point) of each encoding of ENCODINGS with a point
    (analysis.saved_results.encoding_points), (label, eval -> accuracy) of the measures all of them carry
    (clean, white-box FGSM, transfer, the suite's and the ensemble's worst case), and the encodings without
    points as (what, command)."""
    by = {p["job"].get("encoding", "poisson"): p for p in encoding_points(summary)}
    shown = [(e, by[e]) for e in ENCODINGS if e in by]
    measures = [("clean", lambda e: e["clean_accuracy"])] + [(DELTAS[d][1], lambda e, d=d: adv(e, d))
                                                              for d in ("fgsm", "transfer")]
    measures += [(WORST, number_at("worst_case", "adv_accuracy")),
                 (ENSEMBLE, number_at("ensemble", "worst_case", "adv_accuracy"))]
    pts = [p for _, p in shown]
    measures = [(label, get) for label, get in measures if pts and len(carries(pts, get)) == len(pts)]
    missing = [(f"{ENCODINGS[e][0]} (no points)", ENCODING_CMD) for e in ENCODINGS if e not in by]
    return shown, measures, missing


def encoding_figure(summary: dict, path):
    """Accuracy of the same surrogate SNN at the reference T with Poisson and with direct input, a pair of
    horizontal bars per measure (encoding_bars), error bars the interval over seeds. None, with nothing
    drawn, when neither encoding has a point; one without is named missing."""
    shown, measures, missing = encoding_bars(summary)
    if not shown:
        return None
    fig, ax = plt.subplots(figsize=(PAGE, 1.2 + 0.26 * len(measures) * len(shown)), layout="constrained")
    height = 0.8 / len(shown)
    rows = np.arange(len(measures))
    for k, (enc, p) in enumerate(shown):
        y = rows + (k - (len(shown) - 1) / 2) * height
        vals = [100 * get(p["eval"]) for _, get in measures]
        err = [100 * spread(p, get) for _, get in measures]
        label, style = ENCODINGS[enc]
        ax.barh(y, vals, 0.9 * height, xerr=err if any(e > 0 for e in err) else None, capsize=2, label=label,
                linewidth=1.0, **style)
        for yy, v, e in zip(y, vals, err):
            ax.text(v + e + 1, yy, f"{v:.1f}", va="center", fontsize=6.5)
    ax.set_yticks(rows, [legend_label(label, 34) for label, _ in measures])
    ax.invert_yaxis()   # clean on top
    ax.set_xlim(0, 108)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(ACC_LABEL)
    ax.grid(axis="y", visible=False)
    legend_below(fig, [ax], ncol=2)
    job = shown[0][1]["job"]
    suptitle(fig, f"Poisson against direct input, surrogate-gradient SNN (T = {job['T']}, leak {job['leak']:g}): "
                  f"{_eps_title(summary)}")
    return save(fig, path, missing)


SWEEP_FIGURES = {"leak_sweep": leak_figure, "timestep_sweep": timestep_figure}
