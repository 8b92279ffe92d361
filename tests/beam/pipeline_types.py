"""Record types for the Beam pipeline tests, in an importable module so worker processes can load them.

Tests put this directory on sys.path (and on PYTHONPATH for multi-processing workers)
and import it as ``pipeline_types``.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import NamedTuple, Optional, Tuple, Union


class Status(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"


class CustomerKey(NamedTuple):
    region: str
    customer_id: int


@dataclasses.dataclass(frozen=True)
class Sku:
    code: str
    size: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Order:
    order_id: int
    customer: CustomerKey
    sku: Sku
    status: Status
    amount_cents: int
    tags: Tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Customer:
    key: CustomerKey
    name: str


@dataclasses.dataclass(frozen=True)
class Price:
    amount: float


@dataclasses.dataclass(frozen=True)
class Measure:
    name: str
    value: Union[int, float]


class Opaque:
    """No rule derives a coder for this: coderkit would pickle it, so install() leaves it to Beam."""

    def __init__(self, payload):
        self.payload = payload

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.payload == self.payload

    def __hash__(self):
        return hash(self.payload)


@dataclasses.dataclass(frozen=True)
class WithOpaque:
    name: str
    blob: Opaque


def sample_orders() -> list[Order]:
    north, south = CustomerKey("north", 1), CustomerKey("south", 2)
    return [
        Order(1, north, Sku("A", 10), Status.NEW, 1250, ("gift",)),
        Order(2, north, Sku("B"), Status.PAID, 399),
        Order(3, south, Sku("A", 10), Status.PAID, 5000, ("bulk", "gift")),
        Order(4, south, Sku("C", 2), Status.SHIPPED, 10),
        Order(5, north, Sku("A", 10), Status.PAID, 75),
    ]


def sample_customers() -> list[Customer]:
    return [
        Customer(CustomerKey("north", 1), "Ada"),
        Customer(CustomerKey("south", 2), "Grace"),
        Customer(CustomerKey("east", 3), "Edsger"),
    ]
