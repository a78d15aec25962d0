"""Everything brian2cuda needs to build the network, set in one place.

:func:`configure` sets Brian2's preferences for the ``cuda_standalone``
device (from brian2cuda) and checks each piece first, failing with a message
that says what to install or set:

* brian2cuda itself (``pip install -e '.[cuda]'``; on Python 3.11 only
  1.0a7 installs, and it pins brian2 2.8.0);
* ``nvcc`` (``CUDA_HOME`` / ``CUDA_PATH``, ``PATH`` or ``/usr/local/cuda``);
* cuRAND, whose headers and library brian2cuda's generated code always uses,
  from the ``nvidia-curand-cu12`` wheel or the CUDA toolkit;
* the GPU and its compute capability. brian2cuda's own detection needs
  ``nvidia-smi`` and, with older drivers, the ``deviceQuery`` sample; here
  ``nvidia-smi`` is asked once and detection is switched off, so that a
  machine without a GPU can still compile: there ``SNN_CUDA_CC`` (or
  ``compute_capability=``) gives the capability to compile for, e.g. 8.0.

Found on a 2-core machine with nvcc 13.0 and no GPU: Thrust and CUB need
C++17 (brian2cuda passes ``-std=c++11``), and unbounded ``make -j`` ran
nvcc out of memory.
"""
from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from bio.build_cache import build_root

CC_ENV = "SNN_CUDA_CC"          # compute capability to compile for, e.g. "8.0" or "80"
GPU_ENV = "SNN_CUDA_GPU"        # index among the visible GPUs (default 0)
MAKE_JOBS_ENV = "SNN_CUDA_MAKE_JOBS"
# brian2cuda refuses capabilities below 5.0; nvcc 13 refuses below 7.5.
MIN_CC = 5.0


class CudaSetupError(RuntimeError):
    """A piece that brian2cuda needs is missing; the message says what to do."""


def require_brian2cuda():
    """Import brian2cuda (which registers the ``cuda_standalone`` device)."""
    try:
        import brian2cuda
    except ImportError as err:
        raise CudaSetupError(
            "the cuda_standalone device needs brian2cuda: pip install -e '.[cuda]' "
            "(on Python 3.11 this installs brian2cuda 1.0a7 and brian2 2.8.0; "
            "best in a virtual environment of its own)") from err
    return brian2cuda


def cuda_home() -> Path:
    """The CUDA toolkit that holds ``bin/nvcc``."""
    candidates = [os.environ.get(k) for k in ("CUDA_HOME", "CUDA_PATH")]
    nvcc = shutil.which("nvcc")
    if nvcc:
        # /usr/local/bin/nvcc may be a wrapper script: the toolkit is where
        # the real binary lives.
        real = Path(os.path.realpath(nvcc))
        candidates += [str(real.parent.parent), str(Path(nvcc).parent.parent)]
    candidates += ["/usr/local/cuda", *sorted(glob.glob("/usr/local/cuda-*"), reverse=True), "/opt/cuda"]
    for c in candidates:
        if c and (Path(c) / "bin" / "nvcc").is_file() and (Path(c) / "include" / "cuda_runtime.h").is_file():
            return Path(c)
    raise CudaSetupError(
        "no CUDA toolkit found (nvcc with its headers): install the CUDA toolkit and put nvcc on "
        "PATH, or set CUDA_HOME to the directory that holds bin/nvcc")


def curand_dirs(home: Path | None = None) -> tuple[Path, Path]:
    """(include dir, library dir) of cuRAND: the ``nvidia-curand`` wheel first, then the toolkit."""
    roots = []
    try:
        spec = importlib.util.find_spec("nvidia.curand")
    except ImportError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        roots += [(Path(p) / "include", Path(p) / "lib") for p in spec.submodule_search_locations]
    if home is not None:
        roots += [(home / "include", home / lib) for lib in ("lib64", "lib", "targets/x86_64-linux/lib")]
        roots += [(home / "targets/x86_64-linux/include", home / "targets/x86_64-linux/lib")]
    for inc, lib in roots:
        if (inc / "curand.h").is_file() and glob.glob(str(lib / "libcurand.so*")):
            return inc, lib
    raise CudaSetupError(
        "cuRAND not found (curand.h and libcurand.so): pip install nvidia-curand-cu12, "
        "or install the CUDA toolkit's cuRAND")


def _link_dir(lib: Path) -> Path:
    """A directory with ``libcurand.so``: brian2cuda links with ``-lcurand``, but the
    wheel ships only ``libcurand.so.<major>``."""
    if (lib / "libcurand.so").exists():
        return lib
    target = sorted(glob.glob(str(lib / "libcurand.so.*")))[0]

    link_dir = build_root() / "curand-link"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / "libcurand.so"
    if os.path.realpath(link) != os.path.realpath(target):
        tmp = link_dir / f".libcurand.so.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(target)
        os.replace(tmp, link)   # atomic, so parallel builds never see a half-made link
    return link_dir


def visible_gpus() -> list[tuple[str, float]]:
    """(name, compute capability) of each GPU this process may use, by CUDA index;
    empty when ``nvidia-smi`` is missing or finds none."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.strip().splitlines():
        name, _, cc = line.rpartition(",")
        try:
            gpus.append((name.strip(), float(cc)))
        except ValueError:
            continue
    # nvidia-smi lists every GPU; CUDA numbers only the visible ones.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        try:
            gpus = [gpus[int(k)] for k in visible.split(",") if k.strip() and int(k) < len(gpus)]
        except ValueError:
            pass  # GPU UUIDs: keep nvidia-smi's order
    return gpus


def _parse_cc(value) -> float:
    s = str(value).strip()
    cc = float(s) if "." in s else float(s[:-1] + "." + s[-1]) if len(s) > 1 else float(s)
    if cc < MIN_CC:
        raise CudaSetupError(f"compute capability {cc} is below brian2cuda's minimum {MIN_CC}")
    return cc


def make_jobs() -> int:
    return int(os.environ.get(MAKE_JOBS_ENV) or min(os.cpu_count() or 1, 2))


def configure(*, compute_capability=None, gpu_id=None, need_gpu: bool = True) -> dict:
    """Set the preferences for building (and, with ``need_gpu``, running) on cuda_standalone.

    ``compute_capability`` (else ``$SNN_CUDA_CC``, else the GPU's own) is the
    architecture nvcc compiles for. Returns what was chosen.
    """
    require_brian2cuda()
    from brian2 import prefs

    home = cuda_home()
    inc, lib = curand_dirs(home)
    gpu_id = int(gpu_id if gpu_id is not None else os.environ.get(GPU_ENV, 0))
    gpus = visible_gpus()
    if need_gpu and not gpus:
        raise CudaSetupError(
            "no NVIDIA GPU found (nvidia-smi is missing or lists none): running on cuda_standalone "
            f"needs one. Without a GPU the project can only be compiled (set {CC_ENV}, e.g. 8.0).")
    if gpus and gpu_id >= len(gpus):
        raise CudaSetupError(f"GPU {gpu_id} asked for ({GPU_ENV}), but only {len(gpus)} are visible")
    cc = compute_capability if compute_capability is not None else os.environ.get(CC_ENV)
    if cc is not None:
        cc = _parse_cc(cc)
    elif gpus:
        cc = gpus[gpu_id][1]
    else:
        raise CudaSetupError(
            f"no GPU found to take the compute capability from: set {CC_ENV} (e.g. 8.0 for A100, "
            "9.0 for H100) to compile for a GPU that is not here")

    backend = prefs.devices.cuda_standalone.cuda_backend
    backend.cuda_path = str(home)
    # Own detection above: brian2cuda's may need the deviceQuery sample.
    backend.detect_gpus = False
    backend.gpu_id = gpu_id
    backend.compute_capability = cc
    nvcc_args = [a for a in backend.extra_compile_args_nvcc if not a.startswith("-std=")]
    backend.extra_compile_args_nvcc = nvcc_args + ["-std=c++17"]
    gcc_args = [a for a in prefs.codegen.cpp.extra_compile_args_gcc if not a.startswith("-std=")]
    prefs.codegen.cpp.extra_compile_args_gcc = gcc_args + ["-std=c++17"]
    link_dir = _link_dir(lib)
    for key, path in (("include_dirs", inc), ("library_dirs", link_dir), ("runtime_library_dirs", lib)):
        current = list(prefs["codegen.cpp." + key])
        if str(path) not in current:
            prefs["codegen.cpp." + key] = current + [str(path)]
    prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{make_jobs()}"]
    return {"cuda_home": str(home), "curand_include": str(inc), "curand_lib": str(lib),
            "gpu_id": gpu_id, "gpu": gpus[gpu_id][0] if gpus else None, "compute_capability": cc}
