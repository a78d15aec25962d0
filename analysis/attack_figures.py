"""Figures of ``analysis.attack``: accuracy against epsilon, against network size (issue 27), and a gallery."""
from __future__ import annotations

import matplotlib.colors
import numpy as np

from matplotlib.lines import Line2D

from analysis.plotting import ACC_LABEL, ATTACK_MARKERS, CI_WILSON, CLEAN, COLUMN, EPS_LABEL, PAGE, grid, \
    hide_unused, legend_below, model_color, plt, save, suptitle, wrap
from analysis.size_series import attack_label as size_attack_label

COLOR = model_color("bio")   # every panel here is the Brian2 network (its twin is drawn dashed)
QUERY = ("square", "square-art")   # run on Brian2 alone, on their own smaller subset


def attack_label(name: str, rows: list[dict]) -> str:
    if name == "square-art":
        return f"Square (ART), query black-box, mean of {rows[0].get('query_draws', '?')} draws (n = {rows[0]['n']})"
    if name == "square":
        return f"Square, query black-box (n = {rows[0]['n']})"
    return f"{name.upper()} crafted on the twin"


def eps_panel(ax, summary: dict, readout: str = "assignment") -> list[str]:
    """Brian2's accuracy against eps per attack (solid), the twin's own (dashed); returns the attacks drawn."""
    clean_b2, clean_tw = summary["clean"]["brian2"][readout], summary["clean"]["twin"]
    names = list(dict.fromkeys(r["attack"] for r in summary["results"]))
    for name in names:
        rows = sorted((r for r in summary["results"] if r["attack"] == name), key=lambda r: r["eps"])
        marker, acc = ATTACK_MARKERS.get(name, "o"), [100 * r["brian2"][readout]["adv_accuracy"] for r in rows]
        if name in QUERY:   # no clean point of their own subset, no twin
            ax.plot([r["eps"] for r in rows], acc, ls="-.", marker=marker, color=COLOR, label=attack_label(name, rows))
            continue
        eps = [0.0] + [r["eps"] for r in rows]
        ax.plot(eps, [100 * clean_b2] + acc, "-", marker=marker, color=COLOR, label=attack_label(name, rows))
        ax.plot(eps, [100 * clean_tw] + [100 * r["twin"]["adv_accuracy"] for r in rows], "--", marker=marker,
                mfc="none", color=COLOR, alpha=0.8)
    ax.axhline(10, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel(EPS_LABEL)
    ax.set_ylabel(ACC_LABEL)
    ax.set_ylim(0, 100)
    return names


TWIN = (Line2D([], [], ls="--", marker="o", mfc="none", color=COLOR), "the same attack scored on the twin (white-box)")


def accuracy_vs_eps(summary: dict, path, readout: str = "assignment"):
    """One run of analysis.attack, a column wide."""
    fig, ax = plt.subplots(figsize=(COLUMN, 3.4), layout="constrained")
    eps_panel(ax, summary, readout)
    ax.set_title(f"n = {summary['n_test']}, {readout} readout")
    # a column is ~45 characters of legend wide: longer labels wrap
    handles = [(h, wrap(lab, 45)) for h, lab in [*zip(*ax.get_legend_handles_labels()), TWIN]]
    legend_below(fig, handles=handles, ncol=1)
    suptitle(fig, "Brian2 STDP under attacks crafted on its twin")
    return save(fig, path)


def runs_figure(summaries: dict, path):
    """Every run of analysis.attack ({name: summary}), a panel each, at most 3 across; None if none."""
    if not summaries:
        return None
    rows, cols = grid(len(summaries), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(PAGE, 2.5 * rows + 1.2), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (name, summary) in zip(axes.flat, summaries.items()):
        eps_panel(ax, summary)
        ax.set_title(f"run {name}\nn = {summary['n_test']}")
    hide_unused(axes, len(summaries))
    seen = {}
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    legend_below(fig, handles=[(h, lab) for lab, h in seen.items()] + [TWIN], ncol=2)
    suptitle(fig, "Brian2 STDP networks (analysis.attack): accuracy against eps, crafted on the twin and scored on "
                 "Brian2\n(dotted: chance; no error bars, one network each)")
    return save(fig, path)


SIZE_X_LABEL = "excitatory neurons (log scale)"
SIZE_PANELS = ("accuracy, assignment readout", "attack success rate")
ASR_LABEL = "attack success rate (%)"


def size_lines(series: dict) -> list[tuple[str, list[tuple[int, dict]], dict]]:
    """(label, [(n_exc, its value with interval)], style) per line of the size figure: clean, FGSM at each eps (the
    network's colour, darker with eps), PGD at each eps it was run at (dashed); a line for each series a size has."""
    sizes = series["sizes"]
    lines = [("clean", [(s["n_exc"], s["clean"]) for s in sizes], {"color": CLEAN, "marker": "D", "ls": "-"})]
    keys = sorted({(r["attack"], r["eps"]) for s in sizes for r in s["rows"]}, key=lambda k: (k[0] != "fgsm", k))
    fgsm = [e for a, e in keys if a == "fgsm"]
    steps = next((s["pgd_steps"] for s in sizes if s.get("pgd_steps")), None)
    base = np.array(matplotlib.colors.to_rgb(COLOR))
    for attack, eps in keys:
        pts = [(s["n_exc"], r) for s in sizes for r in s["rows"] if r["attack"] == attack and r["eps"] == eps]
        if attack == "fgsm":   # lighter at small eps, darker at large: the order of the lines
            shade = 0.8 * fgsm.index(eps) / max(len(fgsm) - 1, 1)
            style = {"color": tuple(base * (1 - shade)), "marker": ATTACK_MARKERS["fgsm"], "ls": "-"}
        else:
            style = {"color": "0.15", "marker": ATTACK_MARKERS.get(attack, "s"), "ls": "--"}
        lines.append((f"{size_attack_label(attack, steps)} eps {eps:g}", pts, style))
    return lines


def size_figure(series: dict, path):
    """analysis.size_series' series: Brian2's accuracy (left) and the attack success rate (right) against the
    network's excitatory neurons, clean and under each attack, with 95 % Wilson intervals; a size or folder not
    computed yet is left out and named (Drawn.missing). None when no size has results."""
    sizes = series["sizes"]
    if not sizes:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(PAGE, 3.6), layout="constrained")
    xs = [s["n_exc"] for s in sizes]
    lines = size_lines(series)
    for i, (label, pts, style) in enumerate(lines):
        # the lines a little apart along x so that their error bars do not hide each other
        shift = 1.035 ** (i - (len(lines) - 1) / 2)
        for ax, key in ((axes[0], "adv_accuracy"), (axes[1], "attack_success_rate")):
            if label == "clean":
                if ax is axes[1]:
                    continue
                vals = [p for _, p in pts]
            else:
                vals = [p[key] for _, p in pts]
            x = np.array([n for n, _ in pts], float) * shift
            y = np.array([100 * v["value"] for v in vals])
            err = np.abs(np.array([[100 * v["ci95"][0] for v in vals], [100 * v["ci95"][1] for v in vals]]) - y)
            ax.errorbar(x, y, yerr=err, label=label, mfc="white" if style["ls"] == "--" else None, **style)
    for ax, title in zip(axes, SIZE_PANELS):
        ax.set_xscale("log")
        ax.set_xticks(xs, [f"{n:,}" for n in xs])
        ax.minorticks_off()
        ax.set_xlim(min(xs) / 1.6, max(xs) * 1.6)
        ax.set_xlabel(SIZE_X_LABEL)
        ax.set_ylim(0, 100)
        ax.set_title(title)
    axes[0].set_ylabel(ACC_LABEL)
    axes[0].axhline(10, color="0.5", lw=0.8, ls=":")
    axes[1].set_ylabel(ASR_LABEL)
    legend_below(fig, axes, ncol=min(len(lines), 4))
    n = sorted({s["n"] for s in sizes})
    suptitle(fig, f"Brian2 STDP networks by size, attacks crafted on the twin and scored on Brian2 "
                  f"(n = {', '.join(str(k) for k in n)} test images; {CI_WILSON})")
    return save(fig, path, missing=[(m["what"], m["command"]) for m in series["missing"]])


def gallery(clean: np.ndarray, adversarial: dict, path, side: int = 28) -> None:
    """Rows per attack: adversarial image and its perturbation; top row clean."""
    n = len(clean)
    rows = 1 + 2 * len(adversarial)
    fig, axes = plt.subplots(rows, n, figsize=(PAGE, 0.62 * rows + 0.4), squeeze=False, layout="constrained")
    for j in range(n):
        axes[0, j].imshow(clean[j].reshape(side, side), cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_ylabel("clean", rotation=0, ha="right", va="center")
    for i, (label, x_adv) in enumerate(adversarial.items()):
        delta = x_adv[:n] - clean
        lim = max(float(np.abs(delta).max()), 1e-6)
        for j in range(n):
            axes[1 + 2 * i, j].imshow(delta[j].reshape(side, side), cmap="seismic", vmin=-lim, vmax=lim)
            axes[2 + 2 * i, j].imshow(x_adv[j].reshape(side, side), cmap="gray", vmin=0, vmax=1)
        axes[1 + 2 * i, 0].set_ylabel(f"{label}\nperturbation", rotation=0, ha="right", va="center")
        axes[2 + 2 * i, 0].set_ylabel(f"{label}\nadversarial", rotation=0, ha="right", va="center")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    return save(fig, path)
