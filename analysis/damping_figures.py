"""Figures of analysis.damping from its saved JSON/NPZ: the change per stage, accuracy against eps,
the adversarial-example gallery and the Brian2 raster; and the converged models over seeds
(:func:`converged_figure`, analysis.damping --from-sweep's converged.json).

Imports only plotting helpers, numpy and the readers of analysis.saved_results, never the
computing modules, so analysis.damping can draw with it and analysis.figures redraw with it.
"""
from __future__ import annotations

import numpy as np

from matplotlib.lines import Line2D

from analysis.plotting import ACC_LABEL, CHANGE_LABEL, CI_BOOT, CI_SEEDS, CLEAN, DELTAS, EPS_LABEL, MODEL_ORDER, PAGE, \
    STAGE_LABEL, delta_style, grid, hide_unused, legend_below, log_y, model_color, plt, positive, save, \
    suptitle, wrap
from analysis.saved_results import adv, changes, last_hidden, main_eps, stage_ratio, value_of

# what makes the damping data a figure lacks (analysis.damping's CLI)
DAMPING_CMD = "python -m analysis.damping --models cnn snn bio"
EPS_CMD = "python -m analysis.damping --eps 0.05 0.1 0.2"
CONVERGED_CMD = "python -m analysis.damping --from-sweep results/sweeps/leak_sweep.json"
FLOOR_LABEL = "Poisson noise floor (two clean draws)"
GAIN_LABEL = "gain: output change / input change"


def delta_legend(names, floor: bool) -> list:
    """The perturbations' line styles in grey (the colour is each panel's model)."""
    out = []
    for name in names:
        st = delta_style(name)
        out.append((Line2D([], [], color="0.25", ls=st["ls"], marker=st["marker"]), st["label"]))
    if floor:
        out.append((Line2D([], [], color=CLEAN, ls=":", marker="."), FLOOR_LABEL))
    return out


def damping_panel(ax, res: dict, title: str, color: str, deltas=None) -> None:
    xs = np.arange(len(res["stages"]))
    for name in deltas or res["deltas"]:
        if name not in res["deltas"]:
            continue
        v = changes(res, name)
        ci = [res["deltas"][name]["change"][s].get("ci95") or [np.nan, np.nan] for s in res["stages"]]
        lo, hi = np.array([c[0] for c in ci], float), np.array([c[1] for c in ci], float)
        ax.errorbar(xs, v, yerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)], color=color,
                    **delta_style(name))
    if res.get("noise_floor"):
        ax.plot(xs, positive([value_of(res["noise_floor"].get(s)) for s in res["stages"]]), ":", color=CLEAN,
                marker=".", label=FLOOR_LABEL)
    log_y(ax)
    ax.set_xticks(xs, res["stages"], rotation=40, ha="right", fontsize=7)
    ax.set_xlabel(STAGE_LABEL)
    ax.set_title(title)


def damping_figure(data: dict, path):
    """Change per stage at the main eps, one panel per model measured there (other eps:
    accuracy_eps_figure); a model without the main eps is left out and named. None if no model has it."""
    eps = main_eps(data)
    kinds = [k for k in MODEL_ORDER if k in data["models"] and eps in data["models"][k]]
    missing = [(f"{k} (not measured at eps {eps})", f"{DAMPING_CMD} --eps {eps}") for k in data["models"]
               if k not in kinds]
    if not kinds:
        return None
    rows, cols = grid(len(kinds), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(PAGE, 2.5 * rows + 1.0), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, kind in zip(axes.flat, kinds):
        res = data["models"][kind][eps]
        damping_panel(ax, res, f"{wrap(res['label'], 32)}\nn = {res['n']}", model_color(kind))
    for r in range(rows):
        axes[r, 0].set_ylabel(CHANGE_LABEL)
    hide_unused(axes, len(kinds))
    shown = [n for n in DELTAS if any(n in data["models"][k][eps]["deltas"] for k in kinds)]
    floor = any(data["models"][k][eps].get("noise_floor") for k in kinds)
    legend_below(fig, handles=delta_legend(shown, floor), ncol=2)
    suptitle(fig, f"How far a perturbation gets: relative change per stage, eps = {eps} ({CI_BOOT})")
    return save(fig, path, missing)


def accuracy_eps_figure(data: dict | None, path):
    """Accuracy against eps of every damping model measured at several eps (top) and the change of its
    last hidden layer over the input's (bottom), a column per model. None, with nothing drawn, when no
    model has two eps."""
    kinds = [k for k in MODEL_ORDER if data and k in data["models"] and len(data["models"][k]) > 1]
    if not kinds:
        return None
    fig, axes = plt.subplots(2, len(kinds), figsize=(PAGE, 5.0), squeeze=False, sharex="col",
                             layout="constrained")
    for c, kind in enumerate(kinds):
        runs = sorted(data["models"][kind].values(), key=lambda r: r["eps"])
        ax, bx, color = axes[0, c], axes[1, c], model_color(kind)
        eps = [0.0] + [r["eps"] for r in runs]
        ax.plot(eps, [100 * np.mean([r["clean_accuracy"] for r in runs])] * len(eps), color=CLEAN, lw=1.2,
                label="clean")
        for name in DELTAS:
            if all(name in r["deltas"] for r in runs):
                ax.plot(eps, [100 * runs[0]["clean_accuracy"]] + [100 * adv(r, name) for r in runs], color=color,
                        **delta_style(name))
                bx.plot(eps[1:], [stage_ratio(r, last_hidden(r), name) for r in runs], color=color,
                        **delta_style(name))
        ax.set_title(f"{wrap(runs[0]['label'], 32)}\nn = {runs[0]['n']}")
        ax.axhline(10, color="0.5", lw=0.8, ls=":")
        ax.set_ylim(0, 100)
        bx.axhline(1, color="0.5", lw=0.8)
        bx.set_ylabel(f"change of {last_hidden(runs[0])} / of input")
        bx.set_xlabel(EPS_LABEL)
    axes[0, 0].set_ylabel(ACC_LABEL)
    legend_below(fig, handles=[(Line2D([], [], color=CLEAN), "clean")] + delta_legend(DELTAS, False), ncol=2)
    suptitle(fig, "Accuracy against eps (top; dotted: chance) and the share of d reaching the last hidden layer "
                 "(bottom; above 1: amplified); no error bars")
    return save(fig, path)


def raster_figure(r: dict, path):
    fig = plt.figure(figsize=(PAGE, 4.8), layout="constrained")
    gs = fig.add_gridspec(3, 2, width_ratios=[1, 5], height_ratios=[2, 1.3, 1.3])
    ax_img = fig.add_subplot(gs[0, 0])
    ax_img.imshow(r["image"].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    ax_img.set_axis_off()
    ax_img.set_title("input image")
    axes = [fig.add_subplot(gs[k, 1]) for k in range(3)]
    assigned, tab = r["assignments"], plt.get_cmap("tab10")
    sizes = {"input": r["image"].size, "exc": int(r["n_exc"]), "inh": int(r["n_exc"])}
    for ax, group, ylabel in zip(axes, ("input", "exc", "inh"), ("input neuron (pixel)", "exc neuron", "inh neuron")):
        i, t = r[f"{group}_i"], r[f"{group}_t"]
        if group == "exc":
            for c in np.unique(assigned[i]):
                sel = assigned[i] == c
                ax.scatter(t[sel], i[sel], s=8, color=tab(int(c) % 10), label=f"class {c}" if c >= 0 else "none")
            ax.legend(title="assigned", fontsize=6.5, title_fontsize=6.5, loc="upper left", bbox_to_anchor=(1, 1))
        else:
            ax.scatter(t, i, s=2 if group == "input" else 8, c="k", marker="|" if group == "input" else "o", lw=0.6)
        ax.set_xlim(0, float(r["present_ms"]))
        ax.set_ylim(-0.5, sizes[group] - 0.5)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{group}: {len(i)} spikes", loc="left")
    axes[-1].set_xlabel("time (ms)")
    suptitle(fig, f"Brian2 network on one test image ({int(r['n_exc'])} exc neurons"
                 + (f"; shown again with the input boosted by {float(r['boost_hz']):g} Hz, as the readout does"
                    if float(r["boost_hz"]) else "") + ")")
    return save(fig, path)


def gallery_figure(examples: dict, data: dict, path, n_show: int = 6):
    """Clean test images, then per perturbation (each model's own FGSM, then the transfer and
    random ones all models share) the perturbation d and the perturbed image, at the main eps."""
    eps = main_eps(data)
    labels = {k: data["models"][k][eps]["label"] for k in data["models"] if eps in data["models"][k]}
    kinds = [k for k in MODEL_ORDER if k in labels]
    sets = [(f"{labels[k]}:\nits own white-box FGSM", examples.get(f"{k}__fgsm__eps{eps}")) for k in kinds]
    sets += [(DELTAS[name][1].replace(" (", ":\n("), next((examples[f"{k}__{name}__eps{eps}"] for k in kinds
                                                           if f"{k}__{name}__eps{eps}" in examples), None))
             for name in ("transfer", "random")]
    sets = [(label, x) for label, x in sets if x is not None]
    clean = examples["x"][:n_show]
    n = len(clean)
    fig, axes = plt.subplots(1 + 2 * len(sets), n, figsize=(PAGE, 0.62 * (1 + 2 * len(sets)) + 0.4),
                             squeeze=False, layout="constrained")
    grey = dict(cmap="gray", vmin=0, vmax=1)
    for j in range(n):
        axes[0, j].imshow(clean[j].reshape(28, 28), **grey)
    axes[0, 0].set_ylabel("clean", rotation=0, ha="right", va="center")
    diverging = None
    for i, (label, x_adv) in enumerate(sets):
        delta = x_adv[:n] - clean
        for j in range(n):
            diverging = axes[1 + 2 * i, j].imshow(delta[j].reshape(28, 28), cmap="seismic", vmin=-float(eps),
                                                  vmax=float(eps))
            axes[2 + 2 * i, j].imshow(x_adv[j].reshape(28, 28), **grey)
        axes[1 + 2 * i, 0].set_ylabel(f"{label}\nperturbation d", rotation=0, ha="right", va="center")
        axes[2 + 2 * i, 0].set_ylabel("x + d", rotation=0, ha="right", va="center")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)
    suptitle(fig, f"Adversarial examples at eps = {eps} (first {n} test images)")
    if diverging is not None:
        fig.colorbar(diverging, ax=axes[1:, :], shrink=0.5, aspect=30).set_label("d (pixel intensity, [0, 1] scale)")
    return save(fig, path)


# --- the converged models over seeds (analysis.damping_seeds) ----------------------------------------
def depth(res: dict) -> dict[str, str]:
    """Position on a depth axis the models share -> the stage of ``res`` drawn there: the input, its spike
    trains (spiking models), each hidden layer (the CNN's activations, the SNN's spike rates, the Brian2
    network's exc spike counts) and the output."""
    st = res["stages"]
    hidden = [s for s in st if s.startswith("L") and not s.endswith("mem") or s == "exc counts"]
    return {"input": st[0], **({"input spikes": "input spikes"} if "input spikes" in st else {}),
            **{f"hidden {i + 1}": s for i, s in enumerate(hidden)}, "output": "output"}


def model_key(res: dict) -> str:
    """A converged model's legend entry: its label and how many seeds its error bars rest on."""
    k = res["n_seeds"]
    return f"{res['label']} ({k} seeds)" if k > 1 else f"{res['label']} (1 seed, bootstrap interval)"


def bars(ax, xs, pooled: list[dict], **style) -> None:
    """Pooled numbers ({value, ci95}) at ``xs`` with their intervals as error bars."""
    v = np.array([value_of(p) for p in pooled], float)
    ci = np.array([(p or {}).get("ci95") or [np.nan, np.nan] for p in pooled], float)
    ax.errorbar(xs, v, yerr=[np.clip(v - ci[:, 0], 0, None), np.clip(ci[:, 1] - v, 0, None)], capsize=2, **style)


def converged_figure(data: dict, path):
    """The converged models' relative change per stage (a panel per perturbation, a line per model on a shared
    depth axis, :func:`depth`; dotted in the model's colour: its Poisson noise floor), and a panel of each
    model's gain per perturbation; error bars: the 95 % interval over seeds (one seed: over the test images).
    None when ``data`` holds no model."""
    kinds = [k for k in MODEL_ORDER if k in data.get("models", {})]
    if not kinds:
        return None
    models = [data["models"][k] for k in kinds]
    names = [n for n in DELTAS if any(n in m["deltas"] for m in models)]
    positions = list(dict.fromkeys(p for m in sorted(models, key=lambda m: -len(depth(m))) for p in depth(m)))
    order = ["input", "input spikes"] + sorted(p for p in positions if p.startswith("hidden")) + ["output"]
    positions = [p for p in order if p in positions]
    rows, cols = grid(len(names) + 1, 2)
    fig, axes = plt.subplots(rows, cols, figsize=(PAGE, 2.6 * rows + 1.2), squeeze=False, layout="constrained")
    for ax, name in zip(axes.flat, names):
        for kind, res in zip(kinds, models):
            if name not in res["deltas"]:
                continue
            at = depth(res)
            xs = [positions.index(p) for p in at]
            bars(ax, xs, [res["deltas"][name]["change"].get(s) for s in at.values()], color=model_color(kind),
                 marker="o", ms=3.5, lw=1.2, label=model_key(res))
            if res.get("noise_floor"):
                ax.plot(xs, positive([value_of(res["noise_floor"].get(s)) for s in at.values()]), ":",
                        color=model_color(kind), marker=".", lw=1.0)
        log_y(ax)
        ax.set_xticks(range(len(positions)), positions, rotation=30, ha="right", fontsize=7)
        ax.set_title(wrap(DELTAS[name][1], 40))
        ax.set_ylabel(CHANGE_LABEL, fontsize=7)
    gx = axes.flat[len(names)]
    width = 0.8 / len(kinds)
    for i, (kind, res) in enumerate(zip(kinds, models)):
        shown = [n for n in names if n in res["deltas"]]
        xs = [names.index(n) + (i - (len(kinds) - 1) / 2) * width for n in shown]
        bars(gx, xs, [res["deltas"][n]["gain"] for n in shown], color=model_color(kind), marker="o", ms=4, ls="none")
    gx.axhline(1, color="0.5", lw=0.8)
    gx.set_xlim(-0.6, len(names) - 0.4)
    gx.set_xticks(range(len(names)), [DELTAS[n][0].replace("white", "white-box") for n in names], fontsize=7)
    gx.set_ylabel(GAIN_LABEL, fontsize=7)
    gx.set_title("gain per model (above 1: amplified)")
    hide_unused(axes, len(names) + 1)
    handles = [(Line2D([], [], color=model_color(k), marker="o", ms=3.5), model_key(r)) for k, r in zip(kinds, models)]
    if any(m.get("noise_floor") for m in models):
        handles.append((Line2D([], [], color=CLEAN, ls=":", marker="."), FLOOR_LABEL + ", in the model's colour"))
    legend_below(fig, handles=handles, ncol=1)
    n = sorted({m["n"] for m in models})
    # with one seed a model's bars are its bootstrap interval over the test images (its legend entry says so)
    bars_are = CI_SEEDS if all(m["n_seeds"] >= 2 for m in models) else \
        "error bars: 95 % interval over seeds, or over the test images for a model of one seed"
    suptitle(fig, f"Converged models (the leak sweep's reference points): relative change per stage, eps = "
                  f"{data['eps']:g}, n = {', '.join(map(str, n))} test images per seed ({bars_are})")
    return save(fig, path)
