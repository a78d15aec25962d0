"""The weight-sparsity figure (seed 000's claim), from analysis.weight_sparsity's sparsity.json."""
from __future__ import annotations

import numpy as np

from analysis.defaults import DSET_NAMES
from analysis.plotting import PAGE, legend_below, model_color, model_rank, plt, positive, save, suptitle


def sparsity_figure(summary: dict, path):
    models = dict(sorted(summary["models"].items(), key=lambda kv: model_rank(kv[1].get("net", ""))))
    fig, axes = plt.subplots(1, 2, figsize=(PAGE, 3.0), layout="constrained")
    bins = np.asarray(summary["bins"])
    centres = 0.5 * (bins[1:] + bins[:-1])
    for name, rec in models.items():
        first = rec["layers"][0]
        h = np.asarray(first["histogram"], float)
        axes[0].step(centres, positive(h / h.sum()), where="mid", color=model_color(rec.get("net", "")),
                     label=f"{rec['label']} (first layer {'learned by STDP' if not first['trained'] else 'trained'})")
    axes[0].set(xlabel="|w| / largest |w| of its unit, first layer", ylabel="share of weights", yscale="log",
                title="first-layer weight magnitudes")
    cut = f"{summary['cut']:g}"
    width = 0.8 / max(len(models), 1)
    n_layers = max(len(rec["layers"]) for rec in models.values())
    for k, (name, rec) in enumerate(models.items()):
        shares = [100 * L["share_below"][cut] for L in rec["layers"]]
        axes[1].bar(np.arange(len(shares)) + (k - (len(models) - 1) / 2) * width, shares, width,
                    color=model_color(rec.get("net", "")))
    axes[1].set_xticks(range(n_layers), [str(i) for i in range(n_layers - 1)] + ["output"])
    axes[1].set(xlabel="weight layer", ylabel=f"% of weights < {100 * summary['cut']:g} % of unit max",
                title="sparsity per layer")
    legend_below(fig, axes[:1], ncol=1)
    dset = summary.get("dset", "mnist")   # files written before weight_sparsity recorded it are MNIST's
    suptitle(fig, f"Weight sparsity, {DSET_NAMES.get(dset, dset)} (one trained model each, no error bars)")
    return save(fig, path)
