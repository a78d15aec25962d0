"""Figures of analysis.compare from its saved compare.json: bars per (attack, eps), and accuracy
against eps when several eps were measured.

Imports only plotting helpers and numpy, never the computing modules.
"""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.patches import Patch

from analysis.plotting import plt, save


def bar_figure(summary: dict, path) -> None:
    """Clean, white-box and black-box accuracy of every model, one panel per (attack, eps)."""
    s, models, roles = summary["settings"], summary["models"], list(summary["sources"])
    panels = [(a, e) for a in s["attacks"] for e in s["eps"]]
    bars = ["clean", "white-box"] + [f"black-box from {summary['sources'][r]['label']}" for r in roles]
    fig, axes = plt.subplots(1, len(panels), figsize=(0.6 + 1.5 * len(models) * len(panels), 3.6), squeeze=False)
    width = 0.8 / len(bars)
    for ax, (name, eps) in zip(axes[0], panels):
        for i, m in enumerate(models):
            cells = {c["setting"]: c for c in summary["cells"]
                     if c["target"] == m["key"] and c["attack"] == name and c["eps"] == eps}
            for j, bar in enumerate(bars):
                c = m if j == 0 else cells["white" if j == 1 else f"black-{roles[j - 2]}"]
                v, xpos = c.get("clean_accuracy" if j == 0 else "adv_accuracy"), i + (j - (len(bars) - 1) / 2) * width
                if v is None:   # a transfer that is not black-box
                    ax.text(xpos, 2, "self" if "self" in c["skipped"] else "n/a", rotation=90, ha="center",
                            va="bottom", fontsize=7, color=f"C{j}")
                    continue
                ax.bar(xpos, 100 * v, width, color=f"C{j}" if j else "0.6")
        ax.set_xticks(np.arange(len(models)), [textwrap.fill(m["label"], 16) for m in models], fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{name.upper()}, eps = {eps:g}" + (f" ({eps * 255:.0f}/255)" if s["dset"] == "cifar10" else "")
                     + f", n = {summary['n_test']}", fontsize=9)
    # Handles of their own: a bar kind may be absent from every panel's first model (a 'self' transfer).
    handles = [Patch(color=f"C{j}" if j else "0.6", label=bar) for j, bar in enumerate(bars)]
    fig.legend(handles=handles, loc="lower center", ncol=len(bars), bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    save(fig, path)


def compare_figure(summary: dict, path) -> None:
    """Accuracy against eps from analysis.compare: white-box solid, black-box dashed. At a single eps,
    analysis.compare's own bar chart (no line to draw)."""
    s = summary["settings"]
    if len(s["eps"]) < 2:
        bar_figure(summary, path)
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
