"""The coder test kit: plain assertion functions for any pytest test, in the spirit of Scio's
CoderAssertions and Beam's coder test harness.

Every function raises ``AssertionError`` saying exactly what differed: the hex of both
byte strings and where they first differ, both values with their types, the context
(outer or nested) and the coder's repr. Nothing here needs a fixture or a plugin::

    from coders.testing import assert_roundtrip, CoderAssertions

    def test_point_coder():
        assert_roundtrip(point_coder, Point(1, 2.0))
        CoderAssertions(point_coder).roundtrips(Point(0, -0.0)).is_deterministic()

"Equal" in this module is stricter than ``==``: a decoded value must have the same type as
the original at every depth (``1``, ``1.0`` and ``True`` differ; so do ``0.0`` and ``-0.0``,
and ``Decimal("1.0")`` and ``Decimal("1.00")``), while a NaN equals any NaN.

``strategy_for(coder)`` builds a hypothesis strategy of valid values for a coder tree;
hypothesis is imported only when it is called, so ``import coders.testing`` works without it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
import pickle
import sys
import types
import typing
import warnings
from typing import Any, Callable, Iterable

from .base import MAX_GENERATED_SIZE, Coder
from .errors import DecodeError, EncodeError, NonDeterministicCoderError
from .naming import qualified_type_name, short_repr
from .records import is_namedtuple_class, is_typeddict_class

__all__ = [
    "UPDATE_SNAPSHOTS_ENV",
    "CoderAssertions",
    "assert_compatible",
    "assert_consistent_with_equals",
    "assert_decodes_golden",
    "assert_deterministic",
    "assert_encodes_to",
    "assert_fully_compliant",
    "assert_matches_beam",
    "assert_non_deterministic",
    "assert_not_fallback",
    "assert_picklable",
    "assert_rejects_truncated",
    "assert_roundtrip",
    "assert_size_estimate",
    "fallback_paths",
    "first_difference",
    "is_fixed_width",
    "register_strategy",
    "strategy_for",
    "write_golden",
    "write_snapshot",
]

# Bytes put around a nested encoding to prove decode_nested_at neither reads nor eats them.
_LEADER = b"\xa5\x5a\x00"
_TRAILER = b"\xde\xad\xbe\xef\x00\xff\x7f\x80"

# A non-fixed-width coder's estimate must lie within [actual / factor - slack, actual * factor + slack].
DEFAULT_SIZE_FACTOR = 4.0
DEFAULT_SIZE_SLACK = 16

# At most this many truncation points are tried per value (spread over the encoding).
_MAX_TRUNCATIONS = 64


# ---- describing values, bytes and coders in failure messages ----------------------------------


def _short_repr(value: Any, limit: int = 200) -> str:
    return short_repr(value, limit)


def _describe(value: Any) -> str:
    return f"{_short_repr(value)} (type {qualified_type_name(value)})"


def _hex(data: bytes, limit: int = 128) -> str:
    shown = bytes(data[:limit]).hex(" ")
    if len(data) > limit:
        shown += f" ... ({len(data)} bytes in all)"
    return f"[{len(data)} bytes] {shown}" if shown else "[0 bytes] (empty)"


def _first_byte_difference(a: bytes, b: bytes) -> int | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _context(nested: bool) -> str:
    return "nested" if nested else "outer"


def _fail(coder: Coder, headline: str, *details: str, nested: bool | None = None, cause=None):
    where = f" in the {_context(nested)} context" if nested is not None else ""
    lines = [f"{headline}{where}", f"  coder:    {_short_repr(coder, 400)}"]
    lines += [f"  {d}" for d in details]
    raise AssertionError("\n".join(lines)) from cause


def _bytes_details(label_a: str, a: bytes, label_b: str, b: bytes) -> list[str]:
    width = max(len(label_a), len(label_b)) + 1
    lines = [f"{label_a + ':':<{width}} {_hex(a)}", f"{label_b + ':':<{width}} {_hex(b)}"]
    at = _first_byte_difference(a, b)
    if at is not None:
        lines.append(f"first difference at byte offset {at}")
    return lines


# ---- exact value comparison ---------------------------------------------------------------------


def _is_namedtuple(value: Any) -> bool:
    return is_namedtuple_class(type(value))


def first_difference(expected: Any, actual: Any, path: str = "value") -> str | None:
    """Describe the first place where ``actual`` is not exactly ``expected``, or None when it is.

    Types must match at every depth; floats compare by value and sign (any NaN equals any
    NaN); decimals by value and exponent; dicts and sets by their elements, whatever the
    order; dataclasses and NamedTuples field by field; numpy arrays by dtype, shape and every bit
    (object arrays element by element); pandas DataFrames and Series by index, column labels, dtypes,
    values column by column and ``attrs``; pyarrow Tables and RecordBatches with their schema and
    metadata. numpy, pandas and pyarrow are never imported here.
    """
    return _EXACT.difference(expected, actual, path)


def _values_equal(a: Any, b: Any) -> bool:
    """``a == b`` at every depth, except that a NaN equals any NaN (so a value always equals itself)."""
    return _LOOSE.difference(a, b, "value") is None


def _same_types(a: Any, b: Any) -> bool:
    """The same types at every depth (and ``==`` values, NaN equal to NaN): 1 and 1.0 are not."""
    return _TYPED.difference(a, b, "value") is None


class _Comparison:
    """A recursive comparison of an original value with another (usually its decoded copy).

    ``check_types``: types must match at every depth. ``exact_numbers``: floats must also
    agree on the sign of zero and decimals on their exponent. A NaN always equals any NaN.
    """

    def __init__(self, check_types: bool, exact_numbers: bool):
        self.check_types = check_types
        self.exact_numbers = exact_numbers

    def difference(self, a: Any, b: Any, path: str) -> str | None:
        return self._diff(a, b, path, set())

    def _diff(self, a: Any, b: Any, path: str, busy: set) -> str | None:
        if type(a) is not type(b):
            if not self.check_types and _safe_equal(a, b):
                return None
            return (
                f"{path}: type changed from {qualified_type_name(a)} to {qualified_type_name(b)} "
                f"({_short_repr(a)} became {_short_repr(b)})"
            )
        if a is b:
            return None
        t = type(a)
        if t is float:
            return self._float(a, b, path)
        if t is complex:
            return self._float(a.real, b.real, path + ".real") or self._float(a.imag, b.imag, path + ".imag")
        if isinstance(a, decimal.Decimal):
            return self._decimal(a, b, path)
        if self.exact_numbers and isinstance(a, (datetime.datetime, datetime.time)):
            return self._moment(a, b, path)
        if isinstance(
            a,
            (str, bytes, bytearray, int, bool, type(None), enum.Enum, datetime.date, datetime.time, datetime.timedelta),
        ):
            return None if a == b else f"{path}: {_short_repr(a)} became {_short_repr(b)}"
        pair = (id(a), id(b))
        if pair in busy:  # a cycle already being compared
            return None
        busy.add(pair)
        try:
            return self._diff_structure(a, b, path, busy)
        finally:
            busy.discard(pair)

    def _diff_structure(self, a: Any, b: Any, path: str, busy: set) -> str | None:
        if _is_namedtuple(a):
            return self._fields(a, b, list(type(a)._fields), path, busy)
        if isinstance(a, (list, tuple)):
            if len(a) != len(b):
                return f"{path}: length {len(a)} became {len(b)} ({_short_repr(a)} became {_short_repr(b)})"
            for i, (x, y) in enumerate(zip(a, b)):
                found = self._diff(x, y, f"{path}[{i}]", busy)
                if found:
                    return found
            return None
        if isinstance(a, dict):
            return self._dict(a, b, path, busy)
        if isinstance(a, (set, frozenset)):
            return self._set(a, b, path, busy)
        if dataclasses.is_dataclass(a):
            return self._fields(a, b, [f.name for f in dataclasses.fields(a)], path, busy)
        found = self._library_value(a, b, path, busy)
        if found is not _NOT_LIBRARY:
            return found
        try:
            equal = bool(a == b)
        except Exception as e:
            return f"{path}: cannot compare {qualified_type_name(a)} values ({type(e).__name__}: {e})"
        if equal:
            return None
        if hasattr(a, "__dict__") and type(a).__eq__ is object.__eq__:
            return (
                f"{path}: {qualified_type_name(a)} does not define __eq__, so a decoded copy never equals the "
                f"original; define __eq__ (or make it a dataclass) to compare by value"
            )
        return f"{path}: {_short_repr(a)} became {_short_repr(b)}"

    def _library_value(self, a: Any, b: Any, path: str, busy: set):
        """numpy, pandas and pyarrow values, by each library's exact rules (their ``==`` is elementwise or
        loose), or ``_NOT_LIBRARY``. A library is looked up in sys.modules, never imported: holding one
        of its values proves it is loaded."""
        np = sys.modules.get("numpy")
        if np is not None and isinstance(a, _classes(np, "ndarray", "generic")):
            if isinstance(a, _classes(sys.modules.get("numpy.ma"), "MaskedArray")):
                return _NOT_LIBRARY  # its buffer holds arbitrary values under the mask
            return self._array(np, a, b, path, busy)
        pd = sys.modules.get("pandas")
        if pd is not None:
            if isinstance(a, _classes(pd, "DataFrame")):
                return self._frame(pd, np, a, b, path, busy)
            if isinstance(a, _classes(pd, "Series")):
                return self._series(pd, np, a, b, path, busy)
            if isinstance(a, _classes(pd, "Index")):
                return self._pandas_index(pd, a, b, path, busy)
        pa = sys.modules.get("pyarrow")
        if pa is not None and isinstance(a, _classes(pa, "Table", "RecordBatch")):
            return self._arrow_table(pa, a, b, path, busy)
        return _NOT_LIBRARY

    def _elements(self, a: Iterable, b: Iterable, paths: Iterable[str], busy: set) -> str | None:
        for x, y, where in zip(a, b, paths):
            found = self._diff(x, y, where, busy)
            if found:
                return found
        return None

    def _array(self, np, a, b, path: str, busy: set) -> str | None:
        """A numpy array or scalar: dtype (with byte order), shape, then every bit of the buffer; where the
        buffer holds pointers (object, StringDType and structured dtypes with objects), each element."""
        shown = f"({_short_repr(a)} became {_short_repr(b)})"
        if a.dtype != b.dtype or a.dtype.str != b.dtype.str:
            return f"{path}: dtype changed from {a.dtype!s} to {b.dtype!s} {shown}"
        if a.shape != b.shape:
            return f"{path}: shape changed from {a.shape} to {b.shape} {shown}"
        if a.dtype.names is not None and a.dtype.hasobject:
            return self._elements(
                (a[n] for n in a.dtype.names),
                (b[n] for n in a.dtype.names),
                (f"{path}[{n!r}]" for n in a.dtype.names),
                busy,
            )
        if a.dtype.hasobject or a.dtype.kind == "T":
            paths = (f"{path}[{_index_text(i)}]" for i in np.ndindex(a.shape))
            return self._elements(a.flat, b.flat, paths, busy)
        data_a, data_b = a.tobytes(), b.tobytes()
        if data_a == data_b:
            return None
        at = _first_byte_difference(data_a, data_b)
        if a.ndim == 0 or not a.dtype.itemsize or at is None:
            return f"{path}: {_short_repr(a)} became {_short_repr(b)}"
        index = np.unravel_index(at // a.dtype.itemsize, a.shape)
        return f"{path}[{_index_text(index)}]: {_short_repr(a[index])} became {_short_repr(b[index])} {shown}"

    def _frame(self, pd, np, a, b, path: str, busy: set) -> str | None:
        """A DataFrame: its column labels and index (type, names, dtype, values), then column by column
        (dtype, values), then ``attrs``. ``DataFrame.equals`` alone takes 1 for 1.0 in an object column,
        None for NaN, and -0.0 for 0.0."""
        found = self._pandas_index(pd, a.columns, b.columns, f"{path}.columns", busy, labels_only=True)
        found = found or self._pandas_index(pd, a.index, b.index, f"{path}.index", busy)
        if found:
            return found
        for i, label in enumerate(a.columns):
            found = self._column(pd, np, a.iloc[:, i], b.iloc[:, i], f"{path}[{_short_repr(label, 60)}]", busy)
            if found:
                return found
        found = self._diff(a.attrs, b.attrs, f"{path}.attrs", busy)
        if found:
            return found
        return None if a.equals(b) else f"{path}: DataFrame.equals is False ({_short_repr(a)} became {_short_repr(b)})"

    def _series(self, pd, np, a, b, path: str, busy: set) -> str | None:
        found = self._diff(a.name, b.name, f"{path}.name", busy)
        found = found or self._pandas_index(pd, a.index, b.index, f"{path}.index", busy)
        found = found or self._column(pd, np, a, b, path, busy)
        found = found or self._diff(a.attrs, b.attrs, f"{path}.attrs", busy)
        if found:
            return found
        return None if a.equals(b) else f"{path}: Series.equals is False ({_short_repr(a)} became {_short_repr(b)})"

    def _column(self, pd, np, a, b, path: str, busy: set) -> str | None:
        """One column (a Series with an equal index): dtype, then values; object columns element by element."""
        if a.dtype != b.dtype or str(a.dtype) != str(b.dtype):
            return f"{path}: dtype changed from {a.dtype!s} to {b.dtype!s}"
        if a.dtype == object:
            paths = (f"{path}.iloc[{j}]" for j in range(len(a)))
            return self._elements(a.to_numpy(dtype=object), b.to_numpy(dtype=object), paths, busy)
        if not a.equals(b):
            j = _first_unequal(len(a), lambda k: a.iloc[:k].equals(b.iloc[:k]))
            if j is None:
                return f"{path}: values changed ({_short_repr(a)} became {_short_repr(b)})"
            return f"{path}.iloc[{j}]: {_short_repr(a.iloc[j])} became {_short_repr(b.iloc[j])}"
        if self.exact_numbers and isinstance(a.dtype, np.dtype) and a.dtype.kind in "fc":
            return _signed_zero(np, a.to_numpy(), b.to_numpy(), path)
        return None

    def _pandas_index(self, pd, a, b, path: str, busy: set, labels_only: bool = False) -> str | None:
        """An Index: its class (RangeIndex is not Index), names, dtype (every level's), then its values.

        ``labels_only`` (a DataFrame's columns): the names and each label with its type, whatever Index
        class holds them (an empty frame's RangeIndex of columns comes back from Arrow as an Index)."""
        shown = f"({_short_repr(list(a), 100)} became {_short_repr(list(b), 100)})"
        if type(a) is not type(b) and not labels_only:
            return f"{path}: index type changed from {qualified_type_name(a)} to {qualified_type_name(b)} {shown}"
        if list(a.names) != list(b.names):
            return f"{path}: names changed from {list(a.names)!r} to {list(b.names)!r}"
        if len(a) != len(b):
            return f"{path}: length {len(a)} became {len(b)} {shown}"
        dtypes_a = list(a.dtypes) if isinstance(a, pd.MultiIndex) else [a.dtype]
        dtypes_b = list(b.dtypes) if isinstance(b, pd.MultiIndex) else [b.dtype]
        if not labels_only and (dtypes_a != dtypes_b or list(map(str, dtypes_a)) != list(map(str, dtypes_b))):
            shown_a, shown_b = ", ".join(map(str, dtypes_a)), ", ".join(map(str, dtypes_b))
            return f"{path}: dtype changed from {shown_a} to {shown_b} {shown}"
        if labels_only or a.dtype == object:  # labels of any Python type: pandas takes 1, 1.0 and True as equal
            paths = (f"{path}[{j}]" for j in range(len(a)))
            return self._elements(a.to_numpy(dtype=object), b.to_numpy(dtype=object), paths, busy)
        if not a.equals(b):
            j = _first_unequal(len(a), lambda k: a[:k].equals(b[:k]))
            if j is None:
                return f"{path}: values changed {shown}"
            return f"{path}[{j}]: {_short_repr(a[j])} became {_short_repr(b[j])}"
        return None

    def _arrow_table(self, pa, a, b, path: str, busy: set) -> str | None:
        """A pyarrow Table or RecordBatch: ``equals(check_metadata=True)``, saying what differs: a field
        (name, type, nullability, metadata), the schema's metadata, the row count, or a column's value.
        Values compare as Python values: a NaN equals any NaN (Arrow's ``equals`` says a table holding
        one differs from itself), and float columns keep the sign of zero."""
        if a.schema.names != b.schema.names:
            return f"{path}: columns changed from {a.schema.names!r} to {b.schema.names!r}"
        for field_a, field_b in zip(a.schema, b.schema):
            where = f"{path}.schema.field({field_a.name!r})"
            if not field_a.equals(field_b):
                return f"{where}: {field_a} became {field_b}"
            if field_a.metadata != field_b.metadata:
                return f"{where}.metadata: {_short_repr(field_a.metadata)} became {_short_repr(field_b.metadata)}"
        if a.schema.metadata != b.schema.metadata:
            return f"{path}.schema.metadata: {_short_repr(a.schema.metadata)} became {_short_repr(b.schema.metadata)}"
        if a.num_rows != b.num_rows:
            return f"{path}: {a.num_rows} rows became {b.num_rows}"
        if a.equals(b, check_metadata=True) and not (
            self.exact_numbers and any(_arrow_floats(pa, f.type) for f in a.schema)
        ):
            return None
        for i, name in enumerate(a.schema.names):
            column_a, column_b = a.column(i), b.column(i)
            if column_a.equals(column_b) and not (self.exact_numbers and _arrow_floats(pa, column_a.type)):
                continue
            paths = (f"{path}.column({name!r})[{j}]" for j in range(len(column_a)))
            found = self._elements(column_a.to_pylist(), column_b.to_pylist(), paths, busy)
            if found:
                return found
        if not a.schema.equals(b.schema, check_metadata=True):
            return f"{path}.schema: {a.schema} became {b.schema}"
        return None  # what differs is NaNs, which equal each other here

    def _float(self, a: float, b: float, path: str) -> str | None:
        if math.isnan(a) and math.isnan(b):
            return None
        if a == b and (not self.exact_numbers or math.copysign(1.0, a) == math.copysign(1.0, b)):
            return None
        return f"{path}: float {a!r} became {b!r}"

    def _moment(self, a, b, path: str) -> str | None:
        """A datetime or time: equal, and the same zone (ZoneInfo key, offset and name), UTC offset and fold.

        ``==`` alone compares aware values by instant, ignores fold, and ignores the zone."""
        try:
            equal = a == b
        except Exception as e:
            return f"{path}: cannot compare {qualified_type_name(a)} values ({type(e).__name__}: {e})"
        shown = f"({_short_repr(a)} became {_short_repr(b)})"
        if not equal and (a.tzinfo is None) == (b.tzinfo is None) and _zone_key(a.tzinfo) == _zone_key(b.tzinfo):
            return f"{path}: {_short_repr(a)} became {_short_repr(b)}"
        if _zone_key(a.tzinfo) != _zone_key(b.tzinfo):
            return f"{path}: zone changed from {_zone_repr(a.tzinfo)} to {_zone_repr(b.tzinfo)} {shown}"
        if a.utcoffset() != b.utcoffset():
            return f"{path}: UTC offset changed from {a.utcoffset()} to {b.utcoffset()} {shown}"
        if a.fold != b.fold:
            return f"{path}: fold changed from {a.fold} to {b.fold} {shown}"
        if not equal:
            return f"{path}: {_short_repr(a)} became {_short_repr(b)}"
        if getattr(a, "unit", None) != getattr(b, "unit", None):  # pandas.Timestamp's resolution
            return f"{path}: unit changed from {a.unit!r} to {b.unit!r} {shown}"
        return None

    def _decimal(self, a: decimal.Decimal, b: decimal.Decimal, path: str) -> str | None:
        if a.is_nan() and b.is_nan():
            return None
        if a.is_nan() or b.is_nan() or a != b:
            return f"{path}: Decimal {a!r} became {b!r}"
        if self.exact_numbers and a.is_finite() and a.as_tuple().exponent != b.as_tuple().exponent:
            return f"{path}: Decimal {a!r} became {b!r} (same value, different exponent)"
        return None

    def _fields(self, a: Any, b: Any, names: list[str], path: str, busy: set) -> str | None:
        for name in names:
            found = self._diff(getattr(a, name), getattr(b, name), f"{path}.{name}", busy)
            if found:
                return found
        return None

    def _match(self, index: dict, key):
        """The element equal to ``key`` among ``index``'s keys (so its type can be compared), or None.

        ``index`` maps each element of the other dict or set to itself, built once per container.
        """
        if key in index:
            return (index[key],)
        for candidate in index:  # a NaN equals nothing, not even itself: match it by difference
            if self._diff(key, candidate, "", set()) is None:
                return (candidate,)
        return None

    def _dict(self, a: dict, b: dict, path: str, busy: set) -> str | None:
        index = {k: k for k in b}
        for key in a:
            match = self._match(index, key)
            if match is None:
                return (
                    f"{path}: key {_short_repr(key)} is missing after decoding (decoded keys: {_short_repr(list(b))})"
                )
            other_key = match[0]
            found = self._diff(key, other_key, f"{path} key {_short_repr(key, 60)}", busy)
            if found:
                return found
            found = self._diff(a[key], b[other_key], f"{path}[{_short_repr(key, 60)}]", busy)
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} entries became {len(b)} ({_short_repr(a)} became {_short_repr(b)})"
        return None

    def _set(self, a, b, path: str, busy: set) -> str | None:
        index = {e: e for e in b}
        for element in a:
            match = self._match(index, element)
            if match is None:
                return f"{path}: element {_short_repr(element)} is missing after decoding ({_short_repr(b)})"
            found = self._diff(element, match[0], f"{path} element {_short_repr(element, 60)}", busy)
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} elements became {len(b)} ({_short_repr(a)} became {_short_repr(b)})"
        return None


def _zone_key(tz) -> tuple:
    """What makes two tzinfos the same zone: a ZoneInfo's key, a timezone's offset and name, else the object."""
    if tz is None:
        return ("naive",)
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return ("zoneinfo", key)
    if isinstance(tz, datetime.timezone):
        return ("offset", tz.utcoffset(None), tz.tzname(None))
    zone = getattr(tz, "zone", None)  # pytz
    if isinstance(zone, str):
        return ("pytz", zone)
    return ("object", id(tz)) if type(tz).__eq__ is object.__eq__ else ("object", tz)


def _zone_repr(tz) -> str:
    return "no zone (naive)" if tz is None else _short_repr(tz, 80)


def _safe_equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


_NOT_LIBRARY = object()  # _library_value's "not a numpy, pandas or pyarrow value"


def _classes(module, *names: str) -> tuple:
    """The named classes of an already-imported module (none while it is still importing)."""
    return tuple(c for c in (getattr(module, n, None) for n in names) if isinstance(c, type))


def _index_text(index: tuple) -> str:
    return ", ".join(str(int(i)) for i in index) if index else "()"


def _first_unequal(length: int, prefix_equal: Callable[[int], bool]) -> int | None:
    """The first position where two sequences differ, from a prefix test (log(length) calls), or None."""
    if prefix_equal(length):
        return None
    low, high = 0, length  # prefix_equal(low) holds, prefix_equal(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if prefix_equal(middle):
            low = middle
        else:
            high = middle
    return low


def _signed_zero(np, a, b, path: str) -> str | None:
    """The first position where equal float (or complex) arrays hold zeros of different signs."""
    for part_a, part_b in ((a.real, b.real), (a.imag, b.imag)) if a.dtype.kind == "c" else ((a, b),):
        bad = np.flatnonzero((part_a == 0) & (np.signbit(part_a) != np.signbit(part_b)))
        if bad.size:
            j = int(bad[0])
            return f"{path}.iloc[{j}]: {_short_repr(a[j])} became {_short_repr(b[j])} (the sign of zero changed)"
    return None


def _arrow_floats(pa, arrow_type) -> bool:
    """True when an Arrow type holds floating values at any depth."""
    if pa.types.is_floating(arrow_type):
        return True
    value_type = getattr(arrow_type, "value_type", None)  # dictionaries
    if value_type is not None and _arrow_floats(pa, value_type):
        return True
    return any(_arrow_floats(pa, arrow_type.field(i).type) for i in range(arrow_type.num_fields))


_EXACT = _Comparison(check_types=True, exact_numbers=True)
_TYPED = _Comparison(check_types=True, exact_numbers=False)
_LOOSE = _Comparison(check_types=False, exact_numbers=False)


# ---- encode / decode with failures turned into clear assertions -------------------------------


def _encode(coder: Coder, value: Any, nested: bool) -> bytes:
    try:
        return coder.encode_nested(value) if nested else coder.encode(value)
    except Exception as e:
        _fail(coder, f"encoding {_describe(value)} raised {type(e).__name__}: {e}", nested=nested, cause=e)


def _decode(coder: Coder, data: bytes, value: Any, nested: bool) -> Any:
    try:
        return coder.decode_nested(data) if nested else coder.decode(data)
    except Exception as e:
        _fail(
            coder,
            f"decoding the encoding of {_describe(value)} raised {type(e).__name__}: {e}",
            f"bytes:    {_hex(data)}",
            nested=nested,
            cause=e,
        )


# ---- the assertions ---------------------------------------------------------------------------


def assert_roundtrip(coder: Coder, *values: Any, size_factor: float = DEFAULT_SIZE_FACTOR) -> None:
    """Each value survives encode/decode exactly (same type at every depth), in both contexts.

    Also checks, per value and context: the public methods agree with ``encode_to`` /
    ``decode_from``; decode takes the bytes as ``bytearray`` and ``memoryview`` too; the
    decoded value is an instance of the class ``to_type_hint()`` names; a deterministic coder re-encodes the
    decoded value to the same bytes;
    ``decode_nested_at`` in the middle of a larger buffer stops exactly at the end of the
    value and leaves the bytes around it untouched; and ``estimate_size`` is sane
    (see :func:`assert_size_estimate`).
    """
    if not values:
        raise TypeError("assert_roundtrip needs at least one value to round-trip")
    deterministic = coder.is_deterministic()
    for value in values:
        for nested in (False, True):
            _check_roundtrip(coder, value, nested, deterministic)
        _check_nested_at(coder, value)
        for nested in (False, True):
            _check_size(coder, value, nested, size_factor)


def _check_roundtrip(coder: Coder, value: Any, nested: bool, deterministic: bool) -> None:
    data = _encode(coder, value, nested)
    buffer = bytearray()
    try:
        coder.encode_to(value, buffer, nested)
    except Exception as e:
        _fail(
            coder,
            f"encode_to({_describe(value)}) raised {type(e).__name__}: {e} although encode() worked",
            nested=nested,
            cause=e,
        )
    if bytes(buffer) != data:
        _fail(
            coder,
            f"the public encode method and encode_to disagree for {_describe(value)}",
            *_bytes_details("encode", data, "encode_to", bytes(buffer)),
            nested=nested,
        )
    decoded = _decode(coder, data, value, nested)
    found = first_difference(value, decoded)
    if found:
        _fail(
            coder,
            "value changed in a round trip",
            f"difference: {found}",
            f"original: {_describe(value)}",
            f"decoded:  {_describe(decoded)}",
            f"bytes:    {_hex(data)}",
            nested=nested,
        )
    for kind in (bytearray, memoryview):  # the base contract: decode takes any bytes-like buffer
        try:
            again = coder.decode_nested(kind(data)) if nested else coder.decode(kind(data))
        except Exception as e:
            _fail(
                coder,
                f"decoding the same bytes given as a {kind.__name__} raised {type(e).__name__}: {e} "
                f"(decode must accept bytes, bytearray and memoryview)",
                f"bytes:    {_hex(data)}",
                nested=nested,
                cause=e,
            )
        found = first_difference(value, again)
        if found:
            _fail(
                coder,
                f"decoding the same bytes given as a {kind.__name__} gave a different value",
                f"difference: {found}",
                nested=nested,
            )
    try:
        via_from, end = coder.decode_from(data, 0, nested)
    except Exception as e:
        _fail(
            coder,
            f"decode_from raised {type(e).__name__}: {e} although the public decode worked",
            f"bytes:    {_hex(data)}",
            nested=nested,
            cause=e,
        )
    if end != len(data):
        _fail(
            coder,
            f"decode_from stopped at byte {end} of {len(data)} although the public decode consumed all",
            f"bytes:    {_hex(data)}",
            nested=nested,
        )
    found = first_difference(value, via_from)
    if found:
        _fail(
            coder,
            "decode_from and the public decode disagree",
            f"difference: {found}",
            f"original: {_describe(value)}",
            f"decode_from gave: {_describe(via_from)}",
            nested=nested,
        )
    expected_class = _hint_class(coder)
    if expected_class is not None and not isinstance(decoded, expected_class):
        _fail(
            coder,
            f"the decoded value is a {qualified_type_name(decoded)} "
            f"but the coder's to_type_hint() is {coder.to_type_hint()!r}",
            f"decoded:  {_describe(decoded)}",
            nested=nested,
        )
    if deterministic:
        again = _encode(coder, decoded, nested)
        if again != data:
            _fail(
                coder,
                f"a deterministic coder re-encoded the decoded {_describe(decoded)} to different bytes",
                *_bytes_details("first", data, "re-encoded", again),
                nested=nested,
            )


def _hint_class(coder: Coder) -> type | None:
    """The class every decoded value must be an instance of, from ``to_type_hint()`` (None: unknown)."""
    hint = coder.to_type_hint()
    if hint is typing.Any or hint is object:
        return None
    origin = typing.get_origin(hint)
    target = hint if origin is None else origin  # List[int] -> list; Union/Optional have no class
    if origin is typing.Union or origin is types.UnionType:  # no one class: the members are checked elsewhere
        return None
    if is_typeddict_class(target):  # a TypedDict's values are plain dicts (isinstance refuses TypedDicts)
        return dict
    return target if isinstance(target, type) else None


def _check_nested_at(coder: Coder, value: Any) -> None:
    data = _encode(coder, value, True)
    buffer = bytearray(_LEADER + data + _TRAILER)
    before = bytes(buffer)
    start, end = len(_LEADER), len(_LEADER) + len(data)
    try:
        decoded, pos = coder.decode_nested_at(buffer, start)
    except Exception as e:
        _fail(
            coder,
            f"decode_nested_at raised {type(e).__name__}: {e} when {len(_TRAILER)} bytes followed the value",
            f"buffer:   {_hex(before)} (value at offsets {start}..{end})",
            nested=True,
            cause=e,
        )
    if pos != end:
        what = "ate into the bytes after it" if pos > end else "stopped before its end"
        _fail(
            coder,
            f"decode_nested_at of {_describe(value)} returned position {pos}, expected {end}: it {what}",
            f"buffer:   {_hex(before)} (value at offsets {start}..{end})",
            nested=True,
        )
    if bytes(buffer) != before:
        _fail(
            coder,
            "decode_nested_at modified the buffer it read",
            *_bytes_details("before", before, "after", bytes(buffer)),
            nested=True,
        )
    found = first_difference(value, decoded)
    if found:
        _fail(
            coder,
            "value changed when decoded with bytes around it (decode_nested_at)",
            f"difference: {found}",
            f"original: {_describe(value)}",
            f"decoded:  {_describe(decoded)}",
            nested=True,
        )


def assert_encodes_to(coder: Coder, value: Any, expected_bytes: bytes, nested: bool = False) -> None:
    """``value`` encodes to exactly ``expected_bytes`` in the given context, and they decode back to it."""
    expected = bytes(expected_bytes)
    data = _encode(coder, value, nested)
    if data != expected:
        _fail(
            coder,
            f"{_describe(value)} encoded to unexpected bytes",
            *_bytes_details("expected", expected, "actual", data),
            nested=nested,
        )
    decoded = _decode(coder, expected, value, nested)
    found = first_difference(value, decoded)
    if found:
        _fail(
            coder,
            "the expected bytes decode to a different value",
            f"difference: {found}",
            f"expected: {_describe(value)}",
            f"decoded:  {_describe(decoded)}",
            nested=nested,
        )


def assert_matches_beam(coder: Coder, beam_coder: Any, *values: Any) -> None:
    """Our bytes equal ``beam_coder``'s for each value in both contexts, and Beam decodes them back
    to exactly the value: a differential test against the installed Beam (our own decoding of
    the same bytes is :func:`assert_roundtrip`'s job).

    ``beam_coder`` is an ``apache_beam.coders.Coder`` (this module does not import Beam).
    """
    if not values:
        raise TypeError("assert_matches_beam needs at least one value")
    impl = beam_coder.get_impl()
    for value in values:
        for nested in (False, True):
            ours = _encode(coder, value, nested)
            try:
                theirs = impl.encode_nested(value) if nested else impl.encode(value)
            except Exception as e:
                _fail(
                    coder,
                    f"Beam's {beam_coder!r} cannot encode {_describe(value)}: {type(e).__name__}: {e}",
                    nested=nested,
                    cause=e,
                )
            if ours != theirs:
                _fail(
                    coder,
                    f"{_describe(value)} encodes differently from Beam's {beam_coder!r}",
                    *_bytes_details("beam", theirs, "ours", ours),
                    nested=nested,
                )
            try:
                by_beam = impl.decode_nested(ours) if nested else impl.decode(ours)
            except Exception as e:
                _fail(
                    coder,
                    f"Beam's {beam_coder!r} cannot decode our bytes: {type(e).__name__}: {e}",
                    f"bytes:    {_hex(ours)}",
                    nested=nested,
                    cause=e,
                )
            found = first_difference(value, by_beam)
            if found:
                _fail(
                    coder,
                    f"Beam's {beam_coder!r} decodes our bytes to a different value",
                    f"difference: {found}",
                    f"original: {_describe(value)}",
                    f"by Beam:  {_describe(by_beam)}",
                    nested=nested,
                )


def _issue_lines(coder: Coder) -> list[str]:
    return [f"  - {issue}" for issue in coder.determinism_issues()]


def assert_deterministic(coder: Coder, *values: Any) -> None:
    """The coder says it is deterministic; for each value given, equal copies encode identically.

    The copies are a deep copy and a rebuilt copy whose dicts and sets were filled in the
    reverse order, which is what catches a coder that writes a dict in insertion order.
    """
    if not coder.is_deterministic():
        _fail(coder, "expected a deterministic coder, but it reports:", *_issue_lines(coder))
    try:
        coder.verify_deterministic()
    except NonDeterministicCoderError as e:
        _fail(coder, "is_deterministic() is True but verify_deterministic() raised", str(e), cause=e)
    for value in values:
        copies = [("the same value encoded again", value)]
        for label, make in (
            ("a deep copy", copy.deepcopy),
            ("a copy with dicts and sets filled in reverse order", _reordered),
        ):
            try:
                copies.append((label, make(value)))
            except (TypeError, ValueError, RecursionError, copy.Error):
                pass  # a value that cannot be copied (a lock inside, a cycle) is checked as itself
        for nested in (False, True):
            data = _encode(coder, value, nested)
            for label, other in copies:
                again = _encode(coder, other, nested)
                if again != data:
                    _fail(
                        coder,
                        f"a deterministic coder gave different bytes for {label} of {_describe(value)}",
                        *_bytes_details("original", data, "copy", again),
                        nested=nested,
                    )


def _reordered(value: Any) -> Any:
    """An equal copy of ``value`` whose dicts and sets were built in the reverse iteration order."""
    t = type(value)
    if t is dict:
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if t in (set, frozenset):
        return t(_reordered(v) for v in reversed(list(value)))
    if t in (list, tuple):
        return t(_reordered(v) for v in value)
    if _is_namedtuple(value):
        return t(*(_reordered(v) for v in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if f.init]
        if len(fields) == len(dataclasses.fields(value)):
            try:
                return dataclasses.replace(value, **{f.name: _reordered(getattr(value, f.name)) for f in fields})
            except Exception:
                return value
    return value


def assert_non_deterministic(coder: Coder, reason_contains: str | None = None) -> None:
    """The coder says it is not deterministic, and (if given) one of its reasons mentions ``reason_contains``."""
    if coder.is_deterministic():
        _fail(coder, "expected a non-deterministic coder, but it reports itself deterministic")
    try:
        coder.verify_deterministic()
    except NonDeterministicCoderError as e:
        message = str(e)
    else:
        _fail(coder, "is_deterministic() is False but verify_deterministic() did not raise")
    if reason_contains is not None and reason_contains.lower() not in message.lower():
        _fail(coder, f"no determinism reason mentions {reason_contains!r}; the reasons are:", *_issue_lines(coder))


def assert_consistent_with_equals(coder: Coder, a: Any, b: Any) -> None:
    """``a == b`` exactly when their encodings are equal, in both contexts.

    Equal values with different bytes break a GroupByKey on this coder; unequal values with
    equal bytes mean the coder loses information. (NaN counts as equal to itself.)
    """
    equal = _values_equal(a, b)
    for nested in (False, True):
        da, db = _encode(coder, a, nested), _encode(coder, b, nested)
        if equal and da != db:
            _fail(
                coder,
                "equal values encode to different bytes (grouping by these bytes would split them)",
                f"a: {_describe(a)}",
                f"b: {_describe(b)}",
                *_bytes_details("bytes of a", da, "bytes of b", db),
                nested=nested,
            )
        if not equal and da == db:
            _fail(
                coder,
                "unequal values encode to the same bytes (the coder loses information)",
                f"a: {_describe(a)}",
                f"b: {_describe(b)}",
                f"bytes of both: {_hex(da)}",
                nested=nested,
            )


def is_fixed_width(coder: Coder) -> bool:
    """True when every value takes the same number of bytes (``Coder.nested_width()`` is not None)."""
    return coder.nested_width() is not None


def assert_size_estimate(
    coder: Coder, value: Any, factor: float = DEFAULT_SIZE_FACTOR, slack: int = DEFAULT_SIZE_SLACK
) -> None:
    """``estimate_size`` is an int, exact for fixed-width coders, otherwise within ``factor`` (plus ``slack`` bytes)."""
    for nested in (False, True):
        _check_size(coder, value, nested, factor, slack)


def _check_size(coder: Coder, value: Any, nested: bool, factor: float, slack: int = DEFAULT_SIZE_SLACK) -> None:
    actual = len(_encode(coder, value, nested))
    try:
        estimate = coder.estimate_size(value, nested=nested)
    except Exception as e:
        _fail(coder, f"estimate_size({_describe(value)}) raised {type(e).__name__}: {e}", nested=nested, cause=e)
    if not isinstance(estimate, int) or isinstance(estimate, bool) or estimate < 0:
        _fail(
            coder,
            f"estimate_size returned {_describe(estimate)}; expected a non-negative int",
            f"value:    {_describe(value)}",
            nested=nested,
        )
    if is_fixed_width(coder):
        if estimate != actual:
            _fail(
                coder,
                f"estimate_size of a fixed-width coder must be exact: estimated {estimate} bytes, actual {actual}",
                f"value:    {_describe(value)}",
                nested=nested,
            )
        return
    low, high = actual / factor - slack, actual * factor + slack
    if not low <= estimate <= high:
        _fail(
            coder,
            f"estimate_size is wildly off: estimated {estimate} bytes, actual {actual} "
            f"(allowed {max(0, math.ceil(low))}..{math.floor(high)})",
            f"value:    {_describe(value)}",
            nested=nested,
        )


def _pickle_backends() -> list[tuple[str, Callable[[Any], bytes], Callable[[bytes], Any]]]:
    import cloudpickle
    import dill

    return [
        ("pickle", lambda o: pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads),
        ("cloudpickle", cloudpickle.dumps, cloudpickle.loads),
        ("dill", dill.dumps, dill.loads),
    ]


def _recreated_classes(coder: Coder, clone: Coder, backend: str) -> list[str]:
    """Explain a copy that prints the same but is not equal: a class it holds was rebuilt by value."""
    lines = []
    for original, copied in zip(coder.walk(), clone.walk()):
        for attr, value in getattr(original, "__dict__", {}).items():
            other = getattr(copied, "__dict__", {}).get(attr)
            pairs = zip(value, other) if isinstance(value, tuple) and isinstance(other, tuple) else [(value, other)]
            for a, b in pairs:
                if isinstance(a, type) and isinstance(b, type) and a is not b and a.__qualname__ == b.__qualname__:
                    lines.append(
                        f"{backend} rebuilt class {a.__module__}.{a.__qualname__} by value "
                        f"({type(original).__name__}.{attr}), "
                        f"so the copy's class is a different object and what it decodes is not an instance of yours. "
                        f"Fix: define {a.__qualname__} in an importable module, not in __main__ or a function"
                    )
    return lines


def assert_picklable(coder: Coder, *values: Any) -> None:
    """The coder survives pickle, cloudpickle and dill: the copy equals it, hashes and prints the same,
    and (for each value given) encodes identically and decodes what the original encoded."""
    for backend, dumps, loads in _pickle_backends():
        try:
            clone = loads(dumps(coder))
        except Exception as e:
            _fail(coder, f"the coder does not survive {backend}: {type(e).__name__}: {e}", cause=e)
        if type(clone) is not type(coder) or clone != coder:
            _fail(
                coder,
                f"the {backend} copy of the coder is not equal to it",
                f"copy:     {_short_repr(clone, 400)}",
                *_recreated_classes(coder, clone, backend),
            )
        if hash(clone) != hash(coder):
            _fail(coder, f"the {backend} copy of the coder equals it but hashes differently")
        if repr(clone) != repr(coder):
            _fail(coder, f"the {backend} copy of the coder prints differently", f"copy:     {_short_repr(clone, 400)}")
        if clone.is_deterministic() != coder.is_deterministic():
            _fail(coder, f"the {backend} copy of the coder disagrees on determinism")
        for value in values:
            for nested in (False, True):
                data = _encode(coder, value, nested)
                try:
                    other = clone.encode_nested(value) if nested else clone.encode(value)
                except Exception as e:
                    _fail(
                        coder,
                        f"the {backend} copy cannot encode {_describe(value)}: {type(e).__name__}: {e}",
                        nested=nested,
                        cause=e,
                    )
                if other != data:
                    _fail(
                        coder,
                        f"the {backend} copy encodes {_describe(value)} differently",
                        *_bytes_details("original", data, "copy", other),
                        nested=nested,
                    )
                decoded = _decode(clone, data, value, nested)
                found = first_difference(value, decoded)
                if found:
                    _fail(
                        coder,
                        f"the {backend} copy decodes the original's bytes to a different value",
                        f"difference: {found}",
                        nested=nested,
                    )


def fallback_paths(coder: Coder) -> list[tuple[str, Coder]]:
    """``(path, coder)`` for every pickle fallback coder in the tree (recursive coders walked once)."""
    found: list[tuple[str, Coder]] = []
    seen: set[int] = set()

    def walk(c: Coder, path: str) -> None:
        if id(c) in seen:
            return
        seen.add(id(c))
        if c.is_pickle_fallback:
            found.append((path, c))
        for segment, child in c.labelled_components():
            walk(child, path + segment)

    walk(coder, coder.path_name())
    return found


def assert_not_fallback(coder: Coder) -> None:
    """No PickleCoder or CloudpickleCoder anywhere in the coder tree; a failure names every path."""
    found = fallback_paths(coder)
    if found:
        lines = [
            f"  {path}: {type(c).__name__} (pickles the value: slow, not deterministic, breaks across "
            f"versions). Fix: give that type a coder with coders.register_coder or a precise type hint"
            for path, c in found
        ]
        _fail(coder, f"the coder falls back to pickle in {len(found)} place(s):", *lines)


def assert_rejects_truncated(coder: Coder, *values: Any) -> None:
    """Every strict prefix of each value's nested encoding raises coders.DecodeError (never another
    exception, and never a value): truncated input is always detected."""
    for value in values:
        data = _encode(coder, value, True)
        cuts = range(len(data))
        if len(data) > _MAX_TRUNCATIONS:
            step = len(data) / _MAX_TRUNCATIONS
            cuts = sorted({int(i * step) for i in range(_MAX_TRUNCATIONS)} | {len(data) - 1})
        for cut in cuts:
            prefix = data[:cut]
            try:
                got = coder.decode_nested(prefix)
            except DecodeError:
                continue
            except Exception as e:
                _fail(
                    coder,
                    f"a truncated encoding raised {type(e).__name__} instead of coders.DecodeError: {e}",
                    f"value:    {_describe(value)}",
                    f"prefix:   {_hex(prefix)} (first {cut} of {len(data)} bytes)",
                    nested=True,
                    cause=e,
                )
            _fail(
                coder,
                f"a truncated encoding decoded without error to {_describe(got)}",
                f"value:    {_describe(value)}",
                f"prefix:   {_hex(prefix)} (first {cut} of {len(data)} bytes)",
                nested=True,
            )


def assert_fully_compliant(
    coder: Coder, values: Iterable[Any], *, allow_fallback: bool = False, size_factor: float = DEFAULT_SIZE_FACTOR
) -> None:
    """Every check that applies to this coder, over ``values``.

    Round trip, size estimate, truncation, pickling and (unless ``allow_fallback``) no pickle
    fallback. A deterministic coder must also encode equal copies identically and be
    consistent with ``==`` over every pair of values of the same types; a non-deterministic
    one must either offer a deterministic variant that passes those checks (over the values
    it accepts: it may refuse some with EncodeError), or refuse with NonDeterministicCoderError.
    """
    values = list(values)
    if not values:
        raise TypeError("assert_fully_compliant needs at least one value")
    assert_roundtrip(coder, *values, size_factor=size_factor)
    assert_rejects_truncated(coder, *values)
    assert_picklable(coder, *values)
    if not allow_fallback:
        assert_not_fallback(coder)
    if coder.is_deterministic():
        _check_deterministic_over(coder, values)
        return
    assert_non_deterministic(coder)
    try:
        variant = coder.as_deterministic_coder("assert_fully_compliant")
    except NonDeterministicCoderError:
        return
    if variant.is_deterministic() is not True:
        _fail(
            coder,
            "as_deterministic_coder() returned a coder that is not deterministic",
            f"variant:  {_short_repr(variant, 400)}",
            *_issue_lines(variant),
        )
    # The variant may refuse, with EncodeError saying why, a value it cannot code deterministically
    # (AnyCoder's refuses what it would pickle): the checks cover the values it accepts.
    accepted = [v for v in values if _encodes(variant, v)]
    _check_deterministic_over(variant, accepted)
    for value in accepted:
        for nested in (False, True):
            data = _encode(variant, value, nested)
            decoded = _decode(variant, data, value, nested)
            # Canonical forms may give -0.0 back as 0.0 (an equal value), never another type.
            found = _TYPED.difference(value, decoded, "value")
            if found:
                _fail(
                    variant,
                    f"the deterministic variant does not round-trip {_describe(value)}",
                    f"difference: {found}",
                    f"decoded:  {_describe(decoded)}",
                    nested=nested,
                )


def _encodes(coder: Coder, value: Any) -> bool:
    try:
        coder.encode(value)
        coder.encode_nested(value)
    except EncodeError:
        return False
    return True


def _check_deterministic_over(coder: Coder, values: list) -> None:
    assert_deterministic(coder, *values)
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            # 1 == 1.0 == True, yet a coder may rightly keep their types apart: compare like with like.
            if _values_equal(a, b) and not _same_types(a, b):
                continue
            assert_consistent_with_equals(coder, a, b)


class CoderAssertions:
    """Fluent assertions that read like Scio's: ``CoderAssertions(c).roundtrips(v).encodes(v, b"..")``.

    Every method runs the function of the same meaning in this module and returns ``self``.
    """

    def __init__(self, coder: Coder):
        if not isinstance(coder, Coder):
            raise TypeError(f"CoderAssertions takes a coders.Coder, not {type(coder).__name__}")
        self.coder = coder

    def roundtrips(self, *values: Any) -> CoderAssertions:
        assert_roundtrip(self.coder, *values)
        return self

    def encodes(self, value: Any, expected_bytes: bytes, nested: bool = False) -> CoderAssertions:
        assert_encodes_to(self.coder, value, expected_bytes, nested=nested)
        return self

    def matches_beam(self, beam_coder: Any, *values: Any) -> CoderAssertions:
        assert_matches_beam(self.coder, beam_coder, *values)
        return self

    def is_deterministic(self, *values: Any) -> CoderAssertions:
        assert_deterministic(self.coder, *values)
        return self

    def is_not_deterministic(self, reason_contains: str | None = None) -> CoderAssertions:
        assert_non_deterministic(self.coder, reason_contains)
        return self

    def is_consistent_with_equals(self, a: Any, b: Any) -> CoderAssertions:
        assert_consistent_with_equals(self.coder, a, b)
        return self

    def estimates_size(self, *values: Any, factor: float = DEFAULT_SIZE_FACTOR) -> CoderAssertions:
        for value in values:
            assert_size_estimate(self.coder, value, factor=factor)
        return self

    def is_picklable(self, *values: Any) -> CoderAssertions:
        assert_picklable(self.coder, *values)
        return self

    def is_not_fallback(self) -> CoderAssertions:
        assert_not_fallback(self.coder)
        return self

    def rejects_truncated(self, *values: Any) -> CoderAssertions:
        assert_rejects_truncated(self.coder, *values)
        return self

    def is_fully_compliant(self, values: Iterable[Any], **options: Any) -> CoderAssertions:
        assert_fully_compliant(self.coder, values, **options)
        return self


# ---- hypothesis strategies --------------------------------------------------------------------

# coder class -> factory(coder, strategy_of_component, st) -> strategy; tried along the class's MRO,
# before the strategy the class declares itself (Coder.value_strategy).
_USER_STRATEGIES: dict[type, Callable] = {}

#: Most elements a generated collection holds (kept small so nested and recursive values stay fast).
MAX_COLLECTION_SIZE = MAX_GENERATED_SIZE


def register_strategy(coder_cls: type, factory: Callable) -> None:
    """Teach :func:`strategy_for` a coder class: ``factory(coder, component_strategy, st)`` returns
    a hypothesis strategy, where ``component_strategy(child_coder)`` gives a child's strategy and
    ``st`` is ``hypothesis.strategies``. A registration wins over the class's own ``value_strategy``
    (the usual way to give a coder of your own its values)."""
    if not (isinstance(coder_cls, type) and issubclass(coder_cls, Coder)):
        raise TypeError(f"register_strategy takes a Coder subclass, not {coder_cls!r}")
    _USER_STRATEGIES[coder_cls] = factory


def strategy_for(coder: Coder):
    """A hypothesis strategy generating valid values for ``coder`` (any tree of coderkit coders).

    Primitives stay inside their exact domains (int64; every float including NaN, infinities
    and -0.0; text without lone surrogates; millisecond aware UTC datetimes; finite decimals);
    composites combine their components' strategies; records build instances of their class.
    """
    try:
        from hypothesis import strategies as st
    except ImportError as e:
        raise ImportError(f"strategy_for needs hypothesis ({e}). Fix: pip install hypothesis") from e

    memo: dict[int, Any] = {}
    building: list[int] = []  # ids of the coders whose strategies are being built, outermost first
    cyclic: set[int] = set()  # ids of coders that lie on a cycle (a recursive type)

    def component(child: Coder):
        key = id(child)
        if key in memo:
            if key in building:  # a back-reference: everything from there down is recursive
                cyclic.update(building[building.index(key) :])
            return memo[key]
        # A deferred placeholder first, so a recursive coder refers back to itself.
        holder: dict[str, Any] = {}
        memo[key] = st.deferred(lambda: holder["strategy"])
        building.append(key)
        try:
            strategy = _factory_for(child)(child, component, st)
        finally:
            building.pop()
        holder["strategy"] = strategy
        memo[key] = strategy
        return strategy

    # Factories ask this after building a child's strategy, to keep recursive values finite.
    component.recursive = lambda child: id(child) in cyclic
    return component(coder)


def _factory_for(coder: Coder) -> Callable:
    for cls in type(coder).__mro__:
        if cls in _USER_STRATEGIES:
            return _USER_STRATEGIES[cls]
    return _declared_strategy


def _declared_strategy(coder: Coder, component, st):
    """The strategy the coder class declares (``Coder.value_strategy``)."""
    try:
        return coder.value_strategy(component, st)
    except NotImplementedError:
        raise TypeError(
            f"strategy_for does not know how to generate values for {type(coder).__name__} "
            f"({_short_repr(coder)}). Fix: define {type(coder).__name__}.value_strategy(self, child, st), "
            f"or call coders.testing.register_strategy({type(coder).__name__}, factory)"
        ) from None


# ---- evolution: snapshots and golden byte files -------------------------------------------------

#: Set to 1 to (re)write every snapshot and golden file the assertions below read, instead of checking.
UPDATE_SNAPSHOTS_ENV = "CODERKIT_UPDATE_SNAPSHOTS"


def _updating() -> bool:
    return os.environ.get(UPDATE_SNAPSHOTS_ENV, "").strip().lower() not in ("", "0", "false", "no")


def write_snapshot(type_or_coder: Any, path: str | os.PathLike, record_format: str | None = None) -> dict:
    """Write ``coders.compat.snapshot(type_or_coder)`` to ``path`` as JSON (atomically) and return it."""
    from .compat import dumps, snapshot, write_atomically

    snap = snapshot(type_or_coder, record_format)
    write_atomically(path, dumps(snap))
    return snap


def assert_compatible(type_or_coder: Any, snapshot_path: str | os.PathLike, record_format: str | None = None):
    """Fail unless the coder for ``type_or_coder`` reads every byte string the snapshotted coder wrote.

    The snapshot is the committed description of the coder the running pipeline uses
    (``coders.compat.snapshot``). When the file is missing it is written (with a warning saying
    so: commit it), except under CI (the ``CI`` environment variable set), where a missing
    snapshot fails: CI never writes one silently. ``CODERKIT_UPDATE_SNAPSHOTS=1`` rewrites it from
    the current code (do that once old data is drained or migrated). Returns the CompatReport.
    """
    from .compat import CompatReport, SnapshotError, check

    shown = os.fspath(snapshot_path)
    if _updating():
        write_snapshot(type_or_coder, snapshot_path, record_format)
        return CompatReport(problems=[], changes=[], identical=True)
    if not os.path.exists(snapshot_path):
        if os.environ.get("CI"):
            raise AssertionError(
                f"compatibility snapshot {shown!r} is missing, and CI never writes one. Fix: run this test "
                f"locally (it writes the snapshot of the coder the pipeline runs today), or run it with "
                f"{UPDATE_SNAPSHOTS_ENV}=1, and commit the file"
            )
        write_snapshot(type_or_coder, snapshot_path, record_format)
        warnings.warn(
            f"wrote the compatibility snapshot {shown!r} (it was missing): commit it, so later changes to the "
            f"type are checked against the bytes this version writes",
            UserWarning,
            stacklevel=2,
        )
        return CompatReport(problems=[], changes=[], identical=True)
    try:
        report = check(snapshot_path, type_or_coder, record_format)
    except SnapshotError as e:
        raise AssertionError(
            f"compatibility snapshot {shown!r}: {e}. Fix: restore it from version control (it describes the "
            f"bytes old data has), or rewrite it with {UPDATE_SNAPSHOTS_ENV}=1 if no old data exists"
        ) from None
    if not report.ok:
        raise AssertionError(
            f"the coder for {_short_repr(type_or_coder)} cannot read the bytes the coder in {shown!r} wrote:\n"
            f"{report}\n(If no old data exists any more, rewrite the snapshot with {UPDATE_SNAPSHOTS_ENV}=1.)"
        )
    return report


def write_golden(coder: Coder, path: str | os.PathLike, values: Iterable[Any]) -> None:
    """Write a golden file: each value's bytes in both contexts, as hex in JSON (atomically).

    Run it once, deliberately, with the coder whose bytes stored data has, and commit the file;
    ``assert_decodes_golden`` then proves every later coder still reads those bytes.
    """
    entries = [
        {"outer": _encode(coder, v, False).hex(), "nested": _encode(coder, v, True).hex(), "value": _short_repr(v)}
        for v in values
    ]
    doc = {"coderkit_golden": 1, "coder": _short_repr(coder, 400), "values": entries}
    from .compat import write_atomically

    write_atomically(path, json.dumps(doc, indent=2) + "\n")


def assert_decodes_golden(coder: Coder, path: str | os.PathLike, values: Iterable[Any]) -> None:
    """Fail unless ``coder`` decodes every byte string of the golden file at ``path`` to ``values``, in order.

    Both contexts are checked, every failure listed. A missing file fails with the fix (golden
    files are written on purpose, never by the assertion), unless ``CODERKIT_UPDATE_SNAPSHOTS=1``.
    """
    values = list(values)
    shown = os.fspath(path)
    if _updating():
        write_golden(coder, path, values)
        return
    if not os.path.exists(path):
        raise AssertionError(
            f"golden file {shown!r} is missing. Fix: write it once with coders.testing.write_golden(coder, "
            f"{shown!r}, values) using the coder whose bytes your stored data has (or run with "
            f"{UPDATE_SNAPSHOTS_ENV}=1), and commit it"
        )
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        entries = doc["values"]
        stored = [(bytes.fromhex(e["outer"]), bytes.fromhex(e["nested"])) for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AssertionError(
            f"golden file {shown!r} is not one coderkit wrote ({type(e).__name__}: {e}). Fix: restore it from "
            f"version control, or rewrite it with coders.testing.write_golden"
        ) from None
    if len(stored) != len(values):
        raise AssertionError(
            f"golden file {shown!r} holds {len(stored)} value(s) but {len(values)} were given: pass the values "
            f"it was written from, in order"
        )
    failures = []
    for i, ((outer, nested), expected) in enumerate(zip(stored, values)):
        for context, data in (("outer", outer), ("nested", nested)):
            try:
                actual = coder.decode_nested(data) if context == "nested" else coder.decode(data)
            except DecodeError as e:
                failures.append(f"value {i} ({context}): DecodeError: {e}\n    bytes: {_hex(data)}")
                continue
            diff = first_difference(expected, actual)
            if diff is not None:
                failures.append(f"value {i} ({context}): decoded {_describe(actual)}; {diff}")
    if failures:
        raise AssertionError(
            f"{_short_repr(coder, 400)} does not read the golden bytes in {shown!r} ({len(failures)} failure(s)):\n  "
            + "\n  ".join(failures)
            + "\nFix: the coder changed its wire format; keep the old coder for old data (see docs/compat.md)"
        )
