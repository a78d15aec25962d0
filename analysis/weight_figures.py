"""The weight-sparsity figure (seed 000's claim), from analysis.weight_sparsity's sparsity.json."""
from __future__ import annotations

import numpy as np

from analysis.plotting import plt, positive, save


def sparsity_figure(summary: dict, path) -> None:
    models = summary["models"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    bins = np.asarray(summary["bins"])
    centres = 0.5 * (bins[1:] + bins[:-1])
    for name, rec in models.items():
        first = rec["layers"][0]
        h = np.asarray(first["histogram"], float)
        axes[0].step(centres, positive(h / h.sum()), where="mid",
                     label=f"{rec['label']} ({'STDP' if not first['trained'] else 'trained'})")
    axes[0].set(xlabel="|w| / largest |w| of its unit, first layer", ylabel="share of weights", yscale="log",
                title="first-layer weight magnitudes")
    axes[0].legend()
    cut = f"{summary['cut']:g}"
    width = 0.8 / max(len(models), 1)
    n_layers = max(len(rec["layers"]) for rec in models.values())
    for k, (name, rec) in enumerate(models.items()):
        shares = [100 * L["share_below"][cut] for L in rec["layers"]]
        axes[1].bar(np.arange(len(shares)) + (k - (len(models) - 1) / 2) * width, shares, width, label=rec["label"])
    axes[1].set_xticks(range(n_layers), [str(i) for i in range(n_layers - 1)] + ["output"])
    axes[1].set(xlabel="weight layer", ylabel=f"% of weights < {100 * summary['cut']:g} % of unit max",
                title="sparsity per layer")
    axes[1].legend()
    save(fig, path)
