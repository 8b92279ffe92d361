"""Evolution checks: can the new code read the bytes the old code wrote?

A running streaming pipeline keeps encoded elements in its state, its shuffles and its
files. When the code is updated, the new coders must read what the old coders wrote. This
module answers that in CI, before the update:

* ``snapshot(coder_or_type)`` describes a coder tree and its wire format as plain JSON data
  (field names and order, each field's coder, nullability, enum member names, union members,
  the record format), with nothing that changes between processes or versions (no ids,
  addresses or reprs). Commit it next to the tests.
* ``check(snapshot, new_coder_or_type)`` compares the old snapshot with the new coder and
  gives a ``CompatReport``: ``"identical"`` (the snapshot is unchanged), ``"compatible"``
  (changed, but the new coder decodes every byte string the old coder could have written to
  an equal value: same fields by name, a new row field as None, a list now read as a tuple),
  or ``"incompatible"``, with every problem at its field path (``Order.items[].sku``) and the
  fix. The rules per format are in docs/compat.md; each one is tested by encoding with the old
  coder and decoding with the new one.

A coder class may describe itself with ``snapshot_node(self, child) -> dict`` (``child(coder)``
gives a component's node); without it, a coder is described by its class name, its
``_params()`` and its labelled components, which is exact for any coder whose parameters are
plain values, types or functions. The check compares such generic nodes conservatively: the
same class, equal parameters and compatible components, or incompatible.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import inspect
import json
import math
import os
import sys
import tempfile
import types
import typing
from typing import Any, Callable, Iterable

from .base import Coder

__all__ = [
    "FORMATS",
    "SNAPSHOT_VERSION",
    "Change",
    "CompatReport",
    "Problem",
    "SnapshotError",
    "check",
    "coder_for",
    "dumps",
    "load_snapshot",
    "record_node",
    "snapshot",
    "write_atomically",
]

#: Version of the snapshot layout (the ``coderkit_snapshot`` key). A newer layout is refused, not misread.
SNAPSHOT_VERSION = 1

#: The record formats: coderkit's positional ``RecordCoder`` and Beam's ``RowCoder`` (``beam:coder:row:v1``).
FORMATS = ("record", "row")


def dumps(snap: dict) -> str:
    """A snapshot as the JSON text committed next to the tests (stable: sorted keys, one line ending)."""
    return json.dumps(snap, indent=2, sort_keys=True) + "\n"


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader never sees half a file."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".coderkit-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class SnapshotError(ValueError):
    """A snapshot that is not one: not JSON, not a coderkit snapshot, or of a newer layout."""


# ============================================================================ describing a coder


def _hint_name(hint: Any) -> str:
    """A type hint with modules (``shop.Order``, ``List[shop.Item]``, ``int``): stable across processes."""
    if hint is None or hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    if isinstance(hint, str):
        return hint
    if hint is typing.Any:
        return "Any"
    origin = typing.get_origin(hint)
    if origin is not None:
        args = typing.get_args(hint)
        if origin is typing.Union or origin is types.UnionType:
            return "Union[" + ", ".join(_hint_name(a) for a in args) + "]"
        base = _hint_name(origin) if isinstance(origin, type) else str(origin).replace("typing.", "")
        return f"{base}[{', '.join(_hint_name(a) for a in args)}]" if args else base
    if isinstance(hint, type):
        module = hint.__module__
        return hint.__qualname__ if module == "builtins" else f"{module}.{hint.__qualname__}"
    module = getattr(hint, "__module__", None)
    name = getattr(hint, "__qualname__", None) or getattr(hint, "__name__", None)
    if name:
        return name if module in (None, "builtins") else f"{module}.{name}"
    return f"<instance of {_hint_name(type(hint))}>"


def _jsonable(param: Any) -> Any:
    """A coder parameter as JSON data that is the same in every process (never a repr with an address)."""
    if param is None or isinstance(param, (bool, str)):
        return param
    if isinstance(param, enum.Enum):
        return f"{_hint_name(type(param))}.{param.name}"
    if isinstance(param, int):
        return param
    if isinstance(param, float):
        return param if math.isfinite(param) else repr(param)
    if isinstance(param, (tuple, list)):
        return [_jsonable(p) for p in param]
    if isinstance(param, Coder):
        return _coder_name(param)
    return _hint_name(param)


def _coder_name(coder: Coder) -> str:
    """coderkit's own coders by class name (stable when a module moves); any other by module.QualName."""
    cls = type(coder)
    module = cls.__module__
    if module == "coders" or module.startswith("coders."):
        return cls.__name__
    return f"{module}.{cls.__qualname__}"


def record_node(coder: Coder, record_type: Any, fmt: str, fields: Iterable[tuple], child) -> dict:
    """The node of a record: ``fields`` are ``(name, coder)`` or, for a row, ``(name, coder, nullable,
    has_default)`` in wire (schema) order; a row field's coder is the one for its non-null values."""
    if fmt not in FORMATS:
        raise ValueError(f"record format must be one of {FORMATS}, not {fmt!r}")
    described = []
    for field in fields:
        name, field_coder = field[0], field[1]
        entry: dict[str, Any] = {"name": name, "coder": child(field_coder)}
        if fmt == "row":
            entry["nullable"] = bool(field[2]) if len(field) > 2 else False
            if len(field) > 3 and field[3]:
                entry["default"] = True  # old rows without this field decode it as its default
        described.append(entry)
    return {"coder": _coder_name(coder), "format": fmt, "type": _hint_name(record_type), "fields": described}


def _enum_node(coder, child) -> dict:
    cls = coder.enum_cls
    canonical = [m.name for m in cls]
    aliases = [name for name in cls.__members__ if name not in canonical]
    node = {"coder": _coder_name(coder), "type": _hint_name(cls), "members": canonical}
    if aliases:
        node["aliases"] = aliases
    if issubclass(cls, enum.Flag):
        node["flag"] = True
    return node


def _union_node(coder, child) -> dict:
    return {
        "coder": _coder_name(coder),
        "members": [
            {"type": _hint_name(h), "coder": child(c)} for h, c in zip(coder.member_types, coder.member_coders)
        ],
    }


def _row_fields(coder) -> list[tuple]:
    """``(name, coder, nullable, has_default)`` of a ``coders.RowCoder``, in schema order."""
    defaults = getattr(coder, "_defaults", None) or (None,) * len(coder.field_names)
    return [
        (name, field_coder, field_type.nullable, default is not None)
        for name, field_coder, field_type, default in zip(
            coder.field_names, coder.field_coders, coder.field_types, defaults
        )
    ]


def _described_by_family(coder: Coder, child) -> dict | None:
    """Nodes for coderkit's own records, rows, enums and unions (whose facts are attributes, not _params)."""
    from .records import EnumCoder, RecordCoder, UnionCoder

    if isinstance(coder, RecordCoder):
        return record_node(coder, coder.cls, "record", zip(coder.field_names, coder.field_coders), child)
    if isinstance(coder, EnumCoder):
        return _enum_node(coder, child)
    if isinstance(coder, UnionCoder):
        return _union_node(coder, child)
    rows = sys.modules.get("coders.rows")  # no RowCoder exists unless its module was imported
    if rows is not None and isinstance(coder, rows.RowCoder):
        return record_node(coder, coder.record_type, "row", _row_fields(coder), child)
    return None


def _named_params(coder: Coder, params: tuple) -> dict | list:
    """``_params()`` as ``{name: value}`` when the constructor's non-coder arguments name them (each stored
    on the coder under its own name); otherwise the plain list."""
    try:
        signature = inspect.signature(type(coder).__init__)
    except (TypeError, ValueError):
        return _jsonable(list(params))
    names = [
        p.name
        for p in list(signature.parameters.values())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and not isinstance(getattr(coder, p.name, None), Coder)
    ]
    missing = object()
    if len(names) == len(params) and all(
        getattr(coder, n, missing) is v or getattr(coder, n, missing) == v for n, v in zip(names, params)
    ):
        return {n: _jsonable(v) for n, v in zip(names, params)}
    return _jsonable(list(params))


def _generic_node(coder: Coder, child) -> dict:
    node: dict[str, Any] = {"coder": _coder_name(coder)}
    params = coder._params()
    if params:
        node["params"] = _named_params(coder, params)
    components = coder.labelled_components()
    if components:
        node["components"] = [{"label": label, "coder": child(c)} for label, c in components]
    return node


class _Describer:
    """Builds the JSON tree; a coder met again on its own path (a recursive type) becomes ``{"ref": name}``."""

    def __init__(self):
        self.path: dict[int, str] = {}

    def node(self, coder: Coder) -> dict:
        if not isinstance(coder, Coder):
            raise TypeError(f"a snapshot describes coders.Coder trees, not {type(coder).__name__}")
        if id(coder) in self.path:
            return {"ref": self.path[id(coder)]}
        hint = coder.to_type_hint()
        self.path[id(coder)] = _hint_name(hint) if isinstance(hint, type) else _coder_name(coder)
        try:
            own = getattr(coder, "snapshot_node", None)
            if own is not None:
                node = own(self.node)
            else:
                node = _described_by_family(coder, self.node) or _generic_node(coder, self.node)
        finally:
            del self.path[id(coder)]
        if not isinstance(node, dict) or "coder" not in node:
            raise TypeError(f"{_coder_name(coder)}.snapshot_node must return a dict with a 'coder' key, got {node!r}")
        return node


def coder_for(coder_or_type: Any, record_format: str | None = None, registry=None) -> Coder:
    """The coder a snapshot or a check is about: a coder as given, or the registry's coder for a type.

    ``record_format`` (``"record"`` or ``"row"``) picks how the registry derives records; None uses the
    registry as it is (``coders.registry`` unless ``registry`` is given).
    """
    if isinstance(coder_or_type, Coder):
        if record_format is not None:
            raise ValueError(
                f"record_format={record_format!r} picks how a registry derives a type's coder; {coder_or_type!r} "
                f"is already a coder: pass the type instead, or leave record_format out"
            )
        return coder_or_type
    if record_format is not None and record_format not in FORMATS:
        raise ValueError(f"record_format must be one of {FORMATS}, not {record_format!r}")
    if registry is None:
        from .typecoders import CoderRegistry
        from .typecoders import registry as default

        registry = default
        if record_format is not None and getattr(default, "record_format", "record") != record_format:
            try:
                registry = CoderRegistry(record_format=record_format)
            except TypeError:
                raise ValueError(
                    f"record_format={record_format!r}: this coderkit's CoderRegistry has no record_format option"
                ) from None
    return registry.get_coder(coder_or_type)


def snapshot(coder_or_type: Any, record_format: str | None = None, registry=None) -> dict:
    """A JSON-serializable description of the coder tree and its wire format, stable across processes.

    ``coder_or_type``: a coder, or a type the registry derives one for (``record_format`` picks the
    record format then). Save it with ``json.dump`` and check new code against it with ``check``.
    """
    coder = coder_for(coder_or_type, record_format, registry)
    return {"coderkit_snapshot": SNAPSHOT_VERSION, "root": _Describer().node(coder)}


def load_snapshot(source: Any) -> dict:
    """A snapshot from a dict, a JSON string, or a path to a JSON file; SnapshotError when it is not one."""
    if isinstance(source, dict):
        data = source
    else:
        text = source
        if not isinstance(source, str) or not source.lstrip().startswith("{"):
            try:
                with open(source, encoding="utf-8") as f:
                    text = f.read()
            except OSError as e:
                raise SnapshotError(f"cannot read the snapshot {str(source)!r}: {e.strerror or e}") from None
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as e:
            raise SnapshotError(f"the snapshot is not valid JSON ({e}): regenerate it with snapshot()") from None
    if not isinstance(data, dict) or "coderkit_snapshot" not in data or not isinstance(data.get("root"), dict):
        raise SnapshotError(
            "not a coderkit snapshot (no 'coderkit_snapshot' version and 'root' node): write it with "
            "coders.compat.snapshot(...) or `coderkit compat snapshot`"
        )
    version = data["coderkit_snapshot"]
    if not isinstance(version, int) or version < 1:
        raise SnapshotError(f"snapshot version {version!r} is not a positive integer: the file is corrupt")
    if version > SNAPSHOT_VERSION:
        raise SnapshotError(
            f"snapshot version {version} is newer than this coderkit reads ({SNAPSHOT_VERSION}): upgrade coderkit"
        )
    _validate(data["root"], "root")
    return data


def _validate(node: Any, where: str) -> None:
    """Refuse a corrupt tree with a message naming where, instead of a KeyError deep in the check."""
    if not isinstance(node, dict):
        raise SnapshotError(f"snapshot node at {where} is {type(node).__name__}, not an object: the file is corrupt")
    if "ref" in node:
        if not isinstance(node["ref"], str):
            raise SnapshotError(f"snapshot ref at {where} is not a string: the file is corrupt")
        return
    if not isinstance(node.get("coder"), str):
        raise SnapshotError(f"snapshot node at {where} has no 'coder' name: the file is corrupt")
    for key in ("fields", "components", "members"):
        items = node.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise SnapshotError(f"snapshot node at {where}: {key!r} is not a list: the file is corrupt")
        for i, item in enumerate(items):
            if key == "members" and "fields" not in node and node.get("coder") != "UnionCoder":
                if not isinstance(item, str):
                    raise SnapshotError(f"snapshot enum at {where}: member {i} is not a name: the file is corrupt")
                continue
            if not isinstance(item, dict) or "coder" not in item:
                raise SnapshotError(f"snapshot node at {where}: {key}[{i}] has no coder: the file is corrupt")
            if key == "fields" and not isinstance(item.get("name"), str):
                raise SnapshotError(f"snapshot record at {where}: field {i} has no name: the file is corrupt")
            _validate(item["coder"], f"{where}.{key}[{i}]")


# ================================================================================= the report


@dataclasses.dataclass(frozen=True)
class Problem:
    """Old bytes the new coder cannot read (or reads as another value): where, why, and the fix."""

    path: str
    what: str
    fix: str

    @property
    def reason(self) -> str:
        """The whole sentence: what breaks, then the fix."""
        return f"{self.what}. Fix: {self.fix}"

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class Change:
    """A difference the new coder reads through (old bytes still decode, to an equal value)."""

    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


@dataclasses.dataclass
class CompatReport:
    """The verdict of ``check``: ``identical``, ``compatible`` or ``incompatible``, with every reason."""

    problems: list[Problem]
    changes: list[Change]
    identical: bool

    @property
    def verdict(self) -> str:
        if self.problems:
            return "incompatible"
        return "identical" if self.identical else "compatible"

    @property
    def ok(self) -> bool:
        """True unless incompatible: the new coder reads every byte string the old one wrote."""
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "ok": self.ok,
            "problems": [{"path": p.path, "reason": p.what, "fix": p.fix} for p in self.problems],
            "changes": [{"path": c.path, "change": c.what} for c in self.changes],
        }

    def __str__(self) -> str:
        lines = [f"verdict: {self.verdict}"]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s): old bytes the new coder cannot read as the same value")
            lines += [f"  - {p.path}: {p.what}.\n    Fix: {p.fix}" for p in self.problems]
        if self.changes:
            lines.append(f"{len(self.changes)} change(s) the new coder reads through")
            lines += [f"  - {c}" for c in self.changes]
        return "\n".join(lines)


# ================================================================================== the check

_SEQUENCES = frozenset({"ListCoder", "TupleSequenceCoder", "IterableCoder", "SetCoder"})
_DECODES_AS = {
    "ListCoder": "a list",
    "TupleSequenceCoder": "a tuple",
    "IterableCoder": "a list",
    "SetCoder": "a set",
}
# Leaf coders whose bytes are the same as another's, decoded to an equal value (tested in test_compat).
_SAME_BYTES = (
    frozenset({"FloatCoder", "CanonicalFloatCoder"}),
    frozenset({"DecimalCoder", "CanonicalDecimalCoder"}),
)
# Parameters of coderkit's own coders that change only what they accept or the order they write in,
# never what their decoder reads or returns (each tested in test_compat by decoding with the other value).
_ENCODE_ONLY_PARAMS = {
    "lenient": "now accepts other values to encode (the decoder is unchanged)",
    "deterministic": "writes in canonical order now, or no longer (the decoder reads either)",
    "frozen": "decodes as a frozenset instead of a set, or the other way (the same bytes)",
    "as_beam_timestamp": "decodes as another timestamp class (the same milliseconds since the epoch)",
}


def _short(type_name: str) -> str:
    """``shop.Order`` -> ``Order`` (for paths and messages; brackets kept)."""
    head, bracket, rest = type_name.partition("[")
    return head.rpartition(".")[2] + bracket + rest


def _render(node: dict, depth: int = 0) -> str:
    """A node as a person reads it: ``List[VarIntCoder]``, ``Order (record)``, ``Optional[StrUtf8Coder]``."""
    if "ref" in node:
        return _short(node["ref"])
    name = node.get("coder", "?")
    if "fields" in node:
        return f"{_short(node.get('type', name))} ({node.get('format', 'record')} format)"
    if "members" in node and name != "UnionCoder":
        return f"enum {_short(node.get('type', name))}"
    comps = node.get("components") or node.get("members") or []
    if depth > 2 or not comps:
        return name
    return f"{name}[{', '.join(_render(c['coder'], depth + 1) for c in comps)}]"


class _Checker:
    def __init__(self):
        self.problems: list[Problem] = []
        self.changes: list[Change] = []
        self.old_stack: list[dict] = []
        self.new_stack: list[dict] = []
        self.busy: set[tuple[int, int]] = set()

    def problem(self, path: str, what: str, fix: str) -> None:
        self.problems.append(Problem(path, what, fix))

    def change(self, path: str, what: str) -> None:
        self.changes.append(Change(path, what))

    @staticmethod
    def _resolve(node: dict, stack: list[dict]) -> dict:
        if "ref" not in node:
            return node
        for ancestor in reversed(stack):
            if ancestor.get("type") == node["ref"] or ancestor.get("coder") == node["ref"]:
                return ancestor
        raise SnapshotError(f"snapshot ref {node['ref']!r} names no enclosing coder: the file is corrupt")

    def compare(self, old: dict, new: dict, path: str) -> None:
        old = self._resolve(old, self.old_stack)
        new = self._resolve(new, self.new_stack)
        pair = (id(old), id(new))
        if pair in self.busy or old == new:
            return  # met again on a recursive path (its differences are reported where it started), or equal
        self.busy.add(pair)
        self.old_stack.append(old)
        self.new_stack.append(new)
        try:
            for rule in _RULES:
                if rule(self, old, new, path):
                    return
            self.problem(
                path,
                f"the coder changed from {_render(old)} to {_render(new)}, which reads other bytes",
                "keep the old type for this field while old data exists, or add the new one beside it "
                "(row format: as a new Optional field) and migrate the data with a pipeline that reads with "
                "the old coder and writes with the new",
            )
        finally:
            self.busy.discard(pair)
            self.old_stack.pop()
            self.new_stack.pop()

    def compare_components(self, old: dict, new: dict, path: str) -> None:
        old_c, new_c = old.get("components", []), new.get("components", [])
        only_value = len(new_c) == 1 and new_c[0].get("label") == ".value"
        for o, n in zip(old_c, new_c):
            self.compare(o["coder"], n["coder"], path + _segment(o.get("label", ""), only_value))


def _segment(label: str, only_value: bool) -> str:
    """A component label as a path segment: ``.element`` -> ``[]``, a wrapper's ``.value`` -> nothing."""
    if label == ".element":
        return "[]"
    if label == ".value":
        return "" if only_value else "{value}"
    if label == ".key":
        return "{key}"
    return label


# ---- the rules: each takes (checker, old, new, path) and returns True when it decided the pair ------


def _records_rule(c: _Checker, old: dict, new: dict, path: str) -> bool:
    if "fields" not in old and "fields" not in new:
        return False
    if "fields" not in old or "fields" not in new:
        return False  # a record against a non-record: the generic "coder changed" problem
    old_fmt, new_fmt = old.get("format", "record"), new.get("format", "record")
    if old_fmt != new_fmt:
        c.problem(
            path,
            f"the record format changed from {old_fmt} to {new_fmt}: the bytes are laid out differently "
            f"(record: the fields one after another; row: Beam's field count, null bitmap, then the fields)",
            f"keep record_format={old_fmt!r} for this type while old data exists (CoderRegistry(record_format="
            f"{old_fmt!r}), or coders.beam.install(record_format={old_fmt!r})), and switch formats with a "
            f"pipeline that reads the old data and writes it again",
        )
        return True
    if old.get("type") != new.get("type"):
        c.change(
            path,
            f"decodes into {new.get('type')} instead of {old.get('type')} (neither format writes the class name)",
        )
    if old_fmt == "row":
        _compare_row_fields(c, old, new, path)
    else:
        _compare_record_fields(c, old, new, path)
    return True


def _names(node: dict) -> list[str]:
    return [f["name"] for f in node["fields"]]


def _compare_record_fields(c: _Checker, old: dict, new: dict, path: str) -> None:
    """Record format: the bytes are the fields' values in order, with no names and no count."""
    old_names, new_names = _names(old), _names(new)
    cls = _short(new.get("type", "the record"))
    if old_names != new_names:
        why = (
            "the record format writes the fields one after another with no names and no count, so the new "
            "coder reads each position as the field now declared there"
        )
        versioned = (
            f"keep {cls}'s old fields, in their order, while old data exists; to evolve it, give the new "
            f"version its own class and decode old data with the old one (a UnionCoder of both versions tags "
            f"each element with its version), or use the row format (record_format='row'), whose field count "
            f"and null bitmap let an Optional or defaulted field be appended"
        )
        added = [n for n in new_names if n not in old_names]
        removed = [n for n in old_names if n not in new_names]
        renamed = []
        for o, n in zip(old_names, new_names):
            if o != n and o in removed and n in added:
                renamed.append((o, n))
        for o, n in renamed:
            c.problem(
                f"{path}.{n}",
                f"field {o!r} was renamed to {n!r}: fields are matched by name, so old data has no {n!r} and "
                f"holds a {o!r} the new class lacks; {why}",
                f"keep the field's name {o!r} (expose {n!r} as a property), or {versioned}",
            )
        renamed_old = {o for o, _ in renamed}
        renamed_new = {n for _, n in renamed}
        for n in added:
            if n not in renamed_new:
                c.problem(
                    f"{path}.{n}",
                    f"field {n!r} was added: old bytes hold no value for it; {why}",
                    versioned,
                )
        for o in removed:
            if o not in renamed_old:
                c.problem(
                    f"{path}.{o}",
                    f"field {o!r} was removed: old bytes still hold its value, which the new coder would read as "
                    f"another field (or as trailing bytes); {why}",
                    f"keep {o!r} (unused) while old data exists, or {versioned}",
                )
        common_old = [n for n in old_names if n in new_names]
        common_new = [n for n in new_names if n in old_names]
        if common_old != common_new:
            c.problem(
                path,
                f"fields were reordered from {common_old} to {common_new}: {why}",
                f"declare the fields in their old order {old_names} (a dataclass's order is its declaration "
                f"order), or {versioned}",
            )
    old_fields = {f["name"]: f for f in old["fields"]}
    for field in new["fields"]:
        before = old_fields.get(field["name"])
        if before is not None:
            c.compare(before["coder"], field["coder"], f"{path}.{field['name']}")


def _compare_row_fields(c: _Checker, old: dict, new: dict, path: str) -> None:
    """Row format (Beam's RowCoder): a field count, a null bitmap, then the non-null fields in schema order.

    ``coders.RowCoder`` reads min(count, its own fields) values and fills a field the data lacks with its
    default, else None when nullable, else fails; it skips extra trailing values only when they are null
    or the row is the outermost value (it has no coder for them), so removing a field is not safe.
    """
    old_names, new_names = _names(old), _names(new)
    cls = _short(new.get("type", "the row"))
    n_common = 0
    for o, n in zip(old_names, new_names):
        if o != n:
            break
        n_common += 1
    if n_common < min(len(old_names), len(new_names)) or (
        len(old_names) > len(new_names) and any(n not in old_names for n in new_names)
    ):
        o, n = old_names[n_common], new_names[n_common]
        if n not in old_names and o not in new_names:
            what = f"field {o!r} at position {n_common} was renamed to {n!r} (or replaced by it)"
            fix = f"keep the name {o!r} (expose {n!r} as a property), or append {n!r} as a new Optional field"
        else:
            what = f"fields were reordered or inserted from {old_names} to {new_names}"
            fix = f"keep the old fields in their old order {old_names} and append new fields at the end"
        c.problem(
            f"{path}.{n}",
            f"{what}: a row's values are in schema order and the new coder reads position {n_common} as {n!r}",
            fix,
        )
    elif len(old_names) > len(new_names):
        gone = old_names[len(new_names) :]
        c.problem(
            f"{path}.{gone[0]}",
            f"field(s) {gone} were removed from the end: old rows still carry their values, which a row "
            f"decoder has no coder for; it skips them only when they are null or the row is the outermost "
            f"value, so inside a larger element (a KV, a window, another row, state) decoding fails",
            f"keep {gone} in {cls} (unused, Optional) while old data exists; drop them once it is drained",
        )
    else:
        for field in new["fields"][len(old_names) :]:
            if field.get("default"):
                c.change(f"{path}.{field['name']}", "new field with a default: old rows decode it as the default")
            elif field.get("nullable"):
                c.change(f"{path}.{field['name']}", "new nullable field: old rows decode it as None")
            else:
                c.problem(
                    f"{path}.{field['name']}",
                    f"field {field['name']!r} was appended with neither a default nor Optional: old rows have "
                    f"no value for it, so they cannot be decoded",
                    "give it a default (= ...) or declare it Optional[...] = None",
                )
    old_fields = {f["name"]: f for f in old["fields"]}
    for field in new["fields"]:
        before = old_fields.get(field["name"])
        if before is None:
            continue
        where = f"{path}.{field['name']}"
        if before.get("nullable") and not field.get("nullable"):
            c.problem(
                where,
                "narrowed from nullable to non-nullable: old rows may hold None for it",
                "keep it Optional while old data exists",
            )
        elif field.get("nullable") and not before.get("nullable"):
            c.change(where, "widened to nullable: the null bitmap marks None, and other values keep their bytes")
        c.compare(before["coder"], field["coder"], where)


def _enum_rule(c: _Checker, old: dict, new: dict, path: str) -> bool:
    if not (old.get("coder") == new.get("coder") == "EnumCoder"):
        return False
    readable = set(new.get("members", [])) | set(new.get("aliases", []))
    enum_name = _short(new.get("type", "the enum"))
    for member in old.get("members", []):
        if member not in readable:
            c.problem(
                f"{path}",
                f"enum member {member!r} was removed from {enum_name}: old data may hold it (members travel by name)",
                f"add it back, or as an alias of its replacement ({member} = {enum_name}.NEW.value in the class "
                f"body) so old data decodes to that member",
            )
    if old.get("flag") and not new.get("flag"):
        c.problem(
            path,
            f"{enum_name} is no longer a Flag: old data may hold combinations such as 'A|B'",
            f"keep {enum_name} a Flag while old data exists",
        )
    added = [m for m in new.get("members", []) if m not in old.get("members", [])]
    if added:
        c.change(path, f"enum member(s) {added} added to {enum_name} (members travel by name: old data still reads)")
    kept_old = [m for m in old.get("members", []) if m in new.get("members", [])]
    kept_new = [m for m in new.get("members", []) if m in old.get("members", [])]
    if kept_old != kept_new:
        c.change(path, f"{enum_name}'s members were reordered (members travel by name: old data still reads)")
    renamed = [m for m in old.get("members", []) if m not in new.get("members", []) and m in readable]
    if renamed:
        c.change(
            path, f"{renamed} are aliases in {enum_name} now: old data holding them decodes to the members they name"
        )
    if old.get("type") != new.get("type"):
        c.change(path, f"decodes into {new.get('type')} instead of {old.get('type')} (members travel by name)")
    return True


def _value_of(node: dict) -> dict:
    return node["components"][0]["coder"]


def _nullable_rule(c: _Checker, old: dict, new: dict, path: str) -> bool:
    old_n, new_n = old.get("coder") == "NullableCoder", new.get("coder") == "NullableCoder"
    if not (old_n or new_n):
        return False
    if old_n and new_n:
        c.compare(_value_of(old), _value_of(new), path)
    elif new_n:
        c.problem(
            path,
            f"widened from {_render(old)} to Optional: NullableCoder writes a presence byte (00 or 01) before "
            f"each value, which old bytes lack",
            "keep the field non-Optional while old data exists, or use the row format (record_format='row'), "
            "where None is marked in the null bitmap and widening to Optional is compatible",
        )
    else:
        c.problem(
            path,
            f"narrowed from Optional to {_render(new)}: old values start with a presence byte, and old data "
            f"may hold None",
            "keep the field Optional while old data exists",
        )
    return True


def _sequence_rule(c: _Checker, old: dict, new: dict, path: str) -> bool:
    o, n = old.get("coder"), new.get("coder")
    if o not in _SEQUENCES or n not in _SEQUENCES:
        return False
    if n == "SetCoder" and o != "SetCoder":
        c.problem(
            path,
            f"changed from {_DECODES_AS[o]} to a set: old data may hold repeated elements, which a set "
            f"decoder refuses (and order would be lost)",
            "keep a sequence type while old data exists",
        )
        return True
    if o != n:
        c.change(path, f"decodes as {_DECODES_AS[n]} instead of {_DECODES_AS[o]} (the same bytes: count, elements)")
    elif not _params_read_through(c, old, new, path):
        return True
    c.compare_components(old, new, path)
    return True


def _same_class_rule(c: _Checker, old: dict, new: dict, path: str) -> bool:
    o, n = old.get("coder"), new.get("coder")
    if o != n:
        if any(o in group and n in group for group in _SAME_BYTES):
            c.change(path, f"{n} instead of {o}: the same bytes, decoded to an equal value")
            _check_same_shape(c, old, new, path)
            return True
        return False
    if not _params_read_through(c, old, new, path):
        return True
    _check_same_shape(c, old, new, path)
    return True


def _params_read_through(c: _Checker, old: dict, new: dict, path: str) -> bool:
    """Same coder class, parameters maybe changed: True when the decoder still reads the same bytes to an
    equal value (each change noted), False after reporting the problem."""
    before, after = old.get("params"), new.get("params")
    if before == after:
        return True
    name = new.get("coder", "?")
    if isinstance(before, dict) and isinstance(after, dict) and before.keys() == after.keys() and "." not in name:
        changed = [k for k in after if before[k] != after[k]]
        if all(k in _ENCODE_ONLY_PARAMS for k in changed):
            for k in changed:
                c.change(path, f"{name}({k}={after[k]!r}, was {before[k]!r}) {_ENCODE_ONLY_PARAMS[k]}")
            return True
    c.problem(
        path,
        f"{name}'s parameters changed from {before} to {after}, and coderkit cannot tell whether it still reads "
        f"the old bytes",
        "keep the old parameters while old data exists, or prove the new coder reads the old bytes with "
        "coders.testing.assert_decodes_golden and then refresh the snapshot",
    )
    return False


def _check_same_shape(c: _Checker, old: dict, new: dict, path: str) -> None:
    old_c, new_c = old.get("components", []), new.get("components", [])
    if [x.get("label") for x in old_c] != [x.get("label") for x in new_c]:
        c.problem(
            path,
            f"{new.get('coder')} has other components now ({len(old_c)} before, {len(new_c)} now): "
            f"{_render(old)} became {_render(new)}",
            "keep the old shape while old data exists (a tuple's arity is its byte layout)",
        )
        return
    c.compare_components(old, new, path)


def _union_rule(c: _Checker, old: dict, new: dict, path: str) -> bool:
    if not (old.get("coder") == new.get("coder") == "UnionCoder"):
        return False
    old_m, new_m = old.get("members", []), new.get("members", [])
    for i, (o, n) in enumerate(zip(old_m, new_m)):
        if o.get("type") != n.get("type"):
            c.problem(
                f"{path}<{_short(o.get('type', '?'))}>",
                f"union member {i} changed from {o.get('type')} to {n.get('type')}: a union's tag is its "
                f"member's position",
                "keep the members in their old order and add new ones at the end",
            )
            continue
        c.compare(o["coder"], n["coder"], f"{path}<{_short(o.get('type', '?'))}>")
    if len(new_m) < len(old_m):
        gone = [m.get("type") for m in old_m[len(new_m) :]]
        c.problem(
            path,
            f"union member(s) {gone} were removed: old data may hold their tags",
            "keep them (at the end) while old data exists",
        )
    elif len(new_m) > len(old_m):
        added = [m.get("type") for m in new_m[len(old_m) :]]
        c.change(path, f"union member(s) {added} added at the end (old tags keep their meaning)")
    return True


_RULES: tuple[Callable[[_Checker, dict, dict, str], bool], ...] = (
    _records_rule,
    _nullable_rule,
    _enum_rule,
    _union_rule,
    _sequence_rule,
    _same_class_rule,
)


def _root_path(node: dict) -> str:
    if "fields" in node or node.get("coder") == "EnumCoder":
        return _short(node.get("type", "value"))
    return "value"


def check(old_snapshot: Any, new_coder_or_type: Any, record_format: str | None = None, registry=None) -> CompatReport:
    """Can ``new_coder_or_type`` read every byte string the coder of ``old_snapshot`` wrote, to an equal value?

    ``old_snapshot``: a snapshot dict (from ``snapshot``), a JSON string, or a path to a JSON file.
    Fields are matched by name. The verdict is ``identical`` when the snapshot is unchanged,
    ``compatible`` when only changes the new coder reads through were found (``report.changes``),
    ``incompatible`` otherwise (``report.problems``: each with its field path, the reason and the fix).
    """
    old = load_snapshot(old_snapshot)
    new = snapshot(new_coder_or_type, record_format, registry)
    checker = _Checker()
    checker.compare(old["root"], new["root"], _root_path(new["root"]))
    identical = old["root"] == new["root"]
    if not identical and not checker.changes and not checker.problems:
        checker.change(_root_path(new["root"]), "the snapshot differs in a detail the wire format does not carry")
    return CompatReport(problems=checker.problems, changes=checker.changes, identical=identical)
