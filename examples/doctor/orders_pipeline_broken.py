"""A pipeline with the mistakes `coderkit doctor` exists to catch, before a job is submitted.

Beam itself would stop at the first bad ParDo with "Unable to pickle fn"; the doctor
builds the whole pipeline without running it and lists every problem.
Run: coderkit doctor examples/doctor/orders_pipeline_broken.py
"""

import logging
import sqlite3
import threading
from dataclasses import dataclass

import apache_beam as beam


@dataclass
class Order:
    customer: str
    amount: float


class EnrichFromDatabase(beam.DoFn):
    """Mistake 1: opens the connection in __init__, which runs on the driver."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path)

    def process(self, order):
        yield order


class AuditLog(beam.DoFn):
    """Mistake 2: a logging handler with an open stream, and a lock shared by 'all workers'."""

    def __init__(self, path):
        self.handler = logging.FileHandler(path, delay=False)
        self.lock = threading.Lock()

    def process(self, order):
        with self.lock:
            yield order


def parse(line):
    customer, amount = line.split(",")
    return Order(customer, float(amount))


def run(argv=None):
    import tempfile

    workdir = tempfile.mkdtemp()
    with beam.Pipeline(argv=argv) as p:
        orders = (
            p
            | "Read" >> beam.Create(["ann,10.5", "bob,3.0", "ann,-0.0"])
            | "Parse" >> beam.Map(parse).with_output_types(Order)
            | "Enrich" >> beam.ParDo(EnrichFromDatabase(f"{workdir}/customers.db")).with_output_types(Order)
            | "Audit" >> beam.ParDo(AuditLog(f"{workdir}/audit.log")).with_output_types(Order)
        )
        # Mistake 3: grouping by a float (-0.0 and 0.0 are equal but land in different groups).
        (
            orders
            | "ByAmount" >> beam.Map(lambda o: (o.amount, o.customer)).with_output_types(tuple[float, str])
            | "GroupByAmount" >> beam.GroupByKey()
        )


if __name__ == "__main__":
    run()
