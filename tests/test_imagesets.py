"""Tests of the `imagesets` loaders on tiny synthetic files and a loopback server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

import imagesets
from imagesets import catalog, checksums, idx, safepickle, tarball
from imagesets.errors import (
    ChecksumError,
    DatasetError,
    MalformedFileError,
    MissingDataError,
    UnknownDatasetError,
    UnsafePickleError,
)

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
BATCHES = "cifar10/cifar-10-batches-py"


# --- synthetic files -------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """Gzipped IDX encoding of a uint8 array."""
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 str opcodes, like the original CIFAR-10 batches."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def batch_bytes(data: np.ndarray, labels: list[int], style: str = "py2") -> bytes:
    batch = {b"batch_label": b"synthetic", b"labels": labels, b"data": data, b"filenames": [b"x.png"] * len(labels)}
    if style == "py3":
        return pickle.dumps(batch, protocol=2)
    out = io.BytesIO()
    Py2Pickler(out, protocol=2).dump(batch)
    # The real files name numpy 1's module; numpy 2 pickles name numpy._core.
    return out.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batch(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), [int(v) for v in rng.integers(0, 10, n)]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.delenv("SNN_DATA_MIRROR", raising=False)
    checksums.forget_all()


@pytest.fixture
def register(monkeypatch):
    """register(relpath, data): make `data` the expected content of `relpath`."""

    def _register(relpath: str, data: bytes) -> None:
        monkeypatch.setitem(catalog.SHA256, relpath, sha256(data))

    return _register


def mnist_files(folder: str, split: str, n: int = 5, seed: int = 0) -> tuple[dict[str, bytes], np.ndarray, np.ndarray]:
    """{relpath: bytes} of a tiny IDX split, with its images and labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    image_name, label_name = IDX_FILES[split]
    files = {f"{folder}/{image_name}": idx_bytes(images), f"{folder}/{label_name}": idx_bytes(labels)}
    return files, images, labels


def place(root: Path, files: dict[str, bytes], register=None) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if register is not None:
            register(rel, data)


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


# --- parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "folder"), [("mnist", "mnist"), ("Fashion-MNIST", "fashion_mnist")])
@pytest.mark.parametrize("split", ["train", "test"])
def test_idx_split_parses(tmp_path, register, name, folder, split):
    files, images, labels = mnist_files(folder, split)
    place(tmp_path, files, register)
    x, y = imagesets.load(name, split, data_dir=tmp_path, download=False)
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28)
    assert y.dtype == np.int64 and y.shape == (5,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.flags.writeable


def test_read_idx_big_endian_types(tmp_path):
    values = np.arange(6, dtype=">i4").reshape(2, 3)
    header = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 3)
    path = tmp_path / "ints.gz"
    path.write_bytes(gzip.compress(header + values.tobytes()))
    out = idx.read_idx(path)
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, np.arange(6).reshape(2, 3))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (gzip.compress(b"\x08\x03\x00\x00" + bytes(16)), "magic"),
        (gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 5, 28, 28) + bytes(100)), "truncated"),
        (gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes(4)), "beyond"),
        (gzip.compress(bytes([0, 0, 8, 3]) + b"\0\0"), "header truncated"),
        (b"plainly not gzip", "gzip"),
    ],
    ids=["bad-magic", "short-data", "trailing-data", "short-header", "not-gzip"],
)
def test_read_idx_rejects_malformed(tmp_path, content, problem):
    path = tmp_path / "broken-idx1-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(MalformedFileError, match=problem) as info:
        idx.read_idx(path)
    assert str(path) in str(info.value)


def test_label_count_mismatch_names_file(tmp_path, register):
    files, _, _ = mnist_files("mnist", "test", n=5)
    files["mnist/t10k-labels-idx1-ubyte.gz"] = idx_bytes(np.zeros(4, np.uint8))
    place(tmp_path, files, register)
    with pytest.raises(MalformedFileError, match="4 labels for the 5 images") as info:
        imagesets.load("mnist", "test", data_dir=tmp_path, download=False)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)


@pytest.mark.parametrize("style", ["py2", "py3"])
def test_cifar_batches_parse_to_hwc(tmp_path, register, style):
    batches = {f"{BATCHES}/data_batch_{i}": cifar_batch(3, seed=i) for i in range(1, 6)}
    batches[f"{BATCHES}/test_batch"] = cifar_batch(4, seed=9)
    place(tmp_path, {rel: batch_bytes(*b, style=style) for rel, b in batches.items()}, register)

    x, y = imagesets.load("CIFAR10", "test", data_dir=tmp_path, download=False)
    data, labels = batches[f"{BATCHES}/test_batch"]
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.tolist() == labels
    # Pixel (row r, column c, channel ch) sits at ch*1024 + r*32 + c in a batch row.
    for i, r, c, ch in [(0, 0, 0, 0), (1, 5, 7, 1), (3, 31, 30, 2)]:
        assert x[i, r, c, ch] == data[i, ch * 1024 + r * 32 + c]

    x, y = imagesets.load("cifar10", "train", data_dir=tmp_path, download=False)
    assert x.shape == (15, 32, 32, 3)
    assert y.tolist() == sum((batches[f"{BATCHES}/data_batch_{i}"][1] for i in range(1, 6)), [])
    np.testing.assert_array_equal(x[3], batches[f"{BATCHES}/data_batch_2"][0][0].reshape(3, 32, 32).transpose(1, 2, 0))


def test_cifar_batch_with_wrong_shape_is_rejected(tmp_path, register):
    data = np.zeros((2, 100), np.uint8)
    place(tmp_path, {f"{BATCHES}/test_batch": batch_bytes(data, [0, 1])}, register)
    with pytest.raises(MalformedFileError, match=r"\(N, 3072\)"):
        imagesets.load("cifar10", "test", data_dir=tmp_path, download=False)


class _Exploit:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize("func", [os.system, eval], ids=["os.system", "eval"])
def test_malicious_pickle_is_refused(tmp_path, register, func):
    marker = tmp_path / "pwned"
    command = f"echo pwned > {marker}"
    arg = command if func is os.system else f"__import__('os').system({command!r})"
    payload = pickle.dumps({b"data": _Exploit(func, arg), b"labels": []}, protocol=2)
    place(tmp_path, {f"{BATCHES}/test_batch": payload}, register)

    with pytest.raises(UnsafePickleError, match=func.__name__) as info:
        imagesets.load("cifar10", "test", data_dir=tmp_path, download=False)
    assert "test_batch" in str(info.value)
    assert not marker.exists()
    # The same payload through the unpickler directly, with no dataset around it.
    with pytest.raises(UnsafePickleError):
        safepickle.RestrictedUnpickler(io.BytesIO(payload), encoding="bytes").load()
    assert not marker.exists()


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "objects"
    path.write_bytes(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    with pytest.raises(DatasetError):
        safepickle.load(path)


# --- checksums -------------------------------------------------------------------


def test_checksum_mismatch_names_file_and_hashes(tmp_path, monkeypatch):
    files, _, _ = mnist_files("mnist", "test")
    place(tmp_path, files)
    wrong = "0" * 64
    monkeypatch.setitem(catalog.SHA256, "mnist/t10k-images-idx3-ubyte.gz", wrong)
    with pytest.raises(ChecksumError) as info:
        imagesets.load("mnist", "test", data_dir=tmp_path, download=False)
    message = str(info.value)
    path = tmp_path / "mnist/t10k-images-idx3-ubyte.gz"
    assert str(path) in message
    assert wrong in message and sha256(files["mnist/t10k-images-idx3-ubyte.gz"]) in message
    assert "SNN_DATA_DIR" in message and "--data-dir" in message and "Delete" in message
    assert info.value.path == path and info.value.expected == wrong


def test_truncated_file_fails_checksum(tmp_path, register):
    files, _, _ = mnist_files("fashion_mnist", "train")
    place(tmp_path, files, register)
    imagesets.load("fmnist", "train", data_dir=tmp_path, download=False)
    path = tmp_path / "fashion_mnist/train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ChecksumError) as info:
        imagesets.load("fmnist", "train", data_dir=tmp_path, download=False)
    assert str(path) in str(info.value)
    assert catalog.SHA256["fashion_mnist/train-images-idx3-ubyte.gz"] in str(info.value)


def test_verification_is_cached_until_the_file_changes(tmp_path, register, monkeypatch):
    files, _, _ = mnist_files("mnist", "test")
    place(tmp_path, files, register)
    hashed = []
    real = checksums.sha256_copy

    def counting(source, sink=None):
        hashed.append(getattr(source, "name", None))
        return real(source, sink)

    monkeypatch.setattr(checksums, "sha256_copy", counting)
    for _ in range(3):
        imagesets.load("mnist", "test", data_dir=tmp_path, download=False)
    assert len(hashed) == 2

    path = tmp_path / "mnist/t10k-labels-idx1-ubyte.gz"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    imagesets.load("mnist", "test", data_dir=tmp_path, download=False)
    assert len(hashed) == 3


# --- names and directories -------------------------------------------------------


def test_unknown_dataset_lists_known_names(tmp_path):
    with pytest.raises(UnknownDatasetError) as info:
        imagesets.load("imagenet", data_dir=tmp_path)
    assert isinstance(info.value, ValueError) and isinstance(info.value, DatasetError)
    for name in imagesets.DATASETS:
        assert name in str(info.value)
    assert "imagenet" in str(info.value)


def test_names_aliases_and_classes():
    assert imagesets.DATASETS == ("mnist", "fashion", "cifar10")
    for alias in ["fashion", "FASHION_MNIST", "fashion-mnist", " fmnist "]:
        assert imagesets.canonical_name(alias) == "fashion"
    assert imagesets.class_names("cifar10")[3] == "cat"
    assert imagesets.class_names("Fashion-MNIST")[9] == "Ankle boot"
    assert imagesets.class_names("mnist") == tuple("0123456789")


def test_bad_split_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="split"):
        imagesets.load("mnist", "validation", data_dir=tmp_path)


def test_resolve_data_dir_precedence(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SNN_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert imagesets.resolve_data_dir() == home / ".cache/snn-robustness/data"

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid per the XDG spec
    assert imagesets.resolve_data_dir() == home / ".cache/snn-robustness/data"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert imagesets.resolve_data_dir() == tmp_path / "xdg/snn-robustness/data"

    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "env"))
    assert imagesets.resolve_data_dir() == tmp_path / "env"

    assert imagesets.resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert imagesets.resolve_data_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"
    assert not (tmp_path / "explicit").exists()  # resolving creates nothing


# --- downloads -------------------------------------------------------------------


class Truncated(bytes):
    """A body the server promises in full but cuts off halfway."""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.files.get(self.path.lstrip("/"))
        self.server.requests.append(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if isinstance(body, Truncated) else body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    """A loopback HTTP server serving `server.files` ({relative path: bytes})."""
    for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]:
        monkeypatch.delenv(var, raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.requests = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_download_from_mirror(tmp_path, register, server, monkeypatch):
    files, images, labels = mnist_files("mnist", "test")
    server.files.update(files)
    for rel, data in files.items():
        register(rel, data)
    monkeypatch.setenv("SNN_DATA_MIRROR", server.url + "/")
    root = tmp_path / "data"

    x, y = imagesets.load("mnist", "test", data_dir=root)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    for rel, data in files.items():
        assert (root / rel).read_bytes() == data
    assert sorted(server.requests) == sorted(f"/{rel}" for rel in files)
    assert leftovers(root) == []

    imagesets.load("mnist", "test", data_dir=root)  # now served from disk
    assert len(server.requests) == 2


def test_download_from_overridden_base_url(tmp_path, register, server, monkeypatch):
    files, images, _ = mnist_files("served", "train")
    server.files.update(files)
    for rel, data in files.items():
        register(rel.replace("served/", "fashion_mnist/"), data)
    monkeypatch.setitem(catalog.BASE_URLS, "fashion", f"{server.url}/served/")
    x, _ = imagesets.load("fashion", "train", data_dir=tmp_path)
    np.testing.assert_array_equal(x, images)


def test_download_of_wrong_bytes_leaves_nothing(tmp_path, register, server, monkeypatch):
    files, _, _ = mnist_files("mnist", "test")
    for rel, data in files.items():
        register(rel, data)
        server.files[rel] = data[:-1] + bytes([data[-1] ^ 1])
    monkeypatch.setenv("SNN_DATA_MIRROR", server.url)
    with pytest.raises(ChecksumError) as info:
        imagesets.load("mnist", "test", data_dir=tmp_path)
    path = tmp_path / "mnist/t10k-images-idx3-ubyte.gz"
    assert str(path) in str(info.value) and catalog.SHA256["mnist/t10k-images-idx3-ubyte.gz"] in str(info.value)
    assert server.url in str(info.value)
    assert not path.exists()
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(tmp_path, register, server, monkeypatch):
    files, _, _ = mnist_files("mnist", "test")
    for rel, data in files.items():
        register(rel, data)
        server.files[rel] = Truncated(data)
    monkeypatch.setenv("SNN_DATA_MIRROR", server.url)
    with pytest.raises(MissingDataError, match="interrupted after"):
        imagesets.load("mnist", "test", data_dir=tmp_path)
    assert not (tmp_path / "mnist/t10k-images-idx3-ubyte.gz").exists()
    assert leftovers(tmp_path) == []


def test_http_404_raises_missing_data(tmp_path, server, monkeypatch):
    monkeypatch.setenv("SNN_DATA_MIRROR", server.url)
    with pytest.raises(MissingDataError) as info:
        imagesets.load("mnist", "train", data_dir=tmp_path)
    url = f"{server.url}/mnist/train-images-idx3-ubyte.gz"
    assert url in str(info.value) and "404" in str(info.value)
    assert str(tmp_path / "mnist/train-images-idx3-ubyte.gz") in str(info.value)
    assert leftovers(tmp_path) == []


def test_unreachable_server_raises_missing_data(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_DATA_MIRROR", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(MissingDataError, match="127.0.0.1:9"):
        imagesets.load("mnist", "test", data_dir=tmp_path)


def test_missing_file_without_download(tmp_path):
    with pytest.raises(MissingDataError) as info:
        imagesets.load("mnist", "test", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "mnist/t10k-images-idx3-ubyte.gz") in message
    assert "download=False" in message
    assert not (tmp_path / "mnist").exists()

    with pytest.raises(MissingDataError, match="cifar-10-python.tar.gz") as info:
        imagesets.load("cifar10", "test", data_dir=tmp_path, download=False)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in str(info.value)


def cifar_tarball(extra: dict[str, bytes] | None = None) -> tuple[bytes, dict[str, bytes]]:
    """(tar.gz bytes, {member name: bytes}) of a tiny CIFAR-10 tarball."""
    members = {f"cifar-10-batches-py/data_batch_{i}": batch_bytes(*cifar_batch(2, seed=i)) for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = batch_bytes(*cifar_batch(3, seed=7))
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({b"label_names": [b"airplane"]}, protocol=2)
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in {**members, **(extra or {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue(), members


def test_cifar_tarball_download_and_unpack(tmp_path, register, server, monkeypatch):
    escape = tmp_path / "escaped"
    tar_data, members = cifar_tarball(extra={"../escaped": b"outside", "/tmp/escaped-absolute": b"outside"})
    server.files["kriz/cifar-10-python.tar.gz"] = tar_data
    register("cifar10/cifar-10-python.tar.gz", tar_data)
    for name, data in members.items():
        if name != "cifar-10-batches-py/readme.html":
            register(f"cifar10/{name}", data)
    monkeypatch.setitem(catalog.BASE_URLS, "cifar10", f"{server.url}/kriz/")
    root = tmp_path / "data"

    x, y = imagesets.load("cifar10", "test", data_dir=root)
    assert x.shape == (3, 32, 32, 3) and y.tolist() == cifar_batch(3, seed=7)[1]
    assert server.requests == ["/kriz/cifar-10-python.tar.gz"]
    unpacked = sorted(p.name for p in (root / BATCHES).iterdir())
    assert unpacked == sorted(["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)])
    assert not (root / "cifar10/cifar-10-python.tar.gz").exists()
    assert not escape.exists() and not (root / "escaped").exists()
    assert leftovers(root) == []

    x, _ = imagesets.load("cifar10", "train", data_dir=root)  # no second download
    assert x.shape == (10, 32, 32, 3) and len(server.requests) == 1


def test_cifar_tarball_placed_by_hand(tmp_path, register):
    tar_data, members = cifar_tarball()
    register("cifar10/cifar-10-python.tar.gz", tar_data)
    for name, data in members.items():
        register(f"cifar10/{name}", data)
    place(tmp_path, {"cifar10/cifar-10-python.tar.gz": tar_data})
    x, _ = imagesets.load("cifar10", "train", data_dir=tmp_path, download=False)
    assert x.shape == (10, 32, 32, 3)
    assert (tmp_path / "cifar10/cifar-10-python.tar.gz").exists()  # the user's file stays


def test_cifar_mirror_serves_loose_batches(tmp_path, register, server, monkeypatch):
    data, labels = cifar_batch(2, seed=3)
    content = batch_bytes(data, labels)
    server.files[f"{BATCHES}/test_batch"] = content
    register(f"{BATCHES}/test_batch", content)
    monkeypatch.setenv("SNN_DATA_MIRROR", server.url)
    _, y = imagesets.load("cifar10", "test", data_dir=tmp_path)
    assert y.tolist() == labels


def test_tarball_link_member_is_refused(tmp_path):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    tar_path = tmp_path / "evil.tar.gz"
    tar_path.write_bytes(out.getvalue())
    dest = tmp_path / "out/test_batch"
    with pytest.raises(MalformedFileError, match="not a regular file"):
        tarball.extract_verified(tar_path, {"cifar-10-batches-py/test_batch": (dest, "0" * 64)})
    assert not dest.exists() and not dest.is_symlink()


# --- the real data, when there is a copy -----------------------------------------


def _real_mnist_dir() -> Path | None:
    root = os.environ.get("SNN_DATA_DIR")
    if root and all((Path(root) / "mnist" / f).is_file() for f in IDX_FILES["test"]):
        return Path(root)
    return None


@pytest.mark.skipif(_real_mnist_dir() is None, reason="SNN_DATA_DIR unset or holds no MNIST")
def test_real_mnist_test_split():
    x, y = imagesets.load("mnist", "test", data_dir=_real_mnist_dir(), download=False)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    counts = np.bincount(y, minlength=10)
    assert len(counts) == 10 and counts.sum() == 10000
