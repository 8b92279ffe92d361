"""A module that sits next to the pipeline file: importable on the driver only."""

import apache_beam as beam


class Tokenize(beam.DoFn):
    def process(self, line):
        yield from line.split()
