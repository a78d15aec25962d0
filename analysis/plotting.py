"""One figure style for every plot of the study, and one way to save it (PNG + PDF)."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
    "legend.fontsize": 9, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
    "axes.spines.right": False, "lines.linewidth": 1.8, "lines.markersize": 5,
}
plt.rcParams.update(STYLE)


def save(fig, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path.with_suffix(".png"), bbox_inches="tight")
    fig.savefig(path.with_suffix(".pdf"), bbox_inches="tight")
    plt.close(fig)


def log_y(ax) -> None:
    """A log y axis labelled in plain numbers (0.3, not 3 x 10^-1), minor ticks too: the
    relative changes span less than two decades, so the minor ticks carry most of the reading."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)


# --- shared by the analysis figure families (damping_figures, sweep_figures) ------------------
DELTAS = {"fgsm": ("C3", "o", "white-box FGSM (own gradient, EOT)"),
          "transfer": ("C0", "s", "FGSM transferred from the source CNN (black-box)"),
          "random": ("C2", "^", "random sign (control)")}   # colour, marker, label of each perturbation
CHANGE_LABEL = "relative change ||f(x+d) - f(x)||$_1$ / ||f(x)||$_1$"
STAGE_LABEL = "stage, input to output"
EPS_LABEL = "epsilon (L-inf, pixel scale [0, 1])"


def positive(v):
    """Zeros (a deterministic stage has no noise floor) cannot sit on a log axis."""
    v = np.asarray(v, float)
    return np.where(v > 0, v, np.nan)
