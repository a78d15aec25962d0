"""A uniform random number whose stream is chosen by a run-time seed.

cpp_standalone bakes ``seed(...)`` into the compiled binary, so every re-run
of one binary would draw the same Poisson noise, and an unseeded binary is
not reproducible. This function keeps its own 64-bit Mersenne twister and
re-seeds it whenever the seed argument changes; the seed is a shared network
variable set with ``run_args``, so each chunk of examples gets its own
reproducible stream without recompiling. In runtime mode (no C++ target for
this function) the network uses Brian2's ``rand()`` with ``brian2.seed``.
"""
from brian2 import Function

_CPP_CODE = r"""
#include <random>
static std::mt19937_64 _seeded_uniform_gen;
static double _seeded_uniform_current = -1.0;
static inline double seeded_uniform(const double seed)
{
    if (seed != _seeded_uniform_current)
    {
        _seeded_uniform_gen.seed((unsigned long long)seed);
        _seeded_uniform_current = seed;
    }
    // 53 random bits -> a double in [0, 1)
    return (double)(_seeded_uniform_gen() >> 11) * (1.0 / 9007199254740992.0);
}
"""


def _no_python(seed):  # pragma: no cover - only the C++ implementation is used
    raise NotImplementedError("seeded_uniform exists only for C++ targets (cpp_standalone)")


def make_seeded_uniform() -> Function:
    # stateless=False: each call draws a new number, so Brian2 must not hoist
    # the call out of the per-neuron loop as a loop invariant.
    f = Function(_no_python, arg_units=[1], return_unit=1, arg_names=["seed"], stateless=False)
    f.implementations.add_implementation("cpp", code=_CPP_CODE, name="seeded_uniform")
    return f
