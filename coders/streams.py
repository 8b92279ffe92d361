"""Low-level readers and writers shared by every coder: varints and fixed-width big-endian numbers.

Reads take ``(data, pos)`` and return ``(value, new_pos)``; they never read past
``len(data)`` and raise :class:`coders.DecodeError` with the offset instead of
IndexError. Writes append to a ``bytearray``.

Varint (Beam's ``write_var_int64``): a signed int64 is taken as its unsigned 64-bit
two's complement, then written 7 bits at a time, least significant group first,
with the high bit set on every byte but the last. Negative numbers take 10 bytes.
"""

from __future__ import annotations

import struct

from .errors import DecodeError

__all__ = [
    "DOUBLE_BE",
    "INT32_BE",
    "INT64_BE",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_VARINT_BYTES",
    "read_exact",
    "read_length_prefixed",
    "read_varint64",
    "varint64_bytes",
    "varint64_size",
    "write_varint64",
]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_UINT64_MASK = (1 << 64) - 1
MAX_VARINT_BYTES = 10

INT32_BE = struct.Struct(">i")
INT64_BE = struct.Struct(">q")
DOUBLE_BE = struct.Struct(">d")


def _varint_loop(value: int) -> bytes:
    value &= _UINT64_MASK
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# Every varint of one or two bytes (0 .. 2**14 - 1), precomputed: most ints, lengths and counts are
# small, and a table lookup beats any arithmetic in Python.
_TABLE = tuple(_varint_loop(i) for i in range(1 << 14))
_TABLE_SIZE = len(_TABLE)


def varint64_bytes(value: int) -> bytes:
    """The varint encoding of a signed int64 (caller has checked the range). coderkit's one Python
    varint writer; the C accelerator has the other (``buf_varint``)."""
    if 0 <= value < _TABLE_SIZE:
        return _TABLE[value]
    return _varint_loop(value)


def write_varint64(out: bytearray, value: int) -> None:
    """Append the varint encoding of a signed int64 (caller has checked the range)."""
    out += varint64_bytes(value)


def varint64_size(value: int) -> int:
    """Number of bytes the varint encoding of ``value`` takes."""
    if 0 <= value < 128:
        return 1
    value &= _UINT64_MASK
    return max(1, (value.bit_length() + 6) // 7)


def read_varint64(data, pos: int) -> tuple[int, int]:
    """Read a varint written by ``write_varint64``; returns ``(signed int64, new_pos)``.

    Raises DecodeError for a truncated varint and for one longer than 10 bytes or
    whose value does not fit in 64 bits.
    """
    try:
        b = data[pos]
    except IndexError:
        raise DecodeError("truncated input: expected a varint, found end of data", offset=pos) from None
    if b < 0x80:
        return b, pos + 1
    start = pos
    result = b & 0x7F
    shift = 7
    pos += 1
    end = len(data)
    while True:
        if pos >= end:
            raise DecodeError("truncated varint: its last byte still has the continuation bit set", offset=start)
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if shift >= 70:
            raise DecodeError(f"over-long varint: more than {MAX_VARINT_BYTES} bytes", offset=start)
    if result > _UINT64_MASK:
        raise DecodeError("varint does not fit in 64 bits", offset=start)
    if result > INT64_MAX:
        result -= 1 << 64
    return result, pos


def read_exact(data, pos: int, n: int, what: str = "bytes") -> tuple[bytes, int]:
    """Read ``n`` bytes at ``pos``; a short read is a DecodeError (never allocate what ``n`` claims)."""
    end = pos + n
    if n < 0 or end > len(data):
        raise DecodeError(f"{what}: need {n} bytes but only {max(len(data) - pos, 0)} remain", offset=pos)
    return bytes(data[pos:end]), end


def read_length_prefixed(data, pos: int, what: str = "length-prefixed bytes") -> tuple[bytes, int]:
    """Read a varint length then that many bytes, checking the length against what remains."""
    start = pos
    n, pos = read_varint64(data, pos)
    if n < 0:
        raise DecodeError(f"{what}: negative length {n}", offset=start)
    end = pos + n
    if end > len(data):
        raise DecodeError(f"{what}: length prefix says {n} bytes but only {len(data) - pos} remain", offset=start)
    return bytes(data[pos:end]), end
