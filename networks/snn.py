"""Surrogate-gradient spiking version of :mod:`networks.cnn`, trained with BPTT.

Every hidden unit is a discrete-time LIF neuron (Sharmin et al. 2020)::

    u[t] = leak * u[t-1] + I[t]        I: the weight layer applied to the previous layer's spikes
    s[t] = H(u[t] - threshold)         surrogate derivative in the backward pass
    u[t] -= threshold * s[t]           ("subtract" reset; "zero" sets u = 0)

``leak=1`` is the IF neuron. The surrogate sees (u - threshold) / threshold, so
its slope is in units of the threshold. As in snntorch (and networks.twin) the
reset is not differentiated through. Every potential starts at ``v_init``
thresholds (default 0; a converted net at few time steps does better from 0.5,
which rounds a rate to the nearest spike count instead of down: Bu et al. 2022).
The potential is kept in float32 under bf16 autocast (the weight layers' inputs,
spikes, are exact in bf16).

Input: ``encoding="poisson"`` draws a Bernoulli spike per pixel and step with
probability = intensity, through :func:`straight_through_bernoulli` so that an
attack's input gradient is that of the expected input (BPDA), not zero;
``"direct"`` feeds the analog image as a constant current every step. With
``on_off`` the first layer reads those spikes (or that image) and their
complement (networks.cnn).
Output: ``readout="mem"`` gives the mean over T of the output layer's input
current (a non-spiking integrator); ``"spikes"`` makes it LIF too and gives
its spike counts as logits.

``noise > 0`` makes firing probabilistic: the threshold comparison gets
Gaussian noise of that many thresholds' std (TGO's noisy neuron; it is on at
evaluation too, so such a model is random like Poisson input: attack it with EOT).
"""
from __future__ import annotations

import torch

from networks.cnn import Backbone, as_images
from networks.surrogate import get_surrogate, straight_through_bernoulli

ENCODINGS = ("poisson", "direct")
READOUTS = ("mem", "spikes")
RESETS = ("subtract", "zero")


class SpikingNet(Backbone):
    """``forward(x, record=False)`` returns logits (N, n_classes), or with
    record=True (logits, rec), every tensor batch first and time second:

    ========================  ====================================================
    rec["input"]              images (N, C, H, W) in [0, 1]
    rec["input_spikes"]       (N, T, C, H, W) what the first layer receives
                              (Poisson spikes, or the image each step)
    rec[f"spikes.{i}"]        (N, T, ...) hidden layer i's spikes (before pooling)
    rec[f"mem.{i}"]           (N, T, ...) its membrane potential, compared with
                              the threshold (before reset)
    rec[f"rate.{i}"]          (N, ...) its spikes per step, mean over T
    rec["out"]                (N, T, n_classes) output layer: the running mean
                              of its input current (mem) or its spikes (spikes)
    ========================  ====================================================
    """

    def __init__(self, arch="mnist", in_shape=(1, 28, 28), n_classes=10, *, T: int = 10,
                 leak: float = 0.99, threshold: float = 1.0, encoding: str = "poisson",
                 surrogate: str = "arctan", slope: float = 2.0, readout: str = "mem",
                 reset: str = "subtract", noise: float = 0.0, bias: bool = False, dropout: float = 0.0,
                 v_init: float = 0.0, on_off: bool = False):
        super().__init__(arch, in_shape, n_classes, bias=bias, dropout=dropout, on_off=on_off)
        for name, v, ok in (("encoding", encoding, ENCODINGS), ("readout", readout, READOUTS), ("reset", reset, RESETS)):
            if v not in ok:
                raise ValueError(f"{name} must be one of {', '.join(ok)}, not {v!r}")
        if T < 1 or not 0 < leak <= 1 or threshold <= 0 or noise < 0 or not 0 <= v_init < 1:
            raise ValueError(f"need T >= 1, 0 < leak <= 1, threshold > 0, noise >= 0, 0 <= v_init < 1; "
                             f"got T={T}, leak={leak}, threshold={threshold}, noise={noise}, v_init={v_init}")
        self.T, self.leak, self.threshold, self.noise = int(T), float(leak), float(threshold), float(noise)
        self.v_init = float(v_init)
        self.encoding, self.readout, self.reset = encoding, readout, reset
        self.surrogate, self.slope = surrogate, float(slope)
        self.spike = get_surrogate(surrogate, slope)

    def extra_repr(self) -> str:
        return (f"arch={self.arch!r}, T={self.T}, leak={self.leak:g}, threshold={self.threshold:g}, "
                + (f"v_init={self.v_init:g}, " if self.v_init else "") +
                f"encoding={self.encoding}, readout={self.readout}, surrogate={self.spike.__name__}, "
                f"noise={self.noise:g}")

    def fire(self, u: torch.Tensor) -> torch.Tensor:
        x = (u - self.threshold) / self.threshold
        if self.noise > 0:
            x = x + self.noise * torch.randn_like(x)
        return self.spike(x)

    def lif(self, u, current):
        """One step of a LIF population: (spikes, potential before reset, potential after)."""
        current = current.float()
        if u is None:
            u = current + self.v_init * self.threshold if self.v_init else current
        else:
            u = self.leak * u + current
        s = self.fire(u)
        kept = u - self.threshold * s.detach() if self.reset == "subtract" else u * (1 - s.detach())
        return s, u, kept

    @torch.no_grad()
    def data_init(self, x, target: float = 1.0, iters: int = 3) -> list[float]:
        """Rescale the hidden layers, first to last, so that on images ``x`` each
        layer's membrane potentials have a std of ``target`` thresholds; returns
        the rates after. A deep SNN at random init is silent beyond its first
        few layers (VGG-9: from the 7th), so it has no gradient to learn from."""
        for i in range(self.n_hidden):
            for _ in range(iters):
                std = self(x, record=True)[1][f"mem.{i}"].std().item()
                if std == 0:
                    raise ValueError(f"layer {i} gets no input on these images; cannot scale it")
                for p in self.layers[i].parameters():
                    p.mul_(target * self.threshold / std)
        _, rec = self(x, record=True)
        return [rec[f"rate.{i}"].mean().item() for i in range(self.n_hidden)]

    def rate_gradient(self, x):
        """Logits whose value is this net's (one forward pass, fresh Poisson draws) and whose gradient is
        that of its rates (BPTR, Bu et al. 2023's rate gradient): every hidden layer taken as its mean
        spike rate, with derivative 1 / threshold with respect to its input current where the rate lies
        strictly between 0 and 1 and 0 where it is silent or saturated, from the expected (not sampled)
        input. It ignores the leak and the time steps, so it is one backward function of an attacker's
        surrogate ensemble."""
        x = as_images(x, self.in_shape)
        logits, rec = self(x, record=True)
        h, last = x, len(self.layers) - 1
        for i in range(last):
            z = self.weight_input(i, h).float() / self.threshold
            r = rec[f"rate.{i}"].detach()
            h = self.after(i, r + (z - z.detach()) * ((r > 0) & (r < 1)))
        out = self.weight_input(last, h).float()
        return logits.detach() + out - out.detach()

    def forward(self, x, record: bool = False, per_step: bool = False):
        """Logits; with ``per_step`` (and not ``record``) the logits after each step instead, (N, T, n_classes):
        entry t is what this net with T = t + 1 would return (one pass gives the accuracy at every T)."""
        x = as_images(x, self.in_shape)
        n_layers, last = len(self.layers), len(self.layers) - 1
        masks = self.dropout_masks(len(x), x)
        u = [None] * n_layers
        out, steps = 0.0, []
        rec = {k: [] for k in ["input_spikes", "out"] + [f"{n}.{i}" for i in range(last) for n in ("spikes", "mem")]}
        for t in range(self.T):
            h = straight_through_bernoulli(x) if self.encoding == "poisson" else x
            if record:
                rec["input_spikes"].append(h)
            for i in range(last):
                s, v, u[i] = self.lif(u[i], self.weight_input(i, h))
                if record:
                    rec[f"spikes.{i}"].append(s)
                    rec[f"mem.{i}"].append(v)
                h = self.after(i, s, masks[i])
            current = self.weight_input(last, h).float()
            if self.readout == "mem":
                out = out + current
                step_out = out / (t + 1)
            else:
                step_out, _, u[last] = self.lif(u[last], current)
                out = out + step_out
            if record:
                rec["out"].append(step_out)
            if per_step:
                steps.append(out / (t + 1) if self.readout == "mem" else out)
        logits = out / self.T if self.readout == "mem" else out
        if not record:
            return torch.stack(steps, 1) if per_step else logits
        rec = {k: torch.stack(v, 1) for k, v in rec.items()}
        rec.update({f"rate.{i}": rec[f"spikes.{i}"].mean(1) for i in range(last)})
        rec["input"] = x
        return logits, rec
