"""Run a :class:`~bio.network.DiehlCookNetwork` chunk by chunk on a Brian2 device.

``cpp_standalone`` compiles the network once per configuration into a cache
directory and re-runs the binary for every chunk, passing the chunk's input
rates, the weights, theta and the sampler seed with ``run_args``; ``runtime``
builds the same network in Brian2's runtime mode (slow; for debugging).
Both return a :class:`ChunkResult`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

DEVICES = ("cpp_standalone", "runtime")


@dataclasses.dataclass
class ChunkResult:
    w: np.ndarray | None          # (n_input, n_exc) after the chunk (training only)
    theta_mV: np.ndarray          # (n_exc,)
    exc_counts: np.ndarray        # (n_slots, n_exc)
    inh_counts: np.ndarray        # (n_slots, n_exc)
    input_counts: np.ndarray | None   # (n_slots, n_input), frozen mode only
    input_spikes: tuple | None    # (i, t in s) of every input spike, frozen mode only
    exc_spikes: tuple             # (i, t in s) of every exc spike


def build_root() -> Path:
    """Where compiled standalone projects are kept (``SNN_BUILD_DIR`` overrides)."""
    env = os.environ.get("SNN_BUILD_DIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "snn-robustness" / "brian2-build"


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _quiet_brian():
    from brian2 import BrianLogger
    BrianLogger.suppress_name("resolution_conflict")
    BrianLogger.log_level_warn()


class _Runner:
    """Shared shape of both devices: build once, then ``run`` chunks."""

    def __init__(self, config, n_slots, mode):
        self.config, self.n_slots, self.mode = config, n_slots, mode
        self.record_input = mode == "frozen"

    def _result(self, net, exc_i, exc_t, inh_i, inh_t, in_i=None, in_t=None, w=None, theta=None):
        cfg = self.config
        input_counts = None
        input_spikes = None
        if self.record_input:
            input_counts = net.slot_counts(None, cfg.n_input, in_i, in_t)
            input_spikes = (np.asarray(in_i, dtype=np.int32), np.asarray(in_t, dtype=np.float64))
        return ChunkResult(
            w=None if w is None else np.asarray(w, dtype=np.float64).reshape(cfg.n_input, cfg.n_exc),
            theta_mV=np.asarray(theta, dtype=np.float64) * 1e3,
            exc_counts=net.slot_counts(None, cfg.n_exc, exc_i, exc_t),
            inh_counts=net.slot_counts(None, cfg.n_exc, inh_i, inh_t),
            input_counts=input_counts,
            input_spikes=input_spikes,
            exc_spikes=(np.asarray(exc_i, dtype=np.int32), np.asarray(exc_t, dtype=np.float64)),
        )

    def _check(self, rates_hz, w, theta_mV, active):
        cfg = self.config
        if rates_hz.shape != (self.n_slots, cfg.n_input):
            raise ValueError(f"rates must have shape {(self.n_slots, cfg.n_input)}, got {rates_hz.shape}")
        if w.shape != (cfg.n_input, cfg.n_exc):
            raise ValueError(f"weights must have shape {(cfg.n_input, cfg.n_exc)}, got {w.shape}")
        if theta_mV.shape != (cfg.n_exc,):
            raise ValueError(f"theta must have shape {(cfg.n_exc,)}, got {theta_mV.shape}")
        if active is not None and active.shape != (self.n_slots,):
            raise ValueError(f"active must have shape {(self.n_slots,)}, got {active.shape}")


class StandaloneRunner(_Runner):
    """A compiled cpp_standalone project, re-run with ``run_args`` per chunk."""

    def __init__(self, config, n_slots, mode="frozen", directory=None):
        super().__init__(config, n_slots, mode)
        from brian2 import device, prefs, set_device
        from brian2.units import ms

        from bio.network import DiehlCookNetwork

        _quiet_brian()
        name = f"{mode}-{config.key()}-s{n_slots}"
        self.directory = Path(directory) if directory else build_root() / name
        if device.__class__.__name__ != "CPPStandaloneDevice" or getattr(device, "has_been_run", False) \
                or getattr(device, "build_on_run", True) or device.code_objects:
            device.reinit()
        set_device("cpp_standalone", build_on_run=False)
        # One thread: OpenMP with 2 threads was 3x slower on 2-vCPU machines.
        prefs.devices.cpp_standalone.openmp_threads = 0
        # Unbounded parallel make ran out of memory on small machines.
        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{min(os.cpu_count() or 1, 4)}"]
        self.net = DiehlCookNetwork(config, n_slots, mode=mode, standalone=True)
        self.net.net.run(n_slots * config.slot_ms * ms, namespace={})
        with _file_lock(self.directory.with_suffix(".lock")):
            device.build(directory=str(self.directory), compile=True, run=False, with_output=False)
        self.device = device

    def run(self, rates_hz, w, theta_mV, seed, active=None) -> ChunkResult:
        from brian2 import Hz, mV, second

        rates_hz = np.asarray(rates_hz, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        theta_mV = np.asarray(theta_mV, dtype=np.float64)
        self._check(rates_hz, w, theta_mV, active)
        net = self.net
        args = {
            net.stimulus: rates_hz * Hz,
            net.syn.w: w.ravel(),
            net.exc.theta: theta_mV * mV,
            # The sampler's seed must be a double exactly equal to an integer.
            net.input.rng_seed: float(int(seed) % (2 ** 52)),
        }
        if self.mode == "train":
            args[net.active] = np.ones(self.n_slots) if active is None else np.asarray(active, float)
        results = tempfile.mkdtemp(prefix="results_", dir=self.directory)
        try:
            self.device.run(directory=str(self.directory), results_directory=os.path.basename(results),
                            with_output=False, run_args=args)
            out = self._result(
                net, net.exc_mon.i[:], net.exc_mon.t[:] / second, net.inh_mon.i[:], net.inh_mon.t[:] / second,
                *((net.input_mon.i[:], net.input_mon.t[:] / second) if self.record_input else (None, None)),
                w=net.syn.w[:] if self.mode == "train" else None,
                theta=net.exc.theta[:] / mV * 1e-3,
            )
        finally:
            shutil.rmtree(results, ignore_errors=True)
            for name in list(self.device.run_args_arrays):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.directory / "static_arrays" / name)
                    os.remove(self.directory / "static_arrays" / (name + ".lock"))
        return out


class RuntimeRunner(_Runner):
    """The same network in Brian2's runtime mode; rebuilt for every chunk."""

    def __init__(self, config, n_slots, mode="frozen"):
        super().__init__(config, n_slots, mode)
        from brian2 import device, set_device

        _quiet_brian()
        if device.__class__.__name__ != "RuntimeDevice":
            device.reinit()
            set_device("runtime")

    def run(self, rates_hz, w, theta_mV, seed, active=None) -> ChunkResult:
        from brian2 import Hz, mV, ms, second
        from brian2 import seed as brian_seed

        from bio.network import DiehlCookNetwork

        rates_hz = np.asarray(rates_hz, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        theta_mV = np.asarray(theta_mV, dtype=np.float64)
        self._check(rates_hz, w, theta_mV, active)
        cfg = self.config
        net = DiehlCookNetwork(cfg, self.n_slots, mode=self.mode, standalone=False)
        net.stimulus.values[:] = rates_hz
        if self.mode == "train":
            net.active.values[:] = np.ones(self.n_slots) if active is None else np.asarray(active, float)
        net.syn.w = w.ravel()
        net.exc.theta = theta_mV * mV
        brian_seed(int(seed) % (2 ** 32))
        net.net.run(self.n_slots * cfg.slot_ms * ms, namespace={})
        return self._result(
            net, net.exc_mon.i[:], net.exc_mon.t[:] / second, net.inh_mon.i[:], net.inh_mon.t[:] / second,
            *((net.input_mon.i[:], net.input_mon.t[:] / second) if self.record_input else (None, None)),
            w=net.syn.w[:] if self.mode == "train" else None,
            theta=net.exc.theta[:] / mV * 1e-3,
        )


_CACHE: dict = {}


def get_runner(device: str, config, n_slots: int, mode: str = "frozen"):
    """One runner per process and configuration; Brian2's device is global."""
    if device not in DEVICES:
        raise ValueError(f"unknown Brian2 device {device!r}; choose one of {', '.join(DEVICES)}")
    key = (device, config, n_slots, mode)
    if key not in _CACHE:
        _CACHE.clear()  # building another standalone network re-initialises the device
        cls = StandaloneRunner if device == "cpp_standalone" else RuntimeRunner
        _CACHE[key] = cls(config, n_slots, mode=mode)
    return _CACHE[key]
