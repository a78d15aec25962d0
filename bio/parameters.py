"""The Diehl & Cook (2015) network parameters: the one place they live.

Values are those of the authors' released code (dt 0.5 ms); see
``../shared/BACKGROUND.md`` section 2. Every other module (the Brian2
network, the torch twin, the figures) imports them from here.

The few parameters the studies vary (``n_exc``, ``tau_exc``, ``dt``,
``present``, ``max_rate``, ...) are fields of :class:`NetworkConfig`;
everything else is a module constant.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from brian2 import Hz, mV, ms

# --- input --------------------------------------------------------------
N_INPUT = 784                  # 28 x 28 pixels, one Poisson neuron each
MAX_RATE = 63.75 * Hz          # pixel 255 -> 63.75 Hz (intensity 2 of the original)
RATE_BOOST = 32 * Hz           # added to the maximum when an example gives < MIN_SPIKES
MIN_SPIKES = 5                 # exc spikes an example must evoke during training
MAX_REPEATS = 10               # give up on an example after this many boosts

# --- timing -------------------------------------------------------------
DT = 0.5 * ms
PRESENT = 350 * ms             # Poisson input on
REST = 150 * ms                # input off: lets v, ge, gi and traces decay

# --- excitatory LIF ----------------------------------------------------
E_REST_EXC = -65 * mV
V_RESET_EXC = -65 * mV
V_THRESH_EXC = -52 * mV        # effective threshold is theta - THETA_OFFSET + V_THRESH_EXC
THETA_OFFSET = 20 * mV
TAU_EXC = 100 * ms             # membrane leak
REFRACTORY_EXC = 5 * ms
# The released code also blocks exc spikes with a timer (``dtimer/dt = 100 ms/s``,
# spike only once ``timer > 5 ms``), which lasts 50 ms after a spike. The
# BACKGROUND table takes 5 ms; ``NetworkConfig.exc_block_ms`` sets the block.
E_EXC_FOR_EXC = 0 * mV         # reversal potentials seen by an exc cell
E_INH_FOR_EXC = -100 * mV

# --- inhibitory LIF ----------------------------------------------------
E_REST_INH = -60 * mV
V_RESET_INH = -45 * mV
V_THRESH_INH = -40 * mV
TAU_INH = 10 * ms
REFRACTORY_INH = 2 * ms
E_EXC_FOR_INH = 0 * mV
# The released code also sets E_inh = -85 mV for inh cells; no inhibitory synapse reaches an inh cell
# (lateral inhibition is inh -> exc only), so it never enters an equation and is not kept here.

# --- conductances (dimensionless, in units of the leak conductance) -----
TAU_GE = 1 * ms
TAU_GI = 2 * ms

# --- integration --------------------------------------------------------
# The released code integrates with forward Euler. With conductances in units
# of the leak, Euler's step for v is unstable once dt/tau_exc * (1 + ge + gi)
# > 2, i.e. ge + gi > 399 at dt 0.5 ms: 24 inh spikes in one step (gi 17 each)
# are enough. At 1600 exc that happens: v overshoots past threshold, every exc
# neuron fires each refractory period, and the network never recovers
# (measured: 139,200 exc spikes per slot from example ~51k of epoch 1 on).
# "exponential_euler" integrates v exactly for the step's conductances
# (unconditionally stable); the conductances still decay by the released
# code's per-step factor 1 - dt/tau (see ``bio.network.namespace``), so the
# synaptic strengths are the ones the published constants were tuned with.
INTEGRATORS = ("exponential_euler", "euler")

# --- adaptive threshold -------------------------------------------------
THETA_INIT = 20 * mV
THETA_PLUS = 0.05 * mV
TAU_THETA = 1e7 * ms

# --- fixed connections --------------------------------------------------
W_EXC_INH = 10.4               # exc -> inh, one to one
W_INH_EXC = 17.0               # inh -> exc, all but self (lateral inhibition)

# --- plastic input -> exc connection ------------------------------------
W_INIT_SCALE = 0.3             # initial w ~ 0.3 * U(0, 1)
W_MAX = 1.0
W_NORM_SUM = 78.0              # each exc neuron's incoming weights sum to this
TAU_PRE = 20 * ms              # presynaptic trace
TAU_POST = 20 * ms             # postsynaptic trace
NU_PRE = 1e-4                  # depression on a pre spike: w -= NU_PRE * x_post
NU_POST = 1e-2                 # potentiation on a post spike: w += NU_POST * x_pre
TAU_POST2 = 40 * ms            # "triplet" rule only: slow post trace of the released code
STDP_RULES = ("pair", "triplet")

N_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """What the studies vary; plain floats in the units named by each field."""

    n_exc: int = 100
    tau_exc_ms: float = float(TAU_EXC / ms)
    dt_ms: float = float(DT / ms)
    present_ms: float = float(PRESENT / ms)
    rest_ms: float = float(REST / ms)
    max_rate_hz: float = float(MAX_RATE / Hz)
    n_input: int = N_INPUT
    stdp: str = "pair"
    exc_block_ms: float = float(REFRACTORY_EXC / ms)
    integrator: str = INTEGRATORS[0]

    def __post_init__(self):
        checks = {
            "n_exc": self.n_exc >= 1,
            "tau_exc_ms": self.tau_exc_ms > 0,
            "dt_ms": 0 < self.dt_ms <= 5,
            "present_ms": self.present_ms > 0,
            "rest_ms": self.rest_ms >= 0,
            "max_rate_hz": self.max_rate_hz > 0,
            "n_input": self.n_input >= 1,
            "stdp": self.stdp in STDP_RULES,
            "exc_block_ms": self.exc_block_ms >= float(REFRACTORY_EXC / ms),
            "integrator": self.integrator in INTEGRATORS,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"invalid network parameter {name}={getattr(self, name)!r}")
        for name in ("present_ms", "rest_ms"):
            steps = getattr(self, name) / self.dt_ms
            if abs(steps - round(steps)) > 1e-9:
                raise ValueError(f"{name}={getattr(self, name)} is not a whole number of dt={self.dt_ms} ms steps")

    @property
    def slot_ms(self) -> float:
        """Duration of one example: presentation plus rest."""
        return self.present_ms + self.rest_ms

    @property
    def steps_per_slot(self) -> int:
        return int(round(self.slot_ms / self.dt_ms))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        d = dict(d)
        # Configs saved before the field existed were integrated with Euler.
        d.setdefault("integrator", "euler")
        return cls(**{k: v for k, v in d.items() if k in names})

    def key(self) -> str:
        """Short hash naming a compiled project: same config, same binary."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]
