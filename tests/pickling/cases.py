"""Module-level fixtures for the picklability tests: realistic DoFns and helpers with the
mistakes people make (and the fixes). Module level, so the classes pickle by reference
exactly as they would from an installed package."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import logging
import os
import socket
import sqlite3
import threading
from typing import NamedTuple

import apache_beam as beam


class SocketDoFn(beam.DoFn):
    def __init__(self):
        self.sock = socket.socket()

    def process(self, element):
        yield element


class SqliteDoFn(beam.DoFn):
    def __init__(self, path=":memory:"):
        self.conn = sqlite3.connect(path)

    def process(self, element):
        yield element


class Transport:
    def __init__(self):
        self._sock = socket.socket()
        self._pool = [socket.socket()]
        self.timeout = 30


class ApiClient:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self._transport = Transport()


class ClientDoFn(beam.DoFn):
    def __init__(self):
        self.client = ApiClient("https://api.example.com")

    def process(self, element):
        yield element


class LockDoFn(beam.DoFn):
    def __init__(self):
        self.lock = threading.Lock()

    def process(self, element):
        with self.lock:
            yield element


class FileDoFn(beam.DoFn):
    def __init__(self, path):
        self.out = open(path, "w")

    def process(self, element):
        self.out.write(str(element))
        yield element


class ReadFileDoFn(beam.DoFn):
    def __init__(self, path):
        self.lookup = open(path)

    def process(self, element):
        yield element


class GeneratorDoFn(beam.DoFn):
    def __init__(self):
        self.rows = (i * i for i in range(10))

    def process(self, element):
        yield element, next(self.rows)


class LoggingDoFn(beam.DoFn):
    def __init__(self, path):
        self.handler = logging.StreamHandler(open(path, "w"))

    def process(self, element):
        yield element


class PoolDoFn(beam.DoFn):
    def __init__(self):
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)

    def process(self, element):
        yield self.pool.submit(str, element).result()


class Channel:
    """A gRPC-like channel: a socket and the lock that guards it."""

    def __init__(self, target):
        self.target = target
        self._sock = socket.socket()
        self._lock = threading.Lock()


class ChannelDoFn(beam.DoFn):
    def __init__(self):
        self.channel = Channel("localhost:50051")

    def process(self, element):
        yield element


def make_scorer(weights):
    return lambda x: float(weights.sum()) * x


def make_lookup(table):
    return lambda key: table.get(key)


def make_parser():
    class Record:
        def __init__(self, line):
            self.line = line

    def parse(line):
        return Record(line)

    return parse


class Registry:
    def __init__(self):
        self._lock = threading.Lock()
        self._items = {"a": 1}

    def lookup(self, key):
        with self._lock:
            return self._items.get(key)


REGISTRY = Registry()


def make_handler():
    def handle(key):
        return REGISTRY.lookup(key)

    return handle


class LicensedModel:
    def __reduce__(self):
        raise TypeError("LicensedModel holds a live license handle; build it on the worker")


class LicensedDoFn(beam.DoFn):
    def __init__(self):
        self.model = LicensedModel()

    def process(self, element):
        yield element


class Fragile:
    def __init__(self):
        self.version = 3

    def __getstate__(self):
        return {"version": self.version}

    def __setstate__(self, state):
        raise ValueError(f"schema version {state['version']} is not supported by this reader")


class FragileDoFn(beam.DoFn):
    def __init__(self):
        self.model = Fragile()

    def process(self, element):
        yield element


class CythonLike:
    """Stands in for a Cython type: pickle fails with Cython's own message."""

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "self._handle cannot be converted to a Python object for pickling"
            if protocol < 0
            else "no default __reduce__ due to non-trivial __cinit__"
        )


class EnvBound:
    """Needs the launcher's environment to unpickle."""

    def __init__(self):
        self.token_name = "CODERKIT_TEST_TOKEN"

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.token = os.environ[self.token_name]


class WarehouseClient:
    """A client that keeps its secret out of the pickle and reads it again when loaded: it
    loads wherever WAREHOUSE_TOKEN is set (the driver) and nowhere else (a worker)."""

    def __init__(self, url):
        self.url = url
        self.token = os.environ["WAREHOUSE_TOKEN"]

    def __getstate__(self):
        return {"url": self.url}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.token = os.environ["WAREHOUSE_TOKEN"]


class RetryPolicy:
    def __init__(self, attempts=3, backoff_seconds=1.5):
        self.attempts, self.backoff_seconds = attempts, backoff_seconds


class LoadToWarehouseDoFn(beam.DoFn):
    """Builds its client in __init__ (on the driver): it pickles, and even loads in process."""

    def __init__(self, table="events"):
        self.table = table
        self.retry = RetryPolicy()
        self.client = WarehouseClient("https://warehouse.example.com")

    def process(self, element):
        yield element


class WarehouseSink:
    def __init__(self):
        self.batch_size = 500
        self.retry = RetryPolicy()
        self.client = WarehouseClient("https://warehouse.example.com")


class ExportDoFn(beam.DoFn):
    """The environment-bound client two levels down, beside parts that load anywhere."""

    def __init__(self):
        self.columns = ["id", "ts"]
        self.sink = WarehouseSink()

    def process(self, element):
        yield element


class UsesDriverOnly(beam.DoFn):
    def __init__(self, config):
        self.config = config

    def process(self, element):
        yield element


class Node:
    def __init__(self, value, next=None):
        self.value = value
        self.next = next


def linked_list(n):
    head = None
    for i in range(n):
        head = Node(i, head)
    return head


class SelfRef:
    def __init__(self, with_socket):
        self.me = self
        self.items = [self]
        if with_socket:
            self.sock = socket.socket()


class Loop:
    """__reduce__ passes the object to its own constructor: infinite recursion."""

    def __init__(self, other=None):
        self.other = other if other is not None else self

    def __reduce__(self):
        return (Loop, (self.other,))


class Job:
    def __init__(self, pipeline, threshold):
        self.pipeline = pipeline
        self.threshold = threshold

    def keep_big(self):
        return lambda x: x > self.threshold


class Service:
    def __init__(self):
        self.session = socket.socket()

    def fetch(self, key):
        return key


@dataclasses.dataclass
class Counter:
    name: str
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class GoodDoFn(beam.DoFn):
    """The fix: keep the connection string, open the connection on the worker."""

    def __init__(self, path=":memory:"):
        self.path = path
        self.conn = None

    def setup(self):
        self.conn = sqlite3.connect(self.path)

    def process(self, element):
        yield element

    def teardown(self):
        if self.conn is not None:
            self.conn.close()


def scale(factor, x):
    return factor * x


SCALE_BY_3 = functools.partial(scale, 3)


class Tools:
    @staticmethod
    def normalize(text):
        return text.strip().lower()


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def scale(self, x):
        return self.factor * x


class Config(NamedTuple):
    host: str
    port: int


class CachingDoFn(beam.DoFn):
    """The socket is dropped by __getstate__ and reopened lazily: clean."""

    def __init__(self):
        self.host = "localhost"
        self._sock = socket.socket()

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_sock"] = None
        return state

    def process(self, element):
        yield element


class LossyConfig:
    """__getstate__ drops a field that __eq__ compares: equal before, unequal after."""

    def __init__(self, name, tags):
        self.name, self.tags = name, tags

    def __eq__(self, other):
        return isinstance(other, LossyConfig) and (self.name, self.tags) == (other.name, other.tags)

    def __getstate__(self):
        return {"name": self.name}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.tags = ()
