"""Arrow tables, record batches and pandas DataFrames, through the Arrow IPC stream format.

A value is one Arrow IPC *stream* (the schema message with its metadata, each record batch,
then the end-of-stream marker ``ff ff ff ff 00 00 00 00``): the whole byte string in the
outer context, a varint byte length and then the stream in the nested context. The stream is
Arrow's own, specified format (https://arrow.apache.org/docs/format/Columnar.html#ipc-streaming-format),
so any Arrow implementation reads the outer bytes; the flatbuffer layout inside belongs to
the writing library, which is why docs/wire-format.md describes these coders in prose.

A DataFrame goes through ``pyarrow.Table.from_pandas`` (pandas metadata: column names and
dtypes, the index) and comes back through ``to_pandas``, plus a small ``coderkit.pandas``
schema entry naming the columns pandas would otherwise give back with another dtype (object
columns, python-storage strings). What Arrow cannot give back exactly (mixed-type object
columns, objects other than str / bytes / bool / int / float) is refused at encode.

coderkit never imports pyarrow or pandas itself: the rules apply only when the library is
already imported, and the coders import it inside their methods (the user's value proves it
is installed). Decoding hostile bytes raises only DecodeError: pyarrow's errors are wrapped,
and every decoded table is validated in full before it is used.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from typing import Any

from .base import WRAPPED, Coder
from .errors import DecodeError, EncodeError
from .streams import read_length_prefixed, write_varint64

__all__ = [
    "ArrowRecordBatchCoder",
    "ArrowTableCoder",
    "DataFrameCoder",
    "arrow_rule",
    "pandas_dataframe_rule",
]

#: Schema metadata key holding the DataFrame columns whose pandas dtype coderkit restores after to_pandas.
PANDAS_FIXUPS_KEY = b"coderkit.pandas"

#: Python types an object column may hold (one of them per column, plus None): Arrow gives each back as itself.
_OBJECT_TYPES = (str, bytes, bool, int, float)

_NOT_DETERMINISTIC = (
    "equal tables can encode apart: the IPC stream writes the chunk layout and the bytes under null slots as they are",
    "key by column values (a tuple of scalars) rather than by a whole table",
)


def _ipc_bytes(pa, table_or_batch) -> Any:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table_or_batch.schema) as writer:
        writer.write(table_or_batch)
    return sink.getvalue()


class _ArrowStreamCoder(Coder):
    """Shared framing: one IPC stream, varint-length-prefixed when nested; decoding validates in full."""

    beam_coder = WRAPPED  # Beam has no Arrow coder

    #: What the error messages call a value of this coder.
    what = "an Arrow IPC stream"

    def _to_arrow(self, value):
        """The pyarrow Table or RecordBatch to write for ``value`` (raise EncodeError when it is not one)."""
        raise NotImplementedError

    def _from_arrow(self, table):
        """The value for a decoded, validated pyarrow Table."""
        raise NotImplementedError

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        arrow = self._to_arrow(value)
        data = _ipc_bytes(sys.modules["pyarrow"], arrow)
        if nested:
            write_varint64(out, data.size)
        out += memoryview(data)

    def decode_from(self, data, pos: int, nested: bool):
        start = pos
        if nested:
            raw, pos = read_length_prefixed(data, pos, self.what)
        else:
            raw, pos = bytes(data[pos:]), len(data)
        try:
            import pyarrow as pa

            source = pa.BufferReader(raw)
            table = pa.ipc.open_stream(source).read_all()
            table.validate(full=True)
            used = source.tell()
        except Exception as e:  # pyarrow's ArrowInvalid / ArrowIOError / ArrowMemoryError ...
            raise DecodeError(f"not a valid {self.what}: {type(e).__name__}: {e}", offset=start) from None
        if used != len(raw):
            raise DecodeError(
                f"{self.what}: {len(raw) - used} byte(s) after the end-of-stream marker", offset=start + used
            )
        try:
            return self._from_arrow(table), pos
        except DecodeError:
            raise
        except Exception as e:
            raise DecodeError(f"{self.what}: {type(e).__name__}: {e}", offset=start) from None

    def min_nested_size(self) -> int:
        return 1

    def own_determinism_issues(self):
        return [_NOT_DETERMINISTIC]


def _require(module: str, cls: str):
    """``module.cls`` when the module is imported, else None (then no value can be an instance)."""
    return getattr(sys.modules.get(module), cls, None)


class ArrowTableCoder(_ArrowStreamCoder):
    """A ``pyarrow.Table`` as one Arrow IPC stream: schema (with field and schema metadata), one record
    batch per chunk, end-of-stream. It decodes to a table that ``.equals(original, check_metadata=True)``
    with the same chunking (a table without rows may come back without chunks). Not deterministic (chunk
    layout and the bytes under nulls are written as they are); ``as_deterministic_coder()`` raises."""

    what = "Arrow IPC stream of a Table"

    def _to_arrow(self, value):
        table = _require("pyarrow", "Table")
        if table is None or not isinstance(value, table):
            raise self._encode_error(value, "a pyarrow.Table", fix="pass a pyarrow.Table (pa.table({...}))")
        return value

    def _from_arrow(self, table):
        return table

    def value_strategy(self, child, st):
        return _tables(st)

    def to_type_hint(self):
        return _require("pyarrow", "Table") or Any


class ArrowRecordBatchCoder(_ArrowStreamCoder):
    """A ``pyarrow.RecordBatch`` as an Arrow IPC stream holding exactly one batch (schema and metadata kept).
    Not deterministic (the bytes under nulls are written as they are); ``as_deterministic_coder()`` raises."""

    what = "Arrow IPC stream of one RecordBatch"

    def _to_arrow(self, value):
        batch = _require("pyarrow", "RecordBatch")
        if batch is None or not isinstance(value, batch):
            raise self._encode_error(value, "a pyarrow.RecordBatch", fix="pass a pyarrow.RecordBatch")
        return value

    def _from_arrow(self, table):
        batches = table.to_batches()
        if len(batches) != 1:
            raise DecodeError(f"{self.what}: the stream holds {len(batches)} record batches, not 1")
        return batches[0]

    def value_strategy(self, child, st):
        return _tables(st).filter(lambda t: t.num_rows > 0).map(lambda t: t.combine_chunks().to_batches()[0])

    def to_type_hint(self):
        return _require("pyarrow", "RecordBatch") or Any


class DataFrameCoder(_ArrowStreamCoder):
    """A ``pandas.DataFrame`` as the Arrow IPC stream of ``pyarrow.Table.from_pandas(df)`` (pandas metadata:
    columns, dtypes, index, ``attrs``), so that ``df.equals(back)`` and the dtypes match. Object columns
    must hold one of str, bytes, bool, int, float per column (and None, not NaN, for missing values):
    anything else would come back as other objects, so it is an EncodeError naming the column and the fix.
    Not deterministic (Arrow's chunking and null slots); ``as_deterministic_coder()`` raises."""

    what = "Arrow IPC stream of a DataFrame"

    def _to_arrow(self, value):
        frame = _require("pandas", "DataFrame")
        if frame is None or not isinstance(value, frame):
            raise self._encode_error(value, "a pandas.DataFrame", fix="pass a pandas.DataFrame")
        import pandas as pd
        import pyarrow as pa

        fixups = {}
        for position, (name, dtype) in enumerate(value.dtypes.items()):
            kind = self._fixup(value, position, name, dtype, pd)
            if kind is not None:
                fixups[str(position)] = kind
        try:
            table = pa.Table.from_pandas(value, preserve_index=None)
        except Exception as e:  # ArrowInvalid / ArrowTypeError / ValueError (duplicate names) ...
            raise EncodeError(
                f"DataFrameCoder cannot write this DataFrame through Arrow: {type(e).__name__}: {e}",
                coder=self,
                value=value,
                fix="give the columns dtypes Arrow supports (no complex or sparse columns, unique column names), "
                "or register coders.PickleCoder() for pandas.DataFrame",
            ) from None
        if fixups:
            metadata = dict(table.schema.metadata or {})
            metadata[PANDAS_FIXUPS_KEY] = json.dumps(fixups, sort_keys=True).encode()
            table = table.replace_schema_metadata(metadata)
        return table

    def _fixup(self, frame, position: int, name, dtype, pd) -> str | None:
        """How to restore column ``position``'s dtype after to_pandas (None: to_pandas gives it back)."""
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
            return "string[python]" if dtype.na_value is pd.NA else "str[python]"
        if not pd.api.types.is_object_dtype(dtype):
            return None
        kinds = {type(x) for x in frame.iloc[:, position] if x is not None}
        fix = f"convert the column to a typed dtype (df[{name!r}].astype(...)) or register coders.PickleCoder()"
        if len(kinds) > 1:
            shown = ", ".join(sorted(k.__name__ for k in kinds))
            raise EncodeError(
                f"DataFrameCoder: object column {name!r} mixes {shown} values, which Arrow cannot hold in one column",
                coder=self,
                path=(f"[{name!r}]",),
                fix=fix,
            )
        odd = [k for k in kinds if k not in _OBJECT_TYPES]
        if odd:
            raise EncodeError(
                f"DataFrameCoder: object column {name!r} holds {odd[0].__module__}.{odd[0].__qualname__} values, "
                "which Arrow would give back as other objects (object columns may hold str, bytes, bool, int or "
                "float)",
                coder=self,
                path=(f"[{name!r}]",),
                fix=fix,
            )
        if float in kinds and any(x is not None and math.isnan(x) for x in frame.iloc[:, position]):
            raise EncodeError(
                f"DataFrameCoder: object column {name!r} holds NaN, which Arrow writes as null and gives back as None",
                coder=self,
                path=(f"[{name!r}]",),
                fix=f"use None for missing values in object columns, or df[{name!r}].astype('float64')",
            )
        return "object"

    def _from_arrow(self, table):
        import pandas as pd

        fixups = json.loads((table.schema.metadata or {}).get(PANDAS_FIXUPS_KEY, b"{}"))
        if not isinstance(fixups, dict):
            raise DecodeError(f"{self.what}: malformed {PANDAS_FIXUPS_KEY.decode()} metadata")
        frame = table.to_pandas()
        for key, kind in fixups.items():
            position = int(key)
            if not 0 <= position < frame.shape[1]:
                raise DecodeError(f"{self.what}: {PANDAS_FIXUPS_KEY.decode()} names column {position}, out of range")
            if kind == "object":
                values = table.column(position).to_pylist()
                frame.isetitem(position, pd.Series(values, index=frame.index, dtype=object))
            elif kind in ("string[python]", "str[python]"):
                na = pd.NA if kind == "string[python]" else float("nan")
                frame.isetitem(position, frame.iloc[:, position].astype(pd.StringDtype("python", na_value=na)))
            else:
                raise DecodeError(f"{self.what}: unknown column fix-up {kind!r}")
        return frame

    def value_strategy(self, child, st):
        return _tables(st, with_metadata=False).map(lambda t: t.to_pandas())

    def to_type_hint(self):
        return _require("pandas", "DataFrame") or Any


# ------------------------------------------------------------------------------- test values


def _tables(st, with_metadata: bool = True):
    """Small tables: an int64, a string and a float64 column with nulls, sometimes schema metadata."""
    import pyarrow as pa

    row = st.tuples(
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | st.text(max_size=6),
        st.floats(allow_nan=False),
    )

    def build(rows, metadata):
        schema = pa.schema(
            [("n", pa.int64()), ("s", pa.string()), ("x", pa.float64())],
            metadata=metadata if with_metadata else None,
        )
        return pa.Table.from_pylist([{"n": n, "s": s, "x": x} for n, s, x in rows], schema=schema)

    metadata = st.none() | st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2)
    return st.builds(build, st.lists(row, max_size=5), metadata)


# ------------------------------------------------------------------------------------ registry


def arrow_rule(hint, registry, context):
    """``pyarrow.Table`` / ``pyarrow.RecordBatch`` (pyarrow already imported): the IPC stream coders."""
    if hint is not None and hint is _require("pyarrow", "Table"):
        return ArrowTableCoder()
    if hint is not None and hint is _require("pyarrow", "RecordBatch"):
        return ArrowRecordBatchCoder()
    return None


def pandas_dataframe_rule(hint, registry, context):
    """``pandas.DataFrame`` (pandas already imported, pyarrow installed): ``DataFrameCoder()``, through Arrow."""
    frame = _require("pandas", "DataFrame")
    if frame is None or hint is not frame:
        return None
    return DataFrameCoder() if importlib.util.find_spec("pyarrow") is not None else None
