"""One figure style for every plot of the study, and one way to save it (PNG + PDF).

Sizes are in inches of the printed page: a figure is drawn at PAGE (17 cm, a page's text width) or
COLUMN (8.5 cm) wide, and the PNG is saved at DPI so that a page-wide figure is ~1000 px, the width a
rendered README/REPORT shows it at: the font sizes below are then the sizes a reader sees.

Colour means the model, everywhere (MODEL_COLORS, the Okabe-Ito palette, safe for colour-blind
readers); line style and marker mean the attack setting (SETTINGS) or the attack (ATTACK_MARKERS).
Legends go below the panels (legend_below), never over the data. Every figure's title or caption says
what its error bars are. :func:`save` returns what was drawn (Drawn) so that REPORT.md's caption can be
checked against the picture.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np

from analysis.defaults import COMPARE_KIND, MODEL_ORDER, NET_LABELS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PAGE = 6.7     # inches: 17 cm, the text width of a page
COLUMN = 3.35  # inches: 8.5 cm, one column of a two-column paper
DPI = 150      # PAGE * DPI ~ 1000 px: a rendered markdown page shows the PNG at about its saved size

STYLE = {
    "figure.dpi": 100, "savefig.dpi": DPI, "font.size": 8, "axes.titlesize": 8.5, "axes.labelsize": 8,
    "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "legend.fontsize": 7.5, "figure.titlesize": 9,
    "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
    "lines.linewidth": 1.4, "lines.markersize": 4, "errorbar.capsize": 2, "legend.frameon": False,
}
plt.rcParams.update(STYLE)
# no creation date or version in the PDF: a redraw of unchanged data gives the same file (no diff churn)
PDF_METADATA = {"CreationDate": None, "Creator": None, "Producer": None}

# --- one colour per model (Okabe & Ito 2008), keyed like NET_LABELS; the order is NET_LABELS' order ----------
MODEL_COLORS = {"cnn": "#D55E00", "snn": "#0072B2", "converted": "#E69F00", "tgo": "#CC79A7", "stdp": "#009E73",
                "stdp-cnn": "#000000", "bio": "#56B4E9"}
assert set(MODEL_COLORS) == set(NET_LABELS), "every model of NET_LABELS needs its colour"
CLEAN = "0.45"          # clean accuracy: a grey reference, not a model
_FROM_COMPARE = {kind: net for net, kind in COMPARE_KIND.items()}   # analysis.compare's kind -> NET_LABELS key


def net_of(kind: str) -> str:
    """The NET_LABELS key of a model named the way analysis.compare names it ("stdp-net", "stdp" = Brian2)."""
    return _FROM_COMPARE.get(kind, kind)


def model_color(net: str) -> str:
    return MODEL_COLORS.get(net, "0.3")


def model_rank(net: str) -> int:
    """Position in the one model order every figure uses."""
    return MODEL_ORDER.index(net) if net in MODEL_ORDER else len(MODEL_ORDER)


# --- attack settings: line style and marker, the same in every figure ------------------------------------
SETTINGS = {  # setting -> (line style, marker, label)
    "white": ("-", "o", "white-box (own gradient)"),
    "transfer": ("--", "s", "black-box (transferred)"),
    "random": (":", "^", "random sign (control)"),
    "worst": ("-", "X", "worst case per example (white-box)"),
}
ATTACK_MARKERS = {"fgsm": "o", "pgd": "s", "apgd-ce": "D", "apgd-dlr": "v", "square": "^", "square-art": "<"}

# --- perturbations of analysis.damping and the sweeps: a setting each ---------------------------------------
DELTAS = {"fgsm": ("white", "white-box FGSM (own gradient, EOT)"),
          "transfer": ("transfer", "FGSM transferred from the source CNN (black-box)"),
          "random": ("random", "random sign (control)")}
CHANGE_LABEL = "relative change ||f(x+d) - f(x)||$_1$ / ||f(x)||$_1$"
STAGE_LABEL = "stage, input to output"
EPS_LABEL = "epsilon (L-inf, pixel scale [0, 1])"
ACC_LABEL = "test accuracy (%)"
CI_SEEDS = "error bars: 95 % interval of the mean over seeds"
CI_BOOT = "error bars: bootstrap 95 % interval over the test images"
CI_WILSON = "error bars: 95 % Wilson interval on the test images"


def delta_style(name: str) -> dict:
    """Line style, marker and label of perturbation ``name`` (colour: the model's, given by the caller)."""
    ls, marker, _ = SETTINGS[DELTAS[name][0]]
    return {"ls": ls, "marker": marker, "label": DELTAS[name][1]}


def size(width: float = PAGE, panel_h: float = 2.2, rows: int = 1, extra: float = 0.6) -> tuple[float, float]:
    """(width, height) in inches: ``rows`` panels of ``panel_h`` and ``extra`` for titles and the legend."""
    return width, panel_h * rows + extra


def grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns for n panels, at most max_cols across (a page's width holds 3 readable panels)."""
    cols = min(n, max_cols)
    return -(-n // cols), cols


def wrap(text: str, width: int = 95) -> str:
    """Break a title into lines that fit: ~95 characters of the title font span a page's width, ~30 a
    panel of a 3-across grid."""
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def suptitle(fig, text: str, width: int | None = None) -> None:
    """The figure's title, wrapped to its width."""
    fig.suptitle(wrap(text, width or int(95 * fig.get_size_inches()[0] / PAGE)))


def legend_below(fig, axes=None, handles=None, ncol: int | None = None) -> None:
    """One legend for the figure, each label once, below the panels (outside the data)."""
    if handles is None:
        seen = {}
        for ax in np.ravel(axes if axes is not None else fig.axes):
            for h, lab in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(lab, h)
        handles = [(h, lab) for lab, h in seen.items()]
    if not handles:
        return
    ncol = ncol or min(len(handles), 3)
    fig.legend([h for h, _ in handles], [lab for _, lab in handles], loc="outside lower center", ncol=ncol)


def hide_unused(axes, n: int) -> None:
    """A grid's cells past the n-th panel: not drawn (no empty frame)."""
    for ax in np.ravel(axes)[n:]:
        ax.remove()


# --- saving, and what was drawn -----------------------------------------------------------------------------
@dataclass
class Drawn:
    """A saved figure: where, the texts a reader can find in it (panel titles, legend entries, axis labels),
    its size in pixels, and the panels left out for want of data (what, and the command that makes it)."""
    path: Path
    texts: set[str] = field(default_factory=set)
    size_px: tuple[int, int] = (0, 0)
    panels: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)

    def shows(self, text: str) -> bool:
        """Whether some text of the figure holds ``text`` (line breaks of wrapped labels read as spaces)."""
        return any(text in " ".join(t.split()) for t in self.texts)


def texts_of(fig) -> set[str]:
    out = {t.get_text() for t in fig.texts}
    for leg in fig.legends:
        out |= {t.get_text() for t in leg.get_texts()}
    for ax in fig.axes:
        out |= {ax.get_title(loc) for loc in ("left", "center", "right")} | {ax.get_xlabel(), ax.get_ylabel()}
        out |= {t.get_text() for t in ax.get_yticklabels()} | {t.get_text() for t in ax.texts}
        if ax.get_legend():
            out |= {t.get_text() for t in ax.get_legend().get_texts()}
    return {t for t in out if t}


def save(fig, path, missing=()) -> Drawn:
    """PNG (for README/REPORT) and PDF (for papers) at ``path`` (any suffix replaced); returns what was drawn."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path.with_suffix(".png"))
    fig.savefig(path.with_suffix(".pdf"), metadata=PDF_METADATA)
    w, h = fig.get_size_inches() * DPI
    drawn = Drawn(path.with_suffix(".png"), texts_of(fig), (round(w), round(h)),
                  sum(1 for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"), list(missing))
    plt.close(fig)
    return drawn


def log_y(ax) -> None:
    """A log y axis labelled in plain numbers (0.3, not 3 x 10^-1), minor ticks too: the
    relative changes span less than two decades, so the minor ticks carry most of the reading."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=6.5)


def positive(v):
    """Zeros (a deterministic stage has no noise floor) cannot sit on a log axis."""
    v = np.asarray(v, float)
    return np.where(v > 0, v, np.nan)
