"""coderkit's RecordCoder for a pydantic v2 model vs pydantic's JSON (``model_dump_json`` + ``model_validate_json``).

The model has a nested model, an Optional field, a list of nested models and a datetime (aware UTC,
millisecond precision, which every datetime coder the registry may give keeps exactly). Both sides
are checked first: each must give back a model equal to the original, of the same class. Then
encode+decode round trips per second, side by side in this process, and the ratio (target >= 2.0).
coderkit decodes without re-running validators (as ``model_construct``); pydantic's JSON path
validates every field, which is what a pipeline pays when it ships models as JSON.
"""

from __future__ import annotations

import datetime
import random
from typing import Optional, Sequence

from pydantic import BaseModel

import coders

from .common import Table, compare_rates, parse_args

FULL_SIZE = 20_000
QUICK_SIZE = 2_000
TARGET = 2.0


class Customer(BaseModel):
    id: int
    name: str
    country: str


class Item(BaseModel):
    sku: str
    qty: int
    price_cents: int


class Purchase(BaseModel):
    order_id: int
    customer: Customer
    items: list[Item]
    placed_at: datetime.datetime
    coupon: Optional[str] = None
    total: float


def make_purchases(n: int, rng: random.Random) -> list[Purchase]:
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    out = []
    for i in range(n):
        items = [
            Item(sku=f"sku-{rng.randrange(1000)}", qty=rng.randrange(1, 5), price_cents=rng.randrange(100, 10_000))
            for _ in range(rng.randrange(1, 4))
        ]
        out.append(
            Purchase(
                order_id=i,
                customer=Customer(
                    id=rng.randrange(10**6), name=f"customer {i}", country=rng.choice(["DE", "FR", "US"])
                ),
                items=items,
                placed_at=start + datetime.timedelta(milliseconds=rng.randrange(10**10)),
                coupon=rng.choice([None, "SPRING", "VIP"]),
                total=sum(it.qty * it.price_cents for it in items) / 100,
            )
        )
    return out


def check_exact(label: str, encode, decode, data: Sequence[Purchase]) -> None:
    for value in data:
        back = decode(encode(value))
        if type(back) is not type(value) or back != value:
            raise AssertionError(f"{label} does not round-trip {value!r}: got {back!r}")


def main(argv: Sequence[str] | None = None) -> Table:
    args = parse_args(argv, description=__doc__.splitlines()[0])
    n = QUICK_SIZE if args.quick else FULL_SIZE
    data = make_purchases(n, random.Random(9))
    coder = coders.get_coder(Purchase)

    def json_encode(m: Purchase) -> bytes:
        return m.model_dump_json().encode()

    json_decode = Purchase.model_validate_json
    check_exact("coderkit RecordCoder", coder.encode, coder.decode, data)
    check_exact("pydantic JSON", json_encode, json_decode, data)

    def ours():
        return [coder.decode(coder.encode(m)) for m in data]

    def peer():
        return [json_decode(m.model_dump_json()) for m in data]

    table = Table(
        "pydantic model (nested models, datetime, Optional): RecordCoder vs model_dump_json + model_validate_json, "
        "round trips per second",
        ours="coderkit",
        peer="pydantic json",
    )
    ours_size = sum(len(coder.encode(m)) for m in data) / n
    json_size = sum(len(json_encode(m)) for m in data) / n
    table.add(
        "Purchase round trip",
        *compare_rates(ours, peer, n, repeat=args.repeat),
        TARGET,
        note=f"{ours_size:.0f} vs {json_size:.0f} bytes each",
    )
    table.add(
        "Purchase encode",
        *compare_rates(
            lambda: [coder.encode(m) for m in data], lambda: [m.model_dump_json() for m in data], n, repeat=args.repeat
        ),
    )
    ours_bytes, json_texts = [coder.encode(m) for m in data], [m.model_dump_json() for m in data]
    table.add(
        "Purchase decode",
        *compare_rates(
            lambda: [coder.decode(b) for b in ours_bytes],
            lambda: [json_decode(t) for t in json_texts],
            n,
            repeat=args.repeat,
        ),
    )
    table.print()
    return table


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
