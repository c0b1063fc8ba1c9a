"""Where np_lib reads data and keeps caches, and how it writes files safely.

The data directory is resolved here and nowhere else:

1. the ``NP_LIB_DATA_DIR`` environment variable, if set;
2. otherwise the ``data/`` folder of the repository np_lib was installed from
   (an editable install from a clone), if it exists;
3. otherwise ``./data`` under the current working directory.

Caches (the enumerated space, converted NAS-Bench-101 files) go to
``NP_LIB_CACHE_DIR`` or ``~/.cache/np_lib``, because the data directory may be
read-only (a shared mount).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

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


def cache_dir() -> Path:
    """A writable cache directory, created if needed; a clear error if it is not writable."""
    env = os.environ.get(CACHE_DIR_ENV)
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "np_lib"
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
