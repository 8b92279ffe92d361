"""What to tell the user: advice for each kind of offender, as small ordered rules.

Advice has two halves, each chosen by the first rule that matches:

* *what* the offender is (a socket, a generator, a local class, a Cython type with a
  non-trivial ``__cinit__``, an object whose own ``__reduce__`` raised, ...), from
  ``OBJECT_RULES``;
* *where* it hangs (a DoFn attribute: ``__init__`` runs on the driver, ``setup()`` on the
  worker; a closure cell; a module global copied with a function pickled by value; a
  default argument; the ``__self__`` of a bound method), from ``PLACE_RULES``.

``WARNING_RULES`` classify objects that pickle but mean something else on the worker
(locks, open files, iterators, threads, a Beam Pipeline). Adding a case is adding a rule.
"""

from __future__ import annotations

import collections.abc
import concurrent.futures
import io
import queue
import socket
import sys
import sysconfig
import threading
import traceback
import types
from dataclasses import dataclass
from typing import Any, Callable

from .backends import Backend
from .walk import Edge


@dataclass
class Finding:
    """An offender, as the rules see it."""

    root: Any
    root_name: str
    path: str
    first_edge: Edge | None  # the edge leaving the root (None: the root itself)
    obj: Any
    error: BaseException | None
    backend: Backend
    phase: str = "dump"  # dump | load | fresh (failed to load in a fresh interpreter)


def _type_names(obj) -> str:
    return " ".join(c.__name__.lower() for c in type(obj).__mro__)


def is_dofn(obj) -> bool:
    beam = sys.modules.get("apache_beam")
    if beam is not None and isinstance(obj, beam.DoFn):
        return True
    cls = type(obj)  # duck typing on the class, so a Mock's any-attribute does not count
    return callable(getattr(cls, "process", None)) and callable(getattr(cls, "setup", None))


def _is_beam_fn_class(cls: type) -> bool:
    """DoFn/CombineFn/PTransform classes: carrying their own copy is how Beam ships them."""
    beam = sys.modules.get("apache_beam")
    return beam is not None and issubclass(cls, (beam.DoFn, beam.CombineFn, beam.PTransform))


def _raised_in_user_hook(error: BaseException | None) -> str | None:
    """Name of the pickling hook (__reduce__, __getstate__, __setstate__ ...) that raised."""
    if error is None or error.__traceback__ is None:
        return None
    hooks = {
        "__reduce__",
        "__reduce_ex__",
        "__getstate__",
        "__setstate__",
        "__getnewargs__",
        "__getnewargs_ex__",
        "__init__",
        "__new__",
    }
    for frame, _ in reversed(list(traceback.walk_tb(error.__traceback__))):
        if frame.f_code.co_name in hooks and not frame.f_code.co_filename.startswith(_STDLIB):
            return frame.f_code.co_name
    return None


_STDLIB = sysconfig.get_paths()["stdlib"]
_SYNC_TYPES = (
    type(threading.Lock()),
    type(threading.RLock()),
    threading.Condition,
    threading.Semaphore,
    threading.Event,
    threading.Barrier,
)
_CONNECTION_WORDS = ("socket", "connection", "client", "channel", "session", "cursor", "ssl")


def _msg(f: Finding) -> str:
    return str(f.error) if f.error is not None else ""


OBJECT_RULES: list[tuple[Callable[[Finding], bool], Callable[[Finding], str]]] = [
    (
        lambda f: "__cinit__" in _msg(f),
        lambda f: (
            f"{type(f.obj).__name__} is a C extension (Cython) type: pickle has no way to "
            "call its __cinit__, which needs arguments, so it cannot be recreated on the "
            "worker. Keep the arguments instead and construct the object on the worker."
        ),
    ),
    (
        lambda f: f.phase == "load",
        lambda f: (
            f"{type(f.obj).__name__} pickles but fails to unpickle "
            f"({_raised_in_user_hook(f.error) or 'while loading'} raised). Make "
            "__setstate__/__reduce__ work without the driver's state, or rebuild the "
            "object on the worker."
        ),
    ),
    (
        lambda f: _raised_in_user_hook(f.error) is not None,
        lambda f: (
            f"its own {_raised_in_user_hook(f.error)} refused to pickle it (the message "
            "above is the object's): follow that message, or keep the object out of what "
            "is pickled."
        ),
    ),
    (
        lambda f: isinstance(f.obj, types.GeneratorType),
        lambda f: (
            "a running generator cannot be pickled: pass the values (list(...)) or a "
            "function that creates the generator on the worker."
        ),
    ),
    (
        lambda f: (
            isinstance(f.obj, (concurrent.futures.Executor, threading.Thread))
            or type(f.obj).__module__ in ("_queue", "queue")
        ),
        lambda f: "thread pools, threads and queues belong to one process: create them on the worker.",
    ),
    (
        lambda f: isinstance(f.obj, _SYNC_TYPES),
        lambda f: (
            f"backend {f.backend.name!r} cannot pickle locks (Beam's own pickler recreates "
            "them as new, unrelated locks): create the lock on the worker."
        ),
    ),
    (
        lambda f: isinstance(f.obj, io.IOBase),
        lambda f: "an open file cannot travel: pass its path and open it on the worker.",
    ),
    (
        lambda f: (
            isinstance(f.obj, type)
            or "local object" in _msg(f)
            or "attribute lookup" in _msg(f)
            or "not found as" in _msg(f)
        ),
        lambda f: "move this class/function to module level so workers can import it.",
    ),
    (
        lambda f: isinstance(f.obj, socket.socket) or any(w in _type_names(f.obj) for w in _CONNECTION_WORDS),
        lambda f: (
            "pass the value, not the client: give the worker what it needs to connect "
            "(address, URL, the name of a credential) and open the connection there."
        ),
    ),
    (lambda f: True, lambda f: "keep this object out of what is pickled: create it on the worker, or pass plain data."),
]


def _attr_name(edge: Edge) -> str:
    return edge.segment.rsplit(".", 1)[-1]


PLACE_RULES: list[tuple[Callable[[Finding], bool], Callable[[Finding], str]]] = [
    (
        lambda f: f.first_edge is not None and f.first_edge.kind == "state" and is_dofn(f.root),
        lambda f: (
            f"{type(f.root).__name__}.__init__ runs on the driver and everything it stores "
            f"on self is pickled and shipped: set self.{_attr_name(f.first_edge)} = None in "
            "__init__ and create it in setup() (or start_bundle()), which runs on each worker "
            "(close it in teardown())."
        ),
    ),
    (
        lambda f: f.first_edge is not None and f.first_edge.kind == "closure" and _attr_name(f.first_edge) == "self",
        lambda f: (
            "the function captures `self`, so the whole object travels with it: copy the "
            "values it needs into local variables before building the function (x = "
            "self.x), and capture those."
        ),
    ),
    (
        lambda f: f.first_edge is not None and f.first_edge.kind == "closure",
        lambda f: (
            f"the function captures `{_attr_name(f.first_edge)}` from its enclosing scope: "
            "create it inside the function (or in a DoFn's setup()) and capture only plain "
            "values."
        ),
    ),
    (
        lambda f: f.first_edge is not None and f.first_edge.kind == "global",
        lambda f: (
            f"the function refers to the module-level `{_attr_name(f.first_edge)}`, which "
            "is copied with it because the function is pickled by value (a lambda, or "
            "defined in __main__ or inside a function): move the function into an "
            "importable module so it is pickled by reference, or create the object on the "
            "worker."
        ),
    ),
    (
        lambda f: f.first_edge is not None and f.first_edge.kind in ("default", "kwdefault"),
        lambda f: (
            "default argument values are pickled with the function: default to None and create the object inside it."
        ),
    ),
    (
        lambda f: f.first_edge is not None and f.first_edge.kind == "self",
        lambda f: (
            "a bound method pickles its whole object (__self__): use a module-level "
            "function, or a DoFn that creates this in setup()."
        ),
    ),
    (lambda f: True, lambda f: ""),
]


def _missing_module(f: Finding) -> str | None:
    return getattr(f.error, "missing_module", None)


# a part that loads in process but not in a fresh interpreter: the first two are fixed where
# the code is installed, whatever holds the part; the last where the part is built
FRESH_RULES: list[tuple[Callable[[Finding], bool], Callable[[Finding], str], bool]] = [
    (
        lambda f: _missing_module(f) is not None,
        lambda f: (
            f"the workers cannot import {_missing_module(f)!r}: it is only on the driver's "
            "sys.path. Install it on the workers (a package in requirements/setup.py, "
            "--extra_package) or move this class/function into a module they install."
        ),
        False,
    ),
    (
        lambda f: "Can't get attribute" in _msg(f),
        lambda f: (
            "it is looked up by name in a module where the worker does not have it (a "
            "worker's __main__ is not your script): move it into a module the workers "
            "install, or let the pickler copy it by value (Beam's cloudpickle does so "
            "for __main__)."
        ),
        False,
    ),
    (
        lambda f: True,
        lambda f: (
            f"unpickling {type(f.obj).__name__} needs something only the launching process has "
            "(an environment variable, a file, a module state): make loading self-contained or "
            "rebuild the object on the worker (in setup())."
        ),
        True,
    ),
]


def advise(finding: Finding) -> str:
    if finding.phase == "fresh":
        what, placed = next((text(finding), placed) for test, text, placed in FRESH_RULES if test(finding))
    else:
        what, placed = next(text(finding) for test, text in OBJECT_RULES if test(finding)), True
    where = next(text(finding) for test, text in PLACE_RULES if test(finding)) if placed else ""
    what = what[:1].upper() + what[1:]
    return f"{where} {what}" if where else what


# -- objects that pickle but change meaning on the worker ---------------------------------


@dataclass
class Change:
    """A warning: the object survives pickling as something else (or, kind "incomplete",
    the search for such objects stopped before the end)."""

    message: str
    advice: str
    kind: str = "changes-meaning"


def _is_beam_driver_object(obj) -> bool:
    beam = sys.modules.get("apache_beam")
    if beam is None:
        return False
    return isinstance(obj, (beam.Pipeline, beam.pvalue.PValue))


# in-memory buffers are values: copying them is exact. The standard streams are pickled by
# name (sys.stdout on the worker is the worker's, which is what print() means there).
_IN_MEMORY_FILES = (io.BytesIO, io.StringIO)
_STD_STREAMS = ("stdout", "stderr", "stdin", "__stdout__", "__stderr__", "__stdin__")


def _file_change(obj, backend: Backend) -> Change:
    if backend.family == "dill":
        what = (
            "dill stores the file's name and mode and reopens it on the worker, where the "
            "path may not exist, or gives an empty file"
        )
    else:
        what = (
            "the pickler copies the file's contents as they were when pickled into an "
            "in-memory file; writes and later changes are not seen"
        )
    return Change(
        f"an open file does not travel: {what}",
        "pass the path and open the file on the worker (in setup() or process()).",
    )


WARNING_RULES: list[tuple[Callable[[Any, Backend], bool], Callable[[Any, Backend], Change]]] = [
    (
        lambda o, b: isinstance(o, _SYNC_TYPES),
        lambda o, b: Change(
            f"pickles as a new, unrelated {type(o).__name__} on each worker: it "
            "no longer synchronises anything with the driver or other workers",
            "create it in setup() if the worker needs one; coordination between workers needs an external service.",
        ),
    ),
    (
        lambda o, b: (
            isinstance(o, io.IOBase)
            and not isinstance(o, _IN_MEMORY_FILES)
            and not any(o is getattr(sys, n, None) for n in _STD_STREAMS)
        ),
        _file_change,
    ),
    (
        lambda o, b: isinstance(o, (threading.Thread, concurrent.futures.Executor)),
        lambda o, b: Change(
            f"a {type(o).__name__} pickles without its running threads: the worker gets a dead copy",
            "create threads and pools on the worker.",
        ),
    ),
    (
        lambda o, b: isinstance(o, queue.Queue),
        lambda o, b: Change(
            "a queue is copied with its current items: each worker gets its own, unconnected copy",
            "create queues on the worker.",
        ),
    ),
    (
        lambda o, b: isinstance(o, memoryview) and b.family == "cloudpickle",
        lambda o, b: Change(
            "a memoryview pickles as a bytes copy of what it shows: on the worker it is "
            "bytes, no longer a view (writes through it and later changes to the buffer "
            "are not seen, and slicing copies)",
            "pass bytes(view) if a copy is what you mean, or the object that owns the buffer.",
        ),
    ),
    (
        lambda o, b: _is_beam_driver_object(o),
        lambda o, b: Change(
            f"a Beam {type(o).__name__} is a driver-side object: on the worker it is an unusable placeholder",
            "capture the values you need, not the pipeline; read other PCollections through side inputs.",
        ),
    ),
    (
        lambda o, b: (
            isinstance(o, collections.abc.Iterator)
            and not isinstance(o, io.IOBase)
            and not type(o).__module__.startswith("unittest.mock")
        ),
        lambda o, b: Change(
            "an iterator is pickled with its current position: each worker consumes its own copy",
            "pass the data (a list) or a function that makes the iterator.",
        ),
    ),
    (
        lambda o, b: (
            isinstance(o, type)
            and b.family != "pickle"
            and "<locals>" in o.__qualname__
            and not _is_beam_fn_class(o)
            and not b.pickles_by_reference(o)
        ),
        lambda o, b: Change(
            f"class {o.__qualname__} is pickled by value: each payload carries its "
            "own copy, so on the worker instances from different transforms belong "
            "to different classes (isinstance and == fail between them)",
            "move this class to module level so workers can import it.",
        ),
    ),
]


_MAYBE_CHANGES: dict[type, bool] = {}


def _may_change(t: type) -> bool:
    """Whether any WARNING_RULE can match an instance of ``t`` (cached: the walk asks for
    every node, and most nodes are plain data)."""
    known = _MAYBE_CHANGES.get(t)
    if known is None:
        bases = _SYNC_TYPES + (
            io.IOBase,
            threading.Thread,
            concurrent.futures.Executor,
            queue.Queue,
            collections.abc.Iterator,
            type,
            memoryview,
        )
        beam = sys.modules.get("apache_beam")
        if beam is not None:
            bases += (beam.Pipeline, beam.pvalue.PValue)
        try:
            known = issubclass(t, bases)
        except TypeError:
            known = True
        if beam is not None or not t.__module__.startswith("apache_beam"):
            _MAYBE_CHANGES[t] = known
    return known


def change_of(obj, backend: Backend) -> Change | None:
    if not _may_change(type(obj)):
        return None
    for test, make in WARNING_RULES:
        try:
            if test(obj, backend):
                return make(obj, backend)
        except Exception:
            continue
    return None
