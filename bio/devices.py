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
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from bio import parameters as P
from bio.build_cache import build_root, unchanged_sources_keep_their_time
from bio.schedule import Schedule, replay
from bio.source_patches import (RUN_SECONDS_ENV, active_inputs, block_normalisation, contiguous_input_pathway,
                                 decay_factors_once, fast_pathway, no_clock_read_per_step, relative_clock_tolerance,
                                 spike_free_steps, variable_run_length)
from runstore.locks import file_lock, try_exclusive

DEVICES = ("cpp_standalone", "cuda_standalone", "runtime")

# The state updaters' exp() (the exponential-Euler step of v) was 40 % of the binary's time, one
# scalar call per neuron and step. Two flags let GCC vectorise those loops (8 exp per call with
# AVX-512, 4 with AVX2): glibc declares its vector math library (libmvec) only under __FAST_MATH__,
# which brian2's -fno-finite-math-only switches off; and the training updater reads more arrays
# than GCC's default of 10 run-time alias checks allows. libmvec's exp is within 4 ulp of glibc's;
# spike counts and trained weights come out the same (tests/test_vector_math.py).
# SNN_VECTOR_MATH=0 builds without them (another build directory), e.g. for a libc without libmvec.
VECTOR_MATH = ("-D__FAST_MATH__", "--param=vect-max-version-for-alias-checks=100")
VECTOR_MATH_ENV = "SNN_VECTOR_MATH"


def vector_math() -> bool:
    """Whether standalone builds use glibc's vector math (Linux, unless SNN_VECTOR_MATH=0)."""
    return sys.platform.startswith("linux") and os.environ.get(VECTOR_MATH_ENV, "1") != "0"


# Denormal numbers: a trace or conductance that decays long enough falls below 2.2e-308 (xpost of an
# exc neuron silent for 14 s of training, ge of an inh neuron whose exc partner is silent for 0.5 s),
# and every arithmetic operation on it then takes a microcode assist of ~100 cycles. In 400-exc
# training most exc neurons are silent most of the time: 40 % of the binary's time went to the input
# -> exc synapses reading such xpost values. Linking with -ffast-math adds GCC's crtfastmath.o, which
# sets the CPU to flush denormals to zero. A denormal here is only ever added to numbers some 1e290
# times larger or decays further, so nothing changes: the same weights and spike counts bit for bit
# (tests/test_bit_exact_builds.py). SNN_FLUSH_DENORMALS=0 builds without (another build directory).
FLUSH_DENORMALS = ("-ffast-math",)
FLUSH_DENORMALS_ENV = "SNN_FLUSH_DENORMALS"


def flush_denormals() -> bool:
    return os.environ.get(FLUSH_DENORMALS_ENV, "1") != "0"


@dataclasses.dataclass
class ChunkResult:
    """One run's results; rows are presentations (``slot * copies + copy``)."""

    w: np.ndarray | None          # (n_input, n_exc) after the chunk (training only)
    theta_mV: np.ndarray          # (n_exc,)
    exc_counts: np.ndarray        # (n_presentations, n_exc), whole slot (presentation and rest)
    inh_counts: np.ndarray        # (n_presentations, n_exc)
    input_counts: np.ndarray | None   # (n_presentations, n_input), frozen mode only
    input_spikes: tuple | None    # (presentation, input neuron, step in slot) per input spike, frozen only
    schedule: Schedule            # which loaded example and try each slot showed (bio.schedule)
    exc_presented: np.ndarray     # (slots, copies) exc spikes during each presentation (what the rule reads)


def _quiet_brian():
    from brian2 import BrianLogger
    BrianLogger.suppress_name("resolution_conflict")
    BrianLogger.log_level_warn()


@dataclasses.dataclass
class RunInputs:
    """One run's inputs, checked and laid out as the network holds them."""

    stimulus: np.ndarray     # (n_slots, copies * n_input) intensities in [0, 1]
    keys: np.ndarray         # (n_slots, copies) sampler keys of the loaded examples
    w: np.ndarray            # copies * n_input * n_exc, copy-major
    theta_mV: np.ndarray     # copies * n_exc
    rep0: np.ndarray         # (copies,) tries the first loaded example already had
    n_loaded: np.ndarray     # (copies,) examples loaded per copy
    max_rep: int
    slots: int               # slots to simulate, <= n_slots


class _Runner:
    """Shared shape of every device: build once, then ``run`` chunks of up
    to ``n_slots`` presentations per copy (``copies`` > 1: frozen mode only)."""

    def __init__(self, config, n_slots, mode, copies=1):
        self.config, self.n_slots, self.mode, self.copies = config, n_slots, mode, copies
        self.n_examples = n_slots * copies

    def _collect(self, net, run: RunInputs) -> ChunkResult:
        from brian2 import mV, second

        cfg = self.config

        def spikes(mon):
            return np.asarray(mon.i[:]), np.asarray(mon.t[:] / second)

        def per_slot(counts):
            return counts[: run.slots * self.copies]

        input_counts = input_spikes = None
        if net.input_mon is not None:
            i, t = spikes(net.input_mon)
            input_counts = per_slot(net.slot_counts(i, t, cfg.n_input))
            input_spikes = net.example_index(i, t, cfg.n_input)
        i, t = spikes(net.exc_mon)
        presentation, _, step = net.example_index(i, t, cfg.n_exc)
        presented = np.bincount(presentation[step < int(round(cfg.present_ms / cfg.dt_ms))],
                                minlength=net.n_slots * self.copies)[: run.slots * self.copies]
        presented = presented.reshape(run.slots, self.copies)
        schedule = replay(presented, run.rep0, run.n_loaded, max_repeats=run.max_rep)
        # The network decided for itself; its last state must be what the rule says.
        final = {"pos": schedule.pos[-1], "rep": schedule.rep[-1], "count": presented[-1]}
        got = {k: np.rint(np.asarray(getattr(net.presenter, k)[:])).astype(np.int64) for k in final}
        if any(not np.array_equal(got[k], final[k]) for k in final):
            raise RuntimeError(f"the network's presenter ended at {got}, the rule (bio.schedule) says {final}")
        theta = np.asarray(net.exc.theta[:] / mV, dtype=np.float64)[:cfg.n_exc]
        return ChunkResult(
            w=np.asarray(net.syn.w[:], dtype=np.float64).reshape(cfg.n_input, cfg.n_exc) if self.mode == "train"
            else None,
            theta_mV=theta,
            exc_counts=per_slot(net.slot_counts(i, t, cfg.n_exc)),
            inh_counts=per_slot(net.slot_counts(*spikes(net.inh_mon), cfg.n_exc)),
            input_counts=input_counts,
            input_spikes=input_spikes,
            schedule=schedule,
            exc_presented=presented,
        )

    def _inputs(self, images, w, theta_mV, keys, rep0, n_loaded, slots, max_rep) -> RunInputs:
        """Checks the arguments of :meth:`run`; lays copies side by side."""
        cfg, copies = self.config, self.copies
        x = np.asarray(images, dtype=np.float64)
        if x.shape != (self.n_examples, cfg.n_input):
            raise ValueError(f"images must have shape {(self.n_examples, cfg.n_input)}, got {x.shape}")
        if x.min() < 0 or x.max() > 1:
            raise ValueError("images must be intensities in [0, 1] (bio.network.intensities)")
        keys = np.arange(self.n_examples) if keys is None else np.asarray(keys)
        if keys.shape != (self.n_examples,) or keys.min() < 0 or (keys.max() + 1) * (P.MAX_REPEATS + 1) >= 2 ** 52:
            raise ValueError(f"keys must be {self.n_examples} integers in [0, 2**52 / {P.MAX_REPEATS + 1})")
        w = np.asarray(w, dtype=np.float64)
        theta_mV = np.asarray(theta_mV, dtype=np.float64)
        if w.shape != (cfg.n_input, cfg.n_exc):
            raise ValueError(f"weights must have shape {(cfg.n_input, cfg.n_exc)}, got {w.shape}")
        if theta_mV.shape != (cfg.n_exc,):
            raise ValueError(f"theta must have shape {(cfg.n_exc,)}, got {theta_mV.shape}")
        rep0 = np.broadcast_to(np.asarray(0 if rep0 is None else rep0, np.int64), (copies,)).copy()
        n_loaded = np.broadcast_to(np.asarray(self.n_slots if n_loaded is None else n_loaded, np.int64),
                                   (copies,)).copy()
        slots = self.n_slots if slots is None else int(slots)
        if not 1 <= slots <= self.n_slots:
            raise ValueError(f"slots must be in 1..{self.n_slots}, got {slots}")
        if n_loaded.min() < 0 or n_loaded.max() > self.n_slots:
            raise ValueError(f"n_loaded must be in 0..{self.n_slots}")
        if not 0 <= max_rep <= P.MAX_REPEATS or rep0.min() < 0 or rep0.max() > max_rep:
            raise ValueError(f"need 0 <= rep0 <= max_rep <= {P.MAX_REPEATS}")
        return RunInputs(x.reshape(self.n_slots, copies * cfg.n_input),
                         keys.astype(np.float64).reshape(self.n_slots, copies),
                         np.tile(w.ravel(), copies), np.tile(theta_mV, copies), rep0, n_loaded, int(max_rep), slots)


class StandaloneRunner(_Runner):
    """A compiled cpp_standalone project, re-run with ``run_args`` per chunk."""

    device_name, device_class, prefix = "cpp_standalone", "CPPStandaloneDevice", ""
    speed_patches = True   # bio.source_patches' rewrites of C++ code objects

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
        self.lock_path = self.directory.with_suffix(".lock")
        if device.__class__.__name__ != self.device_class or getattr(device, "has_been_run", False) \
                or getattr(device, "build_on_run", True) or device.code_objects:
            device.reinit()
        # brian2 names objects uniquely among those alive: the last network's, until collected, would
        # rename this one's code objects (``..._codeobject_1``), and its cached build would recompile.
        gc.collect()
        set_device(self.device_name, build_on_run=False)
        self.net = DiehlCookNetwork(config, n_slots, mode=mode, standalone=True, copies=copies)
        self._adapt(self.net)
        self.net.net.run(n_slots * config.slot_ms * ms, namespace={})
        # Exclusive: no other process runs this binary while it is generated and linked (make would
        # re-link ./main under a running process: "PermissionError: './main'"); runs hold it shared.
        with file_lock(self.lock_path):
            with unchanged_sources_keep_their_time(self.directory):
                device.build(directory=str(self.directory), compile=False, run=False, with_output=False)
                self._patch_sources()
            from brian2.codegen.cpp_prefs import get_compiler_and_args
            device.compile_source(str(self.directory), get_compiler_and_args()[0], debug=False, clean=False)
        self.device = device

    def _adapt(self, net):
        """Device-specific changes to the Brian2 objects before code generation."""

    def _patch_sources(self):
        """Edit the generated source before it is compiled (bio.source_patches)."""
        relative_clock_tolerance(self.directory)
        variable_run_length(self.directory)
        if self.speed_patches and fast_pathway():
            no_clock_read_per_step(self.directory)
            contiguous_input_pathway(self.directory, "input_exc_pre", "inputs", self.config.n_input,
                                     self.config.n_exc, self.copies)
            active_inputs(self.directory, "inputs")
            for group in ("exc", "inh"):
                spike_free_steps(self.directory, group)
            decay_factors_once(self.directory, ("exc", "inh"))
            if self.mode == "train":
                block_normalisation(self.directory, "input_exc", self.config.n_input, self.config.n_exc, self.copies)

    def _set_prefs(self, run) -> str:
        """Set the device's build preferences; returns a tag for the build directory."""
        from brian2 import prefs

        # One thread: OpenMP with 2 threads was 3x slower on 2-vCPU machines.
        prefs.devices.cpp_standalone.openmp_threads = 0
        # Unbounded parallel make ran out of memory on small machines.
        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{min(os.cpu_count() or 1, 4)}"]
        flags = [a for a in prefs.codegen.cpp.extra_compile_args_gcc if a not in VECTOR_MATH]
        prefs.codegen.cpp.extra_compile_args_gcc = flags + list(VECTOR_MATH) * vector_math()
        flush = flush_denormals()
        prefs.codegen.cpp.extra_link_args = [a for a in prefs.codegen.cpp.extra_link_args
                                             if a not in FLUSH_DENORMALS] + list(FLUSH_DENORMALS) * flush
        return ("vm-" if vector_math() else "") + ("" if fast_pathway() else "plain-") + ("" if flush else "denormal-")

    def run(self, images, w, theta_mV, seed, keys=None, rep0=None, n_loaded=None, slots=None,
            max_rep: int = P.MAX_REPEATS) -> ChunkResult:
        """Load ``images`` (intensities in [0, 1], rows as in
        :class:`~bio.network.DiehlCookNetwork`) and simulate ``slots``
        presentations (default ``n_slots``). ``keys`` (one integer per loaded
        example, default its row) and ``seed`` choose each try's input spike
        trains (see bio.seeded_random); ``rep0`` and ``n_loaded`` (per copy)
        continue an example from the last run and tell how many rows are
        real; ``max_rep`` caps the tries (0: show every example once)."""
        from brian2 import mV

        run = self._inputs(images, w, theta_mV, keys, rep0, n_loaded, slots, max_rep)
        net = self.net
        args = {
            net.stimulus: run.stimulus,
            net.example_key: run.keys,
            net.syn.w: run.w,
            net.exc.theta: run.theta_mV * mV,
            net.presenter.rep: run.rep0.astype(np.float64),
            net.presenter.n_loaded: run.n_loaded.astype(np.float64),
            net.presenter.max_rep: float(run.max_rep),
            # The sampler's seed must be a double exactly equal to an integer.
            net.input.rng_seed: float(int(seed) % (2 ** 52)),
        }
        # Shared: any number of processes run the binary at once, none while it is being built. The
        # run-args files Brian2 writes are named by their content, so two processes loading the same
        # arrays share one file: they are removed only when no other process holds the lock.
        with file_lock(self.lock_path, shared=True) as lock:
            results = tempfile.mkdtemp(prefix="results_", dir=self.directory)
            os.environ[RUN_SECONDS_ENV] = repr(run.slots * self.config.slot_ms * 1e-3)
            try:
                self.device.run(directory=str(self.directory), results_directory=os.path.basename(results),
                                with_output=False, run_args=args)
                out = self._collect(net, run)
            finally:
                del os.environ[RUN_SECONDS_ENV]
                shutil.rmtree(results, ignore_errors=True)
                if try_exclusive(lock):
                    self._remove_run_args()
        return out

    def _remove_run_args(self):
        """Delete every run-args file of this project (``init_*.dat`` in static_arrays), this run's and
        any left by runs that shared the lock; the caller holds the lock exclusively."""
        for f in (self.directory / "static_arrays").glob("init_*"):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()


class CudaStandaloneRunner(StandaloneRunner):
    """The same compiled project on the GPU with brian2cuda (bio.cuda sets it up).

    brian2cuda 1.0a7 subclasses brian2's CPPStandaloneDevice: ``device.run``
    with ``run_args`` is brian2's, and the generated main.cu copies every
    variable and TimedArray set from the command line to the GPU before the
    run, so the chunk-by-chunk re-runs work unchanged.
    """

    device_name, device_class, prefix = "cuda_standalone", "CUDAStandaloneDevice", "cuda-"
    speed_patches = False   # brian2cuda generates CUDA kernels, not the C++ code objects they rewrite

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

    def run(self, images, w, theta_mV, seed, keys=None, rep0=None, n_loaded=None, slots=None,
            max_rep: int = P.MAX_REPEATS) -> ChunkResult:
        from brian2 import mV, ms
        from brian2 import seed as brian_seed

        from bio.network import DiehlCookNetwork

        run = self._inputs(images, w, theta_mV, keys, rep0, n_loaded, slots, max_rep)
        net = DiehlCookNetwork(self.config, self.n_slots, mode=self.mode, standalone=False, copies=self.copies)
        net.stimulus.values[:] = run.stimulus
        net.example_key.values[:] = run.keys
        net.syn.w = run.w
        net.exc.theta = run.theta_mV * mV
        net.presenter.rep = run.rep0
        net.presenter.n_loaded = run.n_loaded
        net.presenter.max_rep = run.max_rep
        brian_seed(int(seed) % (2 ** 32))
        net.net.run(run.slots * self.config.slot_ms * ms, namespace={})
        return self._collect(net, run)


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
