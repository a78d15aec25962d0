"""How sparse each layer's weights are: seed 000's claim that STDP learns sparse connectivity.

    python -m analysis.weight_sparsity                       # the MNIST CNN, surrogate SNN and STDP net
    python -m analysis.weight_sparsity --runs runs/baselines/snn-mnist-s0 runs/baselines/stdp-mnist-s0

Per weight layer, every weight's magnitude is divided by the largest magnitude into the same unit
(output neuron or feature map), so that a layer's scale (the STDP layer's is standardised, the
trained layers' are not) does not matter; a weight below ``--cut`` (default 5 %) of its unit's
largest counts as absent. Writes ``sparsity.json`` (shares per layer and histograms of the
normalised magnitudes) and beside it the figure ``weight_sparsity.png/.pdf``; analysis.figures
redraws the figure (analysis.weight_figures) from the JSON.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from analysis.defaults import NET_LABELS, RESULTS, RUNS
from analysis.weight_figures import sparsity_figure
from networks.registry import CONFIG, load_model
from runstore.cli import Parser, exit_with
from runstore.files import load_json, save_json
from runstore.provenance import provenance

DEFAULT_RUNS = [str(RUNS / f"baselines/{net}-mnist-s0") for net in ("cnn", "snn", "stdp")]
CUTS = (0.01, 0.05, 0.1)
BINS = np.linspace(0, 1, 41)


def normalised_magnitudes(weight: torch.Tensor) -> np.ndarray:
    """|w| / max |w| of its output unit (row of a Linear, filter of a Conv2d), flattened."""
    a = weight.detach().abs().flatten(1).double()
    return (a / a.amax(1, keepdim=True).clamp_min(1e-30)).flatten().numpy()


def layer_sparsity(model) -> list[dict]:
    out = []
    for i, layer in enumerate(model.layers):
        m = normalised_magnitudes(layer.weight)
        out.append({"layer": i, "kind": type(layer).__name__, "n_weights": int(m.size),
                    "trained": bool(layer.weight.requires_grad),
                    "share_below": {f"{c:g}": float((m < c).mean()) for c in CUTS},
                    "histogram": np.histogram(m, BINS)[0].tolist()})
    return out


def main(argv=None) -> dict:
    p = Parser(prog="python -m analysis.weight_sparsity", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, help="networks.train run directories")
    p.add_argument("--cut", type=float, default=0.05, choices=CUTS, help="below this share of its unit's max a "
                   "weight counts as absent")
    p.add_argument("--out", default=str(RESULTS / "weights"))
    p.add_argument("--figures", default=None, help="figure folder (default: --out, beside sparsity.json)")
    args = p.parse_args(argv)
    models, dsets = {}, set()
    for run in map(Path, args.runs):
        if not (run / CONFIG).exists():
            raise SystemExit(f"error: {run} is not a networks.train run (no {CONFIG}); train it first, e.g. "
                             f"python -m networks.train --net {run.name.split('-')[0]} --dset mnist --out {run}")
        cfg = load_json(run / CONFIG)
        net, label = cfg["net"], NET_LABELS.get(cfg["net"], cfg["net"])
        dsets.add(cfg.get("dset"))
        models[run.name] = {"run": str(run), "net": net, "label": label, "layers": layer_sparsity(load_model(run))}
    if len(dsets) > 1:
        raise SystemExit(f"error: runs of several datasets ({', '.join(sorted(map(str, dsets)))}); compare one at a time")
    summary = {"dset": dsets.pop(), "cut": args.cut, "cuts": list(CUTS), "bins": BINS.tolist(), "models": models,
               "provenance": provenance(args, args.runs)}
    out = Path(args.out)
    save_json(out / "sparsity.json", summary)
    sparsity_figure(summary, Path(args.figures or out) / "weight_sparsity")
    print(f"| model | " + " | ".join(f"layer {i}" for i in range(max(len(m["layers"]) for m in models.values())))
          + f" |  (% of weights < {100 * args.cut:g} % of their unit's largest)")
    for m in models.values():
        print(f"| {m['label']} | " + " | ".join(f"{100 * L['share_below'][f'{args.cut:g}']:.1f}" for L in m["layers"]) + " |")
    print(f"wrote {out / 'sparsity.json'}")
    return summary


if __name__ == "__main__":
    exit_with(main)
