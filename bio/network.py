"""The Diehl & Cook network as Brian2 objects.

One network serves training (plastic input->exc weights, adaptive theta) and
frozen evaluation (fixed weights and theta). Presentations are laid end to
end in "slots" of ``present + rest``. A 2-D ``TimedArray`` holds the pixel
intensities of the examples loaded for a run, one row each; at every slot
start a one-neuron ``presenter`` (one per copy) applies Diehl & Cook's rule
(:mod:`bio.schedule`): if the last presentation evoked fewer than
``MIN_SPIKES`` exc spikes, the same row is shown again, 32 Hz brighter at the
maximum, else the next row at the normal rate. So a whole chunk runs in a
single ``run()``, and a compiled standalone binary can be re-run on new
examples with ``run_args``.
"""
from __future__ import annotations

import numpy as np
from brian2 import (
    Clock,
    Hz,
    Network,
    NeuronGroup,
    SpikeMonitor,
    Synapses,
    TimedArray,
    linked_var,
    ms,
    second,
)

from bio import parameters as P
from bio.parameters import NetworkConfig
from bio.seeded_random import make_counter_uniform

# --- equations ----------------------------------------------------------
# Conductances ge, gi are in units of the leak conductance. theta is frozen
# (a constant) at test time; during training it always decays, as in the
# released code (every slot of a training run shows an example).
EXC_EQS = """
dv/dt = ((E_rest_exc - v) + ge*(E_exc_exc - v) + gi*(E_inh_exc - v)) / tau_exc : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
dgi/dt = -gi / tau_gi : 1
"""
EXC_EQS_TRAIN = """
dtheta/dt = -theta / tau_theta : volt
dxpost/dt = -xpost / tau_post : 1
wsum : 1
"""
EXC_EQS_FROZEN = """
theta : volt (constant)
"""
EXC_THRESHOLD = "v > theta - theta_offset + v_thresh_exc"
# The released code's spike block, longer than the refractory clamp of v.
EXC_BLOCK = " and timestep(t - lastspike, dt) >= exc_block_steps"
EXC_RESET_TRAIN = "v = v_reset_exc; theta += theta_plus; xpost = 1"
EXC_RESET_FROZEN = "v = v_reset_exc"

INH_EQS = """
dv/dt = ((E_rest_inh - v) + ge*(E_exc_inh - v)) / tau_inh : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
"""

# The presenter: which loaded example (``pos``) its copy shows, after how many
# tries (``rep``), and the exc spikes the presentation has evoked so far
# (``count``, presentation only, not the rest). At each slot start but the
# first it moves on if the last presentation evoked enough spikes (or the
# example had ``max_rep`` tries), else shows the same example once more.
# ``n_loaded`` examples were loaded; a copy that has shown them all shows nothing.
PRESENTER_EQS = """
pos : 1
rep : 1
count : 1
shown : 1
n_loaded : 1 (constant)
max_rep : 1 (shared, constant)
"""
DECIDE = """
decided = int(t > 0.5 * dt_step)
advance = decided * int(count >= min_spikes or rep >= max_rep)
pos += advance
rep = (1 - advance) * (rep + decided)
count = 0
shown = int(pos < n_loaded)
"""
COUNT_EXC_SPIKE = "count_post += int(timestep(t, dt) % steps_per_slot < present_steps)"

# Spike probability per time step of the shown pixel (rate * dt), read from
# the stimulus once per slot rather than in every step; no spikes in the rest
# period. ``key`` names the presentation (example and try) for the sampler
# (bio.seeded_random), so a try's spikes do not depend on the slot it runs in.
INPUT_EQS = """
p_spike : 1
key : 1
pos : 1 (linked)
rep : 1 (linked)
shown : 1 (linked)
"""
LOAD_STIMULUS = """
p_spike = shown * stimulus(pos * second, i) * (max_rate + rep * rate_boost) * dt_step
key = example_key(pos * second, i // n_input) * tries_per_example + rep
"""
# A nearest-spike trace is a function of the time since the last spike, so
# the presynaptic trace is computed only when a post spike reads it instead
# of being decayed for all 784 inputs every time step.
INPUT_EQS_TRAIN = """
tlast : second
xpre = exp(-(t - tlast) / tau_pre) : 1
"""
# ``pixel`` (i % n_input, set once) spares the sampler an integer division per draw.
INPUT_EQS_SEED = """
rng_seed : 1 (shared, constant)
pixel : integer (constant)
"""

SYN_MODEL_TRAIN = """
w : 1
wsum_post = w : 1 (summed)
"""
# Pair-based STDP with nearest-spike traces (set to 1 on a spike, as in the
# released code): a pre spike depresses by the post trace, a post spike
# potentiates by the pre trace.
SYN_ON_PRE_TRAIN = "ge_post += w; w = clip(w - nu_pre * xpost_post, 0, w_max)"
SYN_ON_POST_TRAIN = "w = clip(w + nu_post * xpre_pre, 0, w_max)"
# The released code's rule: potentiation is also scaled by a slow post trace
# read before this spike resets it (synapses act before resets in a step).
EXC_EQS_TRIPLET = """
dxpost2/dt = -xpost2 / tau_post2 : 1
"""
EXC_RESET_TRIPLET = "; xpost2 = 1"
SYN_ON_POST_TRIPLET = "w = clip(w + nu_post * xpre_pre * xpost2_post, 0, w_max)"
SYN_ON_PRE_FROZEN = "ge_post += w"
NORMALISE = "w = w * w_norm_sum / wsum_post"


def conductance_tau(tau, config: NetworkConfig):
    """The time constant the equations use for a conductance.

    Under exponential Euler the decay per step is exp(-dt/tau); the released
    code's Euler step decays by 1 - dt/tau (0.5 per step for ge at dt 0.5 ms,
    where exp gives 0.61, 27 % more charge per input spike). The returned tau
    makes the exact decay equal Euler's factor, so only v's integration changes.
    """
    if config.integrator == "euler":
        return tau
    dt = config.dt_ms * ms
    if dt >= tau:
        raise ValueError(f"dt={config.dt_ms} ms is not shorter than the conductance time constant {tau}: "
                         f"Euler's decay factor 1 - dt/tau would not be positive")
    return -dt / np.log(1.0 - float(dt / tau))


def namespace(config: NetworkConfig) -> dict:
    """Names the equations use, with units, from parameters and config."""
    steps_per_slot = config.steps_per_slot
    return {
        "E_rest_exc": P.E_REST_EXC,
        "v_reset_exc": P.V_RESET_EXC,
        "v_thresh_exc": P.V_THRESH_EXC,
        "theta_offset": P.THETA_OFFSET,
        "tau_exc": config.tau_exc_ms * ms,
        "E_exc_exc": P.E_EXC_FOR_EXC,
        "E_inh_exc": P.E_INH_FOR_EXC,
        "E_rest_inh": P.E_REST_INH,
        "v_reset_inh": P.V_RESET_INH,
        "v_thresh_inh": P.V_THRESH_INH,
        "tau_inh": P.TAU_INH,
        "E_exc_inh": P.E_EXC_FOR_INH,
        "tau_ge": conductance_tau(P.TAU_GE, config),
        "tau_gi": conductance_tau(P.TAU_GI, config),
        "theta_plus": P.THETA_PLUS,
        "tau_theta": P.TAU_THETA,
        "tau_pre": P.TAU_PRE,
        "tau_post": P.TAU_POST,
        "tau_post2": P.TAU_POST2,
        "nu_pre": P.NU_PRE,
        "nu_post": P.NU_POST,
        "w_max": P.W_MAX,
        "w_norm_sum": P.W_NORM_SUM,
        "w_exc_inh": P.W_EXC_INH,
        "w_inh_exc": P.W_INH_EXC,
        "dt_step": config.dt_ms * ms,   # a run_regularly's own dt is its period, not the time step
        "max_rate": config.max_rate_hz * Hz,
        "rate_boost": P.RATE_BOOST,
        "min_spikes": P.MIN_SPIKES,
        "tries_per_example": P.MAX_REPEATS + 1,
        "steps_per_slot": steps_per_slot,
        "n_input": config.n_input,
        "present_steps": int(round(config.present_ms / config.dt_ms)),
        "exc_block_steps": int(round(config.exc_block_ms / config.dt_ms)),
    }


def input_threshold(standalone: bool) -> str:
    # Zero-rate pixels (most of an MNIST image) and the rest period skip the
    # random draw: ``and`` short-circuits in the generated code.
    step = "timestep(t, dt) % steps_per_slot"
    draw = f"counter_uniform(rng_seed, key, pixel, {step})" if standalone else "rand()"
    return f"p_spike > 0 and {step} < present_steps and {draw} < p_spike"


class DiehlCookNetwork:
    """Brian2 objects for up to ``n_slots`` consecutive presentations.

    ``mode`` is ``"train"`` (STDP, adaptive theta, normalisation before every
    presentation) or ``"frozen"`` (input spikes are recorded). ``standalone``
    selects the input sampler that takes its seed from ``run_args``. Up to
    ``n_slots`` examples are loaded per run (``stimulus``, ``example_key``:
    one row each); the presenter decides which one each slot shows.

    A frozen network can hold ``copies`` independent copies of itself (same
    weights, separate state), each with its own presenter and loaded
    examples: row ``r`` of copy ``c`` is example ``r * copies + c`` of the
    arrays. Per-step overheads are then shared by all copies. Per-slot
    results are in the same order (slot ``s`` of copy ``c``: ``s * copies + c``).
    """

    def __init__(self, config: NetworkConfig, n_slots: int, mode: str = "frozen",
                 standalone: bool = True, namespace_overrides=None, copies: int = 1):
        if mode not in ("train", "frozen"):
            raise ValueError(f"mode must be 'train' or 'frozen', not {mode!r}")
        if n_slots < 1 or copies < 1:
            raise ValueError(f"n_slots and copies must be >= 1, got {n_slots}, {copies}")
        if mode == "train" and copies != 1:
            raise ValueError("training is one network: copies must be 1")
        self.config, self.n_slots, self.mode, self.copies = config, n_slots, mode, copies
        train = mode == "train"
        ns = namespace(config)
        ns.update(namespace_overrides or {})
        slot = config.slot_ms * ms
        dt = config.dt_ms * ms
        clock = Clock(dt=dt)

        n_in, n_exc = config.n_input, config.n_exc
        # Loaded examples, one row each, indexed by the presenter's pos (in
        # seconds: a TimedArray's index is a time): pixel intensities in
        # [0, 1], and the sampler's key of each example.
        self.stimulus = TimedArray(np.zeros((n_slots, copies * n_in)), dt=1 * second, name="stimulus")
        ns["stimulus"] = self.stimulus
        self.example_key = TimedArray(np.arange(n_slots * copies, dtype=float).reshape(n_slots, copies),
                                      dt=1 * second, name="example_key")
        ns["example_key"] = self.example_key
        if standalone:
            ns["counter_uniform"] = make_counter_uniform()

        self.presenter = NeuronGroup(copies, PRESENTER_EQS, method="exact", clock=clock, namespace=ns,
                                     name="presenter")
        self.presenter.n_loaded = n_slots
        self.presenter.max_rep = P.MAX_REPEATS
        extra = [self.presenter.run_regularly(DECIDE, dt=slot, when="start", order=-3, name="decide")]

        input_eqs = INPUT_EQS + (INPUT_EQS_TRAIN if train else "") + (INPUT_EQS_SEED if standalone else "")
        self.input = NeuronGroup(
            copies * n_in, input_eqs, threshold=input_threshold(standalone),
            reset="tlast = t" if train else "", method="exact", clock=clock,
            namespace=ns, name="inputs")
        copy_of_input = np.repeat(np.arange(copies), n_in)
        if standalone:
            self.input.pixel = np.tile(np.arange(n_in), copies)
        for name in ("pos", "rep", "shown"):
            setattr(self.input, name, linked_var(self.presenter, name, index=copy_of_input))
        extra.append(self.input.run_regularly(LOAD_STIMULUS, dt=slot, when="start", order=-2,
                                              name="load_stimulus"))

        triplet = train and config.stdp == "triplet"
        exc_eqs = EXC_EQS + (EXC_EQS_TRAIN if train else EXC_EQS_FROZEN) + (EXC_EQS_TRIPLET if triplet else "")
        if train:
            self.input.tlast = -1e6 * second
        self.exc = NeuronGroup(
            copies * n_exc, exc_eqs,
            threshold=EXC_THRESHOLD + (EXC_BLOCK if config.exc_block_ms > float(P.REFRACTORY_EXC / ms) else ""),
            reset=(EXC_RESET_TRAIN + (EXC_RESET_TRIPLET if triplet else "")) if train else EXC_RESET_FROZEN,
            refractory=P.REFRACTORY_EXC, method=config.integrator, clock=clock,
            namespace=ns, name="exc")
        self.exc.v = P.E_REST_EXC
        self.exc.theta = P.THETA_INIT

        self.inh = NeuronGroup(
            copies * n_exc, INH_EQS, threshold="v > v_thresh_inh", reset="v = v_reset_inh",
            refractory=P.REFRACTORY_INH, method=config.integrator, clock=clock,
            namespace=ns, name="inh")
        self.inh.v = P.E_REST_INH

        if train:
            self.syn = Synapses(self.input, self.exc, SYN_MODEL_TRAIN, on_pre=SYN_ON_PRE_TRAIN,
                                on_post=SYN_ON_POST_TRIPLET if triplet else SYN_ON_POST_TRAIN, clock=clock, namespace=ns, name="input_exc")
        else:
            self.syn = Synapses(self.input, self.exc, "w : 1", on_pre=SYN_ON_PRE_FROZEN,
                                clock=clock, namespace=ns, name="input_exc")
        # Explicit copy-major, then i-major order, so a weight matrix W[input, exc]
        # is w = tile(W.ravel(), copies).
        offsets = np.repeat(np.arange(copies), n_in * n_exc)
        self.syn.connect(i=np.tile(np.repeat(np.arange(n_in), n_exc), copies) + offsets * n_in,
                         j=np.tile(np.arange(n_exc), n_in * copies) + offsets * n_exc)
        self.syn.w = 0.0
        if train:
            # Rescale every exc neuron's incoming weights to sum to w_norm_sum at
            # the start of each slot; the summed variable is computed only then,
            # not every time step (it touches every synapse).
            slot_clock = Clock(dt=slot, name="slot_clock")
            updater = self.syn.summed_updaters["wsum_post"]
            updater._clock = slot_clock
            updater.when, updater.order = "start", -1
            extra.append(self.syn.run_regularly(NORMALISE, dt=slot, when="start", order=0,
                                                name="normalise"))

        self.exc_inh = Synapses(self.exc, self.inh, on_pre="ge_post += w_exc_inh", clock=clock,
                                namespace=ns, name="exc_inh")
        self.exc_inh.connect(j="i")
        self.inh_exc = Synapses(self.inh, self.exc, on_pre="gi_post += w_inh_exc", clock=clock,
                                namespace=ns, name="inh_exc")
        # Explicit pairs: a connect condition would test all (copies * n_exc)^2 pairs in the binary.
        pre = np.repeat(np.arange(copies * n_exc), n_exc)
        post = (pre // n_exc) * n_exc + np.tile(np.arange(n_exc), copies * n_exc)
        self.inh_exc.connect(i=pre[pre != post], j=post[pre != post])
        # Exc spikes are few (tens per presentation): counting them through a
        # synapse to the presenter costs next to nothing.
        self.exc_presenter = Synapses(self.exc, self.presenter, on_pre=COUNT_EXC_SPIKE, clock=clock,
                                      namespace=ns, name="exc_presenter")
        self.exc_presenter.connect(i=np.arange(copies * n_exc), j=np.arange(copies * n_exc) // n_exc)

        if not train:
            # Every example starts from rest, so a frozen prediction does not
            # depend on the image shown before it (after the 150 ms rest up to
            # ~7 mV of the previous example remained in v), and the twin can
            # simulate examples independently.
            never = "lastspike = -1e4*second"   # as at the start of a run: not refractory
            extra.append(self.exc.run_regularly(f"v = E_rest_exc; ge = 0; gi = 0; {never}", dt=slot,
                                                when="start", name="exc_to_rest"))
            extra.append(self.inh.run_regularly(f"v = E_rest_inh; ge = 0; {never}", dt=slot, when="start",
                                                name="inh_to_rest"))

        self.exc_mon = SpikeMonitor(self.exc, name="exc_spikes")
        self.inh_mon = SpikeMonitor(self.inh, name="inh_spikes")
        objects = [self.presenter, self.input, self.exc, self.inh, self.syn, self.exc_inh, self.inh_exc,
                   self.exc_presenter, self.exc_mon, self.inh_mon] + extra
        # Frozen runs report input spikes too (the twin replays them); training
        # does not need them.
        self.input_mon = None
        if not train:
            self.input_mon = SpikeMonitor(self.input, name="input_spikes")
            objects.append(self.input_mon)
        self.net = Network(*objects)
        self.duration = n_slots * slot

    # ------------------------------------------------------------------
    def example_index(self, i, t, n_neurons: int):
        """(example, neuron, step within the slot) of spikes (i, t in s) of a group."""
        i = np.asarray(i, dtype=np.int64)
        step = np.rint(np.asarray(t) / (self.config.dt_ms * 1e-3)).astype(np.int64)
        slot, step = np.divmod(step, self.config.steps_per_slot)
        copy, neuron = np.divmod(i, n_neurons)
        return slot * self.copies + copy, neuron, step

    def slot_counts(self, i, t, n_neurons: int) -> np.ndarray:
        """Spike counts per (example, neuron) from a SpikeMonitor's i and t (s)."""
        example, neuron, _ = self.example_index(i, t, n_neurons)
        counts = np.zeros((self.n_slots * self.copies, n_neurons), dtype=np.int32)
        np.add.at(counts, (example, neuron), 1)
        return counts


def intensities(images: np.ndarray) -> np.ndarray:
    """Images (uint8, or floats in [0, 1]) as float64 rows in [0, 1], as the stimulus holds them."""
    x = np.asarray(images)
    x = x.reshape(len(x), -1)
    return x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


def input_rates(images: np.ndarray, max_rate_hz: float, boost_hz=0.0) -> np.ndarray:
    """Pixel intensities (uint8 or [0, 1] floats) to Poisson rates in Hz."""
    x = intensities(images)
    boost = np.broadcast_to(np.asarray(boost_hz, dtype=float), (len(x),))
    return x * (max_rate_hz + boost)[:, None]
