"""Exact comparison of decoded values for the Hadoop tests."""

from __future__ import annotations

import struct


def exact(value):
    """A form of ``value`` equal to another's only when the types match and every float has the same bits:
    ``-0.0 == 0.0`` and ``True == 1`` in Python, but a coder that turns one into the other is wrong."""
    if isinstance(value, float):
        return float, struct.pack(">d", value).hex()
    if isinstance(value, dict):
        return dict, sorted(((exact(k), exact(v)) for k, v in value.items()), key=repr)  # a HashMap: any order
    if isinstance(value, (list, tuple)):
        return type(value), [exact(v) for v in value]
    return type(value), value
