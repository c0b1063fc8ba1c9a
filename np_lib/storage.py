"""Where np_lib reads data and keeps caches, and how it writes files safely.

The data directory is resolved here and nowhere else:

1. the ``NP_LIB_DATA_DIR`` environment variable, if set;
2. otherwise the ``data/`` folder of the repository np_lib was installed from
   (an editable install from a clone), if it exists;
3. otherwise ``./data`` under the current working directory.

Caches (the enumerated space, converted NAS-Bench-101 files) go to
``NP_LIB_CACHE_DIR`` or ``~/.cache/np_lib``, because the data directory may be
read-only (a shared mount).

A cache is trusted only after it is verified (:func:`cache_problem`): beside
each cache file a small JSON *seal* (``<name>.seal.json``) records the cache's
own size and CRC32C and a fingerprint of what it was made from (for a data
file, its size and the CRC32C of its whole content: a rewritten source is
caught even with the same size and modification time). CRC32C, not sha256:
it catches every flipped bit and every burst of up to 32, which is the damage
a disk or a copy does, and with SSE4.2 it runs several times faster than
sha256, so checking the source on every load costs little (figures:
benchmarks/README.md, "Checksums").
"""
from __future__ import annotations

import contextlib
import json
import mmap
import os
import tempfile
from pathlib import Path

import crc32c

DATA_DIR_ENV = "NP_LIB_DATA_DIR"
CACHE_DIR_ENV = "NP_LIB_CACHE_DIR"


def data_dir() -> Path:
    """The data directory (see the module docstring for the resolution order)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    repo_data = Path(__file__).resolve().parents[1] / "data"
    if repo_data.is_dir():
        return repo_data
    return (Path.cwd() / "data").resolve()


def cache_dir(writable: bool = True) -> Path:
    """The cache directory: created if needed, and a clear error if it is not writable.

    ``writable=False`` only resolves the path (nothing is created or checked):
    for reading a cache that is already there, which a read-only cache
    directory (a shared, pre-built one) must still allow.
    """
    env = os.environ.get(CACHE_DIR_ENV)
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "np_lib"
    if not writable:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PermissionError(f"cannot create the cache directory {path} ({e.strerror}); "
                              f"set {CACHE_DIR_ENV} to a writable folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"the cache directory {path} is not writable; "
                              f"set {CACHE_DIR_ENV} to a writable folder")
    return path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike):
    """Yield a temporary path beside ``target``; move it into place only on success.

    Readers never see a half-written file: an exception (or Ctrl-C) leaves
    ``target`` as it was and removes the temporary file.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise PermissionError(f"cannot write to {target.parent} ({e.strerror})") from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cache or result should be readable like any file
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --- verified caches -------------------------------------------------------------

SEAL_SUFFIX = ".seal.json"


class CacheRebuiltWarning(UserWarning):
    """A cache was there but could not be used (stale, truncated, corrupt): it is rebuilt."""


def checksum(path: str | os.PathLike) -> str:
    """``'crc32c:XXXXXXXX'`` of a file's whole content (see the module docstring for why CRC32C)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return f"crc32c:{crc32c.crc32c(b''):08x}"
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return f"crc32c:{crc32c.crc32c(buf):08x}"


def fingerprint(path: str | os.PathLike) -> dict:
    """What identifies a file's content: its size and :func:`checksum` (not its name or mtime)."""
    return {"size": os.stat(path).st_size, "checksum": checksum(path)}


def seal_path(cache: str | os.PathLike) -> Path:
    cache = Path(cache)
    return cache.with_name(cache.name + SEAL_SUFFIX)


def cache_problem(cache: str | os.PathLike, source: dict) -> str | None:
    """Why ``cache`` cannot be used for ``source`` (a JSON-able description of what it is made
    from), or None if it can: it exists, its seal records exactly ``source``, and its size and
    checksum are the sealed ones (so a truncated or bit-flipped cache is caught before it is read)."""
    cache, seal = Path(cache), seal_path(cache)
    if not cache.is_file():
        return "there is none"
    try:
        sealed = json.loads(seal.read_text())
    except (OSError, ValueError):
        return f"it has no readable seal {seal.name}"
    if not isinstance(sealed, dict) or sealed.get("source") != source:
        return "it was made from another source (or by another version of np_lib)"
    if sealed.get("cache") != fingerprint(cache):
        return "its content does not match its checksum (truncated or corrupt)"
    return None


@contextlib.contextmanager
def sealed_cache(cache: str | os.PathLike, source: dict):
    """Like :func:`atomic_path`, then seal the written cache against ``source``.

    The seal is removed first and written last, so a crash in between leaves a
    cache without a seal, which :func:`cache_problem` rejects.
    """
    cache = Path(cache)
    seal = seal_path(cache)
    with contextlib.suppress(FileNotFoundError):
        seal.unlink()
    with atomic_path(cache) as tmp:
        yield tmp
    with atomic_path(seal) as tmp:
        Path(tmp).write_text(json.dumps({"source": source, "cache": fingerprint(cache)}, sort_keys=True))


def remove_cache(cache: str | os.PathLike) -> None:
    """Delete a cache file and its seal (missing ones are fine)."""
    for path in (Path(cache), seal_path(cache)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# --- checked files ---------------------------------------------------------------
# A file that cannot be rebuilt (a saved estimator) carries its checksum in a one-line
# header, so that the file alone can be moved around and still be verified.

_CHECKED_MAGIC = b"np_lib-checked-file"


class CorruptFileError(ValueError):
    """A checked file is empty, truncated or altered; the message names it."""


def write_checked(path: str | os.PathLike, payload: bytes, kind: str) -> Path:
    """Write ``payload`` to ``path`` atomically behind a header with its ``kind``, size and CRC32C."""
    path = Path(path)
    header = b"%s %s %d crc32c:%08x\n" % (_CHECKED_MAGIC, kind.encode("ascii"), len(payload),
                                          crc32c.crc32c(payload))
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(header + payload)
    return path


def read_checked(path: str | os.PathLike, kind: str) -> bytes:
    """The payload of a file written by :func:`write_checked`, verified; :class:`CorruptFileError`
    naming the file if it is empty, cut short, of another kind, or has any byte changed."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a {kind} file")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    data = path.read_bytes()
    if not data:
        raise CorruptFileError(f"{path} is empty (0 bytes); it is not a {kind} file (an interrupted copy?)")
    header, newline, payload = data.partition(b"\n")
    parts = header.split(b" ")
    if not newline or len(parts) != 4 or parts[0] != _CHECKED_MAGIC:
        raise CorruptFileError(f"{path} is not a {kind} file written by np_lib (no np_lib header)")
    if parts[1].decode("ascii", "replace") != kind:
        raise CorruptFileError(f"{path} holds a {parts[1].decode('ascii', 'replace')} file, not a {kind} one")
    try:
        size = int(parts[2])
    except ValueError:
        raise CorruptFileError(f"{path}: its header is damaged ({header[:80]!r})") from None
    if len(payload) != size:
        raise CorruptFileError(f"{path} is truncated or padded: {len(payload)} bytes after the header, "
                               f"{size} written")
    actual = f"crc32c:{crc32c.crc32c(payload):08x}".encode("ascii")
    if actual != parts[3]:
        raise CorruptFileError(f"{path} is corrupt: its content has checksum {actual.decode()}, it was written "
                               f"with {parts[3].decode('ascii', 'replace')} (a changed byte); it cannot be "
                               "trusted and must be saved again")
    return payload
