"""Beam source and transform for PySpark ``saveAsPickleFile`` output, splittable at sync markers.

A pickle file is a SequenceFile whose values are pickled batches, so this module joins two
layers: :class:`coders.beam.sources.SequenceFileSource` reads and splits the SequenceFile
(Hadoop's rule, see that module), and :class:`pickling.spark.PickleFileDecoder` unpickles
each value (trusted, or safe with an allowlist). It lives in ``pickling`` because unpickling
does; ``coders`` never imports ``pickling``. Importing it imports apache_beam
(:mod:`pickling.spark` alone never does).
"""

from __future__ import annotations

from typing import Iterable

import apache_beam as beam
from apache_beam.transforms.display import DisplayDataItem

from coders.beam.sources import SequenceFileSource
from pickling.spark import PickleFileDecoder, check_classes, check_raw_record

__all__ = ["ReadFromSparkPickleFile", "SparkPickleFileSource"]


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
        self._decoder = PickleFileDecoder(safe=safe, allow=allow)  # checks the allowlist now
        # raw values: the BytesWritable's int32 length then the Java stream, decoded in place
        super().__init__(file_pattern, min_bundle_size=min_bundle_size, validate=validate, raw=True)

    def display_data(self):
        data = super().display_data()
        data["safe"] = DisplayDataItem(self._decoder.safe, label="Safe unpickling")
        return data

    def check_header(self, file_name, reader):
        check_classes(file_name, reader.key_class, reader.value_class)

    def elements(self, file_name, reader, record):
        check_raw_record(file_name, None, record.position, record.key, record.value)
        out: list = []
        self._decoder.decode_into(record.value, out, file_name, None, record.position, base=4)
        return out


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
