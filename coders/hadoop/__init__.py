"""Hadoop and Spark files in plain Python: Writable coders, raw comparators, SequenceFiles.

* :mod:`coders.hadoop.javaio`: the VLong and ``writeUTF`` encodings the others share.
* :mod:`coders.hadoop.writables`: coders byte-compatible with ``org.apache.hadoop.io``
  Writables (IntWritable ... MapWritable), each with its ``hadoop_class``.
* :mod:`coders.hadoop.comparators`: Hadoop's raw comparators on encoded bytes
  (also ``coder.compare_encoded(a, b)``).
* :mod:`coders.hadoop.classes`: the registry from Java class names to coders (the
  Writables register themselves in it).
* :mod:`coders.hadoop.codecs`: Hadoop's compression codecs as SequenceFiles use them.
* :mod:`coders.hadoop.sequencefile`: ``SequenceFileReader`` (streaming, splittable at
  sync markers), ``SequenceFileWriter`` (crash-safe), ``read_sequence_file``.

Imports point one way: each module imports only modules of this list named before it
(javaio, classes, comparators, writables, codecs, sequencefile, cli); tests/hadoop/test_layering.py
checks it. See docs/hadoop.md for the formats and the API.
"""

from __future__ import annotations

from .classes import (
    UnknownWritableClassError,
    WritableRegistry,
    coder_for_class,
    register_writable,
    writable_registry,
)
from .codecs import CODECS, codec_by_name
from .comparators import java_float_compare
from .sequencefile import (
    BLOCK_SIZE,
    READ_BUFFER_SIZE,
    SYNC_INTERVAL,
    PositionedRecord,
    SequenceFileReader,
    SequenceFileWriter,
    list_part_files,
    read_sequence_file,
)
from .writables import (
    ArrayWritableCoder,
    BooleanWritableCoder,
    BytesWritableCoder,
    DoubleWritableCoder,
    FloatWritableCoder,
    IntWritableCoder,
    LongWritableCoder,
    MapWritableCoder,
    MD5HashCoder,
    NullWritableCoder,
    SortedMapWritableCoder,
    TextCoder,
    TypedWritable,
    VIntWritableCoder,
    VLongWritableCoder,
    WritableCoder,
)

__all__ = [
    "BLOCK_SIZE",
    "CODECS",
    "READ_BUFFER_SIZE",
    "SYNC_INTERVAL",
    "ArrayWritableCoder",
    "BooleanWritableCoder",
    "BytesWritableCoder",
    "DoubleWritableCoder",
    "FloatWritableCoder",
    "IntWritableCoder",
    "LongWritableCoder",
    "MD5HashCoder",
    "MapWritableCoder",
    "NullWritableCoder",
    "PositionedRecord",
    "SequenceFileReader",
    "SequenceFileWriter",
    "SortedMapWritableCoder",
    "TextCoder",
    "TypedWritable",
    "UnknownWritableClassError",
    "VIntWritableCoder",
    "VLongWritableCoder",
    "WritableCoder",
    "WritableRegistry",
    "codec_by_name",
    "coder_for_class",
    "java_float_compare",
    "list_part_files",
    "read_sequence_file",
    "register_writable",
    "writable_registry",
]
