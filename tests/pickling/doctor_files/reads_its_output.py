"""A pipeline file that reads its job's output after running it (which the doctor never does)."""

import socket

import apache_beam as beam


class HoldsSocket(beam.DoFn):
    def __init__(self):
        self.sock = socket.socket()

    def process(self, x):
        yield x


with beam.Pipeline() as p:
    p | beam.Create([1, 2]) | "Send" >> beam.ParDo(HoldsSocket()) | beam.io.WriteToText("/nonexistent-dir/out")

with open("/nonexistent-dir/out-00000-of-00001") as f:
    print(f.read())
