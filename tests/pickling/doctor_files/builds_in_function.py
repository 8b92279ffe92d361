"""A pipeline file whose pipeline is built by a function that returns it (never run)."""

import apache_beam as beam


class Upper(beam.DoFn):
    def setup(self):
        raise AssertionError("setup() must never run while the doctor loads a file")

    def process(self, word):
        yield word.upper()


def build():
    p = beam.Pipeline()
    p | beam.Create(["a", "b"]) | "Upper" >> beam.ParDo(Upper())
    return p


if __name__ == "__main__":
    build().run().wait_until_finish()
