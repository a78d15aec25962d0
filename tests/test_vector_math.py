"""Vectorised exp() (glibc's libmvec) in the standalone build changes no spike and no weight.

Builds the tiny training network twice, with and without bio.devices.VECTOR_MATH (about 30 s
each the first time), and compares everything a chunk returns, exactly.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

from bio import devices
from bio.devices import VECTOR_MATH_ENV, get_runner
from bio.network import intensities
from bio.parameters import NetworkConfig
from tests.conftest import bars

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libmvec is glibc's")


def train_chunk(monkeypatch, on: bool):
    monkeypatch.setenv(VECTOR_MATH_ENV, "1" if on else "0")
    devices._CACHE.clear()
    cfg = NetworkConfig(n_exc=40)   # with 10 neurons GCC leaves the loop scalar
    x, _ = bars(20, seed=5)
    rng = np.random.default_rng(0)
    runner = get_runner("cpp_standalone", cfg, 20, mode="train")
    res = runner.run(intensities(x), 0.3 * rng.random((784, 40)), np.full(40, 20.0), seed=11)
    devices._CACHE.clear()
    return runner.directory, res


def test_vector_exp_gives_the_same_spikes_and_weights(monkeypatch):
    vec_dir, vec = train_chunk(monkeypatch, on=True)
    scalar_dir, scalar = train_chunk(monkeypatch, on=False)
    assert vec_dir != scalar_dir
    # The vector build calls libmvec's exp (e.g. _ZGVeN8v_exp, _ZGVdN4v_exp); the scalar one does not.
    if b"_ZGV" not in (vec_dir / "main").read_bytes():
        cpu = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        assert " avx2" not in cpu, "an AVX2 machine, and GCC did not vectorise exp"
        pytest.skip("no AVX2 here: GCC leaves exp scalar, nothing to compare")
    assert b"_ZGV" not in (scalar_dir / "main").read_bytes()
    assert vec.exc_counts.sum() > 0
    for name in ("exc_counts", "inh_counts", "exc_presented", "w", "theta_mV"):
        assert np.array_equal(getattr(vec, name), getattr(scalar, name)), name
