"""Picklers chosen by name: ``dumps(obj, backend=...)`` and ``loads(data, backend=...)``.

Backends (``BACKENDS``):

* ``"beam"``: exactly what Beam will run. Beam's ``apache_beam.internal.pickler`` pickles
  with its bundled cloudpickle plus its own reducers (a lock or RLock becomes a *new* lock
  on load), or with its patched dill when the pipeline's ``pickle_library`` says so; then it
  compresses (bz2, level 9) and base64-encodes. ``"beam"`` follows the library Beam has
  currently selected (``pickler.set_library``, which building a ``Pipeline`` calls), or the
  ``pickle_library`` argument when given (``"cloudpickle"``, ``"dill"``, ``"dill_unsafe"``,
  ``"default"``).
* ``"beam:cloudpickle"`` / ``"beam:dill"``: Beam's pickler with that library, whatever Beam
  currently selects.
* ``"cloudpickle"``, ``"dill"``, ``"pickle"``: the stock libraries (stdlib pickle is what
  multiprocessing and most other tools use). Note that importing apache_beam patches dill
  (nested classes, generators, modules by name): once Beam is imported, ``"dill"`` is
  Beam's dill.

``dumps``/``loads`` are the public byte formats (for Beam: base64 of bz2 of the pickle).
The checker uses :func:`get_backend` to reach the same pickler without the compression
(``Backend.raw_dumps``), plus what it needs to mirror the pickler's choices: the protocol,
the extra reducers (``dispatch_table``), and whether a function or class is pickled by
reference (importable) or by value.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

BACKENDS = ("beam", "beam:cloudpickle", "beam:dill", "cloudpickle", "dill", "pickle")

_BEAM_LIBRARIES = {
    "cloudpickle": "beam:cloudpickle",
    "default": "beam:cloudpickle",
    "dill": "beam:dill",
    "dill_unsafe": "beam:dill",
}


@dataclass(frozen=True)
class Backend:
    """One pickler, as the checker needs to see it."""

    name: str  # resolved name: "beam:cloudpickle", "dill", ...
    family: str  # "cloudpickle" | "dill" | "pickle"
    protocol: int
    dumps: Callable[[Any], bytes]  # the public format (Beam: base64(bz2(pickle)))
    loads: Callable[[bytes], Any]
    raw_dumps: Callable[[Any], bytes]  # the pickle stream itself
    unpickler: type  # a pickle.Unpickler subclass able to load raw_dumps output
    dispatch_table: dict = field(default_factory=dict, hash=False)
    cloudpickle: Any = None  # the cloudpickle module in use (family "cloudpickle")
    _by_reference: dict = field(default_factory=dict, hash=False, compare=False, repr=False)

    def raw_loads(self, data: bytes, on_import: Callable[[str], None] | None = None) -> Any:
        """Load ``raw_dumps`` output; ``on_import(module)`` sees every module it imports."""
        unpickler = self.unpickler(io.BytesIO(data))
        if on_import is not None:
            base_find_class = unpickler.find_class

            def find_class(module, name):
                on_import(module)
                return base_find_class(module, name)

            unpickler.find_class = find_class
        return unpickler.load()

    def pickles_by_reference(self, obj) -> bool:
        """True when this pickler stores ``obj`` (a function, class or module) as an import."""
        cached = self._by_reference.get(id(obj))
        if cached is not None and cached[0] is obj:
            return cached[1]
        answer = self._pickles_by_reference(obj)
        if isinstance(obj, type):  # classes live long and recur often (one per instance)
            self._by_reference[id(obj)] = (obj, answer)
        return answer

    def _pickles_by_reference(self, obj) -> bool:
        if self.family == "pickle":
            return True  # the standard library only ever pickles them by name
        if isinstance(obj, types.ModuleType):
            return self.family != "dill" or obj.__name__ != "__main__"
        if self.family == "cloudpickle":
            try:
                return bool(self.cloudpickle._should_pickle_by_reference(obj))
            except Exception:
                return False
        module, qualname = _module_and_qualname(obj)
        if module is None:
            return False
        if self.family == "dill" and module == "__main__":
            return False
        return _importable_as(obj, module, qualname)


def _module_and_qualname(obj):
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None, None
    return module, qualname


def _importable_as(obj, module: str, qualname: str) -> bool:
    if "<locals>" in qualname or "<lambda>" in qualname:
        return False
    mod = sys.modules.get(module)
    if mod is None:
        return False
    target = mod
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            return False
    return target is obj


def apache_beam_available() -> bool:
    return "apache_beam" in sys.modules or importlib.util.find_spec("apache_beam") is not None


def default_backend_name() -> str:
    """``"beam"`` when apache_beam is importable (any other pickler is wrong both ways)."""
    return "beam" if apache_beam_available() else "cloudpickle"


def resolve_backend_name(backend: str | None = None, pickle_library: str | None = None) -> str:
    """Turn a user's choice into a concrete backend name (never plain ``"beam"``)."""
    if backend is None:
        backend = default_backend_name()
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"unknown pickling backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if pickle_library is not None:
        if pickle_library not in _BEAM_LIBRARIES:
            raise ValueError(
                f"unknown Beam pickle_library {pickle_library!r}; choose one of {', '.join(_BEAM_LIBRARIES)}"
            )
        if backend not in ("beam", _BEAM_LIBRARIES[pickle_library]):
            raise ValueError(f"backend {backend!r} contradicts pickle_library={pickle_library!r}")
        return _BEAM_LIBRARIES[pickle_library]
    if backend == "beam":
        from apache_beam.internal import pickler

        return "beam:dill" if pickler.is_currently_dill() else "beam:cloudpickle"
    return backend


_CACHE: dict[str, Backend] = {}


def get_backend(backend: str | None = None, pickle_library: str | None = None) -> Backend:
    """The :class:`Backend` for a name in ``BACKENDS`` (ValueError listing them otherwise)."""
    name = resolve_backend_name(backend, pickle_library)
    found = _CACHE.get(name)
    if found is None:
        found = _CACHE[name] = _FACTORIES[name]()
    return found


def dumps(obj, backend: str | None = None, *, pickle_library: str | None = None) -> bytes:
    """Pickle ``obj`` with the named pickler (Beam: its exact compressed, base64 output)."""
    return get_backend(backend, pickle_library).dumps(obj)


def loads(data: bytes, backend: str | None = None, *, pickle_library: str | None = None):
    """The inverse of :func:`dumps` for the same backend."""
    return get_backend(backend, pickle_library).loads(data)


# -- one factory per backend --------------------------------------------------------------


class _RecordingStdUnpickler(pickle.Unpickler):
    pass


def _make_pickle() -> Backend:
    return Backend(
        name="pickle",
        family="pickle",
        protocol=pickle.DEFAULT_PROTOCOL,
        dumps=pickle.dumps,
        loads=pickle.loads,
        raw_dumps=pickle.dumps,
        unpickler=_RecordingStdUnpickler,
    )


def _make_cloudpickle() -> Backend:
    import cloudpickle
    import cloudpickle.cloudpickle as impl

    return Backend(
        name="cloudpickle",
        family="cloudpickle",
        protocol=cloudpickle.DEFAULT_PROTOCOL,
        dumps=cloudpickle.dumps,
        loads=pickle.loads,
        raw_dumps=cloudpickle.dumps,
        unpickler=_RecordingStdUnpickler,
        cloudpickle=impl,
    )


def _dill_unpickler():
    import dill

    class _DillUnpickler(dill.Unpickler):
        pass

    return _DillUnpickler


def _make_dill() -> Backend:
    import dill

    protocol = dill.settings.get("protocol") or pickle.DEFAULT_PROTOCOL
    return Backend(
        name="dill",
        family="dill",
        protocol=protocol,
        dumps=dill.dumps,
        loads=dill.loads,
        raw_dumps=dill.dumps,
        unpickler=_dill_unpickler(),
    )


def _beam_cloudpickle_reducers() -> dict:
    """The reducers Beam's cloudpickle_pickler._dumps installs on every CloudPickler."""
    from apache_beam.internal import cloudpickle_pickler as cp

    table = {cp.RLOCK_TYPE: cp._pickle_rlock, cp.LOCK_TYPE: cp._lock_reducer}
    if getattr(cp, "_TypeAliasType", None) is not None:
        table[cp._TypeAliasType] = cp._typealias_reduce
    if getattr(cp, "EnumDescriptor", None) is not None:
        table[cp.EnumDescriptor] = cp._pickle_enum_descriptor
    return table


def _make_beam_cloudpickle() -> Backend:
    from apache_beam.internal import cloudpickle_pickler as cp
    from apache_beam.internal.cloudpickle import cloudpickle as impl

    return Backend(
        name="beam:cloudpickle",
        family="cloudpickle",
        protocol=impl.DEFAULT_PROTOCOL,
        dumps=lambda obj: cp.dumps(obj),
        loads=lambda data: cp.loads(data),
        raw_dumps=lambda obj: cp._dumps(obj),
        unpickler=_RecordingStdUnpickler,
        dispatch_table=_beam_cloudpickle_reducers(),
        cloudpickle=impl,
    )


def _make_beam_dill() -> Backend:
    import dill
    from apache_beam.internal import dill_pickler as dp

    protocol = dill.settings.get("protocol") or pickle.DEFAULT_PROTOCOL
    return Backend(
        name="beam:dill",
        family="dill",
        protocol=protocol,
        dumps=lambda obj: dp.dumps(obj, enable_trace=False),
        loads=lambda data: dp.loads(data, enable_trace=False),
        raw_dumps=lambda obj: dp._dumps(obj, enable_trace=False),
        unpickler=_dill_unpickler(),
    )


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "pickle": _make_pickle,
    "cloudpickle": _make_cloudpickle,
    "dill": _make_dill,
    "beam:cloudpickle": _make_beam_cloudpickle,
    "beam:dill": _make_beam_dill,
}
