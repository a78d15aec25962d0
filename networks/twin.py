"""The frozen Diehl & Cook network in torch: a differentiable "surrogate twin".

Forward pass
------------
The twin integrates exactly what Brian2 integrates for the frozen network of
:mod:`bio.network` (same equations, same namespace, same parameters, float64
by default), so replaying Brian2's recorded input spikes gives the same spikes.
Per time step ``n``, in Brian2's schedule (read off the generated
cpp_standalone code):

1. state update of every group from the previous step's values, with the
   network's integrator (``NetworkConfig.integrator``): exponential Euler (v
   exact for the step's conductances) or the released code's forward Euler;
   v is held while refractory (``unless refractory``); conductances always
   decay, by 1 - dt/tau per step under both;
2. thresholds: exc spikes where ``v > theta - theta_offset + v_thresh_exc``,
   inh where ``v > v_thresh_inh``, both only when not refractory; input spikes;
3. zero-delay synaptic propagation within the same step: ``ge_exc += s_in @ W``,
   ``ge_inh += w_exc_inh * s_exc`` (one to one), ``gi_exc += w_inh_exc *
   (sum(s_inh) - s_inh)`` (all but self);
4. resets ``v = v_reset``; the spike step is remembered for refractoriness.

Brian2 computes ``not_refractory = timestep(t - lastspike) >= timestep(refractory)``
with ``timestep(x) = int((x + 1e-3 dt) / dt)``: a neuron that spiked at step
``m`` is refractory (v frozen at reset, no spike) at steps ``m+1 .. m+R-1`` and
integrates again at ``m+R``; R = 10 (exc, 5 ms) and 4 (inh, 2 ms) at dt 0.5 ms.

Each call simulates one slot per example (presentation + rest, or the
presentation only with ``rest=False``) from rest, as the frozen Brian2 network
starts every example (it resets v and the conductances at each slot start),
or from a given :class:`TwinState`.

Backward pass, and why it is needed
-----------------------------------
Both sources of randomness and nonlinearity in a spiking network have useless
gradients: a Poisson input spike is a Bernoulli sample, whose derivative with
respect to its probability is zero, and a spike is a Heaviside step of the
membrane potential, whose derivative is zero almost everywhere. Differentiating
the simulation as written gives zero (or no) input gradient, and a gradient
attack on it would report robustness that is only masked gradients (Athalye
et al. 2018). The twin therefore uses

* the straight-through estimate for the sampler: d spike / d p = 1, so
  d spike / d pixel = (max_rate + boost) * dt per presentation step, the
  derivative of the expected spike count (BPDA; Sharmin et al. use the same);
  intensities are sampled sparsely, as geometric gaps between spikes
  (:mod:`networks.poisson`: same distribution, a tenth of the time);
* a surrogate derivative for every exc and inh threshold
  (:mod:`networks.surrogate`; shape and slope are options, x in mV above
  threshold), through both layers and the lateral inhibition loop.

As in snntorch, the reset is not differentiated through (the spike that
triggers it is treated as a constant), and refractory masks are constants.
Exc spike counts are sums of surrogate spikes, so they carry gradients.

The slope matters for stability. Through the lateral inhibition loop (exc
spike -> inh conductance -> inh spike -> gi of every other exc neuron) the
linearised backward pass has a gain of order 1e4 x (surrogate derivative of
an exc spike) x (that of an inh spike) per cycle, so a wide surrogate grows
exponentially over the 700 presentation steps: on a 100-neuron run,
fast_sigmoid at slope 1/mV gave input gradients of 1e78..1e107, arctan at
slope 2/mV 1e4..1e9, while fast_sigmoid at 5/mV (the default) stays O(1..10)
and gave the strongest one-step attack of the settings tried.
``detach_inhibition=True`` cuts the loop (the inhibition a neuron receives is
then treated as a given input in the backward pass) and keeps every shape
stable.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from brian2 import Hz, mV, ms

from bio import parameters as P
from bio.frozen import load_trained
from bio.network import namespace
from bio.parameters import NetworkConfig
from networks.poisson import poisson_drive
from networks.surrogate import get_surrogate


def _timestep(t: float, dt: float) -> int:
    """Brian2's conversion of a duration to a whole number of steps."""
    return int((t + 1e-3 * dt) / dt)


@dataclasses.dataclass
class TwinState:
    """Network state between slots, batched; ``last_*`` are last-spike steps
    relative to the start of the slot the state is handed to."""

    v_exc: torch.Tensor
    ge_exc: torch.Tensor
    gi_exc: torch.Tensor
    v_inh: torch.Tensor
    ge_inh: torch.Tensor
    last_exc: torch.Tensor
    last_inh: torch.Tensor

    def fields(self):
        return [getattr(self, f.name) for f in dataclasses.fields(self)]

    def same(self, other: "TwinState", atol: float = 1e-15) -> bool:
        """Equal up to rounding: floats within ``atol`` (a few ulps of v in
        volts), spike steps exactly. Bitwise equality can take a whole chain:
        the rounded leak has fixed points an ulp apart, and decaying
        conductances stop at subnormal fixed points (k*g + g == g). Brian2's
        compiled code (-ffast-math, its own operation order) rounds
        differently anyway."""
        return all(torch.allclose(a, b, rtol=0.0, atol=atol) if a.is_floating_point() else torch.equal(a, b)
                   for a, b in zip(self.fields(), other.fields()))


@dataclasses.dataclass
class TwinOutput:
    exc: torch.Tensor                         # (B, n_exc) exc spike counts, differentiable
    inh: torch.Tensor                         # (B, n_exc) inh spike counts
    state: TwinState                          # final state, ready to start the next slot
    input_spikes: torch.Tensor | None = None  # (B, steps, n_input), record=True only
    exc_spikes: torch.Tensor | None = None    # (B, steps, n_exc)
    v_exc: torch.Tensor | None = None         # (B, steps, n_exc) volts, as compared with threshold (before reset)


class DiehlCookTwin(torch.nn.Module):
    """The frozen network for a batch of independent examples.

    ``weights`` is W[input, exc], ``theta_mV`` the frozen adaptive thresholds.
    ``forward(inputs)`` returns exc spike counts (B, n_exc); ``inputs`` is
    either pixel intensities (B, n_input) in [0, 1] (uint8 is divided by 255),
    sampled as Poisson spikes each presentation step, or given input spike
    trains (B, steps, n_input) of 0/1 (bool or float; steps <= slot steps,
    zero after), e.g. from :func:`spike_trains` of Brian2's recorded input.
    ``surrogate``/``slope`` (per mV): see :mod:`networks.surrogate`; ``rest``:
    simulate the 150 ms rest too (Brian2 counts its spikes; attacks may skip
    it); ``detach_inhibition``: see the module docstring; ``repeat_low``:
    show a quiet example again, brighter, as Brian2 does (:meth:`forward`).
    For sampling on CUDA, pass a ``generator`` on that device.
    """

    def __init__(self, weights, theta_mV, config: NetworkConfig | None = None, *,
                 surrogate: str = "fast_sigmoid", slope: float = 5.0, rest: bool = True,
                 detach_inhibition: bool = False, repeat_low: bool = True, dtype: torch.dtype = torch.float64,
                 device=None):
        super().__init__()
        w = np.asarray(weights, dtype=np.float64)
        theta_mV = np.asarray(theta_mV, dtype=np.float64)
        config = config or NetworkConfig(n_exc=w.shape[1], n_input=w.shape[0])
        if w.shape != (config.n_input, config.n_exc) or theta_mV.shape != (config.n_exc,):
            raise ValueError(f"weights {w.shape} / theta {theta_mV.shape} do not fit a network with "
                             f"{config.n_input} inputs and {config.n_exc} exc neurons")
        self.config, self.rest, self.detach_inhibition = config, rest, detach_inhibition
        self.repeat_low = repeat_low
        self.last_tries = None   # tries before the kept one, per example of the last forward()
        self.surrogate, self.slope = surrogate, float(slope)
        self.spike = get_surrogate(surrogate, slope)

        # Floats in SI units, from the same namespace the Brian2 network uses.
        self.c = {k: float(v) for k, v in namespace(config).items()}
        c, dt = self.c, float(config.dt_ms * ms)
        self.dt = dt
        # Brian2's loop invariants, in its operation order, so rounding matches.
        self.euler = config.integrator == "euler"
        if self.euler:
            self.k_ge, self.k_gi = -dt / c["tau_ge"], -dt / c["tau_gi"]
            self.k_exc, self.k_inh = dt / c["tau_exc"], dt / c["tau_inh"]
        else:
            self.k_ge, self.k_gi = math.exp(-dt / c["tau_ge"]), math.exp(-dt / c["tau_gi"])
        self.refr_exc = _timestep(float(P.REFRACTORY_EXC), dt)
        # the released code's longer spike block (bio.network.EXC_BLOCK); v integrates after refr_exc
        self.block_exc = max(self.refr_exc, int(c["exc_block_steps"]))
        self.refr_inh = _timestep(float(P.REFRACTORY_INH), dt)
        self.present_steps = int(c["present_steps"])
        self.n_steps = config.steps_per_slot if rest else self.present_steps
        # theta arrives in Brian2 as theta_mV * mV; its threshold is (v_thresh - offset) + theta.
        thr = (c["v_thresh_exc"] - c["theta_offset"]) + theta_mV * float(mV)
        self.register_buffer("w", torch.tensor(w, dtype=dtype, device=device))
        self.register_buffer("thr_exc", torch.tensor(thr, dtype=dtype, device=device))

    @classmethod
    def from_run_dir(cls, path, config: NetworkConfig | None = None, epoch: int | None = None,
                     **kwargs) -> "DiehlCookTwin":
        """The twin of a trained run (``config.json`` and ``weights.npz``, or with ``epoch`` the weights kept
        after that epoch); ``config`` overrides the run's."""
        run_config, w, theta_mV = load_trained(path, epoch)
        return cls(w, theta_mV, config or run_config, **kwargs)

    def extra_repr(self) -> str:
        return (f"n_input={self.config.n_input}, n_exc={self.config.n_exc}, steps={self.n_steps}, "
                f"surrogate={self.surrogate}, slope={self.slope:g}")

    def initial_state(self, batch: int) -> TwinState:
        """The state every Brian2 chunk starts from: at rest, never fired."""
        c, n = self.c, self.config.n_exc

        def full(value, dtype=self.w.dtype):
            return torch.full((batch, n), value, dtype=dtype, device=self.w.device)

        # Brian2 starts with lastspike = -1e4 s; a last spike R or more steps back is the same.
        return TwinState(full(c["E_rest_exc"]), full(0.0), full(0.0), full(c["E_rest_inh"]), full(0.0),
                         full(-self.block_exc, torch.int64), full(-self.refr_inh, torch.int64))

    def forward(self, inputs, boost_hz=0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Exc spike counts. Intensities are read as Brian2's frozen network
        reads them (``repeat_low``): an example that evokes fewer than
        ``MIN_SPIKES`` is simulated again, 32 Hz brighter at the maximum, up to
        ``MAX_REPEATS`` times, and the kept try's counts (and gradient) are
        returned. Which try is kept is a step function of the counts, so it
        passes no gradient; the attacks average over draws (EOT) instead."""
        out = self.simulate(inputs, boost_hz=boost_hz, generator=generator).exc
        if not self.repeat_low or torch.as_tensor(inputs).ndim != 2:
            return out
        x = torch.as_tensor(inputs, device=out.device)
        boost = torch.as_tensor(boost_hz, dtype=out.dtype, device=out.device).expand(len(x)).clone()
        tries = torch.zeros(len(x), dtype=torch.int64, device=out.device)
        quiet = out.detach().sum(1) < P.MIN_SPIKES
        for _ in range(P.MAX_REPEATS):
            if not bool(quiet.any()):
                break
            idx = quiet.nonzero().squeeze(1)
            boost[idx] = boost[idx] + float(P.RATE_BOOST / Hz)
            tries[idx] += 1
            again = self.simulate(x[idx], boost_hz=boost[idx], generator=generator).exc
            out = out.clone()
            out[idx] = again
            quiet = torch.zeros_like(quiet)
            quiet[idx] = again.detach().sum(1) < P.MIN_SPIKES
        self.last_tries = tries
        return out

    def _input_drive(self, inputs, boost_hz, generator, record: bool):
        """Input spikes' synaptic drive (B, steps with input, n_exc), and the
        spike trains themselves when ``record`` (else None)."""
        dtype, device = self.w.dtype, self.w.device
        x = torch.as_tensor(inputs, device=device)
        if x.ndim == 2:
            if x.shape[1] != self.config.n_input:
                raise ValueError(f"intensities must be (batch, {self.config.n_input}), got {tuple(x.shape)}")
            x = x.to(dtype) / 255.0 if x.dtype == torch.uint8 else x.to(dtype)
            boost = torch.as_tensor(boost_hz, dtype=dtype, device=device).reshape(-1, 1)
            # p = rate * dt, rate = x * (max_rate + boost), as bio.network.input_rates.
            p = x * ((self.config.max_rate_hz + boost) * self.dt)
            out = poisson_drive(p, self.w, self.present_steps, generator, return_spikes=record)
            return out if record else (out, None)
        if x.ndim == 3:
            if x.shape[2] != self.config.n_input or x.shape[1] > self.n_steps:
                raise ValueError(f"spike trains must be (batch, <= {self.n_steps}, {self.config.n_input}), "
                                 f"got {tuple(x.shape)}")
            spikes = x.to(dtype)
            return spikes @ self.w, spikes
        raise ValueError(f"inputs must be intensities (batch, n_input) or spike trains (batch, steps, n_input), "
                         f"got shape {tuple(x.shape)}")

    # One step of each state variable, written as Brian2's generated code
    # computes it (``bio.network``'s ``method``), so rounding matches.
    def _decay(self, g, k):
        return k * g + g if self.euler else g * k

    def _v_exc_step(self, v, ge, gi):
        c = self.c
        if self.euler:
            drive = c["E_rest_exc"] + (ge * (c["E_exc_exc"] - v) + gi * (c["E_inh_exc"] - v))
            return self.k_exc * (drive - v) + v
        tau = c["tau_exc"]
        a = -ge / tau - gi / tau - 1 / tau
        ba = (c["E_exc_exc"] * ge / tau + c["E_inh_exc"] * gi / tau + c["E_rest_exc"] / tau) / a
        return -ba + (ba + v) * torch.exp(self.dt * a)

    def _v_inh_step(self, v, ge):
        c = self.c
        if self.euler:
            drive = c["E_rest_inh"] + ge * (c["E_exc_inh"] - v)
            return self.k_inh * (drive - v) + v
        tau = c["tau_inh"]
        a = -ge / tau - 1 / tau
        ba = (c["E_exc_inh"] * ge / tau + c["E_rest_inh"] / tau) / a
        return -ba + (ba + v) * torch.exp(self.dt * a)

    def simulate(self, inputs, *, boost_hz=0.0, state: TwinState | None = None, record: bool = False,
                 generator: torch.Generator | None = None) -> TwinOutput:
        """One slot per example; see :class:`TwinOutput`. ``boost_hz``: scalar or (B,)."""
        c = self.c
        # The input's synaptic drive for every step in one matrix product: far
        # faster than one small product per step, forward and backward.
        # unbind, not drive_in[:, n]: indexing would back-propagate a full-size
        # zero tensor per step.
        drive, spikes_in = self._input_drive(inputs, boost_hz, generator, record)
        batch, steps_in = drive.shape[:2]
        drive_in = drive.unbind(1)
        st = state or self.initial_state(batch)
        v_e, ge_e, gi_e, v_i, ge_i, last_e, last_i = st.fields()
        count_e = torch.zeros_like(v_e)
        count_i = torch.zeros_like(v_i)
        rec_s, rec_v = [], []
        for n in range(self.n_steps):
            # (1) state update of every group from the previous step's values
            free_e = (n - last_e) >= self.refr_exc
            free_i = (n - last_i) >= self.refr_inh
            v_e = torch.where(free_e, self._v_exc_step(v_e, ge_e, gi_e), v_e)
            v_i = torch.where(free_i, self._v_inh_step(v_i, ge_i), v_i)
            ge_e, gi_e, ge_i = self._decay(ge_e, self.k_ge), self._decay(gi_e, self.k_gi), self._decay(ge_i, self.k_ge)
            # (2) thresholds; v - thr > 0 exactly when v > thr, and the
            # surrogate sees the distance in mV so slopes read per mV.
            can_e = free_e if self.block_exc == self.refr_exc else (n - last_e) >= self.block_exc
            s_e = self.spike((v_e - self.thr_exc) * 1e3) * can_e
            s_i = self.spike((v_i - c["v_thresh_inh"]) * 1e3) * free_i
            # (3) synaptic propagation within the same step
            if n < steps_in:
                ge_e = ge_e + drive_in[n]
            ge_i = ge_i + c["w_exc_inh"] * s_e
            s_lat = s_i.detach() if self.detach_inhibition else s_i
            gi_e = gi_e + c["w_inh_exc"] * (s_lat.sum(-1, keepdim=True) - s_lat)
            # (4) resets
            fired_e, fired_i = s_e.detach() > 0, s_i.detach() > 0
            if record:
                rec_s.append(s_e)
                rec_v.append(v_e)
            v_e = torch.where(fired_e, c["v_reset_exc"], v_e)
            v_i = torch.where(fired_i, c["v_reset_inh"], v_i)
            last_e = torch.where(fired_e, n, last_e)
            last_i = torch.where(fired_i, n, last_i)
            count_e = count_e + s_e
            count_i = count_i + s_i
        # Last-spike steps relative to the next slot; any step at least R back
        # means "not refractory", so clamp to -R: states then compare equal.
        end = TwinState(v_e, ge_e, gi_e, v_i, ge_i, (last_e - self.n_steps).clamp(min=-self.block_exc),
                        (last_i - self.n_steps).clamp(min=-self.refr_inh))
        out = TwinOutput(count_e, count_i, end)
        if record:
            pad = torch.zeros((batch, self.n_steps - steps_in, self.config.n_input), dtype=spikes_in.dtype,
                              device=spikes_in.device)
            out.input_spikes = torch.cat([spikes_in, pad], 1)
            out.exc_spikes, out.v_exc = torch.stack(rec_s, 1), torch.stack(rec_v, 1)
        return out


def spike_trains(input_spikes, n_input: int, n_steps: int, device=None) -> torch.Tensor:
    """Dense bool (n, n_steps, n_input) trains from ``FrozenResult.input_spikes``
    (per example: input neuron indices and time steps within the slot)."""
    out = torch.zeros((len(input_spikes), n_steps, n_input), dtype=torch.bool, device=device)
    for k, (i, t) in enumerate(input_spikes):
        t = np.asarray(t, dtype=np.int64)
        if len(t) and (t.min() < 0 or t.max() >= n_steps):
            raise ValueError(f"example {k} has input spikes outside steps 0..{n_steps - 1}")
        out[k, torch.as_tensor(t, device=device), torch.as_tensor(np.asarray(i, dtype=np.int64), device=device)] = True
    return out
