"""Spike counts of a trained, frozen network for any batch of images.

The readout, the attacks and the sweeps all call :func:`spike_counts`. As in
Diehl & Cook's released code, an example that evokes fewer than
``MIN_SPIKES`` exc spikes is shown again at once with 32 Hz more at the
maximum (the network decides, bio.schedule), until it evokes enough.

Since every example starts from rest, no rest period is simulated. With
``copies`` > 1, that many independent copies of the frozen network (same
weights, separate state) run side by side in one compiled binary. The input
spikes of an example's try are a function of (seed, its index in
``images``, the try) alone, so the counts do not depend on ``chunk_size`` or
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
from bio.devices import get_runner
from bio.network import intensities
from bio.parameters import NetworkConfig
from runstore.cli import UserError
from runstore.files import BadFileError, check_array, check_keys, load_json, load_npz


@dataclasses.dataclass
class FrozenResult:
    exc: np.ndarray           # (n, n_exc) exc spike counts of the accepted presentation
    inh: np.ndarray           # (n, n_exc)
    input: np.ndarray         # (n, n_input) input spike counts of that presentation
    boost_hz: np.ndarray      # (n,) rate added to the maximum for that presentation
    input_spikes: list | None  # per example (neuron index, time step) arrays, if recorded


WEIGHTS = "weights.npz"   # a bio.train_stdp run's weights after its last scored epoch
COUNTS = "counts.npz"     # ... and their label assignments and counts
EPOCHS = "epochs"         # --test-each-epoch: each epoch's metrics and weights-epoch-N.npz


def weights_file(run_dir, epoch: int | None = None) -> Path:
    """A run's ``weights.npz``, or with ``epoch`` the weights kept after that epoch
    (``epochs/weights-epoch-N.npz``, runs trained with ``--test-each-epoch``)."""
    run_dir = Path(run_dir)
    path = run_dir / (WEIGHTS if epoch is None else f"{EPOCHS}/weights-epoch-{epoch}.npz")
    if not path.is_file():
        kept = sorted((run_dir / EPOCHS).glob("weights-epoch-*.npz"), key=lambda q: int(q.stem.split("-")[-1]))
        raise UserError(f"{path} does not exist" + (
            f"; this run keeps {', '.join(q.name for q in kept)}" if kept and epoch else
            "; --epoch needs a run trained with --test-each-epoch" if epoch else
            f": train it first with python -m bio.train_stdp --out {run_dir}"))
    return path


def load_trained(run_dir, epoch: int | None = None) -> tuple[NetworkConfig, np.ndarray, np.ndarray]:
    """(config, w[input, exc], theta_mV) of a ``bio.train_stdp`` run directory (with ``epoch``: the
    weights kept after that epoch), loaded without pickle."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise UserError(f"{run_dir} has no config.json: train it first with python -m bio.train_stdp --out {run_dir}")
    config = NetworkConfig.from_dict(load_json(run_dir / "config.json")["network"])
    w, theta_mV = load_weights(weights_file(run_dir, epoch), config)
    return config, w, theta_mV


def load_assignments(run_dir, epoch: int | None = None) -> np.ndarray:
    """The neuron-to-class assignments of a run's weights (``counts.npz``), or of the weights kept after
    ``epoch``: saved beside them, else from ``bio.relabel`` with the run's own number of labelling images
    (``relabel/n{N}-epoch{E}.npz``; weights kept before assignments were saved with them)."""
    run_dir = Path(run_dir)
    if epoch is None:
        path = run_dir / COUNTS
        if not path.is_file():
            raise UserError(f"{run_dir} has no {COUNTS}: train it first with python -m bio.train_stdp --out {run_dir}")
        z = load_npz(path)
    else:
        kept = weights_file(run_dir, epoch)
        path, z = kept, load_npz(kept)
        if "assignments" not in z:
            n_label = load_json(run_dir / "config.json")["n_label"]
            path = run_dir / "relabel" / f"n{n_label}-epoch{epoch}.npz"
            if not path.is_file():
                raise UserError(f"{kept} has no label assignments (kept before they were saved with the weights): "
                                f"python -m bio.relabel --run {run_dir} --n-label {n_label} --epoch {epoch} "
                                "computes them with the run's own protocol")
            z = load_npz(path)
    check_keys(path, z, ("assignments",))
    return check_array(path, "assignments", z["assignments"], (None,), "i")


def load_weights(path, config: NetworkConfig) -> tuple[np.ndarray, np.ndarray]:
    """(w, theta_mV) of a run's ``weights.npz``, refused with the file named unless they have the
    shapes of ``config`` ((n_input, n_exc), (n_exc,)), are finite and w is not negative."""
    z = load_npz(path)
    check_keys(path, z, ("w", "theta_mV"))
    w = check_array(path, "w", z["w"], (config.n_input, config.n_exc))
    theta_mV = check_array(path, "theta_mV", z["theta_mV"], (config.n_exc,))
    if w.min() < 0:
        raise BadFileError(path, f"w has negative weights (min {w.min():.3g}); STDP keeps them in [0, wmax]")
    return w, theta_mV


def chunk_seed(seed: int, *keys: int) -> int:
    """A reproducible sampler seed for one chunk (exactly representable as a double)."""
    state = np.random.SeedSequence([int(seed) % 2**63, *[int(k) for k in keys]]).generate_state(2, np.uint32)
    return int((int(state[0]) << 20) ^ int(state[1])) % 2**52


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
    the presentation that was kept for each example: the first one with at
    least ``MIN_SPIKES`` exc spikes, or the last try (``repeat_low=False``:
    the only one). The network shows a quiet example again at once, brighter
    (bio.schedule); one compiled run takes up to ``chunk_size``
    presentations (rounded up to a multiple of ``copies``), and an example
    still in progress at the end of a run continues in the next.
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
    x = intensities(flat)
    weights = np.asarray(weights, dtype=np.float64)
    theta_mV = np.asarray(theta_mV, dtype=np.float64)
    copies = DEFAULT_COPIES.get(device, 1) if copies is None else copies
    runner = frozen_runner(config, n, chunk_size, copies, device)
    copies, n_slots = runner.copies, runner.n_slots
    max_rep = P.MAX_REPEATS if repeat_low else 0
    boost_hz = float(P.RATE_BOOST / Hz)

    out = FrozenResult(
        exc=np.zeros((n, config.n_exc), np.int32), inh=np.zeros((n, config.n_exc), np.int32),
        input=np.zeros((n, config.n_input), np.int32), boost_hz=np.zeros(n),
        input_spikes=[None] * n if record_input else None)
    # Examples still to finish; those in progress (tries > 0) come first, so
    # each starts its copy's rows and carries its tries into the next run.
    todo, tries = np.arange(n), np.zeros(n, np.int64)
    run_seed = chunk_seed(seed)
    bar = tqdm(total=n, desc=desc, unit="ex", disable=not progress, dynamic_ncols=True)
    while len(todo):
        slots = min(n_slots, math.ceil(len(todo) / copies))
        take = min(len(todo), slots * copies)
        # Example k of this run goes to copy k % copies, row k // copies.
        rows = np.full((n_slots, copies), -1, np.int64)
        rows.flat[:take] = todo[:take]
        loaded = (rows >= 0).sum(axis=0)
        keys = np.where(rows >= 0, rows, 0).ravel()
        res = runner.run(x[keys], weights, theta_mV, seed=run_seed, keys=keys, rep0=tries[rows[0].clip(0)] * (rows[0] >= 0),
                         n_loaded=loaded, slots=slots, max_rep=max_rep)
        sch = res.schedule
        slot, copy = np.nonzero(sch.final)
        ex = rows[sch.pos[slot, copy], copy]
        kept = slot * copies + copy
        out.exc[ex], out.inh[ex], out.input[ex] = res.exc_counts[kept], res.inh_counts[kept], res.input_counts[kept]
        out.boost_hz[ex] = sch.rep[slot, copy] * boost_hz
        if record_input:
            presentation, neuron, step = res.input_spikes
            order = np.argsort(presentation, kind="stable")
            bounds = np.searchsorted(presentation[order], np.arange(slots * copies + 1))
            for e, k in zip(ex, kept):
                sel = order[bounds[k]:bounds[k + 1]]
                out.input_spikes[e] = (neuron[sel], step[sel])
        going = np.nonzero(sch.done < loaded)[0]            # copies with an example in progress
        in_progress = rows[sch.done[going], going]
        tries[in_progress] = sch.next_rep[going]
        unreached = np.concatenate([rows[sch.done[c] + 1: loaded[c], c] for c in range(copies)]
                                   + [np.zeros(0, np.int64)])
        todo = np.concatenate([in_progress, np.sort(unreached), todo[take:]])
        bar.update(len(ex))
    bar.close()
    return out
