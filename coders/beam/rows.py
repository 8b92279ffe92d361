"""coderkit's RowCoder as Beam's RowCoder: the standard ``beam:coder:row:v1`` URN, the same schema and bytes.

``CoderkitRowCoder`` is a subclass of Beam's ``RowCoder``: runners and other SDKs see the standard
URN and the schema in the pipeline proto; in Python it encodes and decodes with coderkit's coder,
so rows come back as the user's class (tuples as tuples), not a generated ``BeamSchema_`` class.

A Python worker rebuilds coders from the pipeline proto, where only the URN and the schema travel.
Importing this module registers a constructor for the row URN that rebuilds coderkit's coder when
the schema names an importable class with the same fields (the ``coderkit:python_type`` option)
and hands every other schema to Beam's own constructor unchanged. Workers in another process import
it through the Beam plugin below: pass ``--beam_plugins=coders.beam.rows`` (Dataflow adds every
imported ``BeamPlugin`` itself).
"""

from __future__ import annotations

from apache_beam.coders import coder_impl
from apache_beam.coders.coders import Coder as BeamCoder
from apache_beam.coders.row_coder import RowCoder as BeamRowCoder
from apache_beam.portability import common_urns
from apache_beam.utils.plugin import BeamPlugin

from coders.rows import DECIMAL_URN, RowCoder
from coders.streams import INT32_BE, write_varint64

from .wrapped import WrapsCoderkitCoder

__all__ = ["CoderkitRowCoder", "RowsPlugin"]

_ROW_URN = common_urns.coders.ROW.urn


class _RowImpl(coder_impl.StreamCoderImpl):
    """Beam's runtime face of coderkit's RowCoder (a row delimits itself: same bytes in both contexts)."""

    def __init__(self, coder: RowCoder):
        self._coder = coder

    def encode_to_stream(self, value, stream, nested):
        stream.write(self._coder.encode(value))

    def decode_from_stream(self, stream, nested):
        # Beam's streams cannot be handed to a decoder that finds its own end: copy exactly this
        # row's bytes out (walking the schema's field types), then decode them.
        out = bytearray()
        _copy_row(stream, self._coder.field_types, out)
        return self._coder.decode(bytes(out))

    def encode(self, value):
        return self._coder.encode(value)

    def decode(self, encoded):
        return self._coder.decode(encoded)

    def encode_nested(self, value):
        return self._coder.encode(value)

    def decode_nested(self, encoded):
        return self._coder.decode_nested(encoded)

    def estimate_size(self, value, nested=False):
        return self._coder.estimate_size(value)

    def get_estimated_size_and_observables(self, value, nested=False):
        return self.estimate_size(value), []


def _copy_varint(stream, out: bytearray) -> int:
    value = stream.read_var_int64()
    write_varint64(out, value)
    return value


def _copy_row(stream, field_types, out: bytearray) -> None:
    """Copy one row's bytes from a Beam input stream to ``out`` (its layout: the module docstring of
    ``coders.rows``). Fields beyond ``field_types`` (a newer writer) cannot be measured: ValueError."""
    count = _copy_varint(stream, out)
    mask_len = _copy_varint(stream, out)
    mask = stream.read(mask_len) if mask_len else b""
    out += mask
    if count > len(field_types) and not all(
        i >> 3 < mask_len and mask[i >> 3] >> (i & 7) & 1 for i in range(len(field_types), count)
    ):
        raise ValueError(f"row with {count} fields read by a schema of {len(field_types)} inside a stream")
    for i, ftype in enumerate(field_types[:count]):
        if not (i >> 3 < mask_len and mask[i >> 3] >> (i & 7) & 1):
            _copy_value(stream, ftype, out)


def _copy_value(stream, ftype, out: bytearray) -> None:
    kind = ftype.kind
    if kind == "atomic":
        atomic = ftype.atomic
        if atomic == "INT64":
            _copy_varint(stream, out)
        elif atomic == "DOUBLE":
            out += stream.read(8)
        elif atomic == "BOOLEAN":
            out += stream.read(1)
        else:
            out += stream.read(_copy_varint(stream, out))
    elif kind in ("array", "map"):
        parts = (ftype.element,) if kind == "array" else (ftype.key, ftype.value)
        count = stream.read_bigendian_int32()
        out += INT32_BE.pack(count)
        if count >= 0:
            for _ in range(count):
                for part in parts:
                    _copy_element(stream, part, out)
            return
        while True:  # Beam's unknown-length form: varint block counts, 0 at the end
            block = _copy_varint(stream, out)
            if block <= 0:
                return
            for _ in range(block):
                for part in parts:
                    _copy_element(stream, part, out)
    elif kind == "row":
        _copy_row(stream, ftype.row.field_types, out)
    elif ftype.urn == DECIMAL_URN:
        _copy_varint(stream, out)  # the scale, then the length-prefixed unscaled bytes
        out += stream.read(_copy_varint(stream, out))
    else:
        _copy_value(stream, ftype.representation, out)


def _copy_element(stream, ftype, out: bytearray) -> None:
    if ftype.nullable:  # NullableCoder: a presence byte, then the value
        present = stream.read_byte()
        out.append(present)
        if not present:
            return
    _copy_value(stream, ftype, out)


class CoderkitRowCoder(WrapsCoderkitCoder, BeamRowCoder):
    """Beam's RowCoder for coderkit's ``RowCoder``: same URN, schema and bytes; decodes to the user's class.

    Determinism and the deterministic variant are coderkit's (Beam's RowCoder would ask its own
    component coders, which call a dict's order deterministic when it is not).
    """

    def __init__(self, coder: RowCoder):
        if not isinstance(coder, RowCoder):
            raise TypeError(f"CoderkitRowCoder takes a coders.RowCoder, not {type(coder).__name__}")
        self.coder = coder
        super().__init__(coder.schema)

    def _create_impl(self):
        return _RowImpl(self.coder)


_beam_constructor = BeamCoder._known_urns[_ROW_URN][1]


def _row_from_runner_api(schema, components, context):
    """The row URN's constructor: coderkit's coder for a schema naming its class, else Beam's."""
    ours = RowCoder.from_schema(schema)
    if ours is None:
        return _beam_constructor(schema, components, context)
    return CoderkitRowCoder(ours)


if getattr(_beam_constructor, "__module__", None) != __name__:
    BeamCoder._known_urns[_ROW_URN] = (BeamCoder._known_urns[_ROW_URN][0], _row_from_runner_api)


class RowsPlugin(BeamPlugin):
    """Makes a Beam worker import this module (``--beam_plugins=coders.beam.rows``; Dataflow finds it)."""
