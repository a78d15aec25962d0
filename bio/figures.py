"""Figures of a trained STDP run: receptive fields and class assignments."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bio.parameters import N_CLASSES, W_MAX


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


MAX_TILES = 400   # a 20 x 20 mosaic: at a page's width each 28x28 tile is ~25 px, still a readable digit


def receptive_fields(weights: np.ndarray, path, side: int = 28, title: str | None = None):
    """The exc neurons' input weights as 28x28 tiles, as in Diehl & Cook's Fig. 2 (the first MAX_TILES
    neurons of a larger network: 6,400 tiles at a page's width would be 12 px each), and the
    weight-sparsity view of seed 000 over all of them: most pixels end near zero.
    """
    plt = _pyplot()
    n_in, n_exc = weights.shape
    shown = min(n_exc, MAX_TILES)
    cols = int(np.ceil(np.sqrt(shown)))
    rows = int(np.ceil(shown / cols))
    mosaic = np.full((rows * side, cols * side), np.nan)
    for k in range(shown):
        r, c = divmod(k, cols)
        mosaic[r * side:(r + 1) * side, c * side:(c + 1) * side] = weights[:, k].reshape(side, side)
    # a page's width (17 cm) at 150 dpi: ~1000 px, the size a rendered README/REPORT shows it at
    fig, (ax, axh) = plt.subplots(1, 2, figsize=(6.7, 3.6), gridspec_kw={"width_ratios": [1.4, 1]})
    im = ax.imshow(mosaic, cmap="hot_r", vmin=0, vmax=W_MAX * 0.5, interpolation="nearest")
    ax.set_axis_off()
    what = f"the first {shown} of {n_exc} neurons" if shown < n_exc else f"{n_exc} neurons"
    ax.set_title(f"{title or 'Input->exc weights'}:\n{what}", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="weight")
    axh.hist(weights.ravel(), bins=60, log=True, color="0.3")
    frac = float((weights < 0.01 * W_MAX).mean())
    axh.set_xlabel("weight")
    axh.set_ylabel("synapses")
    axh.set_title(f"Weight sparsity, all {n_exc} neurons:\n{100 * frac:.1f} % below 0.01", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def assignment_histogram(assignments: np.ndarray, path, class_names=None):
    """How many exc neurons were assigned to each class (-1: never fired)."""
    plt = _pyplot()
    names = list(class_names) if class_names is not None else [str(c) for c in range(N_CLASSES)]
    counts = [int((assignments == c).sum()) for c in range(len(names))]
    unassigned = int((assignments < 0).sum())
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(range(len(names)), counts, color="tab:blue")
    ax.set_xticks(range(len(names)), names, rotation=45 if max(len(s) for s in names) > 2 else 0)
    ax.set_xlabel("assigned class")
    ax.set_ylabel("exc neurons")
    ax.set_title(f"Class assignment ({unassigned} neurons never fired)")
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path.with_suffix(".png"), dpi=150)
    fig.savefig(path.with_suffix(".pdf"), metadata={"CreationDate": None})   # no date: a redraw makes no diff
    _pyplot().close(fig)
