"""One model at one eps (:func:`evaluate`): how robust it is, and where a perturbation dies out.

analysis.damping and the sweeps (analysis.leak_sweep, analysis.timestep_sweep, through
analysis.sweep_points) measure here: clean accuracy, white-box FGSM, FGSM transferred from a source CNN
and the random-sign control (:func:`shared_deltas`), the Poisson-redraw floor, and the relative change
of the perturbation at every stage of the network (:func:`relative_change`) with the Poisson noise floor
next to it. Cached per (model, eps) by :func:`evaluate_cached` (analysis.damping) or as a sweep point
(analysis.sweep_points). The measured model is a :class:`TorchSubject` or the Brian2 network
(:meth:`analysis.measurement.brian_target.Brian2Target.measured`), both made by :func:`subject`.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import imagesets
from analysis.defaults import FULL_LEVELS, NET_SHORT
from analysis.measurement.brian_target import Brian2Target
from analysis.measurement.crafting import batched_predict, digest, fgsm, quantize
from analysis.metrics import robustness
from networks.cnn import IN_SHAPE, as_images
from networks.registry import load_model
from runstore.files import load_json, load_npz, save_json, save_npz

EVAL_VERSION = 2      # bump when evaluate() changes: cached sweep points and damping results are redone


# --- the change per stage ----------------------------------------------------------------------
def change(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Per example, (||b - a||_1, ||a||_1). ``a``/``b``: tensors or arrays (N, ...), or
    lists of event ids (spike trains as sets of (step, neuron) codes)."""
    if isinstance(a, list):
        num = [len(np.setxor1d(p, q, assume_unique=True)) for p, q in zip(a, b)]
        return np.asarray(num, float), np.asarray([len(p) for p in a], float)
    a, b = (torch.as_tensor(v).double().flatten(1) for v in (a, b))
    return (b - a).abs().sum(1).numpy(), a.abs().sum(1).numpy()


def relative_change(a, b) -> float:
    num, den = change(a, b)
    return float(num.sum() / den.sum()) if den.sum() > 0 else float("nan")


def summarize(num, den, seed: int = 0, n_boot: int = 200) -> dict:
    """The pooled ratio and a bootstrap 95% interval over examples."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    if den.sum() == 0:
        return {"value": None, "ci95": None}
    idx = np.random.default_rng(seed).integers(0, len(num), (n_boot, len(num)))
    boot = num[idx].sum(1) / np.maximum(den[idx].sum(1), 1e-300)
    return {"value": float(num.sum() / den.sum()), "ci95": [float(np.percentile(boot, 2.5)),
                                                            float(np.percentile(boot, 97.5))]}


# --- what evaluate() measures: a torch model, or the Brian2 network ----------------------------
class TorchSubject:
    """A CNN or SpikingNet (behind an optional input quantizer). Images and results stay on the
    CPU; only the model's own work runs on its device."""

    def __init__(self, model, label: str, run=None, levels: int = FULL_LEVELS):
        self.model, self.label, self.run, self.levels = model.eval(), label, run, int(levels)
        self.device = next(model.parameters()).device
        self.stochastic = hasattr(model, "T")
        self.batch_size = self.stage_batch = max(10, 400 // model.T) if self.stochastic else 200
        self.loss = "ce"

    def scores(self, x):
        return self.model(quantize(x, self.levels).to(self.device)).to(x.device)

    def predict(self, x, seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        return batched_predict(self.scores, x, self.batch_size)

    @torch.no_grad()
    def stages(self, x, seed: int) -> dict:
        torch.manual_seed(seed)
        logits, rec = self.model(quantize(x, self.levels).to(self.device), record=True)
        logits, rec = logits.cpu(), {k: v.cpu() for k, v in rec.items()}
        st = {"image": x} if self.levels < FULL_LEVELS else {}
        st["input"] = rec["input"]
        if self.stochastic:
            st["input spikes"] = rec["input_spikes"]
            st["input rate"] = rec["input_spikes"].mean(1)
        for i in range(self.model.n_hidden):
            if self.stochastic:
                st[f"L{i + 1} mem"], st[f"L{i + 1} rate"] = rec[f"mem.{i}"], rec[f"rate.{i}"]
            else:
                st[f"L{i + 1}"] = rec[f"act.{i}"]
        st["output"] = logits
        return st


def torch_label(run) -> str:
    """The label of a networks.train run in analysis.damping and the sweeps: its short name (NET_SHORT),
    time steps and neuron."""
    cfg = load_json(Path(run) / "config.json")
    m, net = cfg["model"], cfg["net"]
    if net == "cnn":
        return f"{NET_SHORT['cnn']} (ReLU)"
    neuron = "IF" if m.get("leak", 1.0) == 1.0 else f"LIF, leak {m['leak']:g}"
    return f"{NET_SHORT.get(net, net)} (T={m['T']}, {neuron})"


def subject(kind: str, run, levels: int = FULL_LEVELS, device: torch.device | str = "cpu", **kw):
    """The measured model of a run: ``kind`` "bio" the Brian2 network, else a networks.train net."""
    if kind == "bio":
        return Brian2Target(run).measured(levels=levels, device=device, **kw)
    return TorchSubject(load_model(run, device), torch_label(run), run=Path(run), levels=levels)


def load_test(n: int, data_dir=None, dset: str = "mnist"):
    """The first ``n`` test images of ``dset`` (N, C, H, W) in [0, 1] and their labels."""
    images, labels = imagesets.load(dset, "test", data_dir=data_dir)
    return (as_images(torch.as_tensor(images[:n], dtype=torch.float32) / 255.0, IN_SHAPE[dset]),
            torch.as_tensor(labels[:n], dtype=torch.long))


# --- one model at one eps: accuracy, controls and the change per stage --------------------------
def random_sign(x, eps: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (x + eps * (torch.randint(0, 2, x.shape, generator=g).to(x) * 2 - 1)).clamp(0, 1)


def shared_deltas(x, y, eps: float, seed: int, source=None) -> dict:
    """The perturbations every model gets alike: transfer from the source CNN, random signs."""
    out = {"transfer": fgsm(source, x, y, eps, 1, seed)} if source is not None else {}
    out["random"] = random_sign(x, eps, seed)
    return out


def evaluate(subj, x, y, eps: float, *, eot: int = 4, seed: int = 0, shared: dict | None = None) -> tuple[dict, dict]:
    """(result, adversarial images) of one model at one eps: accuracy and change per stage."""
    t0 = time.perf_counter()
    white_box = getattr(subj, "white_box", None) or (lambda *a: fgsm(subj, *a))
    deltas = {"fgsm": white_box(x, y, eps, eot, seed), **(shared or {})}
    craft_s = time.perf_counter() - t0
    y_np = y.numpy()
    pred_clean = subj.predict(x, seed + 1)
    res = {"label": subj.label, "run": str(subj.run), "levels": subj.levels, "eps": eps, "n": len(x),
           "eot": eot if subj.stochastic else 1, "clean_accuracy": float((pred_clean == y_np).mean()), "deltas": {},
           "eval_version": EVAL_VERSION, **({"white_box": subj.white_box_info} if hasattr(subj, "white_box_info")
                                            else {})}
    if subj.stochastic:   # a fresh draw of the clean image alone flips some predictions: the ASR's floor
        res["redraw"] = robustness(y_np, pred_clean, subj.predict(x, seed + 99))
    for k, (name, xa) in enumerate(deltas.items()):
        res["deltas"][name] = {**robustness(y_np, pred_clean, subj.predict(xa, seed + 2 + k)),
                               "linf": float((xa - x).abs().flatten(1).amax(1).mean())}
    parts: dict = {}
    step = subj.stage_batch or len(x)
    for b, k in enumerate(range(0, len(x), step)):
        sl, s = slice(k, k + step), seed + 1000 * (b + 1)
        ref = subj.stages(x[sl], s)
        others = {name: subj.stages(xa[sl], s) for name, xa in deltas.items()}
        if subj.stochastic:
            others["noise floor"] = subj.stages(x[sl], s + 1)
        for name, st in others.items():
            for stage in ref:
                num, den = change(ref[stage], st[stage])
                parts.setdefault(name, {}).setdefault(stage, []).append((num, den))
    summary = {name: {stage: summarize(*map(np.concatenate, zip(*p)), seed=seed) for stage, p in by_stage.items()}
               for name, by_stage in parts.items()}
    res["stages"] = list(ref)
    res["noise_floor"] = summary.pop("noise floor", None)
    for name in deltas:
        res["deltas"][name]["change"] = summary[name]
    res.update(craft_seconds=craft_s, seconds=time.perf_counter() - t0)
    return res, deltas


def evaluate_cached(cache: Path, kind: str, run: Path, x, y, eps: float, *, eot: int, levels: int, seed: int,
                    source_dir, shared: Callable[[], dict], device) -> tuple[dict, dict]:
    """:func:`evaluate` of the ``kind`` model trained in ``run``, cached per (model, eps) under ``cache``:
    (result, the first 8 adversarial images per perturbation). ``shared()`` gives :func:`shared_deltas`,
    called only when something is computed (crafting on the source CNN is not free)."""
    name = f"{kind}-eps{eps:g}-" + digest({"run": run.resolve(), "eps": eps, "n": len(x), "eot": eot,
                                           "levels": levels, "seed": seed, "source": source_dir,
                                           "eval_version": EVAL_VERSION})
    # not with_suffix: the name's "0.1" would be taken for a suffix, and every eps share one file
    cached_json, cached_npz = cache / f"{name}.json", cache / f"{name}.npz"
    if not cached_json.exists():
        common = shared()   # before the model loads, as it always was
        subj = subject(kind, run, levels=levels, device=device)
        print(f"{subj.label}, eps {eps:g} ...", flush=True)
        res, deltas = evaluate(subj, x, y, eps, eot=eot, seed=seed, shared=common)
        save_npz(cached_npz, **{k: v[:8].numpy() for k, v in deltas.items()})
        save_json(cached_json, res)
    return load_json(cached_json), load_npz(cached_npz)
