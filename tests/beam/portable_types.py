"""Types and functions for the portable-runner tests, in an importable module: the SDK worker is another
process, started by the worker pool, and imports them from PYTHONPATH (the fixtures put this
directory and the repository root there). Tests import it as ``portable_types``.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import uuid
from pathlib import Path
from typing import NamedTuple, Optional, Tuple

import apache_beam as beam


@dataclasses.dataclass(frozen=True)
class Reading:
    """A record for coderkit's RecordCoder (install() with the default record format)."""

    sensor: str
    at: int
    value: float
    ok: bool
    note: Optional[str] = None


READINGS = [
    Reading("a", 1, 0.5, True),
    Reading("b", 2, -0.0, False, "recalibrated"),
    Reading("a", 3, 1e300, True, ""),
    Reading("b", 4, 2.25, True),
]


class Store(NamedTuple):
    region: str
    number: int


@dataclasses.dataclass
class Sale:
    """A record for coderkit's RowCoder (install(record_format="row")), keyed by a NamedTuple row."""

    store: Store
    skus: Tuple[str, ...]
    amount: int
    note: Optional[str] = None


SALES = [
    Sale(Store("eu", 1), ("a", "b"), 5),
    Sale(Store("eu", 1), (), 7, "refund"),
    Sale(Store("us", 2), ("c",), 11),
]

#: Float keys that Beam's FloatCoder would split (-0.0 and 0.0 encode apart) and a key of each sign.
FLOAT_KEYED = [(0.0, "zero"), (-0.0, "minus zero"), (1.5, "one and a half"), (-1.5, "minus one and a half")]
DATE_KEYED = [
    (datetime.date(2024, 2, 29), 1),
    (datetime.date(1970, 1, 1), 2),
    (datetime.date(2024, 2, 29), 3),
    (datetime.date(9999, 12, 31), 4),
]


def describe(value) -> str:
    """The exact repr of a value as a worker holds it, with the class of every record and field in it:
    equal values are not enough (a BeamSchema_ class or a list in a tuple field compares equal)."""
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return "(" + ", ".join(describe(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) or hasattr(value, "_fields"):
        names = [f.name for f in dataclasses.fields(value)] if dataclasses.is_dataclass(value) else value._fields
        inner = ", ".join(f"{n}={describe(getattr(value, n))}" for n in names)
        return f"{type(value).__module__}.{type(value).__qualname__}({inner})"
    return f"{type(value).__name__}:{value!r}"


def by_sensor(reading: Reading) -> Tuple[str, Reading]:
    return reading.sensor, reading


def sale_at(index: int) -> Sale:
    return SALES[index]


def by_store(sale: Sale) -> Tuple[Store, Sale]:
    return sale.store, sale


def sorted_group(pair, sort_key):
    """A grouped (key, values) with the values in a fixed order (a shuffle gives them in any order)."""
    key, values = pair
    return key, sorted(values, key=sort_key)


class WriteReprs(beam.DoFn):
    """Writes ``describe(element)`` lines to a new file in ``directory`` per bundle, named by the
    writing process's pid, so the test reads exactly what the worker held, and who held it."""

    def __init__(self, directory: str):
        self.directory = directory

    def start_bundle(self):
        self.lines = []

    def process(self, element):
        self.lines.append(describe(element))

    def finish_bundle(self):
        if self.lines:
            path = Path(self.directory) / f"{os.getpid()}-{uuid.uuid4().hex}.txt"
            path.write_text("".join(line + "\n" for line in self.lines), encoding="utf-8")
