"""Build options for speed change no spike and no weight.

Each test builds the tiny network twice, with and without one option (about 30 s per build the
first time), and compares everything a run returns, exactly: vectorised exp() (glibc's libmvec,
bio.devices.VECTOR_MATH), denormals flushed to zero (bio.devices.FLUSH_DENORMALS), and the rewritten
input pathway, input thresholder and scheduler (bio.source_patches).
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from bio import devices
from bio.devices import FLUSH_DENORMALS_ENV, VECTOR_MATH_ENV, get_runner
from bio.frozen import spike_counts
from bio.network import intensities
from bio.parameters import NetworkConfig
from bio.source_patches import FAST_PATHWAY_ENV
from tests.conftest import bars

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libmvec is glibc's")
N_EXC = 40   # with 10 neurons GCC leaves the loops scalar
LIBMVEC_EXP = re.compile(rb"_ZGV[a-z]N\d+v_exp")


def train_chunk(monkeypatch, env: str, on: bool, n: int = 20):
    monkeypatch.setenv(env, "1" if on else "0")
    devices._CACHE.clear()
    cfg = NetworkConfig(n_exc=N_EXC)
    x, _ = bars(n, seed=5)
    rng = np.random.default_rng(0)
    runner = get_runner("cpp_standalone", cfg, n, mode="train")
    res = runner.run(intensities(x), 0.3 * rng.random((784, N_EXC)), np.full(N_EXC, 20.0), seed=11)
    devices._CACHE.clear()
    return runner.directory, res


def assert_same_chunk(a, b):
    assert a.exc_counts.sum() > 0
    for name in ("exc_counts", "inh_counts", "exc_presented", "w", "theta_mV"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_vector_exp_gives_the_same_spikes_and_weights(monkeypatch):
    vec_dir, vec = train_chunk(monkeypatch, VECTOR_MATH_ENV, on=True)
    scalar_dir, scalar = train_chunk(monkeypatch, VECTOR_MATH_ENV, on=False)
    assert vec_dir != scalar_dir
    # The vector build calls libmvec's exp (e.g. _ZGVeN8v_exp, _ZGVdN4v_exp); the scalar one does not.
    if not LIBMVEC_EXP.search((vec_dir / "main").read_bytes()):
        cpu = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        assert " avx2" not in cpu, "an AVX2 machine, and GCC did not vectorise exp"
        pytest.skip("no AVX2 here: GCC leaves exp scalar, nothing to compare")
    assert not LIBMVEC_EXP.search((scalar_dir / "main").read_bytes())
    assert_same_chunk(vec, scalar)


def patched(directory) -> bool:
    code = (Path(directory) / "code_objects" / "input_exc_pre_codeobject.cpp").read_text()
    threshold = (Path(directory) / "code_objects" / "inputs_spike_thresholder_codeobject.cpp").read_text()
    network = (Path(directory) / "network.cpp").read_text()
    exc = (Path(directory) / "code_objects" / "exc_spike_thresholder_codeobject.cpp").read_text()
    update = (Path(directory) / "code_objects" / "inh_stateupdater_codeobject.cpp").read_text()
    scale = (Path(directory) / "code_objects" / "normalise_codeobject.cpp").read_text()
    total = (Path(directory) / "code_objects" / "input_exc_summed_variable_wsum_post_codeobject.cpp").read_text()
    return "contiguous_input_pathway" in code and "active_inputs" in threshold \
        and "spike_free_steps" in exc and "static const double" in update \
        and "block_normalisation" in scale and "block_normalisation" in total \
        and "elapsed_realtime = (double)(std::clock() - start)" in network


def test_block_pathway_learns_exactly_as_brian2s_queue(monkeypatch):
    fast_dir, fast = train_chunk(monkeypatch, FAST_PATHWAY_ENV, on=True)
    plain_dir, plain = train_chunk(monkeypatch, FAST_PATHWAY_ENV, on=False)
    assert patched(fast_dir) and not patched(plain_dir)
    assert_same_chunk(fast, plain)


def test_flushing_denormals_changes_no_weight(monkeypatch):
    """Over 40 slots of 500 ms, silent neurons' post traces decay far into the denormal range."""
    flush_dir, flush = train_chunk(monkeypatch, FLUSH_DENORMALS_ENV, on=True, n=40)
    keep_dir, keep = train_chunk(monkeypatch, FLUSH_DENORMALS_ENV, on=False, n=40)
    assert flush_dir != keep_dir
    assert_same_chunk(flush, keep)


@pytest.mark.parametrize("env", [FAST_PATHWAY_ENV, FLUSH_DENORMALS_ENV])
def test_frozen_counts_are_exact_with_copies(monkeypatch, env):
    """Frozen, 3 copies side by side: the block of input g is onto copy g // 784's exc neurons."""
    cfg = NetworkConfig(n_exc=N_EXC)
    x, _ = bars(9, seed=2)
    rng = np.random.default_rng(1)
    w, theta = rng.random((784, N_EXC)) * 0.5, np.full(N_EXC, 20.0)
    out = {}
    for on in (True, False):
        monkeypatch.setenv(env, "1" if on else "0")
        devices._CACHE.clear()
        out[on] = spike_counts(x, w, theta, cfg, seed=4, copies=3, progress=False)
    devices._CACHE.clear()
    assert out[True].exc.sum() > 0
    for name in ("exc", "inh", "input", "boost_hz"):
        assert np.array_equal(getattr(out[True], name), getattr(out[False], name)), name
