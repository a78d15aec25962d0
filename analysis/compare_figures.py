"""The figure of analysis.compare, from its saved compare.json: every model's accuracy under attack,
with the worst case per example (the table's headline) as its own series.

A few eps (1-2): one panel per eps, a row per model: a bar to the worst case, a marker per white-box
attack, the black-box (transferred) attacks and the clean accuracy. Several eps: accuracy against eps,
one panel per attack family, the worst case first. Models keep the order and colours of
analysis.plotting in both. Imports only plotting helpers and numpy, never the computing modules.
"""
from __future__ import annotations

import textwrap

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.defaults import DSET_NAMES
from analysis.plotting import ACC_LABEL, ATTACK_MARKERS, CLEAN, EPS_LABEL, PAGE, SETTINGS, grid, hide_unused, \
    legend_below, model_color, model_rank, net_of, plt, save, suptitle

NAME = "accuracy_under_attack"   # the figure's file name, beside compare.json
MAX_DOT_EPS = 2                  # up to this many eps: a panel per eps; more: accuracy against eps


def ordered_models(summary: dict) -> list[dict]:
    return sorted(summary["models"], key=lambda m: model_rank(net_of(m["net"])))


def eps_text(eps: float, dset: str) -> str:
    return f"eps = {eps:g}" + (f" ({eps * 255:.0f}/255)" if dset == "cifar10" else "")


def cells_of(summary: dict, key: str, **match) -> list[dict]:
    return [c for c in summary["cells"] if c["target"] == key and c.get("adv_accuracy") is not None
            and all(c[k] == v for k, v in match.items())]


def worst_of(summary: dict, key: str, eps: float) -> dict | None:
    return next((c for c in summary.get("worst_case", []) if c["target"] == key and c["eps"] == eps), None)


def source_label(summary: dict, setting: str) -> str:
    return f"black-box from {summary['sources'][setting[len('black-'):]]['label']}"


# transfers from different sources: a marker each (filled, unlike the white-box attacks' open ones)
SOURCE_MARKERS = ("P", "*", "h")


def dot_panel(ax, summary: dict, eps: float, models: list[dict]) -> None:
    """A row per model at one eps: bar to the worst case, open markers per white-box attack above the
    row's middle, filled markers per transfer below it, a grey tick at the clean accuracy."""
    roles = [f"black-{r}" for r in summary["sources"]]
    for y, m in enumerate(models):
        color = model_color(net_of(m["net"]))
        w = worst_of(summary, m["key"], eps)
        if w is not None:
            ax.barh(y, 100 * w["adv_accuracy"], 0.55, color=color, alpha=0.35, edgecolor=color)
        ax.plot([100 * m["clean_accuracy"]] * 2, [y - 0.32, y + 0.32], color=CLEAN, lw=2)
        for c in cells_of(summary, m["key"], eps=eps):
            if c["setting"].startswith("white"):   # own gradient, or BPDA through the CNN it was converted from
                marker = "x" if c["setting"] == "white-bpda" else ATTACK_MARKERS.get(c["attack"], "o")
                ax.plot(100 * c["adv_accuracy"], y + 0.14, marker, mfc="none" if marker != "x" else color,
                        mec=color, ms=5)
            elif c["setting"] in roles:
                marker = SOURCE_MARKERS[roles.index(c["setting"]) % len(SOURCE_MARKERS)]
                ax.plot(100 * c["adv_accuracy"], y - 0.16, marker, color=color, ms=5, alpha=0.85)
    ax.set_yticks(range(len(models)), [textwrap.fill(m["label"], 24) for m in models])
    ax.set_ylim(len(models) - 0.5, -0.5)   # first model on top
    ax.set_xlim(0, 100)
    ax.set_xlabel(ACC_LABEL)
    ax.grid(axis="y", visible=False)
    ax.set_title(eps_text(eps, summary["settings"]["dset"]))


def dot_legend(summary: dict) -> list:
    s = summary["settings"]
    out = [(Patch(color="0.5", alpha=0.5), SETTINGS["worst"][2] + ": bar"),
           (Line2D([], [], color=CLEAN, lw=2), "clean")]
    out += [(Line2D([], [], ls="", marker=ATTACK_MARKERS.get(a, "o"), mfc="none", mec="0.2", ms=5),
             f"white-box {a.upper()}") for a in s["attacks"]]
    if any(c["setting"] == "white-bpda" for c in summary["cells"]):
        out.append((Line2D([], [], ls="", marker="x", color="0.2", ms=5),
                    "white-box through the CNN it was converted from (BPDA)"))
    for k, r in enumerate(summary["sources"]):
        out.append((Line2D([], [], ls="", marker=SOURCE_MARKERS[k % len(SOURCE_MARKERS)], color="0.2", ms=5),
                    f"{source_label(summary, f'black-{r}')} ({', '.join(a.upper() for a in s['attacks'])})"))
    return out


def line_panel(ax, summary: dict, attack: str, models: list[dict]) -> None:
    """Accuracy against eps for one attack family ("worst": the worst case), clean at eps 0."""
    for m in models:
        color, clean = model_color(net_of(m["net"])), 100 * m["clean_accuracy"]
        if attack == "worst":
            series = {"worst": [(c["eps"], c["adv_accuracy"]) for c in summary.get("worst_case", [])
                                if c["target"] == m["key"]]}
        else:
            series = {st: [(c["eps"], c["adv_accuracy"]) for c in cells_of(summary, m["key"], attack=attack, setting=st)]
                      for st in ("white", *(f"black-{r}" for r in summary["sources"]))}
        for st, pts in series.items():
            if not pts:
                continue
            pts = sorted(pts)
            ls, marker, _ = SETTINGS["transfer" if st.startswith("black") else st]
            ax.plot([0] + [p[0] for p in pts], [clean] + [100 * p[1] for p in pts], ls=ls, marker=marker,
                    color=color, label=m["label"] if st in ("white", "worst") else None)
    ax.axhline(10, color="0.5", lw=0.8, ls=":")
    ax.set_ylim(0, 100)
    ax.set_xlabel(EPS_LABEL)
    ax.set_ylabel(ACC_LABEL)
    ax.set_title(SETTINGS["worst"][2] if attack == "worst" else attack.upper())


def line_legend(summary: dict, models: list[dict]) -> list:
    out = [(Line2D([], [], color=model_color(net_of(m["net"]))), m["label"]) for m in models]
    for st in ("worst", "white"):
        ls, marker, label = SETTINGS[st]
        out.append((Line2D([], [], ls=ls, marker=marker, color="0.2"), label))
    for k, r in enumerate(summary["sources"]):
        out.append((Line2D([], [], ls=SETTINGS["transfer"][0], marker=SETTINGS["transfer"][1], color="0.2"),
                    source_label(summary, f"black-{r}")))
    return out


def missing_worst(summary: dict) -> list[tuple[str, str]]:
    if summary.get("worst_case"):
        return []
    return [("the worst case per example (compare.json predates it)",
             f"python -m analysis.compare --dset {summary['settings']['dset']}")]


def compare_figure(summary: dict, path):
    """The figure of one compare.json at ``path`` (PNG + PDF); returns analysis.plotting.Drawn."""
    s, models = summary["settings"], ordered_models(summary)
    n_label = f"n = {summary['n_test']} (the first {summary['n_test']} test images)"
    if len(s["eps"]) <= MAX_DOT_EPS:
        rows, cols = grid(len(s["eps"]), 2)
        fig, axes = plt.subplots(rows, cols, figsize=(PAGE, max(0.5 * len(models), 1.4) * rows + 1.4), sharey=True,
                                 squeeze=False, layout="constrained")
        for ax, eps in zip(axes.flat, s["eps"]):
            dot_panel(ax, summary, eps, models)
        hide_unused(axes, len(s["eps"]))
        legend_below(fig, handles=dot_legend(summary), ncol=2)
    else:
        attacks = (["worst"] if summary.get("worst_case") else []) + list(s["attacks"])
        rows, cols = grid(len(attacks), 3)
        fig, axes = plt.subplots(rows, cols, figsize=(PAGE, 2.3 * rows + 1.2), sharey=True, squeeze=False,
                                 layout="constrained")
        for ax, attack in zip(axes.flat, attacks):
            line_panel(ax, summary, attack, models)
        hide_unused(axes, len(attacks))
        legend_below(fig, handles=line_legend(summary, models), ncol=3)
    suptitle(fig, f"{DSET_NAMES.get(s['dset'], s['dset'])}: accuracy under attack, {n_label}; no error bars (one model each)")
    return save(fig, path, missing_worst(summary))

