"""The measurement engine: how robust a model is, and where a perturbation dies out.

Every robustness number of the study is computed here; analysis.compare, analysis.damping and the two
sweeps (analysis.leak_sweep, analysis.timestep_sweep) choose the models, call this module and write its
results out, and the figure families and the report read those results back from JSON.

Two measurements, each cached so that an interrupted run resumes and a changed setting recomputes:

* :func:`evaluate` (analysis.damping and the sweeps), one model at one eps: clean accuracy, white-box
  FGSM, FGSM transferred from a source CNN and the random-sign control (:func:`shared_deltas`), the
  Poisson-redraw floor, and the relative change of the perturbation at every stage of the network
  (:func:`relative_change`) with the Poisson noise floor next to it. Cached per (model, eps) by
  :func:`evaluate_cached` (analysis.damping) or as a sweep point (analysis.sweep_points).
* :class:`Cells` (analysis.compare), an attack suite (:class:`Suite`) at several eps: clean accuracy,
  the zero-gradient share, adversarial accuracy per (model, attack, eps, setting) with white-box,
  BPDA and transfer settings, and the worst case per example over the white-box attacks. Each cell is
  a JSON file under the cache folder named by a hash of everything its numbers depend on
  (:func:`digest`), adversarial images an npz per crafting model.

The two keep their own model wrappers and random seeds (:class:`TorchSubject` / :class:`BrianSubject`
with a seed per purpose; :class:`Model` with a seed per cell, :func:`cell_seed`): their saved results
depend on them, so unifying them would change numbers that results/ already holds.
"""
from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

import imagesets
from analysis.attacks import make_attack
from analysis.defaults import FULL_LEVELS
from analysis.metrics import robustness, zero_gradient_share
from bio.frozen import chunk_seed, load_trained, spike_counts
from readout.assignment_torch import class_scores
from networks.registry import load_model
from readout.assignment import class_scores as count_scores
from readout.assignment import predict as assignment_predict
from readout.softmax import SoftmaxReadout
from runstore.cli import UserError
from runstore.files import load_json, load_npz, save_json, save_npz

LIFT = 1e-9           # Brian2 pixels at zero get this intensity so that they too draw each step (see BrianSubject)
BRIAN_CHUNK = 200     # examples per compiled Brian2 run; one binary per configuration and chunk size
EVAL_VERSION = 2      # bump when evaluate() changes: cached sweep points and damping results are redone


# --- names and seeds of cached results ---------------------------------------------------------
def digest(obj, length: int = 8) -> str:
    """Short hash of a JSON-able object: names cached results by everything they depend on. The sweeps
    and analysis.damping use 8 hex digits, analysis.compare's cells 10 (their saved names)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:length]


def cell_seed(seed: int, name: str) -> int:
    # Each cell draws its own Poisson spikes whatever ran before it, so a resumed run gives the same numbers.
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


# --- the Brian2 network, and crafting on a differentiable model ---------------------------------
class Victim:
    """The Brian2 network with both readouts, as numpy in, predictions out."""

    def __init__(self, run: Path, seed: int, progress: bool, device: str = "cpp_standalone"):
        self.config, self.w, self.theta = load_trained(run)
        self.device = device   # the Brian2 device
        self.dset = load_json(run / "config.json")["dset"]
        self.assignments = load_npz(run / "counts.npz")["assignments"]
        self.softmax = SoftmaxReadout.load(run / "readout_softmax.npz") if (run / "readout_softmax.npz").exists() \
            else None
        self.run, self.seed, self.progress, self.calls = run, seed, progress, 0

    def counts(self, x: np.ndarray, chunk_size: int = 500) -> np.ndarray:
        self.calls += 1   # fresh Poisson draws for every call
        return spike_counts(x, self.w, self.theta, self.config, seed=chunk_seed(self.seed, 7, self.calls),
                            device=self.device, chunk_size=chunk_size, progress=self.progress, desc="Brian2").exc

    def predictions(self, counts: np.ndarray) -> dict:
        out = {"assignment": assignment_predict(counts, self.assignments)}
        if self.softmax is not None:
            out["softmax"] = self.softmax.predict(counts)
        return out


def twin_model(twin, readout: str, victim: Victim):
    """Images (B, 784) in [0, 1] -> class scores, differentiable through the twin (networks.twin)."""
    if readout == "softmax":
        if victim.softmax is None:
            raise UserError(f"{victim.run} has no readout_softmax.npz; use --readout assignment")
        head = SoftmaxReadout.load(victim.run / "readout_softmax.npz").to(twin.w.device, twin.w.dtype)
        return lambda x: head(twin(x))
    return lambda x: class_scores(twin(x), victim.assignments)


def craft(attack, x, y, batch_size, progress, desc):
    out = []
    for k in tqdm(range(0, len(x), batch_size), desc=desc, disable=not progress, dynamic_ncols=True):
        out.append(attack(x[k:k + batch_size], y[k:k + batch_size]))
    return torch.cat(out)


def craft_attack(name: str, scores, x, y, eps: float, seed: int, batch_size: int, progress: bool = False,
                 desc: str = "", **kw) -> torch.Tensor:
    """Adversarial images of attack ``name`` on ``scores``. Seeded first: the attack's random start and
    a spiking model's Poisson draws then repeat exactly when a cached result is recomputed."""
    torch.manual_seed(seed)
    return craft(make_attack(name, scores, eps, **kw), x, y, batch_size, progress, desc)


@torch.no_grad()
def batched_predict(scores, x, batch_size):
    return torch.cat([scores(x[k:k + batch_size]).argmax(1) for k in range(0, len(x), batch_size)]).cpu().numpy()


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


# --- input quantization ------------------------------------------------------------------------
def quantize(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Intensities in [0, 1] rounded to ``levels`` evenly spaced values, gradient passed
    straight through (BPDA: rounding has zero gradient, so an attack would see none)."""
    if levels >= FULL_LEVELS:
        return x
    q = torch.round(x * (levels - 1)) / (levels - 1)
    return x + (q - x).detach()


def quantize_uint8(images: np.ndarray, levels: int) -> np.ndarray:
    if levels >= FULL_LEVELS:
        return images
    q = quantize(torch.as_tensor(images, dtype=torch.float64) / 255.0, levels)
    return (q * 255).round().to(torch.uint8).numpy()


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


class BrianSubject:
    """The Brian2 network of a bio.train_stdp run; attacked through its torch twin.

    Stages come from :func:`bio.frozen.spike_counts` on one presentation per example
    at the nominal rate (no re-presentation of quiet examples, whose changed chunk
    layout would break the shared draws). The standalone sampler skips the random
    draw of a zero-rate pixel, so an attack that lights a background pixel would
    shift every later draw; lifting every pixel to LIFT (a spike chance of 3e-11
    per step) makes each draw happen in both passes. Accuracy uses the network's
    usual readout: fresh draws, quiet examples shown again with a boost.
    """

    stochastic = True
    loss = "margin"   # assignment scores are mean counts, not logits

    def __init__(self, run, label: str | None = None, levels: int = FULL_LEVELS, chunk_size: int = BRIAN_CHUNK,
                 eot_seed: int = 0, device: torch.device | str = "cpu"):
        from networks.twin import DiehlCookTwin

        self.run, self.levels, self.chunk_size = Path(run), int(levels), chunk_size
        self.victim = Victim(self.run, eot_seed, progress=False)
        cfg = self.victim.config
        self.label = label or f"Brian2 STDP ({cfg.n_exc} exc, tau {cfg.tau_exc_ms:g} ms, {cfg.present_ms:g} ms)"
        # Two twins: with the lateral-inhibition loop in the backward pass (the stronger attack at
        # the released dt) and with it cut (a stable gradient at any dt; the loop's gain grows with
        # the number of steps and gave NaN gradients at dt = 0.1 ms). See white_box.
        self.device = torch.device(device)
        self.twins = [twin_model(DiehlCookTwin.from_run_dir(self.run, rest=False, dtype=torch.float32,
                                                            detach_inhibition=cut, device=self.device),
                                 "assignment", self.victim)
                      for cut in (False, True)]
        self.batch_size = 100      # twin examples per attack batch
        self.stage_batch = None    # stages: all examples in one set of compiled runs

    def scores(self, x, twin: int = 0):
        return self.twins[twin](quantize(x, self.levels).reshape(len(x), -1).to(self.device)).to(x.device)

    def white_box(self, x, y, eps: float, eot: int, seed: int) -> torch.Tensor:
        """FGSM through each twin; per example the first that fools a Brian2 draw (as PGD restarts)."""
        cands = [fgsm(self, x, y, eps, eot, seed, scores=lambda z, k=k: self.scores(z, k)) for k in range(2)]
        fooled = [torch.as_tensor(self.predict(c, seed + 50 + k) != y.numpy()) for k, c in enumerate(cands)]
        use_cut = ~fooled[0] & fooled[1]
        self.white_box_info = {"fooled_with_loop": int(fooled[0].sum()), "fooled_loop_cut": int(fooled[1].sum()),
                               "took_loop_cut": int(use_cut.sum())}
        return torch.where(use_cut.reshape(-1, *[1] * (x.dim() - 1)), cands[1], cands[0])

    def _counts(self, x, seed: int, coupled: bool):
        img = quantize(x, self.levels).reshape(len(x), -1).double().numpy()
        v = self.victim
        return spike_counts(np.clip(img, LIFT, 1.0) if coupled else img, v.w, v.theta, v.config, seed=seed,
                            chunk_size=min(self.chunk_size, len(x)), repeat_low=not coupled,
                            record_input=coupled, progress=False)

    def predict(self, x, seed: int) -> np.ndarray:
        return assignment_predict(self._counts(x, seed, coupled=False).exc, self.victim.assignments)

    def stages(self, x, seed: int) -> dict:
        r = self._counts(x, seed, coupled=True)
        n_in = self.victim.config.n_input
        st = {"image": x} if self.levels < FULL_LEVELS else {}
        st["input"] = quantize(x, self.levels)
        st["input spikes"] = [np.sort(step.astype(np.int64) * n_in + neuron) for neuron, step in r.input_spikes]
        st.update({"input counts": r.input, "exc counts": r.exc, "inh counts": r.inh,
                   "output": count_scores(r.exc, self.victim.assignments)})
        return st


def torch_label(run) -> str:
    cfg = load_json(Path(run) / "config.json")
    m, net = cfg["model"], cfg["net"]
    if net == "cnn":
        return "CNN (ReLU)"
    neuron = "IF" if m.get("leak", 1.0) == 1.0 else f"LIF, leak {m['leak']:g}"
    name = {"converted": "converted SNN", "stdp": "SNN + STDP layer"}.get(net, "SNN")
    return f"{name} (T={m['T']}, {neuron})"


def subject(kind: str, run, levels: int = FULL_LEVELS, device: torch.device | str = "cpu", **kw):
    if kind == "bio":
        return BrianSubject(run, levels=levels, device=device, **kw)
    return TorchSubject(load_model(run, device), torch_label(run), run=Path(run), levels=levels)


def load_test(n: int, data_dir=None):
    """The first ``n`` MNIST test images (N, 1, 28, 28) in [0, 1] and their labels."""
    images, labels = imagesets.load("mnist", "test", data_dir=data_dir)
    return (torch.as_tensor(images[:n], dtype=torch.float32)[:, None] / 255.0,
            torch.as_tensor(labels[:n], dtype=torch.long))


# --- one model at one eps: accuracy, controls and the change per stage --------------------------
def fgsm(subj, x, y, eps: float, eot: int, seed: int, scores=None) -> torch.Tensor:
    x_adv = craft_attack("fgsm", scores or subj.scores, x, y, eps, seed, subj.batch_size,
                         eot=eot if subj.stochastic else 1, loss=subj.loss)
    return torch.where(torch.isfinite(x_adv), x_adv, x)   # an exploded (NaN) gradient leaves a pixel as it was


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


# --- an attack suite on many models: cells --------------------------------------------------------
@dataclass
class Model:
    key: str                                     # unique name, used in cache file names
    kind: str                                    # cnn, snn, converted, tgo, stdp
    label: str
    path: Path
    scores: Callable                             # differentiable: images (N, C, H, W) in [0, 1] -> class scores
    predict: Callable                            # images -> numpy predictions (Brian2 for stdp)
    random: bool                                 # Poisson input: attack with EOT
    loss: str = "ce"
    info: dict = field(default_factory=dict)     # what the numbers depend on, and facts for the table
    lineage: set = field(default_factory=set)    # run dirs whose weights it derives from, and (net, seed)
    twin_predict: Callable | None = None         # stdp: predictions of the torch twin the attacks are crafted on


@dataclass
class Suite:
    """The attacks, their eps, and every setting of theirs that a cell's numbers depend on."""
    attacks: list
    eps: list
    eot: int = 4                 # Poisson draws averaged per gradient of a spiking model
    pgd_steps: int = 40
    pgd_alpha: float | None = None   # None: PGD's own 2.5 eps / steps
    pgd_restarts: int = 2
    apgd_iter: int = 100
    batch_size: int = 100
    seed: int = 0


class Cells:
    """Cached cells of ``suite`` on images ``x``, labels ``y``: JSON files under ``cache``, each named by a
    hash of everything its numbers depend on; ``computed`` / ``cached`` count what this run did."""

    def __init__(self, suite: Suite, x, y, cache: Path, dset: str, device, progress: bool = True):
        self.suite, self.x, self.y, self.cache, self.dset, self.device = suite, x, y, Path(cache), dset, device
        self.progress = progress
        self.y_np = y.cpu().numpy()
        self.computed = self.cached = 0

    def common(self) -> dict:
        return {"dset": self.dset, "n": len(self.x), "seed": self.suite.seed}

    def attack_settings(self, model: Model, name: str, eps: float) -> dict:
        s = self.suite
        kw = {"eot": s.eot if model.random else 1}
        if name in ("fgsm", "pgd"):   # APGD and Square bring their own losses (ce / dlr, margin)
            kw["loss"] = model.loss
        if name == "pgd":   # alpha None: PGD's own default, 2.5 eps / steps
            kw.update(steps=s.pgd_steps, alpha=s.pgd_alpha, restarts=s.pgd_restarts)
        if name.startswith("apgd"):
            kw["n_iter"] = s.apgd_iter
        return kw

    def adversarial(self, model: Model, name: str, eps: float) -> tuple[torch.Tensor, float]:
        """Images crafted white-box on ``model`` (shared by its white-box cell and its transfers)."""
        kw = self.attack_settings(model, name, eps)
        tag = f"{model.key}_{name}_eps{eps:g}"
        path = self.cache / "adv" / f"{tag}-{digest([self.common(), model.info, name, eps, kw], 10)}.npz"
        if not path.exists():
            t0 = time.perf_counter()
            x_adv = craft_attack(name, model.scores, self.x, self.y, eps, cell_seed(self.suite.seed, "craft " + tag),
                                 self.suite.batch_size, self.progress, f"{name} on {model.key}", **kw)
            save_npz(path, x_adv=x_adv.cpu().numpy().astype(np.float32),
                     seconds=np.float64(time.perf_counter() - t0))
        d = load_npz(path)
        return torch.as_tensor(d["x_adv"], device=self.device), float(d["seconds"])

    def score(self, model: Model, x: torch.Tensor, name: str) -> np.ndarray:
        seed = cell_seed(self.suite.seed, name)
        torch.manual_seed(seed)
        return model.predict(x, seed) if model.kind == "stdp" else model.predict(x)

    def cell(self, name: str, deps, compute: Callable[[], dict]) -> dict:
        path = self.cache / f"{name}-{digest([self.common(), deps], 10)}.json"
        if path.exists():
            self.cached += 1
            return load_json(path)
        t0 = time.perf_counter()
        rec = compute()
        rec["seconds"] = rec.get("seconds", 0.0) + time.perf_counter() - t0
        save_json(path, rec)
        self.computed += 1
        print(f"{name}: {json.dumps({k: v for k, v in rec.items() if k != 'pred'})}", flush=True)
        return rec

    def clean(self, model: Model) -> dict:
        def compute():
            pred = self.score(model, self.x, f"clean {model.key}")
            rec = {"pred": "".join(map(str, pred)), "accuracy": float((pred == self.y_np).mean())}
            if model.twin_predict is not None:
                rec["twin_accuracy"] = float((model.twin_predict(self.x) == self.y_np).mean())
            return rec
        return self.cell(f"clean_{model.key}", model.info, compute)

    def zero_grad(self, model: Model) -> dict:
        """The share of exactly-zero input gradients of the white-box loss (a cell of its own, so that the
        clean cells, Brian2's among them, stay cached)."""
        eot = self.suite.eot if model.random else 1

        def compute():
            torch.manual_seed(cell_seed(self.suite.seed, f"zerograd {model.key}"))
            return {"zero_grad_share": zero_gradient_share(model.scores, self.x, self.y, loss=model.loss, eot=eot,
                                                           batch_size=self.suite.batch_size)}
        return self.cell(f"zerograd_{model.key}", [model.info, model.loss, eot], compute)

    def worst_case(self, target: Model, eps: float, cells: list[dict]) -> dict:
        """Per example the worst over the white-box ``cells`` of ``target`` at ``eps``: robust only if right
        clean and under every attack (analysis.attacks.worst_case, here from the cells' predictions)."""
        white = [c for c in cells if c["target"] == target.key and c["eps"] == eps and c["setting"].startswith("white")]
        clean = np.array(list(self.clean(target)["pred"]), int)
        # the prediction of the first attack that fooled the example (clean first), else the true label
        worst = self.y_np.copy()
        for pred in reversed([clean] + [np.array(list(c["pred"]), int) for c in white]):
            worst = np.where(pred != self.y_np, pred, worst)
        return {"target": target.key, "attack": "worst", "eps": eps, "setting": "white", "n": len(self.x),
                "attacks": [c["attack"] + ("" if c["setting"] == "white" else f" ({c['setting'][6:]})") for c in white],
                **robustness(self.y_np, clean, worst)}

    def attack_cell(self, target: Model, name: str, eps: float, source: Model | None, role: str | None,
                    bpda: bool = False) -> dict:
        """``bpda``: a white-box attack crafted on ``source``, the ReLU net ``target`` was converted from
        (BPDA: the IF layers' backward pass replaced by the ReLU activations they approximate)."""
        setting = "white" if source is None else "white-bpda" if bpda else f"black-{role}"
        base = {"target": target.key, "attack": name, "eps": eps, "setting": setting, "n": len(self.x)}
        if source is not None and not bpda:
            base["source"] = source.info["path"]
            shared = source.lineage & target.lineage
            if shared:
                why = "self" if source.path.resolve() == target.path.resolve() else "shares weights or seed"
                return {**base, "black_box": False, "skipped": f"not black-box: source and target {why}"}
        crafter = source or target
        clean = self.clean(target)
        cell_name = f"{target.key}_{name}_eps{eps:g}_{setting}"
        deps = [target.info, crafter.info, name, eps, self.attack_settings(crafter, name, eps)]

        def compute():
            x_adv, craft_s = self.adversarial(crafter, name, eps)
            t0 = time.perf_counter()
            pred = self.score(target, x_adv, cell_name)
            rec = {**base, "black_box": source is not None and not bpda, "craft_seconds": craft_s,
                   "score_seconds": time.perf_counter() - t0, "pred": "".join(map(str, pred)),
                   **robustness(self.y_np, np.array(list(clean["pred"]), int), pred)}
            if target.twin_predict is not None and source is None:
                tw = robustness(self.y_np, target.twin_predict(self.x), target.twin_predict(x_adv))
                rec["twin"] = {k: tw[k] for k in ("adv_accuracy", "attack_success_rate")}
            return rec
        return self.cell(cell_name, deps, compute)

    def table(self, targets: list[Model], sources: dict[str, Model], bpda: dict[str, Model]) -> dict:
        """Every cell of the suite on ``targets``: white-box, BPDA through ``bpda[target.key]`` where given,
        and transferred from each of ``sources`` ({role: model}); the worst case per (target, eps), and per
        target its clean accuracy and zero-gradient share."""
        s, cells = self.suite, []
        for t in targets:
            for name in s.attacks:
                for eps in s.eps:
                    cells.append(self.attack_cell(t, name, eps, None, None))
                    if t.key in bpda:
                        cells.append(self.attack_cell(t, name, eps, bpda[t.key], None, bpda=True))
                    cells += [self.attack_cell(t, name, eps, src, role) for role, src in sources.items()]
        worst = [self.worst_case(t, eps, cells) for t in targets for eps in s.eps]
        models = []
        for t in targets:
            c = self.clean(t)
            models.append({"key": t.key, "label": t.label, **t.info, "clean_accuracy": c["accuracy"],
                           "zero_grad_share": self.zero_grad(t)["zero_grad_share"],
                           **({"twin_clean_accuracy": c["twin_accuracy"]} if "twin_accuracy" in c else {})})
        return {"models": models, "cells": cells, "worst_case": worst}
