"""Figures of ``analysis.attack``: accuracy against epsilon, and a gallery."""
from __future__ import annotations

import numpy as np

from analysis.plotting import plt, save


def accuracy_vs_eps(summary: dict, path, readout: str = "assignment") -> None:
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    clean_b2 = summary["clean"]["brian2"]["assignment"]
    clean_tw = summary["clean"]["twin"]
    for k, name in enumerate(dict.fromkeys(r["attack"] for r in summary["results"])):
        rows = sorted((r for r in summary["results"] if r["attack"] == name), key=lambda r: r["eps"])
        color = f"C{k}"
        if name in ("square", "square-art"):   # on Brian2 only, on its own smaller subset: no clean point, no twin
            ax.plot([r["eps"] for r in rows], [100 * r["brian2"]["assignment"]["adv_accuracy"] for r in rows],
                    "^-", color=color, label=f"{name} on Brian2 (n = {rows[0]['n']})")
            continue
        eps = [0.0] + [r["eps"] for r in rows]
        ax.plot(eps, [100 * clean_b2] + [100 * r["brian2"]["assignment"]["adv_accuracy"] for r in rows],
                "o-", color=color, label=f"{name}: Brian2 (victim)")
        ax.plot(eps, [100 * clean_tw] + [100 * r["twin"]["adv_accuracy"] for r in rows],
                "s--", color=color, alpha=0.7, label=f"{name}: twin (white-box)")
    ax.axhline(10, color="0.5", lw=1, ls=":", label="chance")
    ax.set_xlabel("epsilon (L-inf, pixel scale [0, 1])")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Attacks crafted on the twin ({readout} readout), n = {summary['n_test']}")
    ax.legend(loc="upper right", fontsize=8)
    save(fig, path)


def gallery(clean: np.ndarray, adversarial: dict, path, side: int = 28) -> None:
    """Rows per attack: adversarial image and its perturbation; top row clean."""
    n = len(clean)
    rows = 1 + 2 * len(adversarial)
    fig, axes = plt.subplots(rows, n, figsize=(1.1 * n, 1.15 * rows), squeeze=False)
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
    save(fig, path)
