"""The reduction tree: what a pickler will actually serialize below an object, with paths.

The checker never looks at ``dir()``. It asks the same questions the pickler asks:
``__reduce_ex__(protocol)`` (so ``__getstate__``/``__slots__``/``__reduce__`` decide what is
saved, and an attribute ``__getstate__`` drops is not visited), the backend's own reducers
(Beam's lock reducers), and, for functions and classes pickled *by value* (lambdas, local
and ``__main__`` definitions under cloudpickle), their closure cells, the module globals
their code refers to, default and keyword-default arguments, and the class dictionary.
Functions, classes and modules pickled *by reference* have no children: only their import
path travels.

Each child comes as an :class:`Edge` whose ``segment`` extends the parent's path in Python
syntax: ``.client``, ``['db']``, ``[0]``, ``.<closure>.conn``, ``.<globals>.LOCK``,
``.<defaults>[0]``, ``.<kwdefaults>['retries']``, ``.__self__``, ``.args[1]``,
``.<reduce args>[0]``.
"""

from __future__ import annotations

import copyreg
import dis
import functools
import io
import types
from typing import Any, NamedTuple

from .backends import Backend

ATOMIC_TYPES = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    bytearray,
    type(Ellipsis),
    type(NotImplemented),
    range,
    slice,
)
_OPAQUE_TYPE_NAMES = {("numpy", "ndarray"), ("numpy", "dtype"), ("pandas", "DataFrame")}


class Edge(NamedTuple):
    """One child the pickler saves: ``segment`` appended to the parent's path."""

    segment: str
    child: Any
    kind: str  # attr | item | key | closure | global | default | kwdefault | self | func |
    #           class | class-attr | reduce-arg | new-arg | reduce-callable | state | cell


_ATOMIC_SET = frozenset(ATOMIC_TYPES)


def is_atomic(obj) -> bool:
    return type(obj) in _ATOMIC_SET


def is_opaque(obj) -> bool:
    """Leaves of the walk: plain data, numpy arrays, files (their handling is the backend's)."""
    t = type(obj)
    known = _OPAQUE_BY_TYPE.get(t)
    if known is None:
        known = _OPAQUE_BY_TYPE[t] = (
            t in ATOMIC_TYPES
            or issubclass(t, (io.IOBase, types.ModuleType))
            or (str(t.__module__).partition(".")[0], t.__name__) in _OPAQUE_TYPE_NAMES
        )
    return known


_OPAQUE_BY_TYPE: dict[type, bool] = {}


def attr_segment(name) -> str:
    if isinstance(name, str) and name.isidentifier():
        return f".{name}"
    return f".__dict__[{name!r}]"


def item_segment(key, index: int) -> str:
    if is_atomic(key) and not isinstance(key, (bytearray, range, slice)):
        text = repr(key)
        if len(text) <= 60:
            return f"[{text}]"
    return f"[<key #{index}>]"


def root_name_for(obj) -> str:
    """A readable name for the root of the paths: the class of an instance, a function's name."""
    if isinstance(obj, types.MethodType):
        owner = obj.__self__ if isinstance(obj.__self__, type) else type(obj.__self__)
        return f"{owner.__name__}.{obj.__func__.__name__}"
    if isinstance(obj, (types.FunctionType, type, types.BuiltinFunctionType)):
        return obj.__name__
    if isinstance(obj, functools.partial):
        return "partial"
    if isinstance(obj, (list, tuple, dict, set, frozenset)):
        return "obj"
    return type(obj).__name__


def children(obj, backend: Backend) -> list[Edge]:
    """What ``backend`` pickles below ``obj``. Raises what the object's own reduction raises."""
    if is_opaque(obj):
        return []
    t = type(obj)
    if t is list or t is tuple:
        return [Edge(f"[{i}]", v, "item") for i, v in enumerate(obj)]
    if t is dict:
        return _dict_edges(obj.items(), "item")
    if t is set or t is frozenset:
        return [Edge(f".<items>[{i}]", v, "item") for i, v in enumerate(obj)]
    if t is types.FunctionType:
        return [] if backend.pickles_by_reference(obj) else function_edges(obj, backend)
    if t is types.MethodType:
        return [Edge(".__self__", obj.__self__, "self"), Edge(".__func__", obj.__func__, "func")]
    if t is functools.partial:
        edges = [Edge(".func", obj.func, "func")]
        edges += [Edge(f".args[{i}]", v, "item") for i, v in enumerate(obj.args)]
        edges += [Edge(f".keywords[{k!r}]", v, "item") for k, v in obj.keywords.items()]
        edges += [Edge(attr_segment(k), v, "attr") for k, v in vars(obj).items()]
        return edges
    if isinstance(obj, type):
        return [] if backend.pickles_by_reference(obj) else class_edges(obj)
    if t in (staticmethod, classmethod):
        return [Edge(".__func__", obj.__func__, "func")]
    if t is types.CellType:
        try:
            return [Edge(".cell_contents", obj.cell_contents, "cell")]
        except ValueError:
            return []
    if t is property:
        return [Edge(f".{n}", getattr(obj, n), "func") for n in ("fget", "fset", "fdel") if getattr(obj, n) is not None]
    if isinstance(obj, (types.BuiltinFunctionType, types.CodeType)):
        return []
    return reduce_edges(obj, backend)


def _dict_edges(items, kind: str) -> list[Edge]:
    edges = []
    for i, (k, v) in enumerate(items):
        if not is_atomic(k):
            edges.append(Edge(f".<keys>[{i}]", k, "key"))
        edges.append(Edge(item_segment(k, i), v, kind))
    return edges


def reduction(obj, backend: Backend):
    """What the pickler gets for ``obj``: its backend reducer, copyreg's, or __reduce_ex__."""
    reducer = backend.dispatch_table.get(type(obj)) or copyreg.dispatch_table.get(type(obj))
    if reducer is not None:
        return reducer(obj)
    return obj.__reduce_ex__(backend.protocol)


def reduce_edges(obj, backend: Backend) -> list[Edge]:
    rv = reduction(obj, backend)
    if isinstance(rv, str) or not isinstance(rv, tuple):
        return []  # saved as a global reference
    func, args = rv[0], rv[1] if len(rv) > 1 else ()
    state = rv[2] if len(rv) > 2 else None
    listitems = rv[3] if len(rv) > 3 else None
    dictitems = rv[4] if len(rv) > 4 else None
    edges: list[Edge] = []
    args = tuple(args or ())
    if func is copyreg.__newobj__ and args:
        edges.append(Edge(".__class__", args[0], "class"))
        edges += [Edge(f".<new args>[{i}]", v, "new-arg") for i, v in enumerate(args[1:])]
    elif func is copyreg.__newobj_ex__ and args:
        edges.append(Edge(".__class__", args[0], "class"))
        edges += [Edge(f".<new args>[{i}]", v, "new-arg") for i, v in enumerate(args[1])]
        edges += [Edge(f".<new kwargs>[{k!r}]", v, "new-arg") for k, v in args[2].items()]
    elif func is copyreg._reconstructor and args:
        edges.append(Edge(".__class__", args[0], "class"))
        if len(args) > 2 and args[2] is not None:
            edges.append(Edge(".<base state>", args[2], "reduce-arg"))
    else:
        if not isinstance(func, types.BuiltinFunctionType):
            edges.append(Edge(".<reduce>", func, "reduce-callable"))
        edges += [Edge(f".<reduce args>[{i}]", v, "reduce-arg") for i, v in enumerate(args)]
    edges += _state_edges(state)
    if listitems is not None:
        edges += [Edge(f"[{i}]", v, "item") for i, v in enumerate(listitems)]
    if dictitems is not None:
        edges += _dict_edges(dictitems, "item")
    return edges


def _state_edges(state) -> list[Edge]:
    if state is None:
        return []
    if type(state) is dict:
        return [Edge(attr_segment(k), v, "state") for k, v in state.items()]
    if (
        type(state) is tuple
        and len(state) == 2
        and (state[0] is None or type(state[0]) is dict)
        and type(state[1]) is dict
    ):
        return [Edge(attr_segment(k), v, "state") for k, v in (state[0] or {}).items()] + [
            Edge(attr_segment(k), v, "state") for k, v in state[1].items()
        ]
    return [Edge(".<state>", state, "state")]


def function_edges(fn: types.FunctionType, backend: Backend) -> list[Edge]:
    """What a function pickled by value carries: closure, globals, defaults, attributes."""
    edges: list[Edge] = []
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                edges.append(Edge(f".<closure>.{name}", cell.cell_contents, "closure"))
            except ValueError:  # empty cell
                pass
    for name in captured_global_names(fn, backend):
        if name in fn.__globals__:
            edges.append(Edge(f".<globals>.{name}", fn.__globals__[name], "global"))
    for i, value in enumerate(fn.__defaults__ or ()):
        edges.append(Edge(f".<defaults>[{i}]", value, "default"))
    for key, value in (fn.__kwdefaults__ or {}).items():
        edges.append(Edge(f".<kwdefaults>[{key!r}]", value, "kwdefault"))
    for key, value in vars(fn).items():
        edges.append(Edge(attr_segment(key), value, "attr"))
    return edges


def captured_global_names(fn: types.FunctionType, backend: Backend) -> list[str]:
    """Module globals the pickler copies with ``fn`` (cloudpickle copies the ones it uses;
    dill, unless ``recurse`` is set, refers to the module instead and copies none)."""
    if backend.family == "cloudpickle":
        return list(backend.cloudpickle._extract_code_globals(fn.__code__))
    if backend.family == "dill":
        import dill

        if not dill.settings.get("recurse"):
            return []
        return list(global_names(fn.__code__))
    return []


def global_names(code: types.CodeType) -> dict[str, None]:
    """Names ``code`` (and the functions nested in it) loads or stores as globals."""
    names: dict[str, None] = {}
    for instr in dis.get_instructions(code):
        if instr.opname in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME"):
            names[instr.argval] = None
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(global_names(const))
    return names


def class_edges(cls: type) -> list[Edge]:
    """A class pickled by value carries its dictionary (methods, class attributes) and bases."""
    edges = [Edge(f".<bases>[{i}]", base, "class") for i, base in enumerate(cls.__bases__) if base is not object]
    slots = getattr(cls, "__slots__", ())
    slots = (slots,) if isinstance(slots, str) else tuple(slots)
    for key, value in vars(cls).items():
        if (
            key in ("__dict__", "__weakref__", "__module__", "__doc__", "__qualname__")
            or key in slots
            or key.startswith("_abc_")
        ):
            continue
        edges.append(Edge(attr_segment(key), value, "class-attr"))
    return edges
