"""Beam I/O for Hadoop SequenceFiles and PySpark pickle files: splittable sources and a sink.

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
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.io import filebasedsink, filebasedsource
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.transforms.display import DisplayDataItem

__all__ = [
    "ReadFromSequenceFile",
    "ReadFromSparkPickleFile",
    "SequenceFileSink",
    "SequenceFileSource",
    "SparkPickleFileSource",
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

    def _check_header(self, file_name: str, reader) -> None:
        """Refuse a file this source cannot read (a subclass checks the classes)."""

    def _outputs(self, file_name: str, reader, record) -> Iterable[Any]:
        """The elements one record gives."""
        return ((record.key, record.value),)

    def _open_reader(self, f):
        from coders.hadoop import SequenceFileReader

        return SequenceFileReader(f, **self._reader_options)

    # ---- reading a range ----------------------------------------------------------------------

    def read_records(self, file_name, range_tracker):
        # (no split_points_unclaimed callback: how many sync entries lie ahead is unknown until read)
        start = range_tracker.start_position() or 0
        with self.open_file(file_name) as f, self._open_reader(f) as reader:
            self._check_header(file_name, reader)
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
                yield from self._outputs(file_name, reader, record)


class SparkPickleFileSource(SequenceFileSource):
    """Reads the objects of PySpark ``saveAsPickleFile`` output, splittable at sync markers.

    ``safe`` and ``allow`` are those of :func:`pickling.spark.load`: with ``safe=True``
    only plain data and the allowlisted globals unpickle.
    """

    def __init__(
        self,
        file_pattern,
        safe: bool = False,
        allow: Iterable[str] = (),
        min_bundle_size: int = 0,
        validate: bool = True,
    ):
        from pickling.spark import PickleFileDecoder

        self._decoder = PickleFileDecoder(safe=safe, allow=allow)  # checks the allowlist now
        # raw values: the BytesWritable's int32 length then the Java stream, decoded in place
        super().__init__(file_pattern, min_bundle_size=min_bundle_size, validate=validate, raw=True)

    def display_data(self):
        data = super().display_data()
        data["safe"] = DisplayDataItem(self._decoder.safe, label="Safe unpickling")
        return data

    def _check_header(self, file_name, reader):
        from pickling.spark import _check_classes

        _check_classes(file_name, reader.key_class, reader.value_class)

    def _outputs(self, file_name, reader, record):
        from pickling.spark import _check_raw_record

        _check_raw_record(file_name, None, record.position, record.key, record.value)
        out: list = []
        self._decoder.decode_into(record.value, out, file_name, None, record.position, base=4)
        return out


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


class ReadFromSparkPickleFile(beam.PTransform):
    """Read the objects of PySpark ``saveAsPickleFile`` output matching ``pattern`` (or its directory)."""

    def __init__(
        self,
        file_pattern,
        safe: bool = False,
        allow: Iterable[str] = (),
        min_bundle_size: int = 0,
        validate: bool = True,
    ):
        super().__init__()
        self._source = SparkPickleFileSource(
            file_pattern, safe=safe, allow=allow, min_bundle_size=min_bundle_size, validate=validate
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
        import tempfile

        with tempfile.TemporaryDirectory(prefix="coderkit-sink-check") as d:
            writer = self._writer(os.path.join(d, "probe"))
            writer.abort()
        return writer.key_class, writer.value_class

    def _writer(self, path):
        from coders.hadoop import SequenceFileWriter

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
