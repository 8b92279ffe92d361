"""How coderkit names types and values in messages: one home, so every error reads the same way.

* ``type_name(hint)``: a type hint as a person writes it (``Order``, ``List[Order]``, ``int | None``).
* ``qualified_type_name(obj)``: the type of an object with its module (``socket.socket``), for
  objects met while walking a pickle, where the bare name can be ambiguous.
* ``short_repr(value, limit)``: a repr cut to ``limit`` characters with ``...``, so a huge value
  never floods a message.
"""

from __future__ import annotations

import types
import typing
from typing import Any

__all__ = ["qualified_type_name", "short_repr", "type_name"]

_NONE_TYPE = type(None)


def type_name(hint: Any) -> str:
    """A short readable name for a hint: ``Order``, ``List[Order]``, ``dict[str, int]``, ``int | None``."""
    if hint is None or hint is _NONE_TYPE:
        return "None"
    if hint is Ellipsis:
        return "..."
    if isinstance(hint, str):
        return hint
    if isinstance(hint, typing.ForwardRef):
        return hint.__forward_arg__
    if hint is typing.Any:
        return "Any"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is types.UnionType:
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Union:
        if len(args) == 2 and _NONE_TYPE in args:
            other = args[0] if args[1] is _NONE_TYPE else args[1]
            return f"Optional[{type_name(other)}]"
        return f"Union[{', '.join(type_name(a) for a in args)}]"
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is not None:
        base = getattr(hint, "_name", None) if not isinstance(hint, types.GenericAlias) else None
        if not base:
            base = getattr(origin, "__qualname__", None) or repr(origin)
        if not args:
            return base
        return f"{base}[{', '.join(type_name(a) for a in args) if args != ((),) else '()'}]"
    if isinstance(hint, type):
        return hint.__qualname__.rpartition("<locals>.")[2]
    name = getattr(hint, "_name", None) or getattr(hint, "__name__", None)
    return name if name else repr(hint).replace("typing.", "")


def qualified_type_name(obj: Any) -> str:
    """``module.QualName`` of obj's type (``builtins`` omitted): ``socket.socket``, ``_thread.lock``."""
    t = type(obj)
    module = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", t.__name__)
    return name if module in (None, "builtins") else f"{module}.{name}"


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to at most ``limit`` characters (ending in ``...`` when cut)."""
    try:
        text = repr(value)
    except Exception as e:  # a broken __repr__ must not hide the error being reported
        text = f"<{type(value).__qualname__} (repr failed: {type(e).__name__})>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
