"""Exceptions raised by the dataset loaders."""

from __future__ import annotations

from pathlib import Path

_FIX_HINT = (
    "Delete the file so that it is downloaded again, or point --data-dir / "
    "SNN_DATA_DIR at a directory that holds a good copy."
)


class DatasetError(Exception):
    """Base class for every error raised by `imagesets`."""


class UnknownDatasetError(DatasetError, ValueError):
    """A dataset name that is neither a known name nor an alias."""

    def __init__(self, name: object, known: tuple[str, ...], aliases: tuple[str, ...] = ()):
        self.name = name
        self.known = known
        message = f"unknown dataset {name!r}; known datasets: {', '.join(known)}"
        if aliases:
            message += f" (aliases: {', '.join(aliases)})"
        super().__init__(message)


class ChecksumError(DatasetError):
    """A file's SHA-256 differs from the published one."""

    def __init__(
        self,
        path: Path | str,
        expected: str,
        actual: str,
        *,
        source: str | None = None,
        advice: str | None = None,
    ):
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        self.source = source
        if source is None:
            what = f"{self.path}: SHA-256 mismatch"
            default_advice = _FIX_HINT
        else:
            # A copy that fails the check never reaches its final name, so
            # there is nothing on disk to delete.
            what = f"{self.path}: SHA-256 mismatch in the copy from {source} (nothing was saved)"
            default_advice = (
                "The server sent different bytes (a truncated transfer, an error page or another "
                "version). Try again later, set SNN_DATA_MIRROR to another server, or point "
                "--data-dir / SNN_DATA_DIR at a directory that holds a good copy."
            )
        super().__init__(
            f"{what}\n  expected sha256 {expected}\n  actual sha256   {actual}\n{advice or default_advice}"
        )


class MissingDataError(DatasetError):
    """A data file is absent and could not be (or was not allowed to be) downloaded."""

    def __init__(
        self,
        path: Path | str,
        url: str,
        reason: str,
        expected: str | None = None,
    ):
        self.path = Path(path)
        self.url = url
        self.reason = reason
        checksum = f" (sha256 {expected})" if expected else ""
        super().__init__(
            f"{self.path} is missing: {reason}.\n"
            f"  URL: {url}\n"
            f"To place it by hand, download {url}{checksum} and save it as {self.path}, "
            "or point --data-dir / SNN_DATA_DIR at a directory that already holds the data."
        )


class MalformedFileError(DatasetError, ValueError):
    """A file that passed (or skipped) its checksum but cannot be parsed."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class UnsafePickleError(MalformedFileError):
    """A pickle that asks for a global outside the loader's allow-list."""
