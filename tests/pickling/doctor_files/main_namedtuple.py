"""A NamedTuple defined in the launched script reaches a GroupByKey: run with
--direct_running_mode=multi_processing, the workers fail with PicklingError (Beam 2.77 pickles fns with
cloudpickle and does not restore __main__ on workers, even with --save_main_session)."""

import sys
import typing

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


class Order(typing.NamedTuple):
    customer: str
    amount: float


def to_order(line):
    name, amount = line.split(",")
    return Order(name, float(amount))


if __name__ == "__main__":
    opts = PipelineOptions(sys.argv[1:])
    with beam.Pipeline(options=opts) as p:
        (
            p
            | beam.Create(["a,1", "b,2", "a,3"])
            | beam.Map(to_order)
            | beam.Map(lambda o: (o.customer, o))
            | beam.GroupByKey()
            | beam.Map(lambda kv: (kv[0], sum(o.amount for o in kv[1])))
            | beam.Map(print)
        )
