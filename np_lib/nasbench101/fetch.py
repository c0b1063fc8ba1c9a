"""Download the official NAS-Bench-101 file (``nasbench_only108.tfrecord``, about 499 MB).

Standard library only (``urllib``), so it works wherever np_lib installs. The
download goes to ``<dest>.part`` and is resumed with an HTTP Range request
after an interruption; the file is moved to ``dest`` only once its sha256
matches, so ``dest`` is either absent or the verified official file.
"""
from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..storage import DATA_DIR_ENV, data_dir

OFFICIAL_URL = "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"
OFFICIAL_SHA256 = "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1"


class ChecksumError(ValueError):
    """The downloaded (or existing) file's sha256 is not the expected one."""


def default_destination() -> Path:
    """``data_dir()/nasbench101/nasbench_only108.tfrecord``, where ``benchmark.load()`` looks first."""
    return data_dir() / "nasbench101" / "nasbench_only108.tfrecord"


def sha256_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def download(dest: str | os.PathLike | None = None, url: str = OFFICIAL_URL, sha256: str | None = OFFICIAL_SHA256,
             progress: bool = True, chunk_size: int = 1 << 20, timeout: float = 60) -> Path:
    """Download ``url`` to ``dest`` (default :func:`default_destination`) and verify it; return ``dest``.

    * ``dest`` already there: verified and returned without downloading; if
      its sha256 is wrong, :class:`ChecksumError` (it is not overwritten: it
      may be a file someone put there on purpose).
    * ``<dest>.part`` there (an interrupted download): resumed from its size
      with a Range request. A server that ignores Range (answers 200) gets the
      download restarted from byte 0.
    * On a sha256 mismatch the part file is DELETED and :class:`ChecksumError`
      says expected and actual: a complete file with the wrong content cannot
      be repaired by resuming, and keeping it would make every retry resume
      past its end and fail again.

    ``sha256=None`` skips verification (for other URLs).
    """
    dest = Path(dest) if dest is not None else default_destination()
    if dest.exists():
        _verify(dest, sha256, dest)
        return dest
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part.touch()
    except OSError as e:
        raise PermissionError(f"cannot write {part} ({e.strerror}); pass dest= or set {DATA_DIR_ENV} to a "
                              "writable folder") from None
    _fetch(url, part, progress, chunk_size, timeout)
    try:
        _verify(part, sha256, url)
    except ChecksumError:
        part.unlink()
        raise
    os.replace(part, dest)
    return dest


def _verify(path: Path, expected: str | None, origin) -> None:
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected.lower():
        deleted = " (the download was deleted; run again to download afresh)" if path.suffix == ".part" else ""
        raise ChecksumError(f"sha256 mismatch for {origin}: expected {expected.lower()}, got {actual} "
                            f"({path.stat().st_size} bytes at {path}){deleted}")


def _fetch(url: str, part: Path, progress: bool, chunk_size: int, timeout: float) -> None:
    """Append the rest of ``url`` to ``part`` (or rewrite it if the server does not honour Range)."""
    offset = part.stat().st_size
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing past our end: the part file is already complete
            return
        raise
    with response:
        resumed = offset and response.status == 206 and _range_start(response) == offset
        if not resumed:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as f, \
                tqdm(total=total, initial=offset, unit="B", unit_scale=True, disable=not progress,
                     desc=f"downloading {part.name[:-len('.part')]}") as bar:
            while block := response.read(chunk_size):
                f.write(block)
                bar.update(len(block))
    # http.client returns short data, not an error, when a server closes early.
    if total is not None and part.stat().st_size < total:
        raise ConnectionError(f"download of {url} stopped at {part.stat().st_size} of {total} bytes; "
                              f"run again to resume from {part}")


def _range_start(response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None
