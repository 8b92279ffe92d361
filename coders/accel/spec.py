"""The tree the C accelerator runs, built from each coder's own ``accel_node`` declaration.

A node is a tuple starting with its kind; the C extension (``_speedups.c``) knows these kinds:

* leaves: ``("varint",)``, ``("str",)``, ``("bytes",)``, ``("float",)``, ``("cfloat",)`` (canonical
  float), ``("bool",)``, ``("none",)``;
* ``("nullable", value)``, ``("tuple", (components...))``;
* ``("list" | "tupleseq" | "iterable", element, min_element_size)``, ``("map", key, value, min_entry_size)``;
* ``("record", cls, field_names, from_fields, is_tuple, (fields...))``;
* ``("ref", depth)``: the enclosing node at that depth, met again (a recursive type);
* ``("row", cls, field_names, from_fields, is_tuple, nullable, (fields...))``: Beam's row layout
  (field count, null bitmap, present fields), ``nullable`` one byte a field;
* ``("any",)``: AnyCoder's type-tagged values (exact builtins; anything else declines);
* ``("generic", encode, encode_nested, decode_from)``: any other coder, called through Python.

No table here names a coder class: a coder says what it is (``Coder.accel_node``), so a new
coder needs no change in this package, and a user's coder is a generic call, which is always correct.
"""

from __future__ import annotations

from ..base import Coder, min_nested_size

__all__ = ["COMPOSITE_KINDS", "spec_of"]

#: Kinds with components (or, for "any", values that may have them): a coder whose own node has one
#: of these is worth a codec of its own.
COMPOSITE_KINDS = frozenset({"tuple", "list", "tupleseq", "iterable", "map", "record", "row", "any"})


def spec_of(coder: Coder) -> tuple:
    """The accelerator's tree for ``coder``: its ``accel_node``, with each component's node inside.

    A coder met again below itself (a recursive record) becomes a ``ref`` to its first node, so
    the tree stays finite and the C code follows the recursion itself.
    """
    depth_of: dict[int, int] = {}

    def child(component: Coder) -> tuple:
        key = id(component)
        if key in depth_of:
            return ("ref", depth_of[key])
        depth_of[key] = len(depth_of)
        try:
            return component.accel_node(child)
        finally:
            del depth_of[key]

    child.min_size = min_nested_size
    return child(coder)
