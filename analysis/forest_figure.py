"""The forest plot of the seed claims: every claim's effects (analysis.effects.Effect) as a point estimate with
its interval, one row per part, grouped under its claim, a zero line; and its data beside it.

The rows are the claims' own effects (``Claim.effects``, the numbers their verdicts test), so plot and
verdict cannot disagree; ``claims_forest.json`` beside the figure holds them as drawn. Percentage points
(ASR, adversarial, clean accuracy, weight shares) and relative changes (damping) get a panel each.
Imports the plotting style and analysis.effects only.
"""
from __future__ import annotations

import math
from pathlib import Path

from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from analysis.effects import status
from analysis.plotting import PAGE, legend_below, plt, save, suptitle
from runstore.files import save_json

# unit family -> panel title; an effect's unit names its family by its last word
PANELS = {"points": "difference in percentage points", "change": "difference in relative change"}
ROW_H, HEAD_H = 0.13, 0.17   # inches per row and per claim's header
COUNTED, SHOWN = "counted in the verdict", "shown beside it, not counted"
# (expect, unless_reversed) -> what the claim predicts of the difference
EXPECTED = {(1, False): "> 0", (-1, False): "< 0", (-1, True): "not > 0", (1, True): "not < 0", (0, False): "= 0"}


def family(unit: str) -> str:
    return "change" if unit.endswith("change") else "points"


def number(v: float) -> float | None:
    """A bound that is not there (an interval that could not be computed) as None: the JSON stays JSON."""
    return None if v is None or math.isnan(v) else v


def forest_rows(claims) -> list[dict]:
    """One row per effect of every claim, in the claims' order: what the figure draws and its JSON holds."""
    return [{"claim": c.statement, "verdict": c.verdict, "part": e.name, "estimate": e.estimate,
             "low": number(e.low), "high": number(e.high), "unit": e.unit, "expect": e.expect, "counted": e.counted,
             "margin": e.margin, "how": e.how, "note": e.note, "unless_reversed": e.unless_reversed,
             "status": status(e)}
            for c in claims for e in c.effects]


def layout(rows: list[dict]) -> dict:
    """Panel family -> its lines from the top: ("head", claim) or ("row", row); a claim's header starts
    each group (again in a second panel if its effects span both)."""
    out = {}
    for r in rows:
        lines = out.setdefault(family(r["unit"]), [])
        if not any(kind == "head" and what == r["claim"] for kind, what in lines):
            lines.append(("head", r["claim"]))
        lines.append(("row", r))
    return {k: out[k] for k in PANELS if k in out}


def panel(ax, fig, lines: list) -> None:
    """One panel's rows: the interval as a line, the estimate filled (counted) or hollow (shown only), the
    part's status at the right, each claim's statement above its rows across the figure."""
    across = blended_transform_factory(fig.transFigure, ax.transData)
    right = blended_transform_factory(ax.transAxes, ax.transData)
    ticks, labels = [], []
    for y, (kind, what) in enumerate(lines):
        y = -y
        if kind == "head":
            ax.text(0.01, y, what, transform=across, fontsize=6.8, fontweight="bold", va="center",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})   # over the zero line
            continue
        face = "black" if what["counted"] else "white"
        if what["low"] is not None and what["high"] is not None:
            ax.plot([what["low"], what["high"]], [y, y], color="0.2", lw=1.0)
        ax.plot([what["estimate"]], [y], "o", ms=3.6, mfc=face, mec="black", mew=0.8)
        ax.text(1.01, y, f"claim {EXPECTED[(what['expect'], what['unless_reversed'])]}: {what['status']}"
                + ("" if what["counted"] else " (not counted)"), transform=right, fontsize=5.8, va="center")
        ticks.append(y)
        labels.append(what["part"])
        if what["margin"]:   # the no-effect band, beside the parts that have one (sweeps, damping over seeds)
            ax.vlines([-what["margin"], what["margin"]], y - 0.5, y + 0.5, color="0.55", lw=0.7, ls=":")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(ticks, labels, fontsize=5.8)
    ax.set_ylim(-len(lines) + 0.4, 0.6)
    ax.grid(axis="y", visible=False)


def forest_figure(claims, path):
    """The forest plot at ``path`` (PNG and PDF) and its rows in ``path``.json; None, with nothing written,
    when no claim has an effect."""
    rows = forest_rows(claims)
    if not rows:
        return None
    path = Path(path)
    save_json(path.with_suffix(".json"), {"rows": rows})
    panels = layout(rows)
    heights = [sum(ROW_H if k == "row" else HEAD_H for k, _ in lines) for lines in panels.values()]
    fig, axes = plt.subplots(len(panels), 1, figsize=(PAGE, sum(heights) + 0.45 * len(heights) + 1.0), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, layout="constrained")
    for ax, (name, lines) in zip(axes[:, 0], panels.items()):
        panel(ax, fig, lines)
        ax.set_title(PANELS[name], loc="left")
    handles = [(Line2D([], [], color="black", marker="o", ls="-", mfc="black", ms=3.6), COUNTED),
               (Line2D([], [], color="black", marker="o", ls="-", mfc="white", ms=3.6), SHOWN)]
    margins = {family(r["unit"]): r["margin"] for r in rows if r["margin"]}
    if margins:
        handles.append((Line2D([], [], color="0.55", ls=":"), "no-effect margin: "
                        + ", ".join(f"±{m:g} {'points' if unit == 'points' else 'rel. change'}"
                                    for unit, m in margins.items())))
    legend_below(fig, handles=handles, ncol=len(handles))
    suptitle(fig, "Seed claims: each part's effect with its 95 % interval (right: its status)")
    return save(fig, path)
