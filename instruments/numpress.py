"""MS-Numpress decoders (linear prediction, positive integer, short logged float), written from
the published format description (Teleman et al., Mol Cell Proteomics 2014;13:1537-42), so that
numpress-compressed mzML arrays are decoded, never passed through as raw bytes.

Corrupt input raises :class:`~instruments.errors.UnsupportedEncodingError`.

Public names: ``decode_linear``, ``decode_pic``, ``decode_slof``.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from instruments.errors import UnsupportedEncodingError

__all__ = ["decode_linear", "decode_pic", "decode_slof"]


def _corrupt(what: str) -> UnsupportedEncodingError:
    return UnsupportedEncodingError(f"corrupt MS-Numpress {what} data")


def _fixed_point(data: bytes) -> float:
    # stored big-endian regardless of platform
    value = struct.unpack(">d", data[:8])[0]
    if not math.isfinite(value) or value <= 0:
        raise _corrupt("fixed point")
    return value


def _half_bytes(data: bytes) -> np.ndarray:
    arr = np.frombuffer(data, dtype=np.uint8)
    out = np.empty(arr.size * 2, dtype=np.uint8)
    out[0::2] = arr >> 4
    out[1::2] = arr & 0x0F
    return out


def _decode_ints(halves: np.ndarray, what: str) -> list[int]:
    """Decode the variable-length half-byte integers (signed 32-bit two's complement)."""
    result: list[int] = []
    i, n = 0, len(halves)
    while i < n:
        # a final lone zero half-byte is padding
        if i == n - 1 and halves[i] == 0:
            break
        head = int(halves[i])
        i += 1
        if head <= 8:
            count, value = head, 0
        else:
            count = head - 8
            value = 0
            for k in range(count):
                value |= 0xF0000000 >> (4 * k)
        if count == 8:
            result.append(_signed(value))
            continue
        needed = 8 - count
        if i + needed > n:
            raise _corrupt(what)
        for k in range(needed):
            value |= int(halves[i + k]) << (4 * k)
        i += needed
        result.append(_signed(value))
    return result


def _signed(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def decode_linear(data: bytes) -> np.ndarray:
    """Decode MS-Numpress linear prediction (MS:1002312)."""
    if len(data) == 8:
        return np.empty(0, dtype=np.float64)
    if len(data) < 8:
        raise _corrupt("linear prediction")
    fixed = _fixed_point(data)
    if len(data) < 12:
        raise _corrupt("linear prediction")
    ints = [struct.unpack("<I", data[8:12])[0]]
    if len(data) >= 16:
        ints.append(struct.unpack("<I", data[12:16])[0])
    elif len(data) != 12:
        raise _corrupt("linear prediction")
    diffs = _decode_ints(_half_bytes(data[16:]), "linear prediction") if len(data) > 16 else []
    values = list(ints)
    for diff in diffs:
        extrapolated = 2 * values[-1] - values[-2]
        values.append(extrapolated + diff)
    return np.asarray(values, dtype=np.float64) / fixed


def decode_pic(data: bytes) -> np.ndarray:
    """Decode MS-Numpress positive integer compression (MS:1002313)."""
    ints = _decode_ints(_half_bytes(data), "positive integer")
    if any(v < 0 for v in ints):
        raise _corrupt("positive integer")
    return np.asarray(ints, dtype=np.float64)


def decode_slof(data: bytes) -> np.ndarray:
    """Decode MS-Numpress short logged float (MS:1002314)."""
    if len(data) < 8 or (len(data) - 8) % 2:
        raise _corrupt("short logged float")
    fixed = _fixed_point(data)
    shorts = np.frombuffer(data[8:], dtype="<u2").astype(np.float64)
    return np.exp(shorts / fixed) - 1.0
