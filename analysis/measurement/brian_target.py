"""The Brian2 network as an attack target: :class:`Brian2Target`, the one wrapper of a bio.train_stdp run.

Brian2 gives no gradients, so every attack on the network is crafted on its torch twin
(networks.twin.DiehlCookTwin) and scored on Brian2 with fresh Poisson draws. analysis.attack scores
images with :meth:`Brian2Target.counts` and :meth:`Brian2Target.predictions`; analysis.compare
attacks it as a cell model (:meth:`Brian2Target.cells_model`); :func:`analysis.measurement.evaluate`
(analysis.damping, the sweeps) measures it after :meth:`Brian2Target.measured`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from analysis.defaults import COMPARE_KIND, FULL_LEVELS, NET_LABELS
from analysis.measurement.cells import Model
from analysis.measurement.crafting import batched_predict, fgsm, quantize
from bio.frozen import chunk_seed, load_assignments, load_trained, spike_counts
from readout.assignment import class_scores as count_scores
from readout.assignment import predict as assignment_predict
from readout.assignment_torch import class_scores
from readout.softmax import SoftmaxReadout
from runstore.cli import UserError
from runstore.files import load_json

LIFT = 1e-9           # Brian2 pixels at zero get this intensity so that they too draw each step (see stages)
BRIAN_CHUNK = 200     # examples per compiled Brian2 run; one binary per configuration and chunk size


class Brian2Target:
    """The Brian2 network of a bio.train_stdp run with both readouts, as numpy in, predictions out.

    :meth:`counts` draws fresh Poisson spikes on every call (seeded by ``seed`` and the call number,
    ``calls``), on the Brian2 ``device``. For :func:`analysis.measurement.evaluate`, :meth:`measured`
    adds the twins that attacks are crafted on, the input quantizer and the label.

    Stages (:meth:`stages`) come from :func:`bio.frozen.spike_counts` on one presentation per example
    at the nominal rate (no re-presentation of quiet examples, whose changed chunk layout would break
    the shared draws). The standalone sampler skips the random draw of a zero-rate pixel, so an
    attack that lights a background pixel would shift every later draw; lifting every pixel to LIFT
    (a spike chance of 3e-11 per step) makes each draw happen in both passes. Accuracy
    (:meth:`predict`) uses the network's usual readout: fresh draws, quiet examples shown again with
    a boost.
    """

    stochastic = True
    loss = "margin"   # assignment scores are mean counts, not logits

    def __init__(self, run, seed: int = 0, progress: bool = False, device: str = "cpp_standalone",
                 epoch: int | None = None):
        self.run, self.epoch = Path(run), epoch   # epoch: the weights kept after it (--test-each-epoch)
        self.config, self.w, self.theta = load_trained(self.run, epoch)
        self.device = device   # the Brian2 device
        self.dset = load_json(self.run / "config.json")["dset"]
        self.assignments = load_assignments(self.run, epoch)
        # the softmax readout is fitted to the run's last weights only
        self.softmax = SoftmaxReadout.load(self.run / "readout_softmax.npz") \
            if epoch is None and (self.run / "readout_softmax.npz").exists() else None
        self.seed, self.progress, self.calls = seed, progress, 0

    # --- scoring on Brian2, fresh draws per call (analysis.attack, analysis.compare) --------------
    def counts(self, x: np.ndarray, chunk_size: int = 500) -> np.ndarray:
        self.calls += 1   # fresh Poisson draws for every call
        return spike_counts(x, self.w, self.theta, self.config, seed=chunk_seed(self.seed, 7, self.calls),
                            device=self.device, chunk_size=chunk_size, progress=self.progress, desc="Brian2").exc

    def predictions(self, counts: np.ndarray) -> dict:
        out = {"assignment": assignment_predict(counts, self.assignments)}
        if self.softmax is not None:
            out["softmax"] = self.softmax.predict(counts)
        return out

    def twin(self, **kwargs):
        """The torch twin of the weights this target scores (networks.twin.DiehlCookTwin's options)."""
        from networks.twin import DiehlCookTwin   # imports Brian2's twin: only when the network is attacked
        return DiehlCookTwin(self.w, self.theta, self.config, **kwargs)

    def twin_scores(self, twin, readout: str):
        """Images (B, 784) in [0, 1] -> class scores, differentiable through the twin (networks.twin)."""
        if readout == "softmax":
            if self.softmax is None:
                raise UserError(f"{self.run} has no softmax readout" + (f" for epoch {self.epoch}" if self.epoch
                                else " (readout_softmax.npz)") + "; use --readout assignment")
            # a copy on the twin's device and dtype; self.softmax scores Brian2's counts in float64
            head = SoftmaxReadout.load(self.run / "readout_softmax.npz").to(twin.w.device, twin.w.dtype)
            return lambda x: head(twin(x))
        return lambda x: class_scores(twin(x), self.assignments)

    # --- a model of analysis.compare's cells ---------------------------------------------------------
    def cells_model(self, batch_size: int, device) -> Model:
        """The network as a cell model: attacks crafted on its twin (float32, no rest period, the
        assignment readout's scores), scored on Brian2 with the draw the cell names."""
        twin = self.twin(surrogate="fast_sigmoid", slope=5.0, rest=False, dtype=torch.float32, device=device)
        head = self.twin_scores(twin, "assignment")
        flat = lambda x: x.reshape(len(x), -1)  # noqa: E731

        def predict(x, draw: int = 0):
            self.calls = draw   # counts() seeds its Poisson draws from the call number
            counts = self.counts(flat(x).detach().cpu().double().numpy().clip(0, 1))
            return self.predictions(counts)["assignment"]

        run = self.run
        metrics = load_json(run / "metrics.json") if (run / "metrics.json").exists() else {}
        # "net" and the key as analysis.compare has always saved them (cache names hash them)
        info = {"path": str(run.resolve()), "net": COMPARE_KIND["bio"], "n_exc": self.config.n_exc,
                "trained_test_accuracy": metrics.get("test_accuracy"),
                "model_mtime_ns": (run / "weights.npz").stat().st_mtime_ns, "twin": twin.extra_repr()}
        m = Model(f"stdp-{run.name}", "bio", NET_LABELS["bio"], run, lambda x: head(flat(x)), predict, random=True,
                  loss="margin", info=info, lineage={run.resolve()})
        m.twin_predict = lambda x: batched_predict(m.scores, x, batch_size)
        return m

    # --- a model of analysis.measurement.evaluate -----------------------------------------------------
    def measured(self, label: str | None = None, levels: int = FULL_LEVELS, chunk_size: int = BRIAN_CHUNK,
                 device: torch.device | str = "cpu") -> "Brian2Target":
        """This target, ready for :func:`analysis.measurement.evaluate`: inputs quantized to ``levels``,
        stages from runs of ``chunk_size`` examples, twins on the torch ``device``."""
        self.levels, self.chunk_size = int(levels), chunk_size
        cfg = self.config
        self.label = label or f"Brian2 STDP ({cfg.n_exc} exc, tau {cfg.tau_exc_ms:g} ms, {cfg.present_ms:g} ms)"
        # Two twins: with the lateral-inhibition loop in the backward pass (the stronger attack at
        # the released dt) and with it cut (a stable gradient at any dt; the loop's gain grows with
        # the number of steps and gave NaN gradients at dt = 0.1 ms). See white_box.
        self.torch_device = torch.device(device)
        self.twins = [self.twin_scores(self.twin(rest=False, dtype=torch.float32, detach_inhibition=cut,
                                                 device=self.torch_device), "assignment")
                      for cut in (False, True)]
        self.batch_size = 100      # twin examples per attack batch
        self.stage_batch = None    # stages: all examples in one set of compiled runs
        return self

    def scores(self, x, twin: int = 0):
        return self.twins[twin](quantize(x, self.levels).reshape(len(x), -1).to(self.torch_device)).to(x.device)

    def backward_functions(self, ensemble=()) -> dict:
        """{name: scores} an attack crafts through (analysis.measurement.attack_suite): both twins. No
        surrogate ensemble here (each member would be another twin of hundreds of steps per gradient)."""
        if ensemble:
            raise ValueError("the surrogate ensemble is measured on the surrogate SNNs only, not on the Brian2 network")
        return {"loop": lambda z: self.scores(z, 0), "cut": lambda z: self.scores(z, 1)}

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
        return spike_counts(np.clip(img, LIFT, 1.0) if coupled else img, self.w, self.theta, self.config, seed=seed,
                            chunk_size=min(self.chunk_size, len(x)), repeat_low=not coupled,
                            record_input=coupled, progress=False)

    def predict(self, x, seed: int) -> np.ndarray:
        return assignment_predict(self._counts(x, seed, coupled=False).exc, self.assignments)

    def stages(self, x, seed: int) -> dict:
        r = self._counts(x, seed, coupled=True)
        n_in = self.config.n_input
        st = {"image": x} if self.levels < FULL_LEVELS else {}
        st["input"] = quantize(x, self.levels)
        st["input spikes"] = [np.sort(step.astype(np.int64) * n_in + neuron) for neuron, step in r.input_spikes]
        st.update({"input counts": r.input, "exc counts": r.exc, "inh counts": r.inh,
                   "output": count_scores(r.exc, self.assignments)})
        return st
