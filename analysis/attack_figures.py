"""Figures of ``analysis.attack``: accuracy against epsilon, and a gallery."""
from __future__ import annotations

import numpy as np

from matplotlib.lines import Line2D

from analysis.plotting import ACC_LABEL, ATTACK_MARKERS, COLUMN, EPS_LABEL, PAGE, grid, hide_unused, \
    legend_below, model_color, plt, save, suptitle, wrap

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
