"""Read and write PySpark ``RDD.saveAsPickleFile`` output in plain Python: no Spark, no Java.

What Spark writes (``saveAsPickleFile`` -> ``saveAsObjectFile`` -> ``saveAsSequenceFile``):

* a directory of Hadoop SequenceFiles ``part-00000``, ``part-00001``, ... plus ``_SUCCESS``,
  with key class ``org.apache.hadoop.io.NullWritable`` and value class
  ``org.apache.hadoop.io.BytesWritable``; Hadoop's output compression settings apply;
* each value is the Java serialization (``ObjectOutputStream``) of a ``byte[][]`` holding up
  to 10 *batches* (Scala's ``iter.grouped(10)``);
* each batch is a pickle (cloudpickle, highest protocol) of a ``list`` of ``batchSize``
  objects (any length when ``batchSize=0`` auto-batches).

The Java serialization of a ``byte[][]`` (Java Object Serialization Specification, ch. 6)::

    AC ED 00 05                         stream magic and version
    75                                  TC_ARRAY
      72 00 03 "[[B" <uid:8> 02 00 00   TC_CLASSDESC, name, serialVersionUID, SC_SERIALIZABLE, 0 fields
      78 70                             TC_ENDBLOCKDATA (no annotation), TC_NULL (no superclass)
      <n:int32>                         number of elements
      75 72 00 02 "[B" <uid:8> 02 00 00 78 70 <len:int32> <len bytes>    first byte[]
      75 71 00 7E 00 02 <len:int32> <len bytes>                          later ones: TC_REFERENCE
                                                                          to the "[B" class desc

Every new class descriptor and array gets the next handle from ``0x7E0000``;
``TC_REFERENCE`` names an earlier one. :func:`split_java_byte_arrays` parses that
with memoryview slices (no copies) and :func:`java_serialize_byte_arrays` writes it.

Unpickling runs arbitrary code. ``safe=True`` uses :class:`SafeUnpickler`, which
only hands out the globals listed in :data:`SAFE_GLOBALS` plus a user allowlist and
raises :class:`UnsafeGlobalError` for anything else. Both modes map PySpark's bundled
cloudpickle (``pyspark.cloudpickle.cloudpickle``) to the standalone ``cloudpickle``
PySpark's namedtuple hack (``pyspark.serializers._restore``) to :func:`restore_namedtuple`
and DataFrame rows (``pyspark.sql.types._create_row``) to :class:`SparkRow`, so no file
needs pyspark installed to load.
"""

from __future__ import annotations

import _compat_pickle
import collections
import io
import operator
import os
import pickle
import re
import struct
from typing import Any, Callable, Iterable, Iterator, Sequence

from coders import accel
from coders.errors import DecodeError
from coders.hadoop.sequencefile import SequenceFileReader, SequenceFileWriter, list_part_files

__all__ = [
    "BATCHES_PER_RECORD",
    "BYTES_WRITABLE",
    "NULL_WRITABLE",
    "SAFE_GLOBALS",
    "PickleFileDecoder",
    "SafeUnpickler",
    "SparkRow",
    "UnsafeGlobalError",
    "check_classes",
    "check_raw_record",
    "dump",
    "iter_batches",
    "iter_records",
    "iter_values",
    "java_serialize_byte_arrays",
    "load",
    "part_files",
    "restore_namedtuple",
    "restore_spark_row",
    "split_java_byte_arrays",
]

NULL_WRITABLE = "org.apache.hadoop.io.NullWritable"
BYTES_WRITABLE = "org.apache.hadoop.io.BytesWritable"
BATCHES_PER_RECORD = 10  # Spark's saveAsObjectFile groups 10 byte[] per SequenceFile record
PICKLE_PROTOCOL = 5  # what PySpark writes on Python 3.8+ (pickle.HIGHEST_PROTOCOL)

# ---------------------------------------------------------------------------------------------
# Java object serialization of byte[][]
# ---------------------------------------------------------------------------------------------

STREAM_MAGIC = b"\xac\xed\x00\x05"
TC_NULL, TC_REFERENCE, TC_CLASSDESC, TC_ARRAY, TC_ENDBLOCKDATA = 0x70, 0x71, 0x72, 0x75, 0x78
BASE_WIRE_HANDLE = 0x7E0000
SC_SERIALIZABLE = 0x02
# serialVersionUIDs the JVM computes for the array classes (what ObjectOutputStream writes)
BYTE_ARRAY_ARRAY_UID = 0x4BFD19156767DB37  # [[B
BYTE_ARRAY_UID = 0xACF317F8060854E0  # [B

_INT32 = struct.Struct(">i")
_U16 = struct.Struct(">H")
_UINT32 = struct.Struct(">I")
# What Spark's ObjectOutputStream writes, byte for byte: the decoder's fast path checks these
_SPARK_HEAD = bytes.fromhex("aced000575720003") + b"[[B" + bytes.fromhex("4bfd19156767db370200007870")
_SPARK_FIRST = bytes.fromhex("75720002") + b"[B" + bytes.fromhex("acf317f8060854e00200007870")
_SPARK_REF = bytes.fromhex("7571007e0002")
_ELEMENT_HEAD = struct.Struct(">6sI")
# PickleFileDecoder's fast loop and its per-value substring test in C, when the accelerator is built
_load_spark_batches = accel.load_spark_batches  # None on the pure-Python path
_contains = accel.contains or operator.contains
_SPARK_PREFIX = struct.Struct(
    ">24si19sI"
)  # head, count, first element's head, its length: 51 bytes  # TC_ARRAY TC_REFERENCE <handle> <length>: the common case


class _JavaFormatError(Exception):
    """Internal: malformed Java serialization at ``offset`` (relative to the value)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def _reference(data, pos: int, end: int, handles: list, kind: type, what: str):
    """Resolve a TC_REFERENCE at ``pos`` (a 4-byte handle) to an earlier ``what``; returns it and the next position."""
    if pos + 5 > end:
        raise _JavaFormatError(f"truncated reference to a {what}", pos)
    handle = int.from_bytes(data[pos + 1 : pos + 5], "big") - BASE_WIRE_HANDLE
    target = handles[handle] if 0 <= handle < len(handles) else None
    if not isinstance(target, kind):
        raise _JavaFormatError(f"TC_REFERENCE to handle {handle + BASE_WIRE_HANDLE:#x} is not a {what}", pos)
    return target, pos + 5


def _read_class_desc(data, pos: int, handles: list) -> tuple[str, int]:
    """Read a classDesc (new or a reference) at ``pos``; return its class name and the next position."""
    if pos >= len(data):
        raise _JavaFormatError("truncated: expected a class descriptor", pos)
    tc = data[pos]
    if tc == TC_REFERENCE:
        return _reference(data, pos, len(data), handles, str, "class descriptor")
    if tc != TC_CLASSDESC:
        raise _JavaFormatError(
            f"expected a class descriptor (TC_CLASSDESC 0x72 or TC_REFERENCE 0x71), found {tc:#04x}", pos
        )
    if pos + 3 > len(data):
        raise _JavaFormatError("truncated class descriptor", pos)
    (name_len,) = _U16.unpack_from(data, pos + 1)
    start = pos + 3
    stop = start + name_len + 8 + 1 + 2 + 2  # name, uid, flags, field count, endblock + superclass
    if stop > len(data):
        raise _JavaFormatError("truncated class descriptor", pos)
    try:
        name = bytes(data[start : start + name_len]).decode("utf-8")
    except UnicodeDecodeError:
        raise _JavaFormatError("class name is not valid (modified) UTF-8", start) from None
    p = start + name_len + 8
    flags = data[p]
    (n_fields,) = _U16.unpack_from(data, p + 1)
    p += 3
    if not flags & SC_SERIALIZABLE or n_fields:
        raise _JavaFormatError(
            f"class descriptor {name!r} is not a serializable array class (flags {flags:#04x}, {n_fields} fields)", pos
        )
    if data[p] != TC_ENDBLOCKDATA:
        raise _JavaFormatError(
            f"class descriptor {name!r} has an annotation (expected TC_ENDBLOCKDATA 0x78, found {data[p]:#04x})", p
        )
    if data[p + 1] != TC_NULL:
        raise _JavaFormatError(
            f"class descriptor {name!r} has a superclass (expected TC_NULL 0x70, found {data[p + 1]:#04x})", p + 1
        )
    handles.append(name)
    return name, p + 2


def _java_header(data) -> tuple[int, int, list]:
    """Check the stream header and the ``byte[][]`` class; return (element count, position, handles)."""
    end = len(data)
    if data[:4] != STREAM_MAGIC:
        if end < 4 and STREAM_MAGIC.startswith(bytes(data)):
            raise _JavaFormatError("truncated Java serialization stream header", 0)
        raise _JavaFormatError(f"not a Java serialization stream (magic {bytes(data[:4]).hex()}, expected aced0005)", 0)
    if end < 5 or data[4] != TC_ARRAY:
        raise _JavaFormatError(
            "expected TC_ARRAY 0x75 holding byte[][]" + (" (truncated)" if end < 5 else f", found {data[4]:#04x}"), 4
        )
    handles: list = []
    name, pos = _read_class_desc(data, 5, handles)
    if name != "[[B":
        raise _JavaFormatError(f"expected an array of class '[[B' (byte[][]), found {name!r}", 5)
    handles.append(None)  # the outer array object
    if pos + 4 > end:
        raise _JavaFormatError("truncated: missing the byte[][] length", pos)
    (count,) = _INT32.unpack_from(data, pos)
    pos += 4
    if count < 0 or count > end - pos:  # every element takes at least one byte
        raise _JavaFormatError(f"byte[][] length {count} is impossible for the {end - pos} byte(s) left", pos - 4)
    return count, pos, handles


def _read_element(data, mv, pos: int, handles: list, index: int, count: int) -> tuple[memoryview, int]:
    """Read one ``byte[]`` element in any form the specification allows; return it and the next position."""
    end = len(data)
    if pos >= end:
        raise _JavaFormatError(f"truncated: byte[][] declares {count} element(s), found {index}", pos)
    tc = data[pos]
    if tc == TC_ARRAY:
        at = pos
        name, pos = _read_class_desc(data, pos + 1, handles)
        if name != "[B":
            raise _JavaFormatError(f"expected an element of class '[B' (byte[]), found {name!r}", at)
        if pos + 4 > end:
            raise _JavaFormatError("truncated: missing a byte[] length", pos)
        (length,) = _INT32.unpack_from(data, pos)
        start = pos + 4
        if not 0 <= length <= end - start:
            raise _JavaFormatError(f"byte[] of length {length} runs past the end of the value ({end} bytes)", pos)
        chunk = mv[start : start + length]
        handles.append(chunk)
        return chunk, start + length
    if tc == TC_REFERENCE:
        return _reference(data, pos, end, handles, memoryview, "byte[]")
    if tc == TC_NULL:
        raise _JavaFormatError(f"element {index} of the byte[][] is null, not a pickled batch", pos)
    raise _JavaFormatError(f"expected a byte[] element (TC_ARRAY 0x75), found {tc:#04x}", pos)


def _byte_array_ref(handles: list) -> bytes:
    """``TC_ARRAY TC_REFERENCE <handle of the [B class descriptor>``: the head the fast path expects."""
    if "[B" not in handles:
        return b""  # never equal to a 6-byte head
    return bytes((TC_ARRAY, TC_REFERENCE)) + (BASE_WIRE_HANDLE + handles.index("[B")).to_bytes(4, "big")


def split_java_byte_arrays(data) -> list:
    """The ``byte[]`` elements of a Java-serialized ``byte[][]``, as memoryview slices of ``data``.

    Raises ``_JavaFormatError`` (an internal error carrying the offset) on anything that
    is not exactly one ``byte[][]`` object: the callers add the file and record. The
    loop's fast path is the form Spark writes after the first element (``75 71
    <handle of [B> <length>``); everything else goes through :func:`_read_element`.
    :meth:`PickleFileDecoder.decode` repeats this loop, fused with unpickling.
    """
    count, pos, handles = _java_header(data)
    end = len(data)
    mv = memoryview(data)
    chunks = []
    ref = _byte_array_ref(handles)
    for index in range(count):
        if pos + 10 <= end:
            head, length = _ELEMENT_HEAD.unpack_from(data, pos)
            start = pos + 10
            if head == ref and 0 <= length <= end - start:
                pos = start + length
                chunk = mv[start:pos]
                chunks.append(chunk)
                handles.append(chunk)
                continue
        chunk, pos = _read_element(data, mv, pos, handles, index, count)
        chunks.append(chunk)
        ref = _byte_array_ref(handles)
    if pos != end:
        raise _JavaFormatError(f"{end - pos} trailing byte(s) after the byte[][] object", pos)
    return chunks


def java_serialize_byte_arrays(chunks: Sequence[bytes]) -> bytes:
    """The exact bytes ``ObjectOutputStream.writeObject(byte[][])`` writes for ``chunks``."""
    out = bytearray(STREAM_MAGIC)
    out += b"\x75\x72\x00\x03[[B" + BYTE_ARRAY_ARRAY_UID.to_bytes(8, "big") + b"\x02\x00\x00\x78\x70"
    out += _INT32.pack(len(chunks))
    for i, chunk in enumerate(chunks):
        if i == 0:
            out += b"\x75\x72\x00\x02[B" + BYTE_ARRAY_UID.to_bytes(8, "big") + b"\x02\x00\x00\x78\x70"
        else:
            out += b"\x75\x71\x00\x7e\x00\x02"  # handles: 0 [[B desc, 1 outer array, 2 [B desc
        out += _INT32.pack(len(chunk))
        out += chunk
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Unpicklers
# ---------------------------------------------------------------------------------------------

_namedtuple_classes: dict = {}


def restore_namedtuple(name, fields, value):
    """Stand-in for ``pyspark.serializers._restore``: rebuild a namedtuple PySpark's hack pickled.

    With ``PYSPARK_ENABLE_NAMEDTUPLE_PATCH=1`` PySpark pickles a namedtuple as
    ``_restore(name, fields, values)``; this builds (once per name and fields) a plain
    ``collections.namedtuple`` with that name and those fields, as PySpark does.
    """
    key = (name, tuple(fields))
    cls = _namedtuple_classes.get(key)
    if cls is None:
        cls = collections.namedtuple(name, fields)
        cls.__reduce__ = _reduce_restored  # re-picklable, like PySpark's hacked classes
        _namedtuple_classes[key] = cls
    return cls(*value)


def _reduce_restored(self):
    return (restore_namedtuple, (type(self).__name__, type(self)._fields, tuple(self)))


class SparkRow(tuple):
    """Stand-in for ``pyspark.sql.Row`` (what ``df.rdd`` holds): a tuple with named fields.

    PySpark pickles a Row with fields as ``pyspark.sql.types._create_row(fields, values)``;
    coderkit hands out :func:`restore_spark_row` for that global, which builds this class,
    so DataFrame rows load without pyspark. Like Row, it equals the plain tuple of its
    values, reads fields as attributes or by ``row["name"]``, and has ``asDict()``.
    """

    def __new__(cls, fields, values):
        row = tuple.__new__(cls, values)
        row.__fields__ = list(fields)
        return row

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[self.__fields__.index(name)]
        except ValueError:
            raise AttributeError(f"Row has no field {name!r} (fields: {', '.join(self.__fields__)})") from None

    def __getitem__(self, item):
        if isinstance(item, str):
            try:
                return tuple.__getitem__(self, self.__fields__.index(item))
            except ValueError:
                raise KeyError(item) from None
        return tuple.__getitem__(self, item)

    def asDict(self, recursive: bool = False) -> dict:
        """The fields as a dict (nested rows, lists and dicts converted too when ``recursive``)."""
        if not recursive:
            return dict(zip(self.__fields__, self))

        def convert(value):
            if isinstance(value, SparkRow):
                return value.asDict(True)
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            return value

        return {k: convert(v) for k, v in zip(self.__fields__, self)}

    def __repr__(self):
        return "Row(" + ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, self)) + ")"

    def __reduce__(self):
        return (restore_spark_row, (self.__fields__, tuple(self)))


def restore_spark_row(fields, values):
    """Stand-in for ``pyspark.sql.types._create_row``: a :class:`SparkRow`."""
    return SparkRow(fields, values)


# globals a file names -> what coderkit hands out instead (so pyspark need not be installed)
_REDIRECTS = {
    ("pyspark.serializers", "_restore"): restore_namedtuple,
    ("pyspark.sql.types", "_create_row"): restore_spark_row,
}
_REDIRECT_MODULES = {
    "pyspark.cloudpickle.cloudpickle": "cloudpickle.cloudpickle",
    "pyspark.cloudpickle.cloudpickle_fast": "cloudpickle.cloudpickle",
    "pyspark.cloudpickle": "cloudpickle",
}

_SAFE_BUILTINS = (
    "bool int float complex str bytes bytearray list tuple dict set frozenset range slice "
    "object Ellipsis NotImplemented"
)
#: ``module.name`` globals safe mode allows: value types and containers whose
#: construction runs no user code.
SAFE_GLOBALS = frozenset(
    [f"builtins.{n}" for n in _SAFE_BUILTINS.split()]
    + [f"collections.{n}" for n in ("OrderedDict", "defaultdict", "deque", "Counter")]
    + [f"datetime.{n}" for n in ("date", "time", "datetime", "timedelta", "timezone")]
    + [
        "decimal.Decimal",
        "copyreg._reconstructor",  # protocol 0/1 objects: calls base.__new__ on an allowed class
        "_codecs.encode",  # protocol 2 bytes: _codecs.encode(text, "latin1")
        "pyspark.serializers._restore",  # namedtuples, rebuilt by restore_namedtuple
        "pyspark.sql.types._create_row",  # DataFrame rows, rebuilt as SparkRow
        "pickling.spark.restore_namedtuple",
        "pickling.spark.restore_spark_row",  # their re-pickled forms
    ]
)


class UnsafeGlobalError(pickle.UnpicklingError):
    """Safe mode met a global it does not allow. Names it, the file, the record, and the fix."""

    def __init__(
        self,
        module: str,
        name: str,
        *,
        file: str | None = None,
        record: int | None = None,
        offset: int | None = None,
        reason: str | None = None,
    ):
        self.module = module
        self.name = name
        self.reason = reason
        self.file = file
        self.record = record
        self.offset = offset
        super().__init__(self._message())

    @property
    def global_name(self) -> str:
        return f"{self.module}.{self.name}"

    def _message(self) -> str:
        where = ""
        if self.file is not None:
            where = f" in {self.file}"
            if self.record is not None:
                where += f", SequenceFile record {self.record}"
            if self.offset is not None:
                where += f" at byte offset {self.offset}"
        top = self.module.split(".")[0]
        if self.reason:
            return (
                f"safe mode blocked global '{self.global_name}'{where}: {self.reason}. If you trust this file, "
                f"allow exactly this name with allow=['{self.global_name}'], or load with safe=False (CLI: --trust)"
            )
        return (
            f"safe mode blocked global '{self.global_name}'{where}: unpickling it could run code. "
            f"If you trust this file, allow it with allow=['{self.global_name}'] (or allow=['{top}.*']), "
            f"or load with safe=False (CLI: --trust)"
        )

    def locate(self, file: str, record: int | None, offset: int | None) -> UnsafeGlobalError:
        self.file, self.record, self.offset = file, record, offset
        self.args = (self._message(),)
        return self

    def __reduce__(self):
        return (_rebuild_unsafe, (self.module, self.name, self.file, self.record, self.offset, self.reason))


def _rebuild_unsafe(module, name, file, record, offset, reason=None):
    return UnsafeGlobalError(module, name, file=file, record=record, offset=offset, reason=reason)


def _compile_allow(allow: Iterable[str]) -> tuple[frozenset, tuple]:
    exact, prefixes = set(), []
    if isinstance(allow, str):
        allow = [allow]
    for pattern in allow:
        if not isinstance(pattern, str) or not pattern or pattern.startswith("."):
            raise ValueError(f"allow entries are 'module.name' or 'module.*' strings, got {pattern!r}")
        if pattern.endswith(".*"):
            prefixes.append(pattern[:-1])  # 'mypkg.*' -> 'mypkg.' : the module and its submodules
        elif pattern == "*":
            raise ValueError("allow=['*'] would allow everything: use safe=False instead")
        else:
            exact.add(pattern)
    return frozenset(exact), tuple(prefixes)


def _resolve(unpickler: pickle.Unpickler, module: str, name: str):
    redirect = _REDIRECTS.get((module, name))
    if redirect is not None:
        return redirect
    module = _REDIRECT_MODULES.get(module, module)
    return pickle.Unpickler.find_class(unpickler, module, name)


class _CompatUnpickler(pickle.Unpickler):
    """Trusted mode: every global allowed, PySpark's bundled names mapped to standalone ones."""

    def find_class(self, module, name):
        return _resolve(self, module, name)


class SafeUnpickler(pickle.Unpickler):
    """A restricted unpickler: only :data:`SAFE_GLOBALS` and the allowlist are handed out."""

    def __init__(self, file, *, allow: Iterable[str] = (), _rules: tuple | None = None, **kwargs):
        super().__init__(file, **kwargs)
        self._exact, self._prefixes = _rules if _rules is not None else _compile_allow(allow)

    def find_class(self, module, name):
        # protocol 0-2 pickles name Python 2 modules (__builtin__, copy_reg): check the Python 3 name
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if full in SAFE_GLOBALS or full in self._exact:
            return _resolve(self, module, name)
        if not full.startswith(self._prefixes):
            raise UnsafeGlobalError(module, name)
        # a wildcard allows what the module defines, not what can be reached through it:
        # 'mypkg.os.system' or 'mypkg.Cls.__init__.__globals__' must not pass as 'mypkg.*'
        if any(part.startswith("__") for part in name.split(".")):
            raise UnsafeGlobalError(module, name, reason="a dunder attribute is never allowed by a wildcard")
        obj = _resolve(self, module, name)
        home = getattr(obj, "__module__", None)
        if not isinstance(home, str) or not (f"{home}.".startswith(self._prefixes)):
            raise UnsafeGlobalError(
                module, name, reason=f"it resolves to an object of module {home!r}, outside the allowed modules"
            )
        return obj


# ---------------------------------------------------------------------------------------------
# Decoding one SequenceFile value
# ---------------------------------------------------------------------------------------------


def _where(file: str, record: int | None, offset: int | None) -> str:
    if record is not None:
        return f"{file}: SequenceFile record {record}"
    return f"{file}: SequenceFile record at byte offset {offset}"


class PickleFileDecoder:
    """Turns one SequenceFile value (Java ``byte[][]`` of pickled batches) into its objects.

    ``decode(value, file, record, offset)`` returns a list of objects; every failure is a
    :class:`coders.DecodeError` naming the file, record and offset, except
    :class:`UnsafeGlobalError` (safe mode), located the same way. Picklable, so a Beam
    source can carry it to workers.
    """

    def __init__(self, safe: bool = False, allow: Iterable[str] = ()):
        self.safe = bool(safe)
        self.allow = tuple([allow] if isinstance(allow, str) else allow)
        _compile_allow(self.allow)  # fail at construction on a bad pattern
        if allow and not safe:
            raise ValueError("allow=... only applies with safe=True (safe=False already allows every global)")

    def __repr__(self):
        return f"PickleFileDecoder(safe={self.safe}, allow={list(self.allow)!r})"

    def __eq__(self, other):
        return isinstance(other, PickleFileDecoder) and (self.safe, self.allow) == (other.safe, other.allow)

    def __hash__(self):
        return hash((self.safe, self.allow))

    def _loader(self, value) -> Callable:
        if self.safe:
            rules = _compile_allow(self.allow)
            return lambda b: SafeUnpickler(io.BytesIO(b), _rules=rules).load()
        if _contains(value, b"pyspark"):
            return lambda b: _CompatUnpickler(io.BytesIO(b)).load()
        return pickle.loads

    def decode(self, value, file: str = "<bytes>", record: int | None = None, offset: int | None = None) -> list:
        """The objects of one value; ``file``, ``record`` (number) and ``offset`` only go into errors."""
        out: list = []
        self.decode_into(value, out, file, record, offset)
        return out

    def decode_into(
        self,
        value,
        out: list,
        file: str = "<bytes>",
        record: int | None = None,
        offset: int | None = None,
        base: int = 0,
    ) -> None:
        """Append the objects of one value (``value[base:]``) to ``out``.

        This is :func:`split_java_byte_arrays`'s loop fused with unpickling, so each batch
        costs one ``unpack_from``, one slice and one ``loads``; ``base`` lets a caller pass
        a BytesWritable's raw bytes (``base=4`` skips its length) without copying. On an
        error ``out`` may already hold the objects of the batches before the bad one.
        """
        if not isinstance(value, (bytes, bytearray)):
            raise DecodeError(
                f"{_where(file, record, offset)} has a value of type {type(value).__name__}, expected the bytes of a "
                "BytesWritable (is this a saveAsPickleFile output?)",
                offset=offset,
            )
        data = value
        size = len(value) - base  # the Java stream's size, for messages
        i = 0
        chunk = b""
        try:
            loads = self._loader(data)
            end = len(data)
            pos = end
            done = count = 0  # elements loaded by the fast path, of how many
            if _load_spark_batches is not None:
                # the loop below in C (coders.accel): it stops where the loop would break or fail
                done, count, pos, bad = _load_spark_batches(
                    data, base, loads, out, _SPARK_HEAD, _SPARK_FIRST, _SPARK_REF
                )
                i = done
                if bad is not None:
                    raise _BadBatch(bad)
                head = None
            else:
                try:
                    head, count, first, length = _SPARK_PREFIX.unpack_from(data, base)
                except struct.error:
                    head = None
            if head == _SPARK_HEAD and first == _SPARK_FIRST:
                # exactly what Spark writes: header, count, first element with a new [B class descriptor
                start = base + 51
                pos = start + length
                if count > 0 and pos <= end:
                    extend = out.extend
                    mv = memoryview(data)
                    chunk = mv[start:pos]
                    batch = loads(chunk)
                    if type(batch) is not list:
                        raise _BadBatch(batch)
                    extend(batch)
                    unpack_head = _ELEMENT_HEAD.unpack_from
                    ref = _SPARK_REF
                    for i in range(1, count):  # noqa: B007 (i names the failing batch and where the loop stopped)
                        # every later element: 75 71 00 7e 00 02 <length>, a reference to the [B descriptor;
                        # a length past the end only shortens the slice: the check after the loop catches it
                        try:
                            head, length = unpack_head(data, pos)
                        except struct.error:  # truncated: the reference parser says where
                            break
                        if head != ref:
                            break
                        start = pos + 10
                        pos = start + length
                        chunk = mv[start:pos]
                        batch = loads(chunk)
                        if type(batch) is not list:
                            raise _BadBatch(batch)
                        extend(batch)
                    else:
                        i = count
                    done = i
            if not done or done < count:
                # any other form (or an error): the reference parser, from the first element not loaded
                chunks = split_java_byte_arrays(bytes(data[base:]) if base else data)
                for i in range(done, len(chunks)):
                    chunk = chunks[i]
                    batch = loads(chunk)
                    if type(batch) is not list:
                        raise _BadBatch(batch)
                    out.extend(batch)
                pos = end
            if pos != end:
                if pos > end:  # a length ran past the end: let the reference parser say where
                    split_java_byte_arrays(bytes(data[base:]))
                raise _JavaFormatError(f"{end - pos} trailing byte(s) after the byte[][] object", pos - base)
        except _JavaFormatError as e:
            raise DecodeError(
                f"{_where(file, record, offset)}: bad Java-serialized byte[][] at byte {e.offset} of the "
                f"{size}-byte value: {e}",
                offset=offset,
            ) from None
        except _BadBatch as e:
            raise DecodeError(
                f"{_where(file, record, offset)}: pickled batch {i} is a {type(e.batch).__name__}, "
                "expected the list PySpark's BatchedSerializer writes",
                offset=offset,
            ) from None
        except UnsafeGlobalError as e:
            raise e.locate(file, record, offset) from None
        except Exception as e:
            # a batch cut short by a wrong length in the framing is the framing's fault: say that first
            try:
                split_java_byte_arrays(bytes(value[base:]))
            except _JavaFormatError as framing:
                raise DecodeError(
                    f"{_where(file, record, offset)}: bad Java-serialized byte[][] at byte {framing.offset} of the "
                    f"{size}-byte value: {framing}",
                    offset=offset,
                ) from None
            raise DecodeError(
                f"{_where(file, record, offset)}: pickled batch {i} ({len(chunk)} bytes) does not load: "
                f"{type(e).__name__}: {e}",
                offset=offset,
            ) from e


class _BadBatch(Exception):
    def __init__(self, batch):
        self.batch = batch


# ---------------------------------------------------------------------------------------------
# Files and directories
# ---------------------------------------------------------------------------------------------


def part_files(path) -> list[str]:
    """The data files of ``path``: itself if a file, else its part files in partition order.

    Spark lists part files in arbitrary order; their numbers give the partition order
    (``part-100000`` comes after ``part-99999``). A pickle file is a SequenceFile
    directory, so this is :func:`coders.hadoop.list_part_files`: ``_SUCCESS``, ``_*``
    and ``.*`` files are skipped, and a subdirectory is an error.
    """
    return list_part_files(path)


def iter_values(file: str) -> Iterator[tuple[bytes, int, int]]:
    """``(value, record number, byte offset)`` of each record of one SequenceFile.

    The offset is the one :class:`coders.hadoop.SequenceFileReader` reports: the record's
    sync entry or length field (the block's, in a block-compressed file).
    """
    with SequenceFileReader(file) as reader:
        check_classes(file, reader.key_class, reader.value_class)
        for number, (position, _key, value) in enumerate(reader.records_with_positions()):
            yield value, number, position


def check_classes(file: str, key_class: str, value_class: str) -> None:
    """Raise :class:`coders.DecodeError` unless a SequenceFile's header classes are a pickle file's
    (NullWritable keys, BytesWritable values), naming the file, its classes and the reader to use."""
    if key_class != NULL_WRITABLE or value_class != BYTES_WRITABLE:
        raise DecodeError(
            f"{file} is a SequenceFile of ({key_class}, {value_class}), not a PySpark pickle file "
            f"({NULL_WRITABLE}, {BYTES_WRITABLE}); read it with coders.hadoop.read_sequence_file",
            offset=0,
        )


def check_raw_record(file: str, number: int | None, position: int, key: bytes, raw: bytes) -> None:
    """Raise :class:`coders.DecodeError` unless ``key``/``raw`` (a record read with ``raw=True``) are a
    NullWritable key and a BytesWritable value's serialized bytes; ``number`` (or else ``position``)
    names the record in the message."""
    declared = _INT32.unpack_from(raw, 0)[0] if len(raw) >= 4 else None
    if len(key) or declared != len(raw) - 4:
        raise DecodeError(
            f"{_where(file, number, position)}: not a NullWritable key and a BytesWritable value ({len(key)} key "
            f"byte(s); {len(raw)} value bytes" + (f" declaring {declared}" if declared is not None else "") + ")",
            offset=position,
        )


def _iter_raw_values(file: str) -> Iterator[tuple[bytes, int, int]]:
    """Like :func:`iter_values` but each value is the BytesWritable's raw bytes (int32 length, then
    the bytes): the Java stream starts at offset 4, and nothing is copied to get there."""
    with SequenceFileReader(file, raw=True) as reader:
        check_classes(file, reader.key_class, reader.value_class)
        for number, (position, key, raw) in enumerate(reader.records_with_positions()):
            if key or len(raw) < 4 or _INT32.unpack_from(raw, 0)[0] != len(raw) - 4:
                check_raw_record(file, number, position, key, raw)
            yield raw, number, position


def iter_batches(path, safe: bool = False, allow: Iterable[str] = ()) -> Iterator[list]:
    """The objects of each SequenceFile record (up to 10 pickled batches) of ``path``, as lists."""
    decoder = PickleFileDecoder(safe, allow)
    for file in part_files(path):
        for raw, number, position in _iter_raw_values(file):
            objects: list = []
            decoder.decode_into(raw, objects, file, number, position, base=4)
            yield objects


def iter_records(path, safe: bool = False, allow: Iterable[str] = ()) -> Iterator[Any]:
    """Stream the objects of a ``saveAsPickleFile`` file or directory, in partition order.

    ``safe=True`` unpickles with :class:`SafeUnpickler` (builtins, standard containers,
    datetime, Decimal, and ``allow`` patterns such as ``"mypkg.MyClass"`` or ``"mypkg.*"``).
    """
    for objects in iter_batches(path, safe, allow):
        yield from objects


def load(path, safe: bool = False, allow: Iterable[str] = ()) -> list:
    """All objects of a ``saveAsPickleFile`` file or directory, in partition order."""
    decoder = PickleFileDecoder(safe, allow)
    decode_into = decoder.decode_into
    out: list = []
    for file in part_files(path):
        # the loop of _iter_raw_values, inlined: this is the hot path of reading a whole file
        with SequenceFileReader(file, raw=True) as reader:
            check_classes(file, reader.key_class, reader.value_class)
            for number, (position, key, raw, _) in enumerate(reader.positioned_records()):
                if key or len(raw) < 4 or _INT32.unpack_from(raw, 0)[0] != len(raw) - 4:
                    check_raw_record(file, number, position, key, raw)
                decode_into(raw, out, file, number, position, 4)
    return out


def _batches(objects: Iterable, batch_size: int) -> Iterator[list]:
    batch: list = []
    for obj in objects:
        batch.append(obj)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


_SPARK_OUTPUT_NAME = re.compile(r"(\.?part-\d+.*|\.?_SUCCESS(\.crc)?)")


def _unpicklable(pickler, batch: list, first: int, error: Exception) -> pickle.PicklingError:
    """Name the first object of a batch that does not pickle, by pickling them one by one."""
    for i, obj in enumerate(batch):
        try:
            pickler([obj])
        except Exception as e:
            shown = repr(obj)
            shown = shown[:77] + "..." if len(shown) > 80 else shown
            return pickle.PicklingError(
                f"dump: object {first + i} ({type(obj).__module__}.{type(obj).__qualname__} {shown}) cannot be "
                f"pickled: {type(e).__name__}: {e}. Fix: make it picklable (pickling.check_picklable shows the "
                "path to the culprit) or leave it out; nothing was written"
            )
    return pickle.PicklingError(
        f"dump: the batch starting at object {first} cannot be pickled: "
        f"{type(error).__name__}: {error}; nothing was written"
    )


def _remove_spark_output(path: str) -> None:
    """Empty a directory that holds only a Spark/coderkit output; refuse anything else."""
    names = os.listdir(path)
    foreign = [n for n in names if not _SPARK_OUTPUT_NAME.fullmatch(n) or not os.path.isfile(os.path.join(path, n))]
    if foreign:
        raise FileExistsError(
            f"{path!r} holds more than a pickle-file output ({', '.join(sorted(foreign)[:5])}): refusing to overwrite "
            "it; remove it yourself or choose another path"
        )
    for name in names:
        os.remove(os.path.join(path, name))


def dump(
    objects: Iterable,
    path,
    batch_size: int = 10,
    *,
    directory: bool = True,
    overwrite: bool = False,
    compression: str = "none",
    codec: str | None = None,
    pickler: Callable[[Any], bytes] | None = None,
) -> None:
    """Write ``objects`` as PySpark's ``saveAsPickleFile`` does, so ``sc.pickleFile`` reads them back.

    ``directory=True`` writes ``path/part-00000`` then ``path/_SUCCESS`` (like Spark);
    ``directory=False`` writes one SequenceFile at ``path``. Batches of ``batch_size``
    objects are pickled with cloudpickle (protocol 5, what PySpark reads); 10 batches
    go in each SequenceFile record, as Spark groups them. ``compression`` and ``codec``
    are passed to :class:`coders.hadoop.SequenceFileWriter`.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if pickler is None:
        import cloudpickle

        def pickler(batch):
            return cloudpickle.dumps(batch, protocol=PICKLE_PROTOCOL)

    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path!r} already exists (Spark refuses too): pass overwrite=True to replace it")
    if directory:
        if os.path.isdir(path):  # overwrite: drop the old output, as Spark's overwrite mode does
            _remove_spark_output(path)
        elif os.path.exists(path):
            os.remove(path)
        os.makedirs(path, exist_ok=True)
        target = os.path.join(path, "part-00000")
    else:
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path!r} is a directory: pass directory=True or another path")
        target = path
    with SequenceFileWriter(target, NULL_WRITABLE, BYTES_WRITABLE, compression=compression, codec=codec) as writer:
        group: list = []
        for number, batch in enumerate(_batches(objects, batch_size)):
            try:
                group.append(pickler(batch))
            except Exception as e:
                raise _unpicklable(pickler, batch, number * batch_size, e) from e
            if len(group) == BATCHES_PER_RECORD:
                writer.append(None, java_serialize_byte_arrays(group))
                group = []
        if group:
            writer.append(None, java_serialize_byte_arrays(group))
    if directory:
        with open(os.path.join(path, "_SUCCESS"), "wb"):
            pass
