"""Spike counts of a trained, frozen network for any batch of images.

The readout, the attacks and the sweeps all call :func:`spike_counts`. As in
Diehl & Cook's released code, an example that evokes fewer than
``MIN_SPIKES`` exc spikes is shown again with 32 Hz more at the maximum.

Since every example starts from rest, no rest period is simulated. With
``copies`` > 1, that many independent copies of the frozen network (same
weights, separate state) run side by side in one compiled binary. An
example's input spikes are a function of (seed, attempt, its index in
``images``) alone, so the counts do not depend on ``chunk_size`` or
``copies``: batched and one at a time give the same numbers.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
from brian2 import Hz
from tqdm.auto import tqdm

from bio import parameters as P
from bio.checkpoint import load_json, load_npz
from bio.devices import get_runner
from bio.network import input_rates
from bio.parameters import NetworkConfig


@dataclasses.dataclass
class FrozenResult:
    exc: np.ndarray           # (n, n_exc) exc spike counts of the accepted presentation
    inh: np.ndarray           # (n, n_exc)
    input: np.ndarray         # (n, n_input) input spike counts of that presentation
    boost_hz: np.ndarray      # (n,) rate added to the maximum for that presentation
    input_spikes: list | None  # per example (neuron index, time step) arrays, if recorded


def load_trained(run_dir) -> tuple[NetworkConfig, np.ndarray, np.ndarray]:
    """(config, w[input, exc], theta_mV) of a ``bio.train_stdp`` run directory, loaded without pickle."""
    run_dir = Path(run_dir)
    for need in ("config.json", "weights.npz"):
        if not (run_dir / need).is_file():
            raise FileNotFoundError(f"{run_dir} has no {need}: train it first with "
                                    f"python -m bio.train_stdp --out {run_dir}")
    config = NetworkConfig.from_dict(load_json(run_dir / "config.json")["network"])
    z = load_npz(run_dir / "weights.npz")
    return config, z["w"], z["theta_mV"]


def chunk_seed(seed: int, *keys: int) -> int:
    """A reproducible sampler seed for one chunk (exactly representable as a double)."""
    state = np.random.SeedSequence([int(seed) % 2**63, *[int(k) for k in keys]]).generate_state(2, np.uint32)
    return int((int(state[0]) << 20) ^ int(state[1])) % 2**52


def _chunks(n, size):
    for start in range(0, n, size):
        yield np.arange(start, min(start + size, n))


# Copies side by side per device. On one CPU core batching measured no faster
# (benchmarks/frozen_batch.py: the work is per synaptic event and per neuron
# step, which copies do not share, and each copy brings its own synapse
# arrays); a GPU is launch-bound with one 400-neuron network and gains from width.
DEFAULT_COPIES = {"cpp_standalone": 1, "runtime": 1, "cuda_standalone": 50}


def frozen_runner(config: NetworkConfig, n: int, chunk_size: int, copies: int, device: str):
    """The compiled frozen network that evaluates ``n`` examples in runs of ``chunk_size``
    (rounded up to a multiple of ``copies``)."""
    copies = max(1, min(copies, n))
    n_slots = math.ceil(min(chunk_size, n) / copies)
    # Every example starts from rest (the network resets at each slot), so
    # frozen runs simulate the presentation only.
    frozen_config = dataclasses.replace(config, rest_ms=0.0)
    return get_runner(device, frozen_config, n_slots, mode="frozen", copies=copies)


def spike_counts(images, weights, theta_mV, config: NetworkConfig, *, seed: int = 0,
                 device: str = "cpp_standalone", chunk_size: int = 500, copies: int | None = None,
                 repeat_low: bool = True, record_input: bool = False, progress: bool = True,
                 desc: str = "frozen") -> FrozenResult:
    """Present ``images`` (uint8, or floats in [0, 1]) to the frozen network.

    ``weights`` is (n_input, n_exc), ``theta_mV`` (n_exc,). Returns counts of
    the presentation that was kept for each example (the first one with at
    least ``MIN_SPIKES`` exc spikes, or the last try). One compiled run
    takes ``chunk_size`` examples (rounded up to a multiple of ``copies``);
    ``copies=None`` takes the device's ``DEFAULT_COPIES``.
    """
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("no images given")
    flat = images.reshape(n, -1)
    if flat.shape[1] != config.n_input:
        raise ValueError(f"images have {flat.shape[1]} pixels, the network has {config.n_input} inputs")
    if flat.dtype != np.uint8 and (flat.min() < 0 or flat.max() > 1):
        raise ValueError("float images must lie in [0, 1]")
    weights = np.asarray(weights, dtype=np.float64)
    theta_mV = np.asarray(theta_mV, dtype=np.float64)
    copies = DEFAULT_COPIES.get(device, 1) if copies is None else copies
    runner = frozen_runner(config, n, chunk_size, copies, device)
    per_run = runner.n_examples

    out = FrozenResult(
        exc=np.zeros((n, config.n_exc), np.int32), inh=np.zeros((n, config.n_exc), np.int32),
        input=np.zeros((n, config.n_input), np.int32), boost_hz=np.zeros(n),
        input_spikes=[None] * n if record_input else None)
    todo = np.arange(n)
    bar = tqdm(total=n, desc=desc, unit="ex", disable=not progress, dynamic_ncols=True)
    for attempt in range(P.MAX_REPEATS + 1 if repeat_low else 1):
        boost = attempt * float(P.RATE_BOOST / Hz)
        final = not repeat_low or attempt == P.MAX_REPEATS
        still_low = []
        for k, idx in enumerate(_chunks(len(todo), per_run)):
            ex = todo[idx]
            rates = np.zeros((per_run, config.n_input))
            rates[: len(ex)] = input_rates(flat[ex], config.max_rate_hz, boost)
            # Spikes depend on (seed, attempt, example index) only: not on chunk size or copies.
            keys = np.zeros(per_run, np.int64)
            keys[: len(ex)] = ex
            res = runner.run(rates, weights, theta_mV, seed=chunk_seed(seed, attempt), keys=keys)
            m = len(ex)
            out.exc[ex], out.inh[ex] = res.exc_counts[:m], res.inh_counts[:m]
            out.boost_hz[ex] = boost
            out.input[ex] = res.input_counts[:m]
            if record_input:
                example, neuron, step = res.input_spikes
                order = np.argsort(example, kind="stable")
                bounds = np.searchsorted(example[order], np.arange(m + 1))
                for s in range(m):
                    sel = order[bounds[s]:bounds[s + 1]]
                    out.input_spikes[ex[s]] = (neuron[sel], step[sel])
            low = res.exc_counts[:m].sum(axis=1) < P.MIN_SPIKES
            still_low.append(ex[low])
            bar.update(m if final else int((~low).sum()))
        todo = np.concatenate(still_low)
        if len(todo) == 0:
            break
    bar.close()
    return out
