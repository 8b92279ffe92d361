"""Make Beam use coderkit's coders for the record types a pipeline declares: ``install()`` / ``uninstall()``.

How Beam picks a coder: ``apache_beam.coders.typecoders.registry.get_coder(hint)``
looks the hint up among registered classes (int, float, str, bytes, bool, the
Tuple/KV, Iterable, Dict ... constraints) and, when nothing is registered, asks a
chain of fallbacks in turn (ProtoCoder, ProtoPlusCoder, then FastPrimitivesCoder,
which pickles what it does not know). Composite hints recurse, so the key of a
``Tuple[Order, int]`` is looked up on its own.

``install`` puts one entry at the head of that fallback chain. It answers only
for *user record types*: dataclasses, NamedTuples, Enums, pydantic models, attrs
classes, msgspec Structs, TypedDicts and classes registered with coderkit's
registry, and only when the registry derives their coder without falling back to
pickle. Every other hint goes on down the chain exactly as before,
which is what keeps working pipelines working:

* ``Any``, ``object``, type variables and the ``Union`` values CoGroupByKey builds
  are Beam's (FastPrimitivesCoder), as are every Beam type constraint (Tuple/KV,
  Iterable, Dict, Set, the schemas Beam infers from ``beam.Row`` values ...) and
  every type from ``apache_beam`` but the ``beam.Row`` class itself (a hint Beam
  would pickle; coderkit's ``BeamRowCoder`` keeps each row's names and order);
* int, str, bytes, float and bool never reach the chain (Beam registers them),
  so their bytes are unchanged;
* classes a user registered in Beam's own registry, protobuf messages and any
  type whose coderkit coder would include a pickle fallback are left alone;
* nothing is written into Beam's class table, so Beam's schema inference (which
  treats an unregistered mutable dataclass as a Row) is unaffected.

Beam looks ``__main__`` classes up by name (its issue 21541); the hook maps the
name back to the class defined in ``__main__``. Coders reach workers inside the
pipeline proto (pickled), so workers need not call ``install``.
"""

from __future__ import annotations

import enum
import threading

from apache_beam.coders import typecoders
from apache_beam.typehints import typehints as beam_typehints

from coders.base import Coder
from coders.records import is_beam_row_class, is_record_class, is_typeddict_class

from .adapter import installed_state as _installed
from .adapter import resolve_main_name, to_beam

__all__ = ["CoderkitFallback", "coderkit_coder_for", "install", "installed_registry", "uninstall"]

_lock = threading.Lock()


def _default_registry():
    from coders.typecoders import registry

    return registry


class CoderkitFallback:
    """The head of Beam's fallback chain: coderkit's coder for user record types, a refusal otherwise.

    Beam's ``FirstOf`` calls ``from_type_hint(hint, beam_registry)`` on each entry and
    moves to the next when one raises, so refusing is raising.
    """

    def __init__(self, registry):
        self.registry = registry

    def from_type_hint(self, typehint, beam_registry):
        coder = coderkit_coder_for(typehint, self.registry)
        if coder is None:
            raise LookupError(f"coderkit leaves {typehint!r} to Beam (not a record type it derives without pickle)")
        return to_beam(coder)

    def __repr__(self):
        return f"CoderkitFallback({self.registry!r})"


def _registered(cls: type, registry) -> bool:
    registrations = getattr(registry, "_registrations", {})
    return any(base in registrations for base in cls.__mro__[:-1])


# Libraries whose value types coderkit codes exactly (coders.arrays, coders.arrow) where Beam pickles them.
_LIBRARY_VALUE_MODULES = frozenset({"numpy", "pandas", "pyarrow"})


def _is_user_record_type(hint, registry) -> bool:
    if not isinstance(hint, type) or isinstance(hint, beam_typehints.TypeConstraint):
        return False
    if is_beam_row_class(hint):  # Beam pickles a Row hint (FastPrimitivesCoder); inferred schemas stay Beam's
        return True
    module = getattr(hint, "__module__", "") or ""
    if module in ("builtins", "typing") or module.split(".")[0] == "apache_beam":
        return False
    if _registered(hint, registry):
        return True
    if module.split(".")[0] in _LIBRARY_VALUE_MODULES:  # arrays and tables: Beam would pickle them
        return True
    return is_record_class(hint) or is_typeddict_class(hint) or issubclass(hint, enum.Enum)


def coderkit_coder_for(typehint, registry=None) -> Coder | None:
    """coderkit's coder for ``typehint`` when ``install`` would take it over, else None.

    None for anything but a user record type (see the module docstring), and for a
    record type whose coder would need the pickle fallback somewhere inside.
    """
    from coders.typecoders import ResolutionContext

    registry = registry if registry is not None else _default_registry()
    hint = resolve_main_name(typehint)
    if hint is None or not _is_user_record_type(hint, registry):
        return None
    context = ResolutionContext()
    try:
        registry.resolve(hint, context)
    except Exception:  # a strict registry, or a type the rules reject: Beam keeps it
        return None
    if context.state.fallbacks:
        return None
    return registry.get_coder(hint)


def install(registry=None, record_format: str | None = None) -> CoderkitFallback:
    """Make Beam's coder registry use ``registry``'s coders (default ``coders.registry``) for record types.

    ``record_format="row"`` makes records travel as Beam's standard rows (``coders.RowCoder``: a schema
    runners and other SDKs read, decoded to your class); ``"record"`` as ``RecordCoder``. Given, it is
    applied to a copy of the registry (same rules, strictness and registrations).

    Idempotent: installing again switches the registry in place. Returns the hook.
    """
    registry = registry if registry is not None else _default_registry()
    if record_format is not None and record_format != getattr(registry, "record_format", "record"):
        from coders.typecoders import CoderRegistry

        copy = CoderRegistry(strict=registry.strict, rules=registry.rules, record_format=record_format)
        for hint, entry in registry._registrations.items():
            copy.register_coder(hint, entry)
        registry = copy
    beam_registry = typecoders.registry
    with _lock:
        hook = _installed.get("hook")
        if hook is not None:
            hook.registry = registry
            return hook
        hook = CoderkitFallback(registry)
        previous = beam_registry._fallback_coder
        beam_registry._fallback_coder = typecoders.FirstOf([hook, previous])
        _installed.update(hook=hook, previous=previous, head=beam_registry._fallback_coder)
        return hook


def uninstall() -> None:
    """Undo ``install``: Beam's fallback chain is restored exactly (no-op when not installed)."""
    beam_registry = typecoders.registry
    with _lock:
        hook = _installed.pop("hook", None)
        if hook is None:
            return
        previous, head = _installed.pop("previous"), _installed.pop("head")
        if beam_registry._fallback_coder is head:
            beam_registry._fallback_coder = previous
        else:  # someone registered another fallback on top since: cut ours out of the chain
            _remove_from_chain(beam_registry._fallback_coder, hook)


def _remove_from_chain(chain, hook) -> None:
    entries = getattr(chain, "_coders", None)
    if entries is None:
        return
    entries = list(entries)
    if hook in entries:
        entries.remove(hook)
    for entry in entries:
        _remove_from_chain(entry, hook)
    chain._coders = entries


def installed_registry():
    """The coderkit registry Beam currently uses for record types, or None when not installed."""
    hook = _installed.get("hook")
    return hook.registry if hook is not None else None
