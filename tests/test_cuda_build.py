"""brian2cuda generates and compiles the network (does not run it: no GPU needed).

Runs where brian2cuda is installed (``pip install -e '.[cuda]'``) and nvcc
is found; skipped otherwise, e.g. in CI. Without a GPU the code is compiled
for ``$SNN_CUDA_CC`` (default here 8.0). Each build takes minutes.
"""
import importlib.util
import os
import shutil

import numpy as np
import pytest

from bio.parameters import NetworkConfig


def _skip_reason():
    if importlib.util.find_spec("brian2cuda") is None:
        return "brian2cuda is not installed (pip install -e '.[cuda]')"
    from bio import cuda
    try:
        cuda.cuda_home()
    except cuda.CudaSetupError as err:
        return str(err)
    return None


REASON = _skip_reason()
needs_nvcc = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture
def cuda_env(tmp_path, monkeypatch):
    from brian2 import device, prefs, set_device

    from bio import cuda

    monkeypatch.setenv("SNN_BUILD_DIR", str(tmp_path / "cache"))
    if not cuda.visible_gpus() and not os.environ.get(cuda.CC_ENV):
        monkeypatch.setenv(cuda.CC_ENV, "8.0")
    prefs._backup()
    try:
        yield tmp_path
    finally:
        prefs._restore()
        device.reinit()
        set_device("runtime")


def _assert_compiled(runner):
    from brian2 import get_device

    assert get_device().__class__.__name__ == "CUDAStandaloneDevice"
    assert (runner.directory / "main").is_file(), "no binary"
    # The sampler was compiled for the GPU, not the C++ fallback.
    sources = "".join(p.read_text() for p in (runner.directory / "code_objects").glob("inputs_*thresholder*.cu"))
    assert "__host__ __device__" in sources and "counter_uniform" in sources


@pytest.mark.slow
@needs_nvcc
@pytest.mark.parametrize("mode, copies", [("frozen", 2), ("train", 1)])
def test_cuda_standalone_compiles(cuda_env, mode, copies):
    from bio.devices import CudaStandaloneRunner

    config = NetworkConfig(n_exc=4, n_input=9, present_ms=5.0, rest_ms=0.0 if mode == "frozen" else 5.0)
    runner = CudaStandaloneRunner(config, n_slots=2, mode=mode, copies=copies,
                                  directory=cuda_env / mode, run=False)
    _assert_compiled(runner)
    shutil.rmtree(runner.directory, ignore_errors=True)


def test_missing_pieces_are_named(monkeypatch):
    from bio import cuda

    assert cuda._parse_cc("90") == 9.0 and cuda._parse_cc("8.6") == 8.6
    assert np.isclose(cuda._parse_cc(7.5), 7.5)
    if importlib.util.find_spec("brian2cuda") is None:
        with pytest.raises(cuda.CudaSetupError, match=r"pip install -e '\.\[cuda\]'"):
            cuda.configure(need_gpu=False)
        return
    if REASON is not None:
        pytest.skip(REASON)
    monkeypatch.setattr(cuda, "visible_gpus", lambda: [])
    monkeypatch.delenv(cuda.CC_ENV, raising=False)
    with pytest.raises(cuda.CudaSetupError, match="no NVIDIA GPU"):
        cuda.configure(need_gpu=True)
    with pytest.raises(cuda.CudaSetupError, match=cuda.CC_ENV):
        cuda.configure(need_gpu=False)
