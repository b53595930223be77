"""Parser for the IDX format of MNIST and Fashion-MNIST.

Header (big-endian): two zero bytes, a type byte (0x08 = uint8), the number of
dimensions, then one uint32 per dimension; the array follows in C order.
Images have magic 2051 (3 dims), labels 2049 (1 dim).
"""

from __future__ import annotations

import struct

import numpy as np

from trustml.core.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_UINT8 = 0x08


def parse_idx(raw: bytes, *, name: str = "<bytes>", expected_magic: int | None = None) -> np.ndarray:
    """Decode an uint8 IDX file into an array of its stated shape.

    Raises `DataError` for a foreign file (wrong magic or element type), a wrong
    number of dimensions for the magic, and a truncated or over-long payload.
    """
    if len(raw) < 4:
        raise DataError(f"{name}: only {len(raw)} bytes, too short for an IDX header")
    magic = struct.unpack(">I", raw[:4])[0]
    zeros, dtype_code, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if zeros != 0 or dtype_code != _UINT8 or ndim == 0:
        raise DataError(
            f"{name}: not an uint8 IDX file (magic number {magic:#010x}); "
            "is it the right file, and is it uncompressed or a valid .gz?"
        )
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"{name}: IDX magic number {magic}, expected {expected_magic}")
    expected_ndim = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}.get(magic)
    if expected_ndim is not None and ndim != expected_ndim:
        raise DataError(f"{name}: magic {magic} needs {expected_ndim} dimensions, header has {ndim}")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{name}: truncated IDX header ({len(raw)} of {header_len} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    n_items = int(np.prod(shape, dtype=np.int64))
    payload = len(raw) - header_len
    if payload != n_items:
        kind = "truncated" if payload < n_items else "longer than its header says"
        raise DataError(
            f"{name}: {kind}: header shape {shape} needs {n_items} bytes, file has {payload}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an uint8 array as IDX (the inverse of `parse_idx`; used by the tests)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UINT8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()
