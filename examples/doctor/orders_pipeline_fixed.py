"""The same pipeline with each mistake fixed: `coderkit doctor` reports it clean.

Run: coderkit doctor examples/doctor/orders_pipeline_fixed.py
"""

import logging
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

import apache_beam as beam

import coders
import coders.beam


@dataclass(frozen=True)
class Order:
    customer: str
    amount: Decimal


class EnrichFromDatabase(beam.DoFn):
    """Fixed: keeps the path; opens the connection on the worker, in setup()."""

    def __init__(self, path):
        self.path = path
        self.conn = None

    def setup(self):
        self.conn = sqlite3.connect(self.path)

    def process(self, order):
        yield order

    def teardown(self):
        if self.conn is not None:
            self.conn.close()


class AuditLog(beam.DoFn):
    """Fixed: each worker creates its own logger in setup(); nothing pretends to be shared."""

    def __init__(self, path):
        self.path = path
        self.log = None

    def setup(self):
        self.log = logging.getLogger("audit")

    def process(self, order):
        self.log.debug("order %s", order)
        yield order


def parse(line):
    customer, amount = line.split(",")
    return Order(customer, Decimal(amount))


def run(argv=None):
    import tempfile

    coders.beam.install()  # Order gets a derived, deterministic coder instead of pickle
    workdir = tempfile.mkdtemp()
    with beam.Pipeline(argv=argv) as p:
        orders = (
            p
            | "Read" >> beam.Create(["ann,10.5", "bob,3.0", "ann,-0.0"])
            | "Parse" >> beam.Map(parse).with_output_types(Order)
            | "Enrich" >> beam.ParDo(EnrichFromDatabase(f"{workdir}/customers.db")).with_output_types(Order)
            | "Audit" >> beam.ParDo(AuditLog(f"{workdir}/audit.log")).with_output_types(Order)
        )
        # Fixed: key by the customer (a str), a deterministic key.
        (
            orders
            | "ByCustomer" >> beam.Map(lambda o: (o.customer, o)).with_output_types(tuple[str, Order])
            | "GroupByCustomer" >> beam.GroupByKey()
        )


if __name__ == "__main__":
    run()
