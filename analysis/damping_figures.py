"""Figures of analysis.damping from its saved JSON/NPZ: the change per stage, accuracy against eps,
the adversarial-example gallery and the Brian2 raster.

Imports only plotting helpers, numpy and the readers of analysis.saved_results, never the
computing modules, so analysis.damping can draw with it and analysis.figures redraw with it.
"""
from __future__ import annotations

import numpy as np

from analysis.plotting import CHANGE_LABEL, DELTAS, EPS_LABEL, STAGE_LABEL, log_y, plt, positive, save
from analysis.saved_results import MODEL_ORDER, adv, changes, last_hidden, main_eps, stage_ratio, value_of


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
        ax.plot(xs, positive([value_of(res["noise_floor"].get(s)) for s in res["stages"]]), ":", color="0.3",
                marker=".", label="Poisson noise floor (two clean draws)")
    log_y(ax)
    ax.set_xticks(xs, res["stages"], rotation=40, ha="right", fontsize=8)
    ax.set_xlabel(STAGE_LABEL, fontsize=8)
    ax.set_title(title, fontsize=10)


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
