"""Unpacking chosen members of a tarball without trusting its paths."""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

from . import checksums
from .errors import ChecksumError, MalformedFileError


def extract_verified(tar_path: Path, members: dict[str, tuple[Path, str]]) -> None:
    """Unpack `members` (name in the tarball -> (destination, sha256)) from `tar_path`.

    Only the named regular-file members are read, and each destination comes
    from the caller, never from the archive, so links and `../` names in the
    tarball cannot write outside the data directory. Each member is written
    to a temporary file and renamed into place only once its SHA-256 matches.
    """
    pending = dict(members)
    try:
        # Stream mode: one sequential pass over the 170 MB gzip, no seeking.
        with tarfile.open(tar_path, mode="r|gz") as tar:
            for info in tar:
                name = info.name[2:] if info.name.startswith("./") else info.name
                if name not in pending:
                    continue
                if not info.isreg():
                    raise MalformedFileError(tar_path, f"member {name} is not a regular file")
                dest, sha256 = pending.pop(name)
                _write_member(tar.extractfile(info), dest, sha256, tar_path, name)
                if not pending:
                    break
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError) and not Path(tar_path).exists():
            raise
        raise MalformedFileError(tar_path, f"cannot read the tarball ({exc})") from exc
    if pending:
        raise MalformedFileError(tar_path, f"tarball lacks {', '.join(sorted(pending))}")


def _write_member(source, dest: Path, sha256: str, tar_path: Path, name: str) -> None:
    advice = ("The tarball passed its own checksum, yet this member differs from the published batch. "
              "Point --data-dir / SNN_DATA_DIR at a directory that holds a good copy of the unpacked batches.")
    checksums.write_verified(
        dest, sha256, lambda out: checksums.sha256_copy(source, out),
        lambda actual: ChecksumError(dest, sha256, actual, source=f"member {name} of {tar_path}", advice=advice))
