"""TFRecord framing without TensorFlow.

NAS-Bench-101 ships its results as a TFRecord file (Ying et al., 2019); reading
it should not need a TensorFlow install. A TFRecord file is a plain sequence of

    uint64 length (little-endian) | uint32 masked CRC32C of those 8 bytes
    | data (length bytes)          | uint32 masked CRC32C of the data

where the masked CRC is ``((crc >> 15) | (crc << 17)) + 0xa282ead8`` modulo
2**32 and CRC32C is the Castagnoli CRC (TensorFlow's ``core/lib/hash/crc32c``).
The ``crc32c`` package computes it in C, with the SSE4.2 instruction where the
CPU has it.

Offsets in errors and in :func:`iter_records` are byte offsets of the start of
a record (its length field), so a corrupt file can be inspected with ``xxd -s``.
"""
from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path
from typing import Iterable, Iterator

import crc32c
import numpy as np

from ..storage import atomic_path

HEADER_SIZE = 12  # uint64 length + uint32 masked crc of the length
FOOTER_SIZE = 4   # uint32 masked crc of the data
_MASK_DELTA = 0xA282EAD8
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")


class CorruptRecordError(ValueError):
    """A record whose CRC does not match; ``offset`` is the record's byte offset."""

    def __init__(self, message: str, path=None, offset: int | None = None):
        super().__init__(message)
        self.path = path
        self.offset = offset

    def __reduce__(self):  # keep path/offset when raised in a worker process
        return type(self), (str(self), self.path, self.offset)


class TruncatedFileError(CorruptRecordError):
    """The file ends inside a record (an interrupted download or copy)."""


def masked_crc(data) -> int:
    """TFRecord's masked CRC32C of ``data``."""
    crc = crc32c.crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _mask_array(crcs: np.ndarray) -> np.ndarray:
    crcs = crcs.astype(np.uint32)
    return ((crcs >> np.uint32(15)) | (crcs << np.uint32(17))) + np.uint32(_MASK_DELTA)


def _where(path) -> str:
    return f"{path}: " if path is not None else ""


def _check_header(buf, pos: int, size: int, path) -> int:
    """Validate the record starting at ``pos`` up to its data; return the data length."""
    if size - pos < HEADER_SIZE:
        raise TruncatedFileError(f"{_where(path)}file ends inside the header of the record at byte offset "
                                 f"{pos} ({size - pos} of {HEADER_SIZE} bytes); the file is truncated "
                                 "(an interrupted download?)", path, pos)
    (length,) = _LENGTH.unpack_from(buf, pos)
    (stored,) = _CRC.unpack_from(buf, pos + 8)
    if masked_crc(buf[pos:pos + 8]) != stored:
        raise CorruptRecordError(f"{_where(path)}length CRC mismatch in the record at byte offset {pos}; "
                                 "the file is corrupt", path, pos)
    end = pos + HEADER_SIZE + length + FOOTER_SIZE
    if end > size:
        raise TruncatedFileError(f"{_where(path)}file ends inside the record at byte offset {pos} "
                                 f"(needs {end - pos} bytes, {size - pos} left); the file is truncated "
                                 "(an interrupted download?)", path, pos)
    return length


def index_chunks(buf, chunk_bytes: int, path=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk the framing of a buffer: yield ``(record_offsets, data_lengths)`` int64 arrays
    for consecutive runs of whole records of about ``chunk_bytes`` each.

    The walk has to be sequential (each length says where the next record
    starts), so it reads lengths only; :func:`read_records` checks the CRCs
    later, slice by slice and possibly in parallel. A length that points past
    the end of the file is diagnosed by re-walking the current slice with its
    CRCs checked, so a corrupt length is reported as corruption at its own
    offset and only a genuinely short file as truncation.
    """
    size = len(buf)
    unpack = _LENGTH.unpack_from
    pos = 0
    while pos < size:
        start, offsets, lengths = pos, [], []
        while pos < size and pos - start < chunk_bytes:
            if size - pos < HEADER_SIZE or pos + HEADER_SIZE + unpack(buf, pos)[0] + FOOTER_SIZE > size:
                _raise_first_bad_header(buf, start, path)
            (length,) = unpack(buf, pos)
            offsets.append(pos)
            lengths.append(length)
            pos += HEADER_SIZE + length + FOOTER_SIZE
        yield np.asarray(offsets, np.int64), np.asarray(lengths, np.int64)


def _raise_first_bad_header(buf, pos: int, path):
    """Walk from ``pos`` checking each header; raises at the first bad one, at the
    latest where the unchecked walk found a record running past the end."""
    while True:
        pos += HEADER_SIZE + _check_header(buf, pos, len(buf), path) + FOOTER_SIZE


def _gather_uint32(buf, positions: np.ndarray) -> np.ndarray:
    """The little-endian uint32s at ``positions``, gathered at once (the stored CRCs)."""
    # A function of its own so the numpy view of ``buf`` is gone when it returns: a
    # live view (say, in the traceback of an error raised next) would keep an mmap from closing.
    raw = np.frombuffer(buf, np.uint8)
    return raw[positions[:, None] + np.arange(4)].view("<u4").ravel()


def read_records(buf, offsets: np.ndarray, lengths: np.ndarray, path=None) -> list[bytes]:
    """The data of the records found by :func:`index_chunks`, with both CRCs of each checked.

    Raises :class:`CorruptRecordError` naming the first bad record's offset.
    """
    starts = (offsets + HEADER_SIZE).tolist()
    ends = (offsets + HEADER_SIZE + lengths).tolist()
    data = [buf[s:e] for s, e in zip(starts, ends)]
    n = len(data)
    stored_length_crc = _gather_uint32(buf, offsets + 8)
    stored_data_crc = _gather_uint32(buf, offsets + HEADER_SIZE + lengths)
    length_crc = np.fromiter((crc32c.crc32c(buf[o:o + 8]) for o in offsets.tolist()), np.uint32, n)
    data_crc = np.fromiter(map(crc32c.crc32c, data), np.uint32, n)
    bad = (_mask_array(length_crc) != stored_length_crc) | (_mask_array(data_crc) != stored_data_crc)
    if bad.any():
        i = int(np.argmax(bad))
        pos = int(offsets[i])
        _check_header(buf, pos, len(buf), path)  # raises if it is the length that is corrupt
        raise CorruptRecordError(f"{_where(path)}data CRC mismatch in the record at byte offset {pos}; "
                                 "the file is corrupt", path, pos)
    return data


def iter_records(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """Yield ``(byte_offset, data)`` for each record of a TFRecord file, checking both CRCs.

    Raises :class:`CorruptRecordError` (or :class:`TruncatedFileError`) naming
    the byte offset of the first bad record; the records before it have been
    yielded by then.
    """
    path = Path(path)
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            size, pos = len(buf), 0
            while pos < size:
                length = _check_header(buf, pos, size, path)
                start = pos + HEADER_SIZE
                data = buf[start:start + length]
                (stored,) = _CRC.unpack_from(buf, start + length)
                if masked_crc(data) != stored:
                    raise CorruptRecordError(f"{path}: data CRC mismatch in the record at byte offset {pos}; "
                                             "the file is corrupt", path, pos)
                yield pos, data
                pos = start + length + FOOTER_SIZE


def encode_record(data: bytes) -> bytes:
    """One framed record."""
    length = _LENGTH.pack(len(data))
    return b"".join((length, _CRC.pack(masked_crc(length)), data, _CRC.pack(masked_crc(data))))


def write_records(path: str | os.PathLike, records: Iterable[bytes]) -> int:
    """Write ``records`` as a TFRecord file, atomically; return the number written.

    The file appears at ``path`` only once complete (``storage.atomic_path``),
    so an interrupted write never leaves a truncated file that looks finished.
    """
    count = 0
    with atomic_path(path) as tmp, open(tmp, "wb", buffering=1 << 20) as f:
        for data in records:
            f.write(encode_record(data))
            count += 1
    return count
