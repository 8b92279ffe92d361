"""A script that prints and logs while it builds its pipeline, then waits for it and reads its metrics."""

import logging

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter

logging.getLogger().setLevel(logging.INFO)
print("building the pipeline")
logging.warning("a log line from the script")
p = beam.Pipeline()
p | beam.Create(["a", "b"]) | "Pair" >> beam.Map(lambda w: (w, 1)) | "Group" >> beam.GroupByKey()
result = p.run()
result.wait_until_finish()
counters = result.metrics().query(MetricsFilter().with_name("empty_lines"))["counters"]
print(f"state {result.state}, {len(counters)} counters")
