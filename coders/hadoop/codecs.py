"""Hadoop's compression codecs, as SequenceFiles use them: one buffer in, one buffer out.

A record-compressed SequenceFile compresses each value, and a block-compressed one
each of a block's four buffers, as one complete stream of the file's codec:

* DefaultCodec, DeflateCodec: a zlib stream (``78 9c`` header, Adler-32 trailer).
* GzipCodec: one gzip member, with the 10-byte header Hadoop's BuiltInGzipCompressor
  writes (``1f 8b 08 00``, zero mtime, flags and OS); any valid gzip is read.
* BZip2Codec: a bzip2 stream (``BZh9``).
* SnappyCodec, Lz4Codec: Hadoop's BlockCompressorStream framing around raw blocks:
  a 4-byte big-endian uncompressed length, then one or more (4-byte big-endian
  compressed length, raw snappy / lz4 block) until that many bytes are produced; the
  reader accepts any number of such frames. One write of more than the codec's input
  limit (256 KiB minus its overhead) is one frame of several chunks, as Hadoop writes it.
  Such a write also ends with an empty frame (``00 00 00 00``), and empty input is just
  that. Hadoop stops reading at an empty frame, so bytes after one are an error. Raw
  blocks come from cramjam.
* ZStandardCodec: a zstd frame (cramjam). Hadoop needs libhadoop built with zstd to
  read it; Spark's bundled Hadoop has none.

A codec failure (corrupt or truncated data, a length that does not add up) raises
:class:`coders.DecodeError` naming the codec; the caller adds the file and offset.
"""

from __future__ import annotations

import bz2
import struct
import zlib

import cramjam

from ..errors import DecodeError

__all__ = ["CODECS", "Codec", "codec_by_class", "codec_by_name"]

_INT32 = struct.Struct(">I")


class Codec:
    """A Hadoop codec: ``name`` (short), ``hadoop_class``, ``compress``/``decompress`` of whole buffers."""

    name = ""
    hadoop_class = ""

    def compress(self, data: bytes) -> bytes:
        raise NotImplementedError

    def decompress(self, data: bytes) -> bytes:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DefaultCodec(Codec):
    name = "default"
    hadoop_class = "org.apache.hadoop.io.compress.DefaultCodec"

    def compress(self, data):
        return zlib.compress(data, 6)

    def decompress(self, data):
        d = zlib.decompressobj()
        try:
            out = d.decompress(data)
        except zlib.error as e:
            raise DecodeError(f"{self.name} codec: corrupt zlib data ({e})") from None
        if not d.eof:
            raise DecodeError(f"{self.name} codec: truncated zlib stream")
        if d.unused_data:
            raise DecodeError(f"{self.name} codec: {len(d.unused_data)} byte(s) after the end of the zlib stream")
        return out


class DeflateCodec(DefaultCodec):
    name = "deflate"
    hadoop_class = "org.apache.hadoop.io.compress.DeflateCodec"


_GZIP_HEADER = bytes.fromhex("1f8b0800000000000000")


class GzipCodec(Codec):
    name = "gzip"
    hadoop_class = "org.apache.hadoop.io.compress.GzipCodec"

    def compress(self, data):
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = c.compress(data) + c.flush()
        return _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)

    def decompress(self, data):
        out = bytearray()
        rest = bytes(data)
        if not rest:
            raise DecodeError("gzip codec: empty input, expected a gzip member")
        while rest:
            if rest[:2] != b"\x1f\x8b":
                raise DecodeError(f"gzip codec: expected gzip magic 1f 8b, found {rest[:2].hex(' ')}")
            d = zlib.decompressobj(31)
            try:
                out += d.decompress(rest)
            except zlib.error as e:
                raise DecodeError(f"gzip codec: corrupt gzip data ({e})") from None
            if not d.eof:
                raise DecodeError("gzip codec: truncated gzip member")
            rest = d.unused_data
        return bytes(out)


class BZip2Codec(Codec):
    name = "bzip2"
    hadoop_class = "org.apache.hadoop.io.compress.BZip2Codec"

    def compress(self, data):
        return bz2.compress(data, 9)

    def decompress(self, data):
        out = bytearray()
        rest = bytes(data)
        if not rest:
            raise DecodeError("bzip2 codec: empty input, expected a bzip2 stream")
        while rest:
            d = bz2.BZ2Decompressor()
            try:
                out += d.decompress(rest)
            except (OSError, ValueError) as e:
                raise DecodeError(f"bzip2 codec: corrupt bzip2 data ({e})") from None
            if not d.eof:
                raise DecodeError("bzip2 codec: truncated bzip2 stream")
            rest = d.unused_data
        return bytes(out)


class _BlockFramedCodec(Codec):
    """Hadoop's BlockCompressorStream framing around a raw block compressor."""

    #: largest uncompressed chunk per frame (Hadoop: 256 KiB buffer minus the codec's overhead)
    max_chunk = 200 * 1024

    def _compress_raw(self, chunk: bytes) -> bytes:
        raise NotImplementedError

    def _decompress_raw(self, chunk: bytes, expected: int) -> bytes:
        raise NotImplementedError

    def compress(self, data):
        # As BlockCompressorStream does for one write: the whole length once, then one
        # compressed chunk per max_chunk-sized segment.
        out = bytearray(_INT32.pack(len(data)))
        view = memoryview(data)
        for start in range(0, len(data), self.max_chunk):
            packed = self._compress_raw(bytes(view[start : start + self.max_chunk]))
            out += _INT32.pack(len(packed))
            out += packed
        if len(data) > self.max_chunk:
            out += b"\x00\x00\x00\x00"  # the stream's finish() then ends with an empty frame
        return bytes(out)

    def decompress(self, data):
        data = bytes(data)
        out = bytearray()
        pos, end = 0, len(data)
        if end == 0:
            raise DecodeError(f"{self.name} codec: empty input, expected a block length")
        while pos < end:
            if pos + 4 > end:
                raise DecodeError(f"{self.name} codec: truncated block length at byte {pos} of the compressed data")
            expected = _INT32.unpack_from(data, pos)[0]
            pos += 4
            if expected == 0:
                # Hadoop's BlockDecompressorStream stops at an empty frame: nothing may follow it
                if pos != end:
                    raise DecodeError(
                        f"{self.name} codec: {end - pos} byte(s) after the empty end frame at byte "
                        f"{pos - 4} of the compressed data"
                    )
                break
            produced = 0
            while produced < expected:
                if pos + 4 > end:
                    raise DecodeError(
                        f"{self.name} codec: block promises {expected} bytes but the compressed "
                        f"data ends after {produced}"
                    )
                n = _INT32.unpack_from(data, pos)[0]
                pos += 4
                if pos + n > end:
                    raise DecodeError(
                        f"{self.name} codec: compressed chunk of {n} bytes at byte {pos - 4} runs past "
                        f"the end of the data ({end - pos} remain)"
                    )
                try:
                    piece = self._decompress_raw(data[pos : pos + n], expected - produced)
                except DecodeError:
                    raise
                except Exception as e:  # cramjam raises its own error types
                    raise DecodeError(f"{self.name} codec: corrupt {self.name} block at byte {pos} ({e})") from None
                pos += n
                produced += len(piece)
                out += piece
            if produced != expected:
                raise DecodeError(f"{self.name} codec: block announces {expected} bytes but decompresses to {produced}")
        return bytes(out)


class SnappyCodec(_BlockFramedCodec):
    name = "snappy"
    hadoop_class = "org.apache.hadoop.io.compress.SnappyCodec"
    max_chunk = 262144 - (262144 // 6 + 32)  # SnappyCodec's buffer minus its compression overhead

    def _compress_raw(self, chunk):
        return bytes(cramjam.snappy.compress_raw(chunk))

    def _decompress_raw(self, chunk, expected):
        if cramjam.snappy.decompress_raw_len(chunk) > expected:
            raise DecodeError(
                f"snappy codec: a chunk decompresses to more than the {expected} bytes its block has left"
            )
        return bytes(cramjam.snappy.decompress_raw(chunk))


class Lz4Codec(_BlockFramedCodec):
    name = "lz4"
    hadoop_class = "org.apache.hadoop.io.compress.Lz4Codec"
    max_chunk = 262144 - (262144 // 255 + 16)  # Lz4Codec's buffer minus its compression overhead

    def _compress_raw(self, chunk):
        return bytes(cramjam.lz4.compress_block(chunk, store_size=False))

    def _decompress_raw(self, chunk, expected):
        out = bytearray(expected)
        n = cramjam.lz4.decompress_block_into(chunk, out)
        del out[n:]
        return bytes(out)


class ZStandardCodec(Codec):
    name = "zstd"
    hadoop_class = "org.apache.hadoop.io.compress.ZStandardCodec"

    def compress(self, data):
        return bytes(cramjam.zstd.compress(data, level=3))

    def decompress(self, data):
        if not data:
            raise DecodeError("zstd codec: empty input, expected a zstd frame")
        try:
            return bytes(cramjam.zstd.decompress(bytes(data)))
        except Exception as e:
            raise DecodeError(f"zstd codec: corrupt zstd data ({e})") from None


CODECS: dict[str, Codec] = {
    c.name: c
    for c in (DefaultCodec(), DeflateCodec(), GzipCodec(), BZip2Codec(), SnappyCodec(), Lz4Codec(), ZStandardCodec())
}
_BY_CLASS = {c.hadoop_class: c for c in CODECS.values()}


def codec_by_name(name: str) -> Codec:
    """A codec by short name (``"snappy"``) or Hadoop class name; ValueError listing the choices."""
    codec = CODECS.get(name) or _BY_CLASS.get(name)
    if codec is None:
        raise ValueError(
            f"unknown codec {name!r}; choose one of {', '.join(CODECS)} "
            "(or their org.apache.hadoop.io.compress.* class names)"
        )
    return codec


def codec_by_class(hadoop_class: str) -> Codec | None:
    """The codec a SequenceFile header names, or None when coderkit has none for it."""
    return _BY_CLASS.get(hadoop_class)
