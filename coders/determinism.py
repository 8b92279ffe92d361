"""Checks that a key coder groups correctly: what a GroupByKey silently gets wrong.

A GroupByKey compares keys by their encoded bytes, so a key is safe only when

* its bytes do not change when it is decoded and encoded again,
* decoding gives back an equal value of the same type (same hash),
* equal keys give equal bytes (1, 1.0 and True are equal; so are -0.0 and 0.0).

``key_problems(coder, key)`` checks one key; ``KeyConsistencyChecker`` remembers the
bytes of every equality class of keys it has seen and reports equal keys with
different bytes; ``coder_key_hazards(coder)`` lists what can go wrong from the coder
alone, before any data moves. ``coders.beam.DeterministicGroupByKey`` and
``validate_pipeline`` use these. Every message names the type, the path inside the
key (or the coder tree) and the fix.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from .base import Coder
from .errors import CoderError
from .naming import short_repr

__all__ = ["KeyConsistencyChecker", "check_keys", "coder_key_hazards", "key_problems", "walk_with_paths"]


def _show(value: Any, limit: int = 60) -> str:
    return short_repr(value, limit)


def _tname(value_or_type: Any) -> str:
    return (value_or_type if isinstance(value_or_type, type) else type(value_or_type)).__qualname__


def _hex(data: bytes, limit: int = 24) -> str:
    shown = data[:limit].hex(" ")
    return shown + (" ..." if len(data) > limit else "")


# ============================================================================ one key


def _type_change(original: Any, decoded: Any, path: str = "") -> str | None:
    """The first place where ``decoded`` has a different type from ``original``, as ``path: A became B``."""
    if type(original) is not type(decoded):
        where = path or "the key"
        return f"{where}: {_tname(original)} became {_tname(decoded)}"
    if isinstance(original, (list, tuple)) and len(original) == len(decoded):
        fields = getattr(type(original), "_fields", None)
        for i, (a, b) in enumerate(zip(original, decoded)):
            seg = f".{fields[i]}" if fields and i < len(fields) else f"[{i}]"
            found = _type_change(a, b, path + seg)
            if found:
                return found
    elif isinstance(original, dict) and len(original) == len(decoded):
        for k, v in original.items():
            if k in decoded:
                found = _type_change(v, decoded[k], f"{path}[{k!r}]")
                if found:
                    return found
    else:
        # a record (dataclass, pydantic model, attrs class, msgspec Struct): field by field
        from .records import record_field_names

        for name in record_field_names(type(original)) or ():
            found = _type_change(getattr(original, name, None), getattr(decoded, name, None), f"{path}.{name}")
            if found:
                return found
    return None


def _hashable(value: Any) -> tuple[bool, int | None, str | None]:
    try:
        return True, hash(value), None
    except TypeError as e:
        return False, None, str(e)


_UNHASHABLE_FIX = (
    "use an immutable key: a tuple instead of a list, a frozenset instead of a set, "
    "a frozen dataclass (@dataclass(frozen=True)) or a NamedTuple instead of a mutable record"
)


def key_problems(coder: Coder, key: Any) -> list[str]:
    """Every reason ``key`` would not group correctly under ``coder`` (empty when it is safe).

    Checks, in the nested context a GroupByKey uses: the key encodes; it is hashable;
    it decodes to an equal value of the same type (at every level) with the same hash;
    and its bytes do not change when the decoded key is encoded again.
    """
    problems: list[str] = []
    label = f"key {_show(key)} of type `{_tname(key)}`"
    hashable, key_hash, why = _hashable(key)
    if not hashable:
        problems.append(f"{label} is unhashable ({why}), so it cannot be compared as a key. Fix: {_UNHASHABLE_FIX}")
    try:
        first = coder.encode_nested(key)
    except CoderError as e:
        problems.append(f"{label} cannot be encoded by {coder!r}: {e}")
        return problems
    try:
        decoded = coder.decode_nested(first)
    except CoderError as e:
        problems.append(f"{label}: {coder!r} cannot decode its own bytes ({_hex(first)}): {e}")
        return problems
    try:
        again = coder.encode_nested(decoded)
    except CoderError as e:
        problems.append(f"{label}: the decoded key {_show(decoded)} cannot be encoded again: {e}")
        again = first
    if again != first:
        problems.append(
            f"{label}: bytes change on re-encoding ({_hex(first)} then {_hex(again)}), so equal keys can land in "
            f"different groups. Fix: use a deterministic key coder ({coder!r}.as_deterministic_coder(), "
            f"or a key type whose coder is deterministic)"
        )
    try:
        equal = decoded == key
        compare_error = ""
    except Exception as e:  # a __eq__ that raises is itself a problem worth reporting
        equal, compare_error = False, f" (comparing raised {type(e).__name__}: {e})"
    if not equal:
        problems.append(
            f"{label}: the decoded key {_show(decoded)} is not equal to the original{compare_error}, "
            f"so it can never group with it. Fix: {_inequality_fix(key, decoded)}"
        )
    else:
        changed = _type_change(key, decoded)
        if changed:
            problems.append(
                f"{label}: decoding changes a type ({changed}), so the value the grouping sees is not the one you "
                f"keyed by. Fix: use a coder for the exact key type (get_coder({_tname(key)})), or convert the "
                f"key before grouping"
            )
        elif hashable:
            ok, decoded_hash, _ = _hashable(decoded)
            if ok and decoded_hash != key_hash:
                problems.append(
                    f"{label}: the decoded key is equal but hashes differently ({key_hash} vs {decoded_hash}). "
                    f"Fix: make __hash__ consistent with __eq__ (hash the same fields __eq__ compares)"
                )
    return problems


def _inequality_fix(key: Any, decoded: Any) -> str:
    cls = type(key)
    if key != key:
        return "NaN never equals itself; do not group by NaN (map it to a sentinel such as None first)"
    if type(decoded) is not cls and type(decoded).__qualname__ == cls.__qualname__:
        return (
            f"`{_tname(key)}` came back as a different class object of the same name: it is defined in "
            f"{cls.__module__} and was pickled by value; define it in an importable module and register a "
            f"coder for it (or make it a frozen dataclass)"
        )
    if cls.__eq__ is object.__eq__:
        return (
            f"`{_tname(key)}` has no __eq__, so only the same object equals itself: make it a frozen dataclass "
            f"or NamedTuple, or define __eq__ and __hash__"
        )
    return f"use a coder that keeps every part of `{_tname(key)}` that __eq__ compares"


# ============================================================================ equal keys, different bytes


class KeyConsistencyChecker:
    """Reports equal keys that encode to different bytes (1, 1.0 and True under AnyCoder; -0.0 and 0.0).

    Remembers, per equality class (a dict keyed by the key itself, so Python's == and hash
    decide what is equal), the bytes first seen. Keeps at most ``max_keys`` classes so a
    long-running check stays bounded; keys beyond that are still checked against the
    classes already known. Unhashable keys are skipped here (``key_problems`` reports them).
    """

    def __init__(self, coder: Coder, max_keys: int = 100_000):
        self.coder = coder
        self.max_keys = max_keys
        self._seen: dict[Any, tuple[bytes, str, str]] = {}

    def check(self, key: Any, encoded: bytes | None = None) -> str | None:
        """The conflict message if ``key`` equals a key seen before but its bytes differ, else None."""
        if encoded is None:
            encoded = self.coder.encode_nested(key)
        try:
            previous = self._seen.get(key)
        except TypeError:
            return None
        if previous is None:
            if len(self._seen) < self.max_keys:
                self._seen[key] = (encoded, _show(key), _tname(key))
            return None
        old_bytes, old_repr, old_type = previous
        if old_bytes == encoded:
            return None
        return (
            f"keys {old_repr} (`{old_type}`) and {_show(key)} (`{_tname(key)}`) are equal but encode to different "
            f"bytes under {self.coder!r} ({_hex(old_bytes)} vs {_hex(encoded)}), so a GroupByKey puts them in "
            f"different groups. Fix: {_conflict_fix(key)}"
        )


def _conflict_fix(key: Any) -> str:
    if isinstance(key, float) and key == 0.0:
        return (
            "normalise the sign of zero before grouping (key + 0.0), or use a canonical float coder "
            "(coder.as_deterministic_coder())"
        )
    return (
        "convert keys to one type before grouping (for example int(key) or str(key)), and type the key "
        "concretely instead of Any so one coder is used"
    )


def check_keys(coder: Coder, keys: Iterable[Any]) -> list[str]:
    """Every problem across ``keys``: each key's own problems once per distinct message, then conflicts."""
    problems: list[str] = []
    seen_messages: set[str] = set()
    checker = KeyConsistencyChecker(coder)
    for key in keys:
        for p in key_problems(coder, key):
            if p not in seen_messages:
                seen_messages.add(p)
                problems.append(p)
        try:
            conflict = checker.check(key)
        except CoderError:
            continue  # already reported by key_problems
        if conflict and conflict not in seen_messages:
            seen_messages.add(conflict)
            problems.append(conflict)
    return problems


# ============================================================================ static hazards


def walk_with_paths(coder: Coder):
    """Every coder inside ``coder`` once (a recursive record is not followed again), depth first,
    with its path in the type (``Order.tags``), as ``(path, coder)``."""
    seen: set[int] = set()
    stack = [(coder, coder.path_name())]
    while stack:
        c, path = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        yield path, c
        for segment, child in reversed(c.labelled_components()):
            stack.append((child, path + segment))


def _class_hazards(path: str, cls: type) -> list[str]:
    from .records import record_mutability

    out = []
    name = _tname(cls)
    mutable = record_mutability(cls)
    if mutable is not None:
        what, fix = mutable
        unhashable = getattr(cls, "__hash__", None) is None
        why = "eq=True sets __hash__ to None" if dataclasses.is_dataclass(cls) else "it has no __hash__"
        out.append(
            f"{path}: `{name}` is {what}"
            + (f", so its instances are unhashable ({why})" if unhashable else "")
            + f" and a key can change after it was grouped. Fix: {fix}"
        )
    if cls.__eq__ is object.__eq__ and not issubclass(cls, tuple):
        out.append(
            f"{path}: `{name}` has no __eq__, so a decoded key (a new object) never equals the original. "
            f"Fix: make it a dataclass or NamedTuple, or define __eq__ and __hash__"
        )
    return out


_MUTABLE_NAMES = {
    "ListCoder": "list",
    "IterableCoder": "iterable (decoded as a list)",
    "MapCoder": "dict",
    "SetCoder": "set",
    "TypedDictCoder": "TypedDict (decoded as a dict)",
    "BeamRowCoder": "beam.Row",
}
_MUTABLE_RECORDS = ("TypedDictCoder", "BeamRowCoder")
_MUTABLE_FIX = "use Tuple[T, ...] or FrozenSet[T] for the field"
_MUTABLE_FIXES = {
    "TypedDictCoder": "use a frozen dataclass or a NamedTuple with the same fields",
    "BeamRowCoder": "use a NamedTuple or a frozen dataclass with the Row's fields",
}


def _decodes_mutable(coder: Coder) -> bool:
    name = type(coder).__name__
    if name in _MUTABLE_RECORDS and type(coder).__module__ == "coders.records":
        return True
    if name == "SetCoder":
        return not getattr(coder, "frozen", False)
    return name in _MUTABLE_NAMES and type(coder).__module__ == "coders.collections"


def coder_key_hazards(coder: Coder, hint: Any = None) -> list[str]:
    """What can make keys coded by ``coder`` group wrongly, from the coder (and key type) alone.

    Lists every determinism issue (float, map, set, pickle...) with its path, then key-specific
    hazards: Any-typed keys (1, 1.0 and True equal but coded differently), mutable or
    identity-equality record classes (dataclasses, pydantic models, attrs classes, msgspec
    Structs), lists, dicts, sets, TypedDicts and Rows inside a key (the key itself being a dict
    or list is for the caller to report), and pickled classes defined in ``__main__``.
    """
    from .dynamic import AnyCoder

    hazards = [str(issue) for issue in coder.determinism_issues()]
    for path, c in walk_with_paths(coder):
        if isinstance(c, AnyCoder):
            hazards.append(
                f"{path}: keys typed Any are coded by their runtime type, so equal keys of different types "
                f"(1, 1.0 and True; -0.0 and 0.0) encode differently and group apart. Fix: give the key a "
                f"concrete type"
            )
        cls = getattr(c, "cls", None)
        if isinstance(cls, type) and c.__class__.__name__ == "RecordCoder":
            hazards.extend(_class_hazards(path, cls))
        if c is not coder and _decodes_mutable(c):
            hazards.append(
                f"{path}: a {_MUTABLE_NAMES[type(c).__name__]} inside a key decodes as a mutable, unhashable "
                f"value, so the decoded key cannot be hashed (a frozen dataclass holding it raises TypeError "
                f"on hash). Fix: {_MUTABLE_FIXES.get(type(c).__name__, _MUTABLE_FIX)}"
            )
    from .pickle import CloudpickleCoder, PickleCoder

    if isinstance(hint, type) and isinstance(coder, (PickleCoder, CloudpickleCoder)) and hint.__module__ == "__main__":
        hazards.append(
            f"{coder.path_name()}: `{hint.__qualname__}` is defined in __main__ and pickled, so workers get it "
            f"pickled by value as a re-created class whose instances no longer equal the originals. Fix: define "
            f"it in an importable module and register a coder (or make it a frozen dataclass)"
        )
    return hazards
