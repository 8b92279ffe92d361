"""A pipeline file that parses its own required arguments, as most real ones do."""

import argparse

import apache_beam as beam

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
known, pipeline_args = parser.parse_known_args()

with beam.Pipeline(argv=pipeline_args) as p:
    p | beam.Create([known.input]) | "Echo" >> beam.Map(print)
