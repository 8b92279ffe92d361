import socket

import apache_beam as beam


class A(beam.DoFn):
    def __init__(self):
        self.sock = socket.socket()

    def process(self, x):
        yield x


class B(beam.DoFn):
    def __init__(self):
        self.gen = (i for i in range(3))

    def process(self, x):
        yield x


def run():
    with beam.Pipeline() as p:
        (p | beam.Create([1, 2]) | "a" >> beam.ParDo(A()) | "b" >> beam.ParDo(B()))


if __name__ == "__main__":
    run()
