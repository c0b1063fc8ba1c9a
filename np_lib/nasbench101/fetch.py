"""Download the official NAS-Bench-101 file (``nasbench_only108.tfrecord``, about 499 MB).

A thin wrapper over :mod:`np_lib.datasets` (dataset ``nasbench101-official``),
which does the download: resumed with an HTTP Range request after an
interruption, moved into place only once its sha256 matches, and honouring
``NP_LIB_MIRROR``. Same as ``python -m np_lib fetch nasbench101-official``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import datasets
from ..datasets import DatasetCorrupt as ChecksumError  # the old name, kept for callers
from ..datasets import sha256_of  # noqa: F401  (re-exported: it lived here before)

DATASET = "nasbench101-official"
_ENTRY = datasets.REGISTRY[DATASET].file()
OFFICIAL_URL = _ENTRY.url
OFFICIAL_SHA256 = _ENTRY.sha256


def default_destination() -> Path:
    """``data_dir()/nasbench101/nasbench_only108.tfrecord``, where ``benchmark.load()`` looks first."""
    return datasets.default_data_dir() / _ENTRY.path


def download(dest: str | os.PathLike | None = None, url: str = OFFICIAL_URL, sha256: str = OFFICIAL_SHA256,
             progress: bool = True, chunk_size: int = 1 << 20, timeout: float = 60) -> Path:
    """Download ``url`` to ``dest`` (default :func:`default_destination`) and verify it; return ``dest``.

    * ``dest`` already there: verified and returned without downloading; if
      its sha256 is wrong, :class:`ChecksumError` (it is not overwritten).
    * ``<dest>.part`` there (an interrupted download): resumed from its size.
    * A sha256 mismatch deletes the part file and raises :class:`ChecksumError`.

    ``sha256`` is required (64 hex digits, checked before any byte is fetched):
    nothing is installed unverified. With ``NP_LIB_MIRROR`` set, the official
    URL is fetched from the mirror.
    """
    dest = Path(dest) if dest is not None else default_destination()
    if url == OFFICIAL_URL:
        url = datasets.mirror_url(url)
    return datasets.download_file(url, dest, sha256, progress=progress, chunk_size=chunk_size, timeout=timeout)
