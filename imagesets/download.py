"""Fetching a data file over HTTP(S), atomically and checksummed."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from . import catalog, checksums
from .errors import ChecksumError, MissingDataError

MIRROR_ENV = "SNN_DATA_MIRROR"

# Seconds without progress (connect, or between reads) before giving up;
# a stalled server should fail the run, not hang it.
TIMEOUT_S = 60.0

_CHUNK = 1 << 16
_log = logging.getLogger(__name__)


def mirror() -> str | None:
    """The base URL from $SNN_DATA_MIRROR, or None."""
    base = os.environ.get(MIRROR_ENV, "").strip()
    return base.rstrip("/") or None


def mirror_url(relpath: str) -> str | None:
    """URL of `relpath` (data-directory layout) on the mirror, if one is set."""
    base = mirror()
    return None if base is None else f"{base}/{relpath}"


def upstream_url(dataset: str, filename: str) -> str:
    """URL of `filename` at the canonical source of `dataset` (BASE_URLS)."""
    base = catalog.BASE_URLS[dataset]
    # A base that already names the file (say, a full tarball URL) is used as is.
    return base if base.endswith(filename) else base.rstrip("/") + "/" + filename


def fetch(url: str, dest: Path, sha256: str, *, timeout: float | None = None) -> None:
    """Download `url` to `dest`, which appears only once its SHA-256 is `sha256`.

    The bytes go to a hidden temporary file next to `dest` and are renamed
    into place after the check, so an interrupted or corrupt download never
    leaves anything under the final name. Raises MissingDataError when the
    server cannot be reached or refuses, ChecksumError on wrong bytes.
    """
    dest = Path(dest)
    timeout = TIMEOUT_S if timeout is None else timeout
    dest.parent.mkdir(parents=True, exist_ok=True)
    _log.info("downloading %s -> %s", url, dest)
    checksums.write_verified(dest, sha256, lambda out: _stream(url, out, dest, sha256, timeout),
                             lambda actual: ChecksumError(dest, sha256, actual, source=url))


def _stream(url: str, out, dest: Path, sha256: str, timeout: float) -> str:
    """Copy the body of `url` into `out`; return its hex SHA-256."""
    request = urllib.request.Request(url, headers={"User-Agent": "snn-robustness-imagesets"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the open connection of the error response
        raise MissingDataError(dest, url, f"the server answered HTTP {exc.code} {exc.reason}", sha256) from exc
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise MissingDataError(dest, url, f"download failed ({reason})", sha256) from exc
    digest = hashlib.sha256()
    expected_size = response.length  # None when the server sends no Content-Length
    received = 0
    bar = tqdm(
        total=expected_size,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=dest.name,
        disable=None,  # a bar only on a terminal, so batch logs stay readable
    )
    with response, bar:
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise MissingDataError(dest, url, f"download interrupted ({exc!r})", sha256) from exc
            if not chunk:
                break
            # Write errors (a full disk) propagate as themselves: they are
            # not the server's fault and the message should say so.
            out.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
            received += len(chunk)
    # http.client returns a short body without complaint when the connection
    # drops early; saying so beats reporting a mysterious checksum mismatch.
    if expected_size is not None and received < expected_size:
        raise MissingDataError(
            dest, url, f"download interrupted after {received} of {expected_size} bytes", sha256
        )
    return digest.hexdigest()
