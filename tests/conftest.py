"""Shared fixtures. The Spark session starts only when a test asks for it (a JVM takes seconds)."""

from __future__ import annotations

import os
import sys

import pytest


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
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    yield sc
    sc.stop()
