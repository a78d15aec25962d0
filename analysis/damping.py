"""Where an adversarial perturbation dies out: its relative change at every stage of a network.

    python -m analysis.damping                       # CNN, surrogate SNN and Brian2 on the existing runs
    python -m analysis.damping --models cnn snn converted bio     # and the converted SNN (slow: T = 100)
    python -m analysis.damping --models cnn snn --n 100 --eps 0.05 0.1

Sharmin et al. name two causes of SNN robustness: Poisson input discretization
and the LIF neuron damping a perturbation layer by layer where ReLU passes it
on linearly. This measures both. For clean images x and perturbed x + d, at
each stage f (input intensities, input spike trains, every hidden layer, the
output), :func:`relative_change` is

    sum_n ||f(x_n + d_n) - f(x_n)||_1  /  sum_n ||f(x_n)||_1

L1, because on binary spike trains it is exactly the number of spikes that
appeared or vanished over the number of clean spikes; pooled over examples,
because a layer that is nearly silent on a few examples would dominate a mean
of per-example ratios. The clean and perturbed passes share their random draws
(common random numbers: same torch seed; for Brian2 the same sampler seed and
every pixel drawing each step, see :class:`BrianSubject`), so the change is
the perturbation's own effect. The Poisson noise floor, the same measure
between two independent draws of clean x, is reported next to it: a change
far below the floor is buried in the encoding's own noise.

Three perturbations of one L-inf size eps: ``fgsm`` (white-box on the model
itself; EOT over Poisson draws; the Brian2 network's is crafted on its torch
twin), ``transfer`` (FGSM crafted on a source CNN, the same d for every model:
the fair comparison between models, and a black-box attack), and ``random``
(random signs, the control). Writes ``damping.json``, ``examples.npz`` (images
for the gallery), ``raster.npz`` (one Brian2 example) and the figure
``damping.png/.pdf`` to ``--out``; each (model, eps) is cached under ``cache/``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

import imagesets
from analysis.attack import Victim, craft, twin_model
from analysis.attacks import make_attack
from analysis.defaults import DEFAULT_RUNS, FULL_LEVELS, RUNS, SOURCES  # noqa: F401   RUNS: re-exported
from analysis.metrics import robustness
from bio.checkpoint import load_json, load_npz, save_json, save_npz
from networks.devices import add_torch_device_option, torch_device
from networks.registry import load_model

LIFT = 1e-9           # Brian2 pixels at zero get this intensity so that they too draw each step (see BrianSubject)
BRIAN_CHUNK = 200     # examples per compiled Brian2 run; one binary per configuration and chunk size
EVAL_VERSION = 2      # bump when evaluate() changes: cached sweep points and damping results are redone


def digest(d: dict) -> str:
    """Short hash of a JSON-able dict: names cached results by everything they depend on."""
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:8]


# --- the measure -------------------------------------------------------------
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


# --- input quantization ----------------------------------------------------------
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


# --- what is measured: a torch model, or the Brian2 network ---------------------
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

    @torch.no_grad()
    def predict(self, x, seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        return torch.cat([self.scores(x[k:k + self.batch_size]).argmax(1)
                          for k in range(0, len(x), self.batch_size)]).numpy()

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
        from bio.frozen import spike_counts

        img = quantize(x, self.levels).reshape(len(x), -1).double().numpy()
        v = self.victim
        return spike_counts(np.clip(img, LIFT, 1.0) if coupled else img, v.w, v.theta, v.config, seed=seed,
                            chunk_size=min(self.chunk_size, len(x)), repeat_low=not coupled,
                            record_input=coupled, progress=False)

    def predict(self, x, seed: int) -> np.ndarray:
        from readout.assignment import predict

        return predict(self._counts(x, seed, coupled=False).exc, self.victim.assignments)

    def stages(self, x, seed: int) -> dict:
        from readout.assignment import class_scores

        r = self._counts(x, seed, coupled=True)
        n_in = self.victim.config.n_input
        st = {"image": x} if self.levels < FULL_LEVELS else {}
        st["input"] = quantize(x, self.levels)
        st["input spikes"] = [np.sort(step.astype(np.int64) * n_in + neuron) for neuron, step in r.input_spikes]
        st.update({"input counts": r.input, "exc counts": r.exc, "inh counts": r.inh,
                   "output": class_scores(r.exc, self.victim.assignments)})
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


# --- attacks and the measurement -------------------------------------------------
def fgsm(subj, x, y, eps: float, eot: int, seed: int, scores=None) -> torch.Tensor:
    torch.manual_seed(seed)
    atk = make_attack("fgsm", scores or subj.scores, eps, eot=eot if subj.stochastic else 1, loss=subj.loss)
    x_adv = craft(atk, x, y, subj.batch_size, False, "")
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


def gain(res: dict, delta: str = "transfer") -> float | None:
    """Output change over input change: above 1 the network amplifies the perturbation."""
    d = res["deltas"].get(delta) or res["deltas"]["fgsm"]
    first, out = d["change"][res["stages"][0]]["value"], d["change"]["output"]["value"]
    return None if not first or out is None else out / first


# --- a raster of the Brian2 network ------------------------------------------------
def record_raster(run, image: np.ndarray, seed: int = 0) -> dict:
    """Input, exc and inh spikes of the frozen Brian2 network on one image (runtime
    device, numpy target: no compilation). Quiet presentations are repeated with the
    usual boost, as :func:`bio.frozen.spike_counts` does."""
    import dataclasses

    from brian2 import mV, ms, prefs
    from brian2 import seed as brian_seed

    from bio import parameters as P
    from bio.devices import get_runner
    from bio.network import DiehlCookNetwork, intensities

    v = Victim(Path(run), seed, progress=False)
    get_runner("runtime", v.config, 1)    # switches Brian2 to its runtime device
    target = prefs.codegen.target
    prefs.codegen.target = "numpy"
    cfg = dataclasses.replace(v.config, rest_ms=0.0)   # frozen examples start from rest: no rest period
    try:
        # One loaded example; the presenter shows it again, brighter, while it stays quiet.
        net = DiehlCookNetwork(cfg, 1, mode="frozen", standalone=False)
        net.stimulus.values[:] = intensities(image[None])
        net.syn.w = v.w.ravel()
        net.exc.theta = v.theta * mV
        brian_seed(seed)
        for attempt in range(P.MAX_REPEATS + 1):
            net.net.run(cfg.present_ms * ms, namespace={})
            if int(net.presenter.count[0]) >= P.MIN_SPIKES:
                break
    finally:
        prefs.codegen.target = target
    boost = float(net.presenter.rep[0]) * float(P.RATE_BOOST / P.Hz)
    start = attempt * cfg.present_ms
    out = {}
    for group, mon in (("input", net.input_mon), ("exc", net.exc_mon), ("inh", net.inh_mon)):
        t = np.asarray(mon.t[:] / ms)
        last = t >= start - 1e-9   # the kept (last) presentation, times from its start
        out[f"{group}_i"], out[f"{group}_t"] = np.asarray(mon.i[:], np.int64)[last], t[last] - start
    return {**out, "image": image, "boost_hz": np.float64(boost), "present_ms": np.float64(v.config.present_ms),
            "n_exc": np.int64(v.config.n_exc), "assignments": v.assignments}


# --- CLI ---------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m analysis.damping", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for kind, path in DEFAULT_RUNS.items():
        p.add_argument(f"--{kind}", default=str(path), help=f"the {kind} run directory")
    p.add_argument("--source", default=None,
                   help="transfer source CNN (default: the first present of " + ", ".join(map(str, SOURCES)) + ")")
    p.add_argument("--models", nargs="+", default=["cnn", "snn", "bio"], choices=list(DEFAULT_RUNS),
                   help="converted (T=100) is left out by default: ~12 min on one busy core for n=200")
    p.add_argument("--eps", type=float, nargs="+", default=[0.1])
    p.add_argument("--n", type=int, default=200, help="test images (the first N)")
    p.add_argument("--eot", type=int, default=4, help="Poisson draws averaged per gradient of a spiking model")
    p.add_argument("--levels", type=int, default=FULL_LEVELS, help="input quantization levels (256: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    add_torch_device_option(p)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="results/damping")
    args = p.parse_args(argv)
    if args.n < 1 or args.eot < 1 or args.levels < 2 or any(not 0 < e <= 1 for e in args.eps):
        p.error("need --n >= 1, --eot >= 1, --levels >= 2 and every --eps in (0, 1]")
    return args


def load_test(n: int, data_dir=None):
    images, labels = imagesets.load("mnist", "test", data_dir=data_dir)
    return (torch.as_tensor(images[:n], dtype=torch.float32)[:, None] / 255.0,
            torch.as_tensor(labels[:n], dtype=torch.long))


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch_device(args.torch_device)
    out = Path(args.out)
    x, y = load_test(args.n, args.data_dir)
    source_dir = Path(args.source) if args.source else next((s for s in SOURCES if (s / "model.pt").exists()), None)
    source = subject("cnn", source_dir, device=device) if source_dir and (source_dir / "model.pt").exists() \
        else None
    notes = [] if source else ["no source CNN: no transfer perturbation"]
    data = {"settings": {k: v for k, v in vars(args).items()}, "source": str(source_dir) if source else None,
            "n": len(x), "models": {}, "notes": notes}
    examples = {"x": x[:8].numpy()}
    t_start = time.perf_counter()
    for eps in args.eps:
        shared = None
        for kind in args.models:
            run = Path(getattr(args, kind))
            need = "weights.npz" if kind == "bio" else "model.pt"
            if not (run / need).exists():
                notes.append(f"{kind}: {run} has no {need}; skipped")
                print(notes[-1])
                continue
            # each (model, eps) is cached, so models can be added to a finished run
            name = f"{kind}-eps{eps:g}-" + digest({"run": run.resolve(), "eps": eps, "n": len(x), "eot": args.eot,
                                                   "levels": args.levels, "seed": args.seed, "source": source_dir,
                                                   "eval_version": EVAL_VERSION})
            # not with_suffix: the name's "0.1" would be taken for a suffix, and every eps share one file
            cached_json, cached_npz = out / "cache" / f"{name}.json", out / "cache" / f"{name}.npz"
            if not cached_json.exists():
                shared = shared or shared_deltas(x, y, eps, args.seed, source)
                subj = subject(kind, run, levels=args.levels, device=device)
                print(f"{subj.label}, eps {eps:g} ...", flush=True)
                res, deltas = evaluate(subj, x, y, eps, eot=args.eot, seed=args.seed, shared=shared)
                save_npz(cached_npz, **{k: v[:8].numpy() for k, v in deltas.items()})
                save_json(cached_json, res)
            res = load_json(cached_json)
            data["models"].setdefault(kind, {})[f"{eps:g}"] = res
            examples.update({f"{kind}__{k}__eps{eps:g}": v for k, v in load_npz(cached_npz).items()})
            print(f"{res['label']}: clean {100 * res['clean_accuracy']:.1f}%, " + ", ".join(
                f"{n} {100 * d['adv_accuracy']:.1f}%" for n, d in res["deltas"].items())
                + f"; gain {gain(res) or float('nan'):.2f}; {res['seconds']:.0f} s", flush=True)
    data["seconds"] = time.perf_counter() - t_start
    if "bio" in data["models"]:
        save_npz(out / "raster.npz", **record_raster(args.bio, x[0, 0].numpy().ravel(), args.seed))
    save_json(out / "damping.json", data)
    save_npz(out / "examples.npz", **examples)
    from analysis.damping_figures import damping_figure
    damping_figure(data, out / "damping")
    print(f"wrote {out / 'damping.json'} and {out / 'damping.png'}")
    return data


if __name__ == "__main__":
    main()
