"""Beam I/O for Hadoop SequenceFiles: a splittable source and a sink.

Splitting follows Hadoop's rule, restated as Beam RangeTracker semantics:

* a *split point* is the record (or, in a block-compressed file, the block) right
  after a sync entry (``-1`` escape + the 16-byte sync marker); the first record after
  the header is one too (the header ends with the sync marker). Positions are the ones
  :class:`coders.hadoop.SequenceFileReader` reports: a split point is at the offset of
  its sync entry (at ``header_end`` for the first record), any other record at its
  length field, and every record of a block at the block's sync entry;
* the range ``[A, B)`` of a file reads from the first split point at or after ``A``
  through every record up to the first split point at or after ``B`` (exclusive), so
  the ranges of one file partition its records exactly;
* the reader calls ``OffsetRangeTracker.try_claim(position)`` on each split point and
  ``set_current_position(position)`` on the records in between (which are not split
  points), so a dynamic split lands only on positions not yet consumed.

The sources extend :class:`apache_beam.io.filebasedsource.FileBasedSource` (the file
pattern, initial splitting by size and the concatenation of files come from Beam);
the sink extends :class:`apache_beam.io.filebasedsink.FileBasedSink` and writes each
shard with :class:`coders.hadoop.SequenceFileWriter`.

A source for a format stored in SequenceFiles subclasses :class:`SequenceFileSource` and
overrides its two public hooks, ``check_header`` and ``elements``; the splitting stays here.
PySpark pickle files are read that way by :mod:`pickling.spark_beam` (their values are
unpickled, which is the ``pickling`` package's business: ``coders`` never imports it).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.io import filebasedsink, filebasedsource
from apache_beam.io.filesystem import CompressionTypes

from coders.hadoop import SequenceFileReader, SequenceFileWriter

__all__ = [
    "ReadFromSequenceFile",
    "SequenceFileSink",
    "SequenceFileSource",
    "WriteToSequenceFile",
]


def _local_directory_pattern(pattern):
    """A local directory (a Spark/Hadoop output) means its data files: skip ``_*`` and ``.*``."""
    if isinstance(pattern, str) and os.path.isdir(pattern):
        return os.path.join(pattern, "[!_.]*")
    return pattern


class SequenceFileSource(filebasedsource.FileBasedSource):
    """Reads ``(key, value)`` pairs of SequenceFiles, splittable at sync markers (see the module docstring).

    ``key_coder``/``value_coder`` override the coders registered for the header's class
    names, and ``raw=True`` yields the serialized bytes, as :class:`coders.hadoop.SequenceFileReader`.
    """

    def __init__(
        self,
        file_pattern,
        min_bundle_size: int = 0,
        validate: bool = True,
        *,
        raw: bool = False,
        key_coder=None,
        value_coder=None,
    ):
        self._reader_options = {"raw": raw, "key_coder": key_coder, "value_coder": value_coder}
        super().__init__(
            _local_directory_pattern(file_pattern),
            min_bundle_size=min_bundle_size,
            # compression is inside the file (records or blocks), never around it
            compression_type=CompressionTypes.UNCOMPRESSED,
            splittable=True,
            validate=validate,
        )

    # ---- what a subclass changes -------------------------------------------------------------

    def check_header(self, file_name: str, reader) -> None:
        """Raise if this source cannot read the file whose header ``reader`` has read (for example
        the wrong key or value class); called once per file, before any record."""

    def elements(self, file_name: str, reader, record) -> Iterable[Any]:
        """The elements one :class:`coders.hadoop.PositionedRecord` gives: here its ``(key, value)``."""
        return ((record.key, record.value),)

    def _open_reader(self, f):
        return SequenceFileReader(f, **self._reader_options)

    # ---- reading a range ----------------------------------------------------------------------

    def read_records(self, file_name, range_tracker):
        # (no split_points_unclaimed callback: how many sync entries lie ahead is unknown until read)
        start = range_tracker.start_position() or 0
        with self.open_file(file_name) as f, self._open_reader(f) as reader:
            self.check_header(file_name, reader)
            # from the first sync entry at or after start (the first record if start is in the header);
            # the file's first record is a split point even with no sync entry before it
            unclaimed_first = reader.header_end  # cleared once anything is read
            for record in reader.positioned_records(start, None):
                if record.at_sync or record.position == unclaimed_first:
                    unclaimed_first = -1
                    if not range_tracker.try_claim(record.position):
                        return
                else:
                    range_tracker.set_current_position(record.position)
                yield from self.elements(file_name, reader, record)


class ReadFromSequenceFile(beam.PTransform):
    """Read ``(key, value)`` pairs from SequenceFiles matching ``pattern`` (or a local output directory)."""

    def __init__(
        self,
        file_pattern,
        min_bundle_size: int = 0,
        validate: bool = True,
        *,
        raw: bool = False,
        key_coder=None,
        value_coder=None,
    ):
        super().__init__()
        self._source = SequenceFileSource(
            file_pattern,
            min_bundle_size=min_bundle_size,
            validate=validate,
            raw=raw,
            key_coder=key_coder,
            value_coder=value_coder,
        )

    def expand(self, pbegin):
        return pbegin | beam.io.Read(self._source)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


class SequenceFileSink(filebasedsink.FileBasedSink):
    """Writes ``(key, value)`` pairs as one SequenceFile per shard with :class:`coders.hadoop.SequenceFileWriter`.

    ``key_coder``/``value_coder``: a coders.hadoop Writable coder, a Hadoop class name
    (``"Text"``, ``"org.apache.hadoop.io.LongWritable"``) or a ``(class name, coder)`` pair,
    as the writer takes them. Everything is checked here, at pipeline construction, by
    opening a writer on a throwaway file, so a bad class or codec never reaches a worker.
    """

    def __init__(
        self,
        file_path_prefix,
        key_coder,
        value_coder,
        *,
        compression: str = "none",
        codec: str | None = None,
        metadata: dict | None = None,
        sync_interval: int | None = None,
        block_size: int | None = None,
        file_name_suffix: str = "",
        num_shards: int = 0,
        shard_name_template: str | None = None,
    ):
        super().__init__(
            file_path_prefix,
            coder=None,
            file_name_suffix=file_name_suffix,
            num_shards=num_shards,
            shard_name_template=shard_name_template,
            mime_type="application/octet-stream",
            compression_type=CompressionTypes.UNCOMPRESSED,
        )  # compression is inside the file
        self.key_coder = key_coder
        self.value_coder = value_coder
        self.writer_options = {"compression": compression, "codec": codec, "metadata": dict(metadata or {})}
        if sync_interval is not None:
            self.writer_options["sync_interval"] = sync_interval
        if block_size is not None:
            self.writer_options["block_size"] = block_size
        self.key_class, self.value_class = self._check_writer()

    def _check_writer(self) -> tuple[str, str]:
        with tempfile.TemporaryDirectory(prefix="coderkit-sink-check") as d:
            writer = self._writer(os.path.join(d, "probe"))
            writer.abort()
        return writer.key_class, writer.value_class

    def _writer(self, path):
        return SequenceFileWriter(path, self.key_coder, self.value_coder, **self.writer_options)

    def display_data(self):
        data = super().display_data()
        data.update(
            key_class=self.key_class,
            value_class=self.value_class,
            compression=self.writer_options["compression"],
            codec=str(self.writer_options["codec"]),
        )
        return data

    def open(self, temp_path):
        # Beam gives each bundle its own temporary path and renames it when the write commits;
        # the writer itself also writes under a hidden name and renames on close.
        return self._writer(temp_path)

    def write_record(self, file_handle, value):
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            shown = repr(value)
            raise TypeError(
                f"WriteToSequenceFile takes (key, value) pairs, got {type(value).__name__} "
                f"{shown[:77] + '...' if len(shown) > 80 else shown}: map your elements to 2-tuples first"
            )
        file_handle.append(value[0], value[1])

    def close(self, file_handle):
        if file_handle is not None:
            file_handle.close()


class WriteToSequenceFile(beam.PTransform):
    """Write ``(key, value)`` pairs to SequenceFiles named ``prefix-SSSSS-of-NNNNN`` (like WriteToText).

    ``key_coder`` and ``value_coder`` are coders.hadoop Writable coders or Hadoop class
    names; ``compression`` (none, record, block), ``codec``, ``metadata``, ``sync_interval``
    and ``block_size`` are those of :class:`coders.hadoop.SequenceFileWriter`. The output
    is the PCollection of the written file names.
    """

    def __init__(
        self,
        file_path_prefix,
        key_coder,
        value_coder,
        *,
        compression: str = "none",
        codec: str | None = None,
        metadata: dict | None = None,
        sync_interval: int | None = None,
        block_size: int | None = None,
        file_name_suffix: str = "",
        num_shards: int = 0,
        shard_name_template: str | None = None,
    ):
        super().__init__()
        self._sink = SequenceFileSink(
            file_path_prefix,
            key_coder,
            value_coder,
            compression=compression,
            codec=codec,
            metadata=metadata,
            sync_interval=sync_interval,
            block_size=block_size,
            file_name_suffix=file_name_suffix,
            num_shards=num_shards,
            shard_name_template=shard_name_template,
        )

    def expand(self, pcoll):
        return pcoll | beam.io.Write(self._sink)
