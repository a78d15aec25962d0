"""Dataset loaders for MNIST, Fashion-MNIST and CIFAR-10, checksummed end to end.

    images, labels = imagesets.load("cifar10", "test")

Files live under a data directory (see `resolve_data_dir`) in the layout
mnist/, fashion_mnist/, cifar10/cifar-10-batches-py/, and are downloaded
there when missing.
"""

from .catalog import DATASETS, canonical_name, class_names
from .datadir import resolve_data_dir
from .errors import (
    ChecksumError,
    DatasetError,
    MalformedFileError,
    MissingDataError,
    UnknownDatasetError,
    UnsafePickleError,
)
from .loader import load

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DatasetError",
    "MalformedFileError",
    "MissingDataError",
    "UnknownDatasetError",
    "UnsafePickleError",
    "canonical_name",
    "class_names",
    "load",
    "resolve_data_dir",
]
