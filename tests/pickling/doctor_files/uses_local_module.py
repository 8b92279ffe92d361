"""Its DoFn lives in a module beside the file, which workers will not have (no setup.py ships it)."""

import apache_beam as beam
from local_helpers import Tokenize


def run():
    with beam.Pipeline() as p:
        p | beam.Create(["a b"]) | "Tokenize" >> beam.ParDo(Tokenize())


if __name__ == "__main__":
    run()
