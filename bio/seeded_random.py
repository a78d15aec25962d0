"""The Poisson sampler's uniform numbers: a hash of (seed, example, pixel, step).

cpp_standalone bakes ``seed(...)`` into the compiled binary, so every re-run
of one binary would draw the same noise. A counter-based generator avoids
both that and any hidden state: the number for input pixel ``pixel`` at time
step ``step`` of example ``key`` in the stream ``seed`` is a fixed function
of those four integers (SplitMix64's finaliser applied in a chain). Hence

* an example's input spikes do not depend on which chunk, slot or copy of a
  batched network it runs in: one at a time and batched give the same spikes;
* the same C source runs on the CPU (cpp_standalone) and the GPU
  (brian2cuda, as a ``__host__ __device__`` function), drawing the same numbers;
* :func:`counter_uniform_np` is the numpy reference the tests compare with.

``seed`` and ``key`` are passed as doubles holding integers below 2**52 (the
shared ``rng_seed`` and the per-pixel ``key`` set with ``run_args``). In
runtime mode the network uses Brian2's ``rand()`` with ``brian2.seed`` instead.
"""
from __future__ import annotations

import numpy as np
from brian2 import Function

_MIX = r"""
static inline SNN_HD uint64_t _snn_splitmix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline SNN_HD uint64_t _snn_key_hash(const double seed, const double key)
{
    return _snn_splitmix(_snn_splitmix((uint64_t)seed) ^ (uint64_t)key);
}
static inline SNN_HD double _snn_uniform(const uint64_t key_hash, const int64_t pixel, const int64_t step)
{
    const uint64_t h = _snn_splitmix(key_hash ^ (((uint64_t)pixel << 32) | ((uint64_t)step & 0xFFFFFFFFULL)));
    // 53 random bits -> a double in [0, 1)
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}
"""
# On the CPU one thread draws all pixels of an example in a row, so the hash of (seed, key) is kept
# from the previous call (per thread) rather than recomputed per pixel and step: the same numbers
# for one SplitMix round per draw instead of three.
_CPP_ENTRY = r"""
static inline double counter_uniform(const double seed, const double key, const int64_t pixel, const int64_t step)
{
    static thread_local double last_seed = -1.0, last_key = -1.0;
    static thread_local uint64_t last_hash = 0;
    if (seed != last_seed || key != last_key)
    {
        last_hash = _snn_key_hash(seed, key);
        last_seed = seed;
        last_key = key;
    }
    return _snn_uniform(last_hash, pixel, step);
}
"""
_CUDA_ENTRY = r"""
static inline SNN_HD double counter_uniform(const double seed, const double key, const int64_t pixel,
                                             const int64_t step)
{
    return _snn_uniform(_snn_key_hash(seed, key), pixel, step);
}
"""
CPP_CODE = "#include <stdint.h>\n#define SNN_HD\n" + _MIX + _CPP_ENTRY
CUDA_CODE = "#include <stdint.h>\n#define SNN_HD __host__ __device__\n" + _MIX + _CUDA_ENTRY


def _splitmix_np(z: np.ndarray) -> np.ndarray:
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def counter_uniform_np(seed, key, pixel, step) -> np.ndarray:
    """The same numbers as the C implementation, for broadcastable integer arrays."""
    with np.errstate(over="ignore"):
        seed, key, pixel, step = (np.asarray(a).astype(np.uint64) for a in (seed, key, pixel, step))
        h = _splitmix_np(seed)
        h = _splitmix_np(h ^ key)
        h = _splitmix_np(h ^ ((pixel << np.uint64(32)) | (step & np.uint64(0xFFFFFFFF))))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def make_counter_uniform() -> Function:
    f = Function(counter_uniform_np, arg_units=[1, 1, 1, 1], return_unit=1,
                 arg_names=["seed", "key", "pixel", "step"], stateless=True)
    f.implementations.add_implementation("cpp", code=CPP_CODE, name="counter_uniform")
    return add_cuda_implementation(f)


def add_cuda_implementation(f: Function) -> Function:
    """For brian2cuda: the same hash compiled for host and device.

    Registered under the name "cuda" (the class_name of brian2cuda's code
    generator, as brian2cuda does for TimedArray), so it needs no import of
    brian2cuda and is ignored by other targets. Without it brian2cuda would
    fall back to the "cpp" code (its generator subclasses the C++ one) and
    nvcc would reject a host function called from a kernel.
    """
    f.implementations.add_implementation("cuda", code=CUDA_CODE, name="counter_uniform")
    return f
