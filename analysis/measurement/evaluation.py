"""One model at one eps (:func:`evaluate`): how robust it is, and where a perturbation dies out.

analysis.damping and the sweeps (analysis.leak_sweep, analysis.timestep_sweep, through
analysis.sweep_points) measure here: clean accuracy, white-box FGSM, FGSM transferred from a source CNN
and the random-sign control (:func:`shared_deltas`), the Poisson-redraw floor, and the relative change
of the perturbation at every stage of the network (:func:`relative_change`) with the Poisson noise floor
next to it. Optionally (the sweeps' ``--suite``, ``--ensemble``, ``--protocols``) an attack suite
(:func:`attack_suite`: PGD, APGD-CE/DLR and the worst case per example, through the model's own backward
function or an ensemble of surrogates) and a crafting model other than the scored one (the reference
protocol). Cached per (model, eps) by :func:`evaluate_cached` (analysis.damping) or as a sweep point
(analysis.sweep_points). The measured model is a :class:`TorchSubject` or the Brian2 network
(:meth:`analysis.measurement.brian_target.Brian2Target.measured`), both made by :func:`subject`.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import imagesets
from analysis.attacks import attack_settings, worst_case
from analysis.defaults import FULL_LEVELS, NET_SHORT
from analysis.measurement.brian_target import Brian2Target
from analysis.measurement.crafting import batched_predict, cell_seed, craft_attack, digest, fgsm, quantize
from analysis.metrics import robustness
from networks.cnn import IN_SHAPE, as_images
from networks.registry import load_model
from runstore.files import load_json, load_npz, save_json, save_npz

EVAL_VERSION = 2      # bump when evaluate() changes: cached sweep points and damping results are redone
# The attack suite of a sweep point (:func:`suite_spec`): white-box attacks on the model's own backward
# function (the Brian2 network: FGSM and PGD through both twins, APGD's hundreds of twin gradients being
# too dear), and the backward functions of the surrogate ensemble (Ozdenizci & Legenstein 2024): the
# triangle of three widths, the fast sigmoid of three slopes, straight-through, and the rate gradient.
SUITE_ATTACKS = {"torch": ("fgsm", "pgd", "apgd-ce", "apgd-dlr"), "bio": ("fgsm", "pgd")}
ENSEMBLE = ("triangle:0.5", "triangle:1", "triangle:2", "fast_sigmoid:1", "fast_sigmoid:5", "fast_sigmoid:25",
            "straight_through", "rate")
# The suite's budget in the sweeps: that of the MNIST comparison table (docs/attacks.md), not analysis.compare's
# CLI defaults (EOT 4, PGD 40 x 2, APGD 100), which cost 4-8x as much; on the first 50 test images the defaults'
# worst case was 2 points lower for the CNN and the SNN alike (results/compare_convergence), a bias the
# difference between a sweep's ends cancels. The ensemble members run PGD alone: what each member adds is
# another gradient direction, and PGD found the worst case for most images of the comparison table. The
# Brian2 twins pay 700+ steps per gradient, hence 10 PGD steps there. The FGSM column keeps the job's --eot;
# a member's PGD takes one Poisson draw per step (its 20 steps still see 20 draws), which halves the ensemble,
# the largest part of an end point's cost (issue 28's budget).
SWEEP_SUITE = {"eot": 2, "pgd_steps": 20, "pgd_restarts": 1, "apgd_iter": 25, "ensemble_attacks": ["pgd"],
               "ensemble_eot": 1}
BIO_PGD_STEPS = 10


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
    CPU; only the model's own work runs on its device. A SpikingNet is random (``stochastic``: attacked
    with EOT) with Poisson input or noisy neurons; with direct input and no noise it is deterministic.
    ``origin``: the ReLU CNN a converted SNN was made from, a second backward function ("bpda")."""

    def __init__(self, model, label: str, run=None, levels: int = FULL_LEVELS, origin=None):
        self.model, self.label, self.run, self.levels = model.eval(), label, run, int(levels)
        self.device = next(model.parameters()).device
        self.spiking = hasattr(model, "T")
        self.stochastic = self.spiking and (model.encoding == "poisson" or model.noise > 0)
        self.batch_size = self.stage_batch = max(10, 400 // model.T) if self.spiking else 200
        self.loss = "ce"
        self.origin = None if origin is None else (
            lambda x, cnn=origin.eval(): cnn(quantize(x, self.levels).to(self.device)).to(x.device))

    def scores(self, x):
        return self.model(quantize(x, self.levels).to(self.device)).to(x.device)

    def backward_functions(self, ensemble=()) -> dict:
        """{name: scores} an attack crafts through: "own", the model as trained, "bpda" the CNN a converted
        SNN came from (``origin``), and each member of ``ensemble``: "NAME:SLOPE" a copy of the SNN with that
        surrogate (networks.surrogate), "rate" its rate gradient (:meth:`networks.snn.SpikingNet.rate_gradient`).
        Forward passes are all the model's."""
        out = {"own": self.scores, **({"bpda": self.origin} if self.origin else {})}
        for member in ensemble:
            if member == "rate":
                net = self.model.rate_gradient
            else:
                name, _, slope = member.partition(":")
                net = load_model(self.run, self.device, surrogate=name, slope=float(slope or 1.0))
            out[member] = lambda x, net=net: net(quantize(x, self.levels).to(self.device)).to(x.device)
        return out

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
            if self.spiking:
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
    direct = ", direct input" if m.get("encoding") == "direct" else ""
    return f"{NET_SHORT.get(net, net)} (T={m['T']}, {neuron}{direct})"


def subject(kind: str, run, levels: int = FULL_LEVELS, device: torch.device | str = "cpu", bpda: bool = False, **kw):
    """The measured model of a run: ``kind`` "bio" the Brian2 network, else a networks.train net; ``bpda``
    (a converted net): also attacked through the CNN it was converted from (its config's converted_from)."""
    if kind == "bio":
        return Brian2Target(run).measured(levels=levels, device=device, **kw)
    origin = load_json(Path(run) / "config.json").get("converted_from") if bpda else None
    if origin and not Path(origin).exists():   # a results folder moved as a whole: the CNN beside the run
        origin = Path(run).parent / Path(origin).name
    return TorchSubject(load_model(run, device), torch_label(run), run=Path(run), levels=levels,
                        origin=load_model(origin, device) if origin else None)


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


def suite_spec(name: str, kind: str) -> dict | None:
    """The attack suite a sweep job names (its ``suite`` key): None for "fgsm" (FGSM alone, as the seeds
    measured), else the attacks and their settings (:data:`SWEEP_SUITE`), with the
    surrogate ensemble for "ensemble" (surrogate SNNs only)."""
    if name == "fgsm":
        return None
    if name not in ("full", "ensemble") or (name == "ensemble" and kind != "snn"):
        raise ValueError(f"suite must be fgsm, full or (surrogate SNNs only) ensemble, not {name!r} for {kind}")
    return {"name": name, "attacks": list(SUITE_ATTACKS["bio" if kind == "bio" else "torch"]), **SWEEP_SUITE,
            "pgd_alpha": None, **({"pgd_steps": BIO_PGD_STEPS} if kind == "bio" else {}),
            "ensemble": list(ENSEMBLE) if name == "ensemble" else []}


# --- adversarial images kept per crafting model (the reference protocol's shared work) ------------
MODEL_FILES = ("config.json", "model.pt", "weights.npz", "counts.npz", "readout_softmax.npz")


class CraftedImages:
    """Adversarial images saved per crafting model, attack and settings under ``folder``.

    The reference protocol crafts the same attacks on the same reference model for every point of a series
    (and the reference point crafts them too): the first point crafts them, the others read them back. They
    are the images the attack would make again: each attack is seeded on its own (cell_seed) and the key
    holds all the crafting depends on (the model's files, quantizer, batch size and loss; the attack's
    settings, eps, seed; a digest of every image and label). A set of N images also serves the first n < N
    when n is a whole number of batches: the batches are crafted in order from one seed, so the first ones
    do not depend on those after them (tests/test_analysis.py checks it). ``folder`` None keeps nothing."""

    def __init__(self, folder=None):
        self.folder = None if folder is None else Path(folder)
        self.reused: list[str] = []    # the keys read back, for the tests and the point's record

    def get(self, crafter, key: str, settings: dict, x, y, eps: float, seed: int, make: Callable):
        """``make()``'s (images, info) for attack ``key`` on ``crafter``, or the saved ones."""
        if self.folder is None:
            return make()
        name = key.replace("/", "-").replace(":", "") + "-" + digest(
            {"crafter": model_identity(crafter), "key": key, "settings": settings, "eps": eps, "seed": seed,
             "eval_version": EVAL_VERSION}, 12)
        path, rows = self.folder / f"{name}.npz", row_digests(x, y)
        saved = load_npz(path) if path.exists() else None
        n = len(x)
        if saved is not None and n <= len(saved["rows"]) and (saved["rows"][:n] == rows).all() \
                and (n == len(saved["rows"]) or n % crafter.batch_size == 0):
            self.reused.append(key)
            return torch.as_tensor(saved["images"][:n]), load_json(path.with_suffix(".json"))
        images, info = make()
        if saved is None or len(saved["rows"]) < n:
            save_json(path.with_suffix(".json"), info)   # info first: a set with its images is whole
            save_npz(path, images=images.numpy(), rows=rows)
        return images, info


def model_identity(subj) -> dict:
    """What a crafting model's images depend on: its run's files (size and modification time, as
    analysis.compare's cells key a Brian2 model), its input quantizer, attack batch and loss."""
    run = Path(subj.run)
    files = {f: [(run / f).stat().st_size, (run / f).stat().st_mtime_ns] for f in MODEL_FILES if (run / f).exists()}
    return {"run": str(run.resolve()), "files": files, "kind": type(subj).__name__, "levels": subj.levels,
            "batch_size": subj.batch_size, "loss": subj.loss, "stochastic": subj.stochastic}


def row_digests(x, y) -> np.ndarray:
    """One 64-bit digest per (image, label): which images a saved set was crafted from, row by row."""
    xb, yb = x.contiguous().numpy(), y.numpy()
    return np.array([int.from_bytes(hashlib.blake2b(xb[i].tobytes() + yb[i].tobytes(), digest_size=8).digest(),
                                    "little") for i in range(len(x))], dtype=np.uint64)


def attack_suite(subj, crafter, x, y, suite: dict, eps: float, *, eot: int, seed: int, pred_clean: np.ndarray,
                 given: dict | None = None, crafted: CraftedImages | None = None) -> tuple[dict, dict]:
    """(result, adversarial images) of ``suite`` (:func:`suite_spec`) crafted on ``crafter`` through each of
    its backward functions and scored on ``subj`` (one fresh draw per attack): per attack its accuracy and
    predictions, and the worst case per example (:func:`analysis.attacks.worst_case`: robust only if right
    clean and under every attack) over the own backward functions ("worst_case") and over the ensemble
    too ("ensemble"). ``given``: {attack: (images, predictions)} already crafted and scored (FGSM);
    ``crafted``: where images crafted on ``crafter`` are kept and found (:class:`CraftedImages`)."""
    y_np, given, crafted = y.numpy(), given or {}, crafted or CraftedImages()
    own = crafter.backward_functions()
    members = crafter.backward_functions(suite["ensemble"]) if suite["ensemble"] else own
    res, advs, preds, own_keys = {}, {}, {}, []
    for member, scores in members.items():
        for name in suite["attacks"] if member in own else suite.get("ensemble_attacks", suite["attacks"]):
            key = name if member == "own" else f"{name}/{member}"
            if member in own:
                own_keys.append(key)
            t0 = time.perf_counter()
            if key in given:
                advs[key], preds[key] = given[key]
            else:
                draws = eot if name == "fgsm" else suite.get("eot", eot) if member in own else \
                    suite.get("ensemble_eot", suite.get("eot", eot))
                kw = attack_settings(name, eot=draws if crafter.stochastic and member != "bpda" else 1, loss=crafter.loss,
                                     pgd_steps=suite["pgd_steps"], pgd_alpha=suite["pgd_alpha"],
                                     pgd_restarts=suite["pgd_restarts"], apgd_iter=suite["apgd_iter"])
                xa, _ = crafted.get(crafter, key, kw, x, y, eps, seed, lambda: (craft_attack(
                    name, scores, x, y, eps, cell_seed(seed, f"craft {key}"), crafter.batch_size, **kw), {}))
                advs[key] = torch.where(torch.isfinite(xa), xa, x)
                preds[key] = subj.predict(advs[key], cell_seed(seed, f"score {key}"))
            res[key] = {**robustness(y_np, pred_clean, preds[key]), "pred": "".join(map(str, preds[key])),
                        "linf": float((advs[key] - x).abs().flatten(1).amax(1).mean()),
                        "seconds": time.perf_counter() - t0}

    def worst(keys):
        robust = worst_case(lambda pred: pred, pred_clean, y_np, {k: preds[k] for k in keys}).numpy()
        return {"attacks": keys, "robust": "".join(map(str, robust.astype(int))),
                **robustness(y_np, pred_clean, np.where(robust, y_np, -1))}
    out = {"suite": suite, "attacks": res, "worst_case": worst(own_keys)}
    if suite["ensemble"]:
        out["ensemble"] = {"members": list(members), "worst_case": worst(list(res))}
    return out, advs


def evaluate(subj, x, y, eps: float, *, eot: int = 4, seed: int = 0, shared: dict | None = None,
             suite: dict | None = None, crafter=None, crafted: CraftedImages | None = None) -> tuple[dict, dict]:
    """(result, adversarial images) of one model at one eps: accuracy and change per stage. ``suite``
    (:func:`suite_spec`): also the attack suite and its worst case (:func:`attack_suite`; its images are
    not returned); ``crafter``: the model white-box attacks are crafted on (default ``subj``; the sweeps'
    reference protocol passes the model trained at the reference setting). A crafter with an ``origin`` (a
    converted SNN's CNN) adds the delta "bpda", FGSM through that CNN. ``crafted``: where images crafted on
    ``crafter`` are kept and found (:class:`CraftedImages`; the sweeps keep them, the reference protocol
    reads them back)."""
    t0 = time.perf_counter()
    crafter, crafted = crafter or subj, crafted or CraftedImages()

    def white_box():
        if hasattr(crafter, "white_box"):   # the Brian2 network: through both twins, with a record of which
            xa = crafter.white_box(x, y, eps, eot, seed)
            return xa, crafter.white_box_info
        return fgsm(crafter, x, y, eps, eot, seed), {}
    xa, info = crafted.get(crafter, "fgsm", {"eot": eot}, x, y, eps, seed, white_box)
    deltas = {"fgsm": xa}
    if getattr(crafter, "origin", None):
        deltas["bpda"] = fgsm(crafter, x, y, eps, 1, seed, scores=crafter.origin)
    deltas.update(shared or {})
    craft_s = time.perf_counter() - t0
    y_np = y.numpy()
    pred_clean = subj.predict(x, seed + 1)
    res = {"label": subj.label, "run": str(subj.run), "levels": subj.levels, "eps": eps, "n": len(x),
           "eot": eot if subj.stochastic else 1, "clean_accuracy": float((pred_clean == y_np).mean()), "deltas": {},
           "eval_version": EVAL_VERSION, **({"white_box": info} if info else {})}
    if subj.stochastic:   # a fresh draw of the clean image alone flips some predictions: the ASR's floor
        res["redraw"] = robustness(y_np, pred_clean, subj.predict(x, seed + 99))
    preds = {}
    for k, (name, xa) in enumerate(deltas.items()):
        preds[name] = subj.predict(xa, seed + 2 + k)
        res["deltas"][name] = {**robustness(y_np, pred_clean, preds[name]),
                               "linf": float((xa - x).abs().flatten(1).amax(1).mean())}
    if suite:
        # FGSM through the own backward function is the fgsm column (the Brian2 network's combines its twins)
        given = {} if isinstance(crafter, Brian2Target) else {
            key: (deltas[d], preds[d]) for key, d in (("fgsm", "fgsm"), ("fgsm/bpda", "bpda")) if d in deltas}
        more, _ = attack_suite(subj, crafter, x, y, suite, eps, eot=eot, seed=seed, pred_clean=pred_clean, given=given,
                               crafted=crafted)
        res.update(more)
    if crafted.reused:
        res["crafted_reused"] = list(crafted.reused)
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
