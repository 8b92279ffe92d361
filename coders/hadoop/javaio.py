"""The byte encodings Hadoop's Writables and SequenceFiles share, below both of them.

* ``WritableUtils.writeVLong`` / ``readVLong``: the zero-compressed VLong (VInt is the same
  bytes in the int32 range), used by Text, VIntWritable, VLongWritable, the raw comparators
  and SequenceFile headers and blocks.
* ``DataOutput.writeUTF`` / ``DataInput.readUTF``: Java's modified UTF-8 with a uint16
  length, used by MapWritable's class table.

These are not coders: they append to a ``bytearray`` or read at a position and return the
next one, so a coder or a file reader can call them in the middle of its own bytes.
"""

from __future__ import annotations

from ..errors import DecodeError

__all__ = ["decode_vlong_size", "read_java_utf", "read_vlong", "vlong_size", "write_java_utf", "write_vlong"]


# ---- WritableUtils' zero-compressed VLong ------------------------------------------------


def write_vlong(out: bytearray, value: int) -> None:
    """Append ``WritableUtils.writeVLong(value)``: -112..127 in one byte, else a prefix byte
    (-113..-120 for 1..8 positive bytes, -121..-128 for 1..8 bytes of ``~value``) then the
    big-endian magnitude bytes. ``163`` is ``8f a3``. The caller checks the int64 range."""
    if -112 <= value <= 127:
        out.append(value & 0xFF)
        return
    prefix = -112
    if value < 0:
        value = ~value
        prefix = -120
    nbytes = (value.bit_length() + 7) // 8
    out.append((prefix - nbytes) & 0xFF)
    out += value.to_bytes(nbytes, "big")


def vlong_size(value: int) -> int:
    """Bytes ``write_vlong(value)`` takes (``WritableUtils.getVIntSize``)."""
    if -112 <= value <= 127:
        return 1
    if value < 0:
        value = ~value
    return 1 + (value.bit_length() + 7) // 8


def decode_vlong_size(first: int) -> int:
    """Bytes a VLong takes, from its first byte (0..255): ``WritableUtils.decodeVIntSize``."""
    if first < 0x80 or first >= 0x90:  # -112..127 as a signed byte: the value itself
        return 1
    signed = first - 256
    return 1 + (-120 - signed if signed < -120 else -112 - signed)


def read_vlong(data, pos: int) -> tuple[int, int]:
    """Read a VLong written by ``write_vlong``; returns ``(value, new_pos)``.

    A truncated or non-minimal encoding (one ``writeVLong`` never produces) raises
    DecodeError with the offset.
    """
    try:
        first = data[pos]
    except IndexError:
        raise DecodeError("truncated input: expected a VLong, found end of data", offset=pos) from None
    if first < 0x80 or first >= 0x90:  # the common one-byte case, inline
        return (first - 256 if first >= 0x80 else first), pos + 1
    size = decode_vlong_size(first)
    nbytes, negative = size - 1, first < 0x88  # prefixes -121..-128 carry ~value
    end = pos + size
    if end > len(data):
        raise DecodeError(
            f"truncated VLong: prefix byte {first:#04x} announces {nbytes} byte(s) but only "
            f"{len(data) - pos - 1} remain",
            offset=pos,
        )
    magnitude = int.from_bytes(data[pos + 1 : end], "big")
    value = ~magnitude if negative else magnitude
    if vlong_size(value) != size:
        raise DecodeError(
            f"non-minimal VLong: {value} takes {vlong_size(value)} byte(s) but is written in {size} "
            "(Hadoop's WritableUtils.writeVLong never writes this)",
            offset=pos,
        )
    return value, end


# ---- Java's DataOutput.writeUTF (modified UTF-8), used by AbstractMapWritable ----------


def write_java_utf(out: bytearray, text: str) -> None:
    """Append ``DataOutput.writeUTF(text)``: uint16 length, then modified UTF-8 (NUL as
    ``c0 80``, characters beyond the BMP as two 3-byte surrogates)."""
    encoded = bytearray()
    for unit in _utf16_units(text):
        if 1 <= unit <= 0x7F:
            encoded.append(unit)
        elif unit <= 0x7FF:
            encoded += bytes((0xC0 | (unit >> 6), 0x80 | (unit & 0x3F)))
        else:
            encoded += bytes((0xE0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3F), 0x80 | (unit & 0x3F)))
    if len(encoded) > 0xFFFF:
        raise ValueError(f"writeUTF takes at most 65535 encoded bytes, this string needs {len(encoded)}")
    out += len(encoded).to_bytes(2, "big")
    out += encoded


def _utf16_units(text: str):
    for ch in text:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            yield 0xD800 | (cp >> 10)
            yield 0xDC00 | (cp & 0x3FF)
        else:
            yield cp


def read_java_utf(data, pos: int) -> tuple[str, int]:
    """Read ``DataInput.readUTF``; returns ``(text, new_pos)``."""
    if pos + 2 > len(data):
        raise DecodeError("truncated input: expected a 2-byte writeUTF length", offset=pos)
    n = int.from_bytes(data[pos : pos + 2], "big")
    end = pos + 2 + n
    if end > len(data):
        raise DecodeError(f"writeUTF string: length says {n} bytes but only {len(data) - pos - 2} remain", offset=pos)
    raw = bytes(data[pos + 2 : end]).replace(b"\xc0\x80", b"\x00")
    try:
        text = raw.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeError as e:
        raise DecodeError(f"invalid modified UTF-8 in a writeUTF string: {e}", offset=pos) from None
    return text, end
