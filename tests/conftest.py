"""Shared fixtures. The Spark session starts only when a test asks for it (a JVM takes seconds)."""

from __future__ import annotations

import os
import sys

import pytest

# Beam's gRPC threads are alive when a later test starts Spark's JVM with fork+exec; gRPC's fork
# handlers then race with them ("Other threads are currently calling into gRPC, skipping fork()
# handlers") and the JVM can die before it reports its port. No test here forks a gRPC user.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")


@pytest.fixture(scope="session")
def spark_context():
    """A local PySpark SparkContext (Java 17 is on every machine), shared by the whole run."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext

    conf = (
        SparkConf()
        .setMaster("local[2]")
        .setAppName("coderkit-tests")
        .set("spark.ui.enabled", "false")
        .set("spark.driver.memory", "1g")
        .set("spark.sql.shuffle.partitions", "2")
    )
    from pyspark.errors.exceptions.base import PySparkRuntimeError

    for attempt in range(3):  # a JVM that exits before reporting its port is retried, not a test failure
        try:
            sc = SparkContext.getOrCreate(conf)
            break
        except PySparkRuntimeError as e:
            if "JAVA_GATEWAY_EXITED" not in str(e) or attempt == 2:
                raise
    sc.setLogLevel("ERROR")
    yield sc
    sc.stop()
