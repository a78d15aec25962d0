"""What each dataset consists of: names, files, checksums, sources and classes."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownDatasetError

DATASETS: tuple[str, ...] = ("mnist", "fashion", "cifar10")

ALIASES: dict[str, str] = {
    "fashion_mnist": "fashion",
    "fashion-mnist": "fashion",
    "fmnist": "fashion",
}

# Where a missing file comes from. Module-level so that callers (and tests)
# can swap in another server; SNN_DATA_MIRROR overrides all of them at once.
BASE_URLS: dict[str, str] = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    # Upstream serves CIFAR-10 only as one tarball, not as loose batches.
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
}

CIFAR10_TARBALL = "cifar-10-python.tar.gz"
CIFAR10_MEMBER_DIR = "cifar-10-batches-py"

# SHA-256 of every file, keyed by its path relative to the data directory.
# The same values as /work/shared/data/SHA256SUMS; the loaders look them up
# at call time, so replacing an entry takes effect immediately.
SHA256: dict[str, str] = {
    "mnist/train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "mnist/train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "mnist/t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "mnist/t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "fashion_mnist/train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "fashion_mnist/train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "fashion_mnist/t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "fashion_mnist/t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "cifar10/cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    "cifar10/cifar-10-batches-py/data_batch_1": "54636561a3ce25bd3e19253c6b0d8538147b0ae398331ac4a2d86c6d987368cd",
    "cifar10/cifar-10-batches-py/data_batch_2": "766b2cef9fbc745cf056b3152224f7cf77163b330ea9a15f9392beb8b89bc5a8",
    "cifar10/cifar-10-batches-py/data_batch_3": "0f00d98ebfb30b3ec0ad19f9756dc2630b89003e10525f5e148445e82aa6a1f9",
    "cifar10/cifar-10-batches-py/data_batch_4": "3f7bb240661948b8f4d53e36ec720d8306f5668bd0071dcb4e6c947f78e9682b",
    "cifar10/cifar-10-batches-py/data_batch_5": "d91802434d8376bbaeeadf58a737e3a1b12ac839077e931237e0dcd43adcb154",
    "cifar10/cifar-10-batches-py/test_batch": "f53d8d457504f7cff4ea9e021afcf0e0ad8e24a91f3fc42091b8adef61157831",
    "cifar10/cifar-10-batches-py/batches.meta": "f962466ef690d46b226450fb9aadc74ba4bc64a76aa526b5827fe4bc5c7125cb",
}

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class Dataset:
    """One dataset: its folder in the data directory and its files per split."""

    name: str
    folder: str
    format: str  # "idx" or "cifar"
    files: dict[str, tuple[str, ...]]  # split -> paths relative to `folder`
    classes: tuple[str, ...]
    image_shape: tuple[int, ...]

    def relpath(self, filename: str) -> str:
        """Path of `filename` relative to the data directory (the SHA256 key)."""
        return f"{self.folder}/{filename}"


CATALOG: dict[str, Dataset] = {
    "mnist": Dataset(
        name="mnist",
        folder="mnist",
        format="idx",
        files=_IDX_FILES,
        classes=tuple(str(digit) for digit in range(10)),
        image_shape=(28, 28),
    ),
    "fashion": Dataset(
        name="fashion",
        folder="fashion_mnist",
        format="idx",
        files=_IDX_FILES,
        classes=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        image_shape=(28, 28),
    ),
    "cifar10": Dataset(
        name="cifar10",
        folder="cifar10",
        format="cifar",
        files={
            "train": tuple(f"{CIFAR10_MEMBER_DIR}/data_batch_{i}" for i in range(1, 6)),
            "test": (f"{CIFAR10_MEMBER_DIR}/test_batch",),
        },
        classes=(
            "airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck",
        ),
        image_shape=(32, 32, 3),
    ),
}

# Every file the tarball must yield; batches.meta is unpacked too so that the
# folder matches what torchvision and other tools expect.
CIFAR10_MEMBERS: tuple[str, ...] = (
    *CATALOG["cifar10"].files["train"],
    *CATALOG["cifar10"].files["test"],
    f"{CIFAR10_MEMBER_DIR}/batches.meta",
)


def canonical_name(name: str) -> str:
    """The canonical dataset name for `name` or one of its aliases (any case)."""
    key = name.strip().lower() if isinstance(name, str) else None
    key = ALIASES.get(key, key)
    if key not in CATALOG:
        raise UnknownDatasetError(name, DATASETS, tuple(ALIASES))
    return key


def dataset(name: str) -> Dataset:
    """The `Dataset` record for `name` (aliases accepted)."""
    return CATALOG[canonical_name(name)]


def class_names(name: str) -> tuple[str, ...]:
    """Class labels of dataset `name`, indexed by label value."""
    return dataset(name).classes
