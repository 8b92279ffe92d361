"""Hadoop SequenceFiles (version 6): a streaming, splittable reader and a crash-safe writer.

File layout (all integers big-endian; "Text" is a VInt length then UTF-8)::

    header   'SEQ' 0x06, key class (Text), value class (Text),
             compressed (1 byte bool), block-compressed (1 byte bool),
             codec class (Text, only when compressed),
             metadata: int32 count, then count (Text key, Text value) pairs sorted by key bytes,
             sync marker (16 bytes)
    records  (compression "none" or "record")
             int32 record length (key + value bytes), int32 key length, key bytes, value bytes
             (with "record" compression the value bytes are one complete codec stream).
             Every ~100 KiB (SYNC_INTERVAL) the writer puts a sync entry before a record:
             int32 -1 then the 16 sync bytes.
    blocks   (compression "block") each block is: int32 -1, the 16 sync bytes,
             VInt record count, then four (VInt size, codec stream) buffers: the key
             lengths (VInts), the keys, the value lengths (VInts), the values.
             A block is cut when its keys + values reach ``block_size`` (1,000,000) bytes.

Reading (``SequenceFileReader``) streams through a bounded buffer (never the whole
file), checks every length against the file size, and raises :class:`coders.DecodeError`
naming the file and byte offset for any corruption. It reports each record's position:
the offset of the sync entry before it if there is one, else the offset of its length
field; in a block-compressed file every record of a block has the block's offset.

Splits: the *split points* are the records right after a sync marker: every record
preceded by a sync entry, and the file's first record (it follows the header, which
ends with the sync marker); ``PositionedRecord.at_sync`` marks them. A range
``[start, end)`` reads from the first split point at or after ``start`` up to, not
including, the first split point at or after ``end``, so ranges that tile a file read
every record exactly once. This is Hadoop's ``SequenceFileRecordReader`` rule, except
that Hadoop reads the first records twice when a split boundary falls inside the header.

API::

    read_sequence_file(path)                      # (key, value) from a file or a directory of parts
    with SequenceFileReader(path, start=0, end=None) as r:
        r.key_class, r.value_class, r.compression, r.codec, r.metadata, r.sync, r.header_end
        for key, value in r: ...
        for position, key, value in r.records_with_positions(): ...
        for rec in r.positioned_records(): rec.position, rec.at_sync, rec.key, rec.value
        r.seek_to_sync(offset)     # offset of the first sync entry at or after offset (or EOF)
        r.sync_offsets()           # every sync entry's offset
    with SequenceFileWriter(path, "Text", "LongWritable", compression="block", codec="snappy") as w:
        w.append("a", 1)
"""

from __future__ import annotations

import os
import re
import struct
from typing import Any, Iterator, NamedTuple

from ..base import Coder
from ..errors import DecodeError, EncodeError
from .classes import WritableRegistry, writable_registry
from .codecs import Codec, codec_by_class, codec_by_name
from .javaio import read_vlong, write_vlong

__all__ = [
    "BLOCK_SIZE",
    "MAGIC",
    "READ_BUFFER_SIZE",
    "SYNC_INTERVAL",
    "SYNC_SIZE",
    "VERSION",
    "PositionedRecord",
    "SequenceFileReader",
    "SequenceFileWriter",
    "list_part_files",
    "read_sequence_file",
]

MAGIC = b"SEQ"
VERSION = 6
SYNC_HASH_SIZE = 16
SYNC_ESCAPE = -1
SYNC_SIZE = 4 + SYNC_HASH_SIZE
SYNC_INTERVAL = 5 * 1024 * SYNC_SIZE  # Hadoop's SequenceFile.SYNC_INTERVAL: 102,400 bytes
BLOCK_SIZE = 1_000_000  # io.seqfile.compress.blocksize
READ_BUFFER_SIZE = 256 * 1024  # the reader's window: the most it holds (a longer record or block is read whole)
_ESCAPE_BYTES = b"\xff\xff\xff\xff"

_INT32 = struct.Struct(">i")
_INT32_PAIR = struct.Struct(">ii")
_COMPRESSIONS = ("none", "record", "block")


class PositionedRecord(NamedTuple):
    """One record with where it starts; ``at_sync`` when it follows a sync marker (a split point: the
    first record of the file, or one preceded by a sync entry)."""

    position: int
    key: Any
    value: Any
    at_sync: bool


# ---- input ------------------------------------------------------------------------------------


class _Input:
    """A file read through one bounded buffer; reads never go past the file size."""

    def __init__(self, f, size: int, name: str, chunk: int):
        self.f = f
        self.size = size
        self.name = name
        self.chunk = chunk
        self.buf = b""
        self.base = 0  # file offset of buf[0]
        self.i = 0  # index of the current position in buf

    def tell(self) -> int:
        return self.base + self.i

    def seek(self, offset: int) -> None:
        if self.base <= offset <= self.base + len(self.buf):
            self.i = offset - self.base
            return
        self.f.seek(offset)
        self.base, self.buf, self.i = offset, b"", 0

    def error(self, message: str, offset: int | None = None) -> DecodeError:
        return DecodeError(f"{self.name}: {message}", offset=self.tell() if offset is None else offset)

    def fill(self, n: int) -> bool:
        """Make ``n`` bytes available at the current position; False if the file ends first."""
        have = len(self.buf) - self.i
        if have >= n:
            return True
        parts = [self.buf[self.i :]]
        self.base += self.i
        self.i = 0
        want = n - have
        while want > 0:
            piece = self.f.read(max(want, self.chunk))
            if not piece:
                break
            parts.append(piece)
            want -= len(piece)
            have += len(piece)
        self.buf = b"".join(parts)
        return have >= n

    def read(self, n: int, what: str) -> bytes:
        start = self.tell()
        if n < 0 or start + n > self.size:
            raise self.error(
                f"{what}: needs {n} bytes but only {max(self.size - start, 0)} remain before the end of the file", start
            )
        if not self.fill(n):
            raise self.error(f"{what}: the file ended early (truncated while reading)", start)
        data = self.buf[self.i : self.i + n]
        self.i += n
        return data

    def skip(self, n: int, what: str) -> None:
        start = self.tell()
        if n < 0 or start + n > self.size:
            raise self.error(
                f"{what}: needs {n} bytes but only {max(self.size - start, 0)} remain before the end of the file", start
            )
        self.seek(start + n)

    def read_int(self, what: str) -> int:
        return _INT32.unpack(self.read(4, what))[0]

    def read_vlong(self, what: str) -> int:
        start = self.tell()
        self.fill(9)
        try:
            value, end = read_vlong(self.buf, self.i)
        except DecodeError as e:
            raise self.error(f"{what}: {e.reason}", start) from None
        self.i = end
        return value

    def read_text(self, what: str) -> str:
        start = self.tell()
        n = self.read_vlong(f"{what} length")
        if n < 0:
            raise self.error(f"{what}: negative length {n}", start)
        raw = self.read(n, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self.error(f"{what} is not valid UTF-8 ({e.reason})", start) from None


def _open(path_or_file, chunk: int, name: str | None = None) -> tuple[_Input, bool]:
    if isinstance(path_or_file, (str, os.PathLike)):
        name = os.fspath(path_or_file)
        f = open(name, "rb", buffering=0)
        size = os.fstat(f.fileno()).st_size
        return _Input(f, size, name, chunk), True
    f = path_or_file
    if not hasattr(f, "read") or not hasattr(f, "seek"):
        raise TypeError(f"SequenceFileReader takes a path or a seekable binary file, not {type(f).__name__}")
    here = f.tell()
    size = f.seek(0, os.SEEK_END)
    f.seek(here)
    inp = _Input(f, size, name or getattr(f, "name", None) or "<file>", chunk)
    inp.base = here
    return inp, False


def _resolve_coder(registry: WritableRegistry, class_name: str, given: Coder | None) -> Coder:
    return given if given is not None else registry.coder_for(class_name)


# ---- reader -------------------------------------------------------------------------------------


class SequenceFileReader:
    """Reads one SequenceFile (version 6) as ``(key, value)`` pairs; see the module docstring.

    ``start``/``end`` select a split (Hadoop's rule). ``raw=True`` yields the serialized
    key and value bytes (values already decompressed) instead of decoding them, which
    needs no coder for the classes. ``key_coder``/``value_coder`` override the coders the
    ``registry`` has for the header's class names. Accepts a path or a seekable binary file.
    """

    def __init__(
        self,
        path,
        start: int = 0,
        end: int | None = None,
        *,
        raw: bool = False,
        key_coder: Coder | None = None,
        value_coder: Coder | None = None,
        registry: WritableRegistry | None = None,
        buffer_size: int = READ_BUFFER_SIZE,
    ):
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid range start={start}, end={end}: need 0 <= start <= end")
        self._in, self._owns = _open(path, buffer_size)
        self.path = self._in.name
        self.size = self._in.size
        self.start = start
        self.end = end
        self.raw = raw
        try:
            self._read_header()
            reg = registry if registry is not None else writable_registry
            self.key_coder = None if raw else _resolve_coder(reg, self.key_class, key_coder)
            self.value_coder = None if raw else _resolve_coder(reg, self.value_class, value_coder)
        except BaseException:
            self.close()
            raise

    # ---- header --------------------------------------------------------------------------

    def _read_header(self) -> None:
        inp = self._in
        inp.seek(0)
        if self.size < 4:
            raise inp.error(f"not a SequenceFile: only {self.size} bytes, a header needs more", 0)
        magic = inp.read(3, "magic")
        if magic != MAGIC:
            raise inp.error(f"not a SequenceFile: starts with {magic!r}, expected b'SEQ'", 0)
        self.version = inp.read(1, "version")[0]
        if self.version != VERSION:
            raise inp.error(
                f"unsupported SequenceFile version {self.version}; coderkit reads version 6 "
                "(the version current Hadoop and Spark write)",
                3,
            )
        self.key_class = inp.read_text("key class name")
        self.value_class = inp.read_text("value class name")
        compressed = self._read_bool("compressed flag")
        block = self._read_bool("block-compressed flag")
        if block and not compressed:
            raise inp.error("header says block-compressed but not compressed", inp.tell() - 1)
        self.compression = "block" if block else ("record" if compressed else "none")
        self.codec_class: str | None = None
        self._codec: Codec | None = None
        if compressed:
            at = inp.tell()
            self.codec_class = inp.read_text("codec class name")
            self._codec = codec_by_class(self.codec_class)
            if self._codec is None:
                raise inp.error(
                    f"unsupported compression codec {self.codec_class!r}; coderkit reads "
                    "DefaultCodec, DeflateCodec, GzipCodec, BZip2Codec, SnappyCodec, Lz4Codec and "
                    "ZStandardCodec",
                    at,
                )
        self.codec = self._codec.name if self._codec is not None else None
        at = inp.tell()
        count = inp.read_int("metadata entry count")
        if count < 0 or count * 2 > self.size - inp.tell():
            raise inp.error(f"metadata entry count {count} cannot fit in the file", at)
        self.metadata: dict[str, str] = {}
        for i in range(count):
            k = inp.read_text(f"metadata key {i}")
            self.metadata[k] = inp.read_text(f"metadata value for {k!r}")
        self.sync = inp.read(SYNC_HASH_SIZE, "sync marker")
        self._escape_sync = _ESCAPE_BYTES + self.sync
        self.header_end = inp.tell()

    def _read_bool(self, what: str) -> bool:
        at = self._in.tell()
        b = self._in.read(1, what)[0]
        if b > 1:
            raise self._in.error(f"{what} byte is {b:#04x}, expected 0 or 1", at)
        return b == 1

    def header(self) -> dict:
        """The header as a plain dict (what ``coderkit seqfile info`` prints)."""
        return {
            "path": self.path,
            "size": self.size,
            "version": self.version,
            "key_class": self.key_class,
            "value_class": self.value_class,
            "compression": self.compression,
            "codec": self.codec,
            "codec_class": self.codec_class,
            "metadata": dict(self.metadata),
            "sync": self.sync.hex(),
            "header_end": self.header_end,
        }

    # ---- seeking -------------------------------------------------------------------------

    def seek_to_sync(self, offset: int) -> int:
        """Position the reader at the first sync entry at or after ``offset`` and return its offset.

        Hadoop's ``Reader.sync(offset)``: an offset inside the header (before
        ``header_end``) positions at the first record instead; with no sync entry at or
        after ``offset`` the reader is at the end of the file and the file size is returned.
        """
        inp = self._in
        if offset < self.header_end:
            inp.seek(self.header_end)
            return self.header_end
        pattern = self._escape_sync
        pos = offset
        while pos + SYNC_SIZE <= self.size:
            inp.seek(pos)
            # a window holds at least one whole sync entry, and the next one starts SYNC_SIZE - 1 bytes
            # before this one ends, so an entry across the edge between two windows is found in the second
            window = min(max(inp.chunk, SYNC_SIZE), self.size - pos)
            inp.fill(window)
            found = inp.buf.find(pattern, inp.i, inp.i + window)
            if found >= 0:
                inp.i = found
                return inp.tell()
            if pos + window >= self.size:
                break
            pos += window - SYNC_SIZE + 1
        inp.seek(self.size)
        return self.size

    # ---- records -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._iterate(self.start, self.end, False)

    def records_with_positions(self, start: int | None = None, end: int | None = None):
        """``(position, key, value)`` for each record of the range (see the module docstring)."""
        for rec in self.positioned_records(start, end):
            yield rec.position, rec.key, rec.value

    def positioned_records(self, start: int | None = None, end: int | None = None) -> Iterator[PositionedRecord]:
        """Every record of ``[start, end)`` (default: the reader's range) with its position and split flag."""
        return self._iterate(self.start if start is None else start, self.end if end is None else end, True)

    def _iterate(self, start: int, end: int | None, positioned: bool):
        if start > self.header_end:
            self.seek_to_sync(start)
        else:
            self._in.seek(self.header_end)
        raw_records = self._raw_blocks() if self.compression == "block" else self._raw_records()
        raw = self.raw
        decode_key = None if raw else self.key_coder.decode
        decode_value = None if raw else self.value_coder.decode
        for position, at_sync, key, value in raw_records:
            if at_sync and end is not None and position >= end:
                return
            if not raw:
                try:
                    key = decode_key(key)
                except DecodeError as e:
                    raise self._record_error(e, "key", self.key_class, position) from e
                try:
                    value = decode_value(value)
                except DecodeError as e:
                    raise self._record_error(e, "value", self.value_class, position) from e
            if positioned:
                yield PositionedRecord(position, key, value, at_sync)
            else:
                yield key, value

    def _record_error(self, e: DecodeError, role: str, class_name: str, position: int) -> DecodeError:
        return DecodeError(
            f"{self.path}: cannot decode the {role} ({class_name}) of the record at byte offset {position}: {e}",
            offset=position,
        )

    def _raw_records(self) -> Iterator[tuple[int, bool, bytes, bytes]]:
        """(position, at_sync, key bytes, value bytes) of an uncompressed or record-compressed file."""
        inp = self._in
        size = self.size
        codec = self._codec if self.compression == "record" else None
        unpack_pair = _INT32_PAIR.unpack_from
        header_end = self.header_end  # the first record follows the header's own sync marker
        while True:
            # fast path: a plain record (no sync entry) wholly inside the buffer
            buf, i = inp.buf, inp.i
            if len(buf) - i >= 8:
                length, key_length = unpack_pair(buf, i)
                if 0 <= key_length <= length and len(buf) - i - 8 >= length:
                    j = i + 8
                    key = buf[j : j + key_length]
                    value = buf[j + key_length : j + length]
                    inp.i = j + length
                    position = inp.base + i
                    if codec is not None:
                        value = self._decompress_value(codec, value, position, position)
                    yield position, position == header_end, key, value
                    continue
            # general path: sync entries, refills, the end of the file and every error
            position = inp.base + inp.i
            if position >= size:
                return
            at_sync = position == header_end
            if len(inp.buf) - inp.i < 4 and not inp.fill(4):
                raise inp.error(
                    f"truncated record: {size - position} byte(s) at the end of the file are too "
                    "few for a record header",
                    position,
                )
            record_at = position
            if _INT32.unpack_from(inp.buf, inp.i)[0] == SYNC_ESCAPE:
                inp.i += 4
                self._read_sync_marker(position)
                at_sync = True
                record_at = inp.base + inp.i
                if record_at >= size:
                    return
            if len(inp.buf) - inp.i < 8 and not inp.fill(8):
                raise inp.error(
                    f"truncated record: the file ends inside a record header ({size - record_at} byte(s) left)",
                    record_at,
                )
            length, key_length = unpack_pair(inp.buf, inp.i)
            if length < 0 or key_length < 0 or key_length > length:
                raise inp.error(f"corrupt record header: record length {length}, key length {key_length}", record_at)
            if record_at + 8 + length > size:
                raise inp.error(
                    f"record length {length} runs past the end of the file ({size - record_at - 8} bytes remain)",
                    record_at,
                )
            inp.i += 8
            if len(inp.buf) - inp.i < length and not inp.fill(length):
                raise inp.error("the file ended early inside a record (truncated while reading)", record_at)
            i = inp.i
            key = inp.buf[i : i + key_length]
            value = inp.buf[i + key_length : i + length]
            inp.i = i + length
            if codec is not None:
                value = self._decompress_value(codec, value, position, record_at)
            yield position, at_sync, key, value

    def _decompress_value(self, codec: Codec, value: bytes, position: int, at: int) -> bytes:
        """A record-compressed value, or DecodeError naming the record's ``position`` (at offset ``at``)."""
        try:
            return codec.decompress(value)
        except DecodeError as e:
            raise self._in.error(
                f"cannot decompress the value of the record at byte offset {position}: {e.reason}", at
            ) from None

    def _read_sync_marker(self, position: int) -> None:
        """Read the 16 bytes after the sync escape at ``position``; they must be the header's marker."""
        found = self._in.read(SYNC_HASH_SIZE, "sync marker")
        if found != self.sync:
            raise self._in.error(
                f"sync marker mismatch: found {found.hex()}, the header's is {self.sync.hex()} (the file is corrupt)",
                position + 4,
            )

    def _read_block_header(self) -> tuple[int, int] | None:
        """Read a block's sync entry and record count; None at the end of the file."""
        inp = self._in
        position = inp.tell()
        if position >= self.size:
            return None
        escape = inp.read_int("block sync entry")
        if escape != SYNC_ESCAPE:
            raise inp.error(f"expected a sync entry (-1) before a block, found {escape}", position)
        self._read_sync_marker(position)
        if inp.tell() >= self.size:
            return None
        at = inp.tell()
        count = inp.read_vlong("block record count")
        if count <= 0:
            raise inp.error(f"block record count {count} is not positive", at)
        return position, count

    def _read_buffer(self, what: str, position: int) -> bytes:
        inp = self._in
        at = inp.tell()
        n = inp.read_vlong(f"{what} buffer size")
        data = inp.read(n, f"{what} buffer")
        try:
            return self._codec.decompress(data)
        except DecodeError as e:
            raise inp.error(
                f"cannot decompress the {what} buffer of the block at byte offset {position}: {e.reason}", at
            ) from None

    def _raw_blocks(self) -> Iterator[tuple[int, bool, bytes, bytes]]:
        inp = self._in
        while True:
            head = self._read_block_header()
            if head is None:
                return
            position, count = head
            key_lengths = self._lengths(self._read_buffer("key lengths", position), count, "key", position)
            keys = self._read_buffer("keys", position)
            value_lengths = self._lengths(self._read_buffer("value lengths", position), count, "value", position)
            values = self._read_buffer("values", position)
            if sum(key_lengths) != len(keys) or sum(value_lengths) != len(values):
                raise inp.error(
                    f"block at byte offset {position}: the lengths add up to {sum(key_lengths)} key and "
                    f"{sum(value_lengths)} value bytes but the buffers hold {len(keys)} and "
                    f"{len(values)}",
                    position,
                )
            k = v = 0
            for i in range(count):
                kn, vn = key_lengths[i], value_lengths[i]
                yield position, i == 0, keys[k : k + kn], values[v : v + vn]
                k += kn
                v += vn

    def _lengths(self, data: bytes, count: int, role: str, position: int) -> list[int]:
        if len(data) == count and (not data or max(data) < 0x80):
            return list(data)  # every length below 128 is its own one-byte VInt
        lengths = []
        pos = 0
        try:
            for _ in range(count):
                n, pos = read_vlong(data, pos)
                if n < 0:
                    raise DecodeError(f"negative {role} length {n}")
                lengths.append(n)
        except DecodeError as e:
            raise self._in.error(
                f"block at byte offset {position}: bad {role} lengths buffer: {e.reason}", position
            ) from None
        if pos != len(data):
            raise self._in.error(
                f"block at byte offset {position}: {role} lengths buffer has {len(data) - pos} "
                f"byte(s) beyond its {count} lengths",
                position,
            )
        return lengths

    # ---- skimming: structure without decoding ------------------------------------------------

    def _skim(self) -> Iterator[tuple[str, int, int]]:
        """('sync', offset, 0) and ('records', offset, n) events over the whole file, skipping payloads."""
        inp = self._in
        inp.seek(self.header_end)
        if self.compression == "block":
            while True:
                head = self._read_block_header()
                if head is None:
                    return
                yield "sync", head[0], 0
                yield "records", head[0], head[1]
                for what in ("key lengths", "keys", "value lengths", "values"):
                    n = inp.read_vlong(f"{what} buffer size")
                    inp.skip(n, f"{what} buffer")
        while inp.tell() < self.size:
            position = inp.tell()
            length = inp.read_int("record length")
            if length == SYNC_ESCAPE:
                self._read_sync_marker(position)
                yield "sync", position, 0
                continue
            key_length = inp.read_int("key length")
            if length < 0 or key_length < 0 or key_length > length:
                raise inp.error(f"corrupt record header: record length {length}, key length {key_length}", position)
            inp.skip(length, "record")
            yield "records", position, 1

    def sync_offsets(self) -> list[int]:
        """The offset of every sync entry in the file (each is where a split can start)."""
        return [offset for kind, offset, _ in self._skim() if kind == "sync"]

    def count_records(self) -> int:
        """How many records the file holds, from its structure alone (nothing is decompressed)."""
        return sum(n for kind, _, n in self._skim() if kind == "records")

    # ---- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns and not self._in.f.closed:
            self._in.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return (
            f"SequenceFileReader({self.path!r}, key_class={self.key_class!r}, value_class={self.value_class!r}, "
            f"compression={self.compression!r}, codec={self.codec!r})"
        )


# ---- directories ---------------------------------------------------------------------------------


def _natural_key(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def list_part_files(path) -> list[str]:
    """The data files of ``path``: itself if a file, else its part files in part-number order,
    skipping ``_SUCCESS``, other ``_*`` and hidden ``.*`` files (checksums, temporaries).

    A subdirectory (other than ``_*``/``.*`` ones) is an error: nothing is silently left out.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file or directory: {path!r}")
        return [path]
    files = []
    for name in sorted(os.listdir(path), key=_natural_key):
        if name.startswith(("_", ".")):
            continue
        full = os.path.join(path, name)
        if os.path.isdir(full):
            raise IsADirectoryError(
                f"{full!r} is a directory inside the SequenceFile directory {path!r}: "
                "pass it (or each of its files) separately"
            )
        files.append(full)
    return files


def read_sequence_file(
    path,
    *,
    start: int = 0,
    end: int | None = None,
    raw: bool = False,
    key_coder: Coder | None = None,
    value_coder: Coder | None = None,
    registry: WritableRegistry | None = None,
    buffer_size: int = READ_BUFFER_SIZE,
) -> Iterator[tuple[Any, Any]]:
    """Iterate ``(key, value)`` over a SequenceFile or a directory of part files, in part order.

    The keyword arguments are :class:`SequenceFileReader`'s and apply to each file: ``raw=True``
    yields the serialized bytes, ``key_coder``/``value_coder`` override the ``registry``'s
    coders for the header's classes, ``start``/``end`` select a split, ``buffer_size`` bounds
    the reader's memory. Each file is opened only when reached and closed when done.
    """
    for part in list_part_files(path):
        with SequenceFileReader(
            part,
            start,
            end,
            raw=raw,
            key_coder=key_coder,
            value_coder=value_coder,
            registry=registry,
            buffer_size=buffer_size,
        ) as reader:
            yield from reader


# ---- writer --------------------------------------------------------------------------------------


def _class_and_coder(spec, registry: WritableRegistry, role: str) -> tuple[str, Coder]:
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], Coder):
        return spec
    if isinstance(spec, str):
        name = registry.full_name(spec)
        return name, registry.coder_for(name)
    if isinstance(spec, Coder):
        name = getattr(spec, "hadoop_class", "")
        if not name:
            raise TypeError(f"{role} coder {spec!r} has no hadoop_class; pass ({role} class name, coder) instead")
        return name, spec
    raise TypeError(
        f"{role} class must be a Hadoop class name, a Writable coder or a (class name, coder) pair, "
        f"not {type(spec).__name__}"
    )


def _write_text(out: bytearray, text: str) -> None:
    data = text.encode("utf-8")
    write_vlong(out, len(data))
    out += data


class SequenceFileWriter:
    """Writes a version-6 SequenceFile the way Hadoop's ``SequenceFile.Writer`` does.

    ``key_class``/``value_class``: a Hadoop class name (``"Text"`` or
    ``"org.apache.hadoop.io.Text"``), a Writable coder, or a ``(class name, coder)`` pair.
    ``compression``: ``"none"``, ``"record"`` or ``"block"``; ``codec`` (when compressed):
    ``"default"`` (the default), ``"deflate"``, ``"gzip"``, ``"bzip2"``, ``"snappy"``,
    ``"lz4"`` or ``"zstd"``; another codec with ``compression="none"`` is an error (it would
    be silently unused). ``metadata``: a ``{str: str}`` dict for the header.

    Sync entries go where Hadoop puts them: before a record once ``sync_interval`` bytes
    have passed since the last one, and before every block. The file is written under a
    hidden temporary name in the same directory and renamed on ``close()``; an exception
    inside the ``with`` block (or ``abort()``) deletes it, so the final name only ever
    holds a complete file.
    """

    def __init__(
        self,
        path,
        key_class,
        value_class,
        compression: str = "none",
        codec: str | None = None,
        metadata: dict | None = None,
        *,
        sync: bytes | None = None,
        sync_interval: int = SYNC_INTERVAL,
        block_size: int = BLOCK_SIZE,
        registry: WritableRegistry | None = None,
    ):
        registry = registry if registry is not None else writable_registry
        if compression not in _COMPRESSIONS:
            raise ValueError(f"compression must be one of {', '.join(_COMPRESSIONS)}, not {compression!r}")
        if compression == "none" and codec not in (None, "default"):
            raise ValueError(
                f"codec={codec!r} given with compression='none'; pass compression='record' or 'block' "
                "to compress, or drop the codec"
            )
        self.compression = compression
        self._codec = codec_by_name(codec or "default") if compression != "none" else None
        self.codec = self._codec.name if self._codec else None
        self.key_class, self.key_coder = _class_and_coder(key_class, registry, "key")
        self.value_class, self.value_coder = _class_and_coder(value_class, registry, "value")
        # the record gives each key and value its length, so they are encoded (and read) in the outer context
        self._encode_key = self.key_coder.encode
        self._encode_value = self.value_coder.encode
        metadata = dict(metadata or {})
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata keys and values must be str, got {k!r}: {v!r}")
        self.metadata = metadata
        if sync is None:
            sync = os.urandom(SYNC_HASH_SIZE)
        if not isinstance(sync, (bytes, bytearray)) or len(sync) != SYNC_HASH_SIZE:
            raise ValueError("sync must be 16 bytes")
        self.sync = bytes(sync)
        if sync_interval <= 0 or block_size <= 0:
            raise ValueError("sync_interval and block_size must be positive")
        self.sync_interval = sync_interval
        self.block_size = block_size

        self.path = os.fspath(path)
        directory, base = os.path.split(os.path.abspath(self.path))
        self._tmp_path = os.path.join(directory, f".{base}.coderkit-{os.getpid()}-{os.urandom(4).hex()}.tmp")
        self._file = open(self._tmp_path, "wb")
        self._closed = False
        self._buf = bytearray()
        self._flushed = 0  # bytes already handed to the file
        self._last_sync = 0  # Hadoop's lastSyncPos
        self.records = 0
        # block-compression buffers
        self._key_lengths = bytearray()
        self._keys = bytearray()
        self._value_lengths = bytearray()
        self._values = bytearray()
        self._buffered = 0
        self._write_header()

    @property
    def position(self) -> int:
        """Bytes written so far (the offset the next entry starts at)."""
        return self._flushed + len(self._buf)

    def _write_header(self) -> None:
        out = self._buf
        out += MAGIC
        out.append(VERSION)
        _write_text(out, self.key_class)
        _write_text(out, self.value_class)
        out.append(1 if self.compression != "none" else 0)
        out.append(1 if self.compression == "block" else 0)
        if self._codec is not None:
            _write_text(out, self._codec.hadoop_class)
        items = sorted(self.metadata.items(), key=lambda kv: kv[0].encode("utf-8"))
        out += _INT32.pack(len(items))
        for k, v in items:
            _write_text(out, k)
            _write_text(out, v)
        out += self.sync

    def _write_sync(self) -> None:
        if self._last_sync != self.position:
            self._buf += _ESCAPE_BYTES
            self._buf += self.sync
            self._last_sync = self.position

    def _maybe_flush(self) -> None:
        if len(self._buf) >= 1 << 20:
            self._file.write(self._buf)
            self._flushed += len(self._buf)
            self._buf = bytearray()

    def _encode_error(self, e: EncodeError, role: str) -> EncodeError:
        return e.with_path(f"({role} of record {self.records})")

    def append(self, key, value) -> None:
        """Append one record, encoding ``key`` and ``value`` with the writer's coders."""
        try:
            key_bytes = self._encode_key(key)
        except EncodeError as e:
            raise self._encode_error(e, "key")
        try:
            value_bytes = self._encode_value(value)
        except EncodeError as e:
            raise self._encode_error(e, "value")
        self.append_raw(key_bytes, value_bytes)

    def append_raw(self, key_bytes: bytes, value_bytes: bytes) -> None:
        """Append one record from already-serialized key and value bytes (uncompressed)."""
        if self._closed:
            raise ValueError(f"SequenceFileWriter for {self.path!r} is closed")
        if self.compression == "block":
            n = len(key_bytes)
            if n < 128:
                self._key_lengths.append(n)  # a one-byte VInt
            else:
                write_vlong(self._key_lengths, n)
            self._keys += key_bytes
            n = len(value_bytes)
            if n < 128:
                self._value_lengths.append(n)
            else:
                write_vlong(self._value_lengths, n)
            self._values += value_bytes
            self._buffered += 1
            self.records += 1
            if len(self._keys) + len(self._values) >= self.block_size:
                self._write_block()
            return
        if self.position >= self._last_sync + self.sync_interval:
            self._write_sync()
        if self._codec is not None:
            value_bytes = self._codec.compress(value_bytes)
        out = self._buf
        out += _INT32_PAIR.pack(len(key_bytes) + len(value_bytes), len(key_bytes))
        out += key_bytes
        out += value_bytes
        self.records += 1
        self._maybe_flush()

    def _write_block(self) -> None:
        if not self._buffered:
            return
        self._write_sync()
        out = self._buf
        write_vlong(out, self._buffered)
        for data in (self._key_lengths, self._keys, self._value_lengths, self._values):
            packed = self._codec.compress(bytes(data))
            write_vlong(out, len(packed))
            out += packed
        self._key_lengths = bytearray()
        self._keys = bytearray()
        self._value_lengths = bytearray()
        self._values = bytearray()
        self._buffered = 0
        self._maybe_flush()

    def close(self) -> None:
        """Write what is buffered, then move the file to its final name."""
        if self._closed:
            return
        try:
            if self.compression == "block":
                self._write_block()
            self._file.write(self._buf)
            self._flushed += len(self._buf)
            self._buf = bytearray()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp_path, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def abort(self) -> None:
        """Drop the file: nothing appears under the final name."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()
        finally:
            if os.path.exists(self._tmp_path):
                os.unlink(self._tmp_path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self):
        if not getattr(self, "_closed", True):
            self.abort()
