"""Run a :class:`~bio.network.DiehlCookNetwork` chunk by chunk on a Brian2 device.

``cpp_standalone`` compiles the network once per configuration into a cache
directory and re-runs the binary for every chunk, passing the chunk's input
rates, the weights, theta and the sampler seed with ``run_args``; ``runtime``
builds the same network in Brian2's runtime mode (slow; for debugging);
``cuda_standalone`` is the cpp_standalone runner on brian2cuda's GPU device
(optional extra, set up by :mod:`bio.cuda`). All return a :class:`ChunkResult`.
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

DEVICES = ("cpp_standalone", "cuda_standalone", "runtime")


@dataclasses.dataclass
class ChunkResult:
    """One run's results; rows are examples (``slot * copies + copy``)."""

    w: np.ndarray | None          # (n_input, n_exc) after the chunk (training only)
    theta_mV: np.ndarray          # (n_exc,)
    exc_counts: np.ndarray        # (n_examples, n_exc)
    inh_counts: np.ndarray        # (n_examples, n_exc)
    input_counts: np.ndarray | None   # (n_examples, n_input), frozen mode only
    input_spikes: tuple | None    # (example, input neuron, step in slot) per input spike, frozen only


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


# Brian2's generated scheduler treats two clocks as due together when their
# times differ by at most 1e-14 s, an absolute tolerance. Beyond ~32 s of
# simulated time, k * slot and n * dt can differ by more (one unit in the last
# place of a double), and then the slot-start operations (load the next
# example, reset to rest, normalise weights) run one time step late in some
# slots: an example's spikes depended on where in a long chunk it ran. The
# tolerance is made relative to t in the generated source (C++ and CUDA).
_CLOCK_TEST = "fabs(s-t)<=Clock_epsilon)"
_CLOCK_TEST_RELATIVE = "fabs(s-t)<=Clock_epsilon*(1.0+fabs(t)))"


def relative_clock_tolerance(directory) -> None:
    patched = False
    for src in (Path(directory) / "network.cpp", Path(directory) / "network.cu"):
        text = src.read_text() if src.is_file() else ""
        if _CLOCK_TEST in text:
            text = text.replace(_CLOCK_TEST, _CLOCK_TEST_RELATIVE)
            src.write_text(text)
        patched = patched or _CLOCK_TEST_RELATIVE in text
    if not patched:
        raise RuntimeError(f"no Brian2 clock test to patch in {directory}/network.cpp|cu: this Brian2 version "
                           "generates another scheduler; check bio.devices.relative_clock_tolerance against it")


class _Runner:
    """Shared shape of both devices: build once, then ``run`` chunks of
    ``n_slots * copies`` examples (``copies`` > 1: frozen mode only)."""

    def __init__(self, config, n_slots, mode, copies=1):
        self.config, self.n_slots, self.mode, self.copies = config, n_slots, mode, copies
        self.n_examples = n_slots * copies

    def _collect(self, net) -> ChunkResult:
        from brian2 import mV, second

        cfg = self.config

        def spikes(mon):
            return np.asarray(mon.i[:]), np.asarray(mon.t[:] / second)

        input_counts = input_spikes = None
        if net.input_mon is not None:
            i, t = spikes(net.input_mon)
            input_counts = net.slot_counts(i, t, cfg.n_input)
            input_spikes = net.example_index(i, t, cfg.n_input)
        theta = np.asarray(net.exc.theta[:] / mV, dtype=np.float64)[:cfg.n_exc]
        return ChunkResult(
            w=np.asarray(net.syn.w[:], dtype=np.float64).reshape(cfg.n_input, cfg.n_exc) if self.mode == "train"
            else None,
            theta_mV=theta,
            exc_counts=net.slot_counts(*spikes(net.exc_mon), cfg.n_exc),
            inh_counts=net.slot_counts(*spikes(net.inh_mon), cfg.n_exc),
            input_counts=input_counts,
            input_spikes=input_spikes,
        )

    def _check(self, rates_hz, w, theta_mV, active):
        cfg = self.config
        if rates_hz.shape != (self.n_examples, cfg.n_input):
            raise ValueError(f"rates must have shape {(self.n_examples, cfg.n_input)}, got {rates_hz.shape}")
        if w.shape != (cfg.n_input, cfg.n_exc):
            raise ValueError(f"weights must have shape {(cfg.n_input, cfg.n_exc)}, got {w.shape}")
        if theta_mV.shape != (cfg.n_exc,):
            raise ValueError(f"theta must have shape {(cfg.n_exc,)}, got {theta_mV.shape}")
        if active is not None and active.shape != (self.n_slots,):
            raise ValueError(f"active must have shape {(self.n_slots,)}, got {active.shape}")

    def _inputs(self, rates_hz, w, theta_mV, active, keys):
        """Arrays as the network holds them: copies side by side."""
        keys = np.arange(self.n_examples) if keys is None else np.asarray(keys)
        if keys.shape != (self.n_examples,) or keys.min() < 0 or keys.max() >= 2 ** 52:
            raise ValueError(f"keys must be {self.n_examples} integers in [0, 2**52)")
        rates_hz = np.asarray(rates_hz, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        theta_mV = np.asarray(theta_mV, dtype=np.float64)
        self._check(rates_hz, w, theta_mV, active)
        stimulus = rates_hz.reshape(self.n_slots, self.copies * self.config.n_input)
        act = np.ones(self.n_slots) if active is None else np.asarray(active, float)
        return (stimulus, np.tile(w.ravel(), self.copies), np.tile(theta_mV, self.copies), act,
                keys.astype(np.float64).reshape(self.n_slots, self.copies))


class StandaloneRunner(_Runner):
    """A compiled cpp_standalone project, re-run with ``run_args`` per chunk."""

    device_name, device_class, prefix = "cpp_standalone", "CPPStandaloneDevice", ""

    def __init__(self, config, n_slots, mode="frozen", copies=1, directory=None, run=True):
        """``run=False`` generates and compiles the project only (no GPU needed for brian2cuda)."""
        super().__init__(config, n_slots, mode, copies)
        from brian2 import device, set_device
        from brian2.units import ms

        from bio.network import DiehlCookNetwork

        _quiet_brian()
        tag = self._set_prefs(run)
        name = f"{self.prefix}{tag}{mode}-{config.key()}-s{n_slots}" + (f"x{copies}" if copies > 1 else "")
        self.directory = Path(directory) if directory else build_root() / name
        if device.__class__.__name__ != self.device_class or getattr(device, "has_been_run", False) \
                or getattr(device, "build_on_run", True) or device.code_objects:
            device.reinit()
        set_device(self.device_name, build_on_run=False)
        self.net = DiehlCookNetwork(config, n_slots, mode=mode, standalone=True, copies=copies)
        self._adapt(self.net)
        self.net.net.run(n_slots * config.slot_ms * ms, namespace={})
        with _file_lock(self.directory.with_suffix(".lock")):
            device.build(directory=str(self.directory), compile=False, run=False, with_output=False)
            relative_clock_tolerance(self.directory)
            from brian2.codegen.cpp_prefs import get_compiler_and_args
            device.compile_source(str(self.directory), get_compiler_and_args()[0], debug=False, clean=False)
        self.device = device

    def _adapt(self, net):
        """Device-specific changes to the Brian2 objects before code generation."""

    def _set_prefs(self, run) -> str:
        """Set the device's build preferences; returns a tag for the build directory."""
        from brian2 import prefs

        # One thread: OpenMP with 2 threads was 3x slower on 2-vCPU machines.
        prefs.devices.cpp_standalone.openmp_threads = 0
        # Unbounded parallel make ran out of memory on small machines.
        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{min(os.cpu_count() or 1, 4)}"]
        return ""

    def run(self, rates_hz, w, theta_mV, seed, active=None, keys=None) -> ChunkResult:
        """``keys`` (one integer per example, default its position) and ``seed``
        choose the example's input spike trains (see bio.seeded_random)."""
        from brian2 import Hz, mV

        stimulus, w, theta_mV, active, keys = self._inputs(rates_hz, w, theta_mV, active, keys)
        net = self.net
        args = {
            net.stimulus: stimulus * Hz,
            net.example_key: keys,
            net.syn.w: w,
            net.exc.theta: theta_mV * mV,
            # The sampler's seed must be a double exactly equal to an integer.
            net.input.rng_seed: float(int(seed) % (2 ** 52)),
        }
        if self.mode == "train":
            args[net.active] = active
        results = tempfile.mkdtemp(prefix="results_", dir=self.directory)
        try:
            self.device.run(directory=str(self.directory), results_directory=os.path.basename(results),
                            with_output=False, run_args=args)
            out = self._collect(net)
        finally:
            shutil.rmtree(results, ignore_errors=True)
            for name in list(self.device.run_args_arrays):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.directory / "static_arrays" / name)
                    os.remove(self.directory / "static_arrays" / (name + ".lock"))
        return out


class CudaStandaloneRunner(StandaloneRunner):
    """The same compiled project on the GPU with brian2cuda (bio.cuda sets it up).

    brian2cuda 1.0a7 subclasses brian2's CPPStandaloneDevice: ``device.run``
    with ``run_args`` is brian2's, and the generated main.cu copies every
    variable and TimedArray set from the command line to the GPU before the
    run, so the chunk-by-chunk re-runs work unchanged.
    """

    device_name, device_class, prefix = "cuda_standalone", "CUDAStandaloneDevice", "cuda-"

    def _set_prefs(self, run) -> str:
        from bio import cuda

        chosen = cuda.configure(need_gpu=run)
        # Code compiled for one architecture does not run on another.
        return "sm" + str(chosen["compute_capability"]).replace(".", "") + "-"

    def _adapt(self, net):
        from brian2 import NeuronGroup, defaultclock, ms

        # brian2cuda 1.0a7 writes a clock's name into the generated code as a
        # C identifier: a Clock named "clock" becomes libc's clock() there.
        for clock in {obj.clock for obj in net.net.objects}:
            if clock.name == "clock":
                clock._name = "step_clock"
        # Its synapse template reads ``defaultclock.timestep`` (scalar-delay
        # pathways), which is declared only if some object runs on
        # defaultclock: an inactive placeholder adds it with no kernel, and
        # with the network's dt it ticks in step with the network.
        defaultclock.dt = self.config.dt_ms * ms
        placeholder = NeuronGroup(1, "", name="defaultclock_placeholder", clock=defaultclock)
        placeholder.active = False
        net.net.add(placeholder)


class RuntimeRunner(_Runner):
    """The same network in Brian2's runtime mode; rebuilt for every chunk."""

    def __init__(self, config, n_slots, mode="frozen", copies=1):
        super().__init__(config, n_slots, mode, copies)
        from brian2 import device, set_device

        _quiet_brian()
        if device.__class__.__name__ != "RuntimeDevice":
            device.reinit()
            set_device("runtime")

    def run(self, rates_hz, w, theta_mV, seed, active=None, keys=None) -> ChunkResult:
        from brian2 import mV, ms
        from brian2 import seed as brian_seed

        from bio.network import DiehlCookNetwork

        stimulus, w, theta_mV, active, keys = self._inputs(rates_hz, w, theta_mV, active, keys)
        net = DiehlCookNetwork(self.config, self.n_slots, mode=self.mode, standalone=False, copies=self.copies)
        net.stimulus.values[:] = stimulus
        if self.mode == "train":
            net.active.values[:] = active
        net.syn.w = w
        net.exc.theta = theta_mV * mV
        brian_seed(int(seed) % (2 ** 32))
        net.net.run(self.n_slots * self.config.slot_ms * ms, namespace={})
        return self._collect(net)


_CACHE: dict = {}


def get_runner(device: str, config, n_slots: int, mode: str = "frozen", copies: int = 1):
    """One runner per process and configuration; Brian2's device is global."""
    if device not in DEVICES:
        raise ValueError(f"unknown Brian2 device {device!r}; choose one of {', '.join(DEVICES)}")
    key = (device, config, n_slots, mode, copies)
    if key not in _CACHE:
        _CACHE.clear()  # building another standalone network re-initialises the device
        cls = {"cpp_standalone": StandaloneRunner, "cuda_standalone": CudaStandaloneRunner}.get(device, RuntimeRunner)
        _CACHE[key] = cls(config, n_slots, mode=mode, copies=copies)
    return _CACHE[key]
