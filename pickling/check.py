"""Find every reason an object will not survive the trip to the workers, with paths and fixes.

Public API (``pickling.pipeline``, the CLI and the pytest plugin build on exactly this):

``check_picklable(obj, *, backend=None, pickle_library=None, roundtrip=True,
fresh_interpreter=False, size_warning_bytes=1_000_000, size_error_bytes=10_000_000,
label=None, root_name=None, sys_path=None, exclude_paths=(), env=None, timeout=120.0)``
    -> :class:`~pickling.report.PicklabilityReport`. ``backend`` defaults to ``"beam"``
    when apache_beam is importable (see :mod:`pickling.backends`).

``check_many(objects, **same_options)`` -> list of reports, one per entry of ``objects``
(a mapping ``label -> obj`` or an iterable of ``(label, obj)``), in order; every object's
fresh-interpreter round trip runs in ONE new Python process. Merge them with
``PicklabilityReport.merge(reports)``.

``compare_backends(obj, backends=("beam", "cloudpickle", "dill", "pickle"), **options)`` ->
``{resolved backend name: report}``; ``backend_differences(reports)`` -> lines naming each
culprit whose verdict depends on the pickler (for a ``--backend`` comparison mode).

``worker_sys_path(sys_path=None, exclude_paths=())``: the sys.path the fresh interpreter gets.

``assert_picklable(obj, *, strict=False, **options)`` raises
:class:`~pickling.report.UnpicklableError` (a ``pickle.PicklingError``) carrying ``.report``
when the report has errors (or, with ``strict``, warnings); returns the report otherwise.

How: pickle the whole object with the real backend. If that fails, walk the reduction tree
(:mod:`pickling.walk`), pickling each child with the real backend and descending only into
failing children, down to the failing leaves; offenders below one attribute of the root are
grouped into one problem at that attribute. Recursion errors are explained by measuring the
chain (``head(.next)x100000``) or finding the cycle through ``__reduce__`` arguments. Then a
structural scan finds objects that pickle but change meaning on the worker (warnings),
sizes are measured per path, the payload is unpickled in process (``__setstate__`` raising,
an object no longer equal to itself), and, with ``fresh_interpreter``, in a new Python
process with a clean environment and the driver's ``sys.path`` minus what only the launcher
has (the directory of a ``__main__`` script, ``exclude_paths``): that catches modules the
workers cannot import and module globals the pickler did not capture (a NameError on first
call, found by checking the names each function loads against its globals and builtins).
When an object fails to load there, the same process is asked to load its parts: the walk
that locates in-process failures runs again, each batch of children pickled by the driver
and loaded there in one exchange, so the report names the deepest part that fails on a
worker (``LoadToWarehouseDoFn.client``) at the cost of no other process; every part that
needs one missing module is one problem.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from coders.naming import qualified_type_name, short_repr

from . import advice as _advice
from .backends import Backend, get_backend
from .report import ERROR, WARNING, Leaf, PicklabilityReport, Problem, UnpicklableError
from .walk import ATOMIC_TYPES, Edge, children, is_atomic, is_opaque, root_name_for

__all__ = [
    "assert_picklable",
    "backend_differences",
    "check_many",
    "check_picklable",
    "compare_backends",
]

DEFAULT_SIZE_WARNING_BYTES = 1_000_000
DEFAULT_SIZE_ERROR_BYTES = 10_000_000
_MAX_SCAN_NODES = 200_000
_MAX_SIZED_CHILDREN = 500
_MAX_SIZE_PICKLES = 2_000
# edges that pass through to the user's object: a bound method's __self__, a cell
_TRANSPARENT_EDGES = ("self", "func", "cell")
_TOP_LARGEST = 10


def check_picklable(
    obj,
    *,
    backend: str | None = None,
    pickle_library: str | None = None,
    roundtrip: bool = True,
    fresh_interpreter: bool = False,
    size_warning_bytes: int = DEFAULT_SIZE_WARNING_BYTES,
    size_error_bytes: int = DEFAULT_SIZE_ERROR_BYTES,
    label: str | None = None,
    root_name: str | None = None,
    sys_path: list[str] | None = None,
    exclude_paths: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> PicklabilityReport:
    """Every problem that keeps ``obj`` from pickling (or from meaning the same on a worker)."""
    return check_many(
        [(label, obj)],
        backend=backend,
        pickle_library=pickle_library,
        roundtrip=roundtrip,
        fresh_interpreter=fresh_interpreter,
        size_warning_bytes=size_warning_bytes,
        size_error_bytes=size_error_bytes,
        root_names=None if root_name is None else [root_name],
        sys_path=sys_path,
        exclude_paths=exclude_paths,
        env=env,
        timeout=timeout,
    )[0]


def check_many(
    objects,
    *,
    backend: str | None = None,
    pickle_library: str | None = None,
    roundtrip: bool = True,
    fresh_interpreter: bool = False,
    size_warning_bytes: int = DEFAULT_SIZE_WARNING_BYTES,
    size_error_bytes: int = DEFAULT_SIZE_ERROR_BYTES,
    root_names: list[str | None] | None = None,
    sys_path: list[str] | None = None,
    exclude_paths: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> list[PicklabilityReport]:
    """One report per ``(label, obj)``; the fresh-interpreter round trips share one process."""
    items = list(objects.items() if isinstance(objects, Mapping) else objects)
    if size_warning_bytes < 0 or size_error_bytes < size_warning_bytes:
        raise ValueError(
            f"size thresholds must satisfy 0 <= size_warning_bytes <= "
            f"size_error_bytes, got {size_warning_bytes} and {size_error_bytes}"
        )
    be = get_backend(backend, pickle_library)
    fresh = None
    if fresh_interpreter and items:
        # start the worker-like process now: it imports the pickler (and, for Beam, Beam)
        # while this process runs the in-process checks
        fresh = _FreshInterpreter(be, worker_sys_path(sys_path, exclude_paths), env)
    checks = []
    try:
        for i, (label, obj) in enumerate(items):
            name = (root_names[i] if root_names and root_names[i] else None) or root_name_for(obj)
            check = _Check(obj, name, label, be, size_warning_bytes, size_error_bytes)
            check.run(roundtrip)
            checks.append(check)
    except BaseException:
        if fresh is not None:
            fresh.abandon()
        raise
    if fresh is not None:
        fresh.round_trip([c for c in checks if c.payload is not None], timeout)
    return [c.report for c in checks]


def assert_picklable(obj, *, strict: bool = False, **options) -> PicklabilityReport:
    """Raise UnpicklableError (with ``.report``) unless ``obj`` is clean; return the report."""
    report = check_picklable(obj, **options)
    if not report.ok or (strict and report.warnings):
        raise UnpicklableError(report)
    return report


def compare_backends(
    obj, backends: Iterable[str] = ("beam", "cloudpickle", "dill", "pickle"), **options
) -> dict[str, PicklabilityReport]:
    """One report per backend (keyed by the resolved name, e.g. ``"beam:cloudpickle"``):
    which problems the user would meet under another pickler (stdlib pickle is what
    multiprocessing uses)."""
    reports: dict[str, PicklabilityReport] = {}
    for name in backends:
        report = check_picklable(obj, backend=name, **options)
        reports.setdefault(report.backend, report)
    return reports


def backend_differences(reports: Mapping[str, PicklabilityReport]) -> list[str]:
    """Lines naming each (label, path, type) whose verdict depends on the pickler, e.g.
    ``LockDoFn.lock (_thread.lock): error with cloudpickle, pickle; warning with
    beam:cloudpickle, dill``. Empty when every backend agrees."""
    verdicts: dict[tuple[str | None, str, str], dict[str, str]] = {}
    for name, report in reports.items():
        for problem in report.problems:
            for leaf in problem.leaves:
                verdicts.setdefault((problem.label, leaf.path, leaf.type_name), {})[name] = problem.severity
    lines = []
    for (label, path, tname), by_backend in verdicts.items():
        states = {name: by_backend.get(name, "clean") for name in reports}
        if len(set(states.values())) == 1:
            continue
        groups: dict[str, list[str]] = {}
        for name, state in states.items():
            groups.setdefault(state, []).append(name)
        detail = "; ".join(f"{state} with {', '.join(names)}" for state, names in sorted(groups.items()))
        where = f"[{label}] {path}" if label else path
        lines.append(f"{where} ({tname}): {detail}")
    return lines


# -- one object ---------------------------------------------------------------------------


@dataclass
class _Failure:
    path: str
    obj: Any
    error: BaseException
    first_edge: Edge | None
    owner: tuple | None = None  # (path, object): the highest attribute the user owns
    aliases: list[str] = field(default_factory=list)
    kind: str | None = None  # "recursion" for a RecursionError explained
    cycle: str | None = None  # the cycle through __reduce__ arguments, when that is the cause


class _Check:
    """The in-process part of a check of one object; fills ``self.report``."""

    def __init__(self, obj, root_name: str, label, backend: Backend, warn_bytes: int, error_bytes: int):
        self.obj, self.root, self.backend = obj, root_name, backend
        self.warn_bytes, self.error_bytes = warn_bytes, error_bytes
        self.report = PicklabilityReport(backend=backend.name, label=label, root=root_name)
        self.payload: bytes | None = None
        self.offenders: set[int] = set()

    # the real pickler, as a yes/no oracle over a batch of objects (the fresh interpreter
    # answers a batch in one exchange)
    def _dump_errors(self, objs: list) -> list[BaseException | None]:
        return [_error_of(self.backend.raw_dumps, obj) for obj in objs]

    def _load_errors(self, objs: list) -> list[BaseException | None]:
        return [_error_of(lambda o: self.backend.raw_loads(self.backend.raw_dumps(o)), obj) for obj in objs]

    def run(self, roundtrip: bool) -> None:
        try:
            self.payload = self.backend.raw_dumps(self.obj)
        except Exception as e:
            self._report_failures(self._find_failures(e, self._dump_errors), phase="dump")
        self._scan_for_changes()
        if self.payload is None:
            return
        self.report.size_bytes = len(self.payload)
        self._measure_sizes()
        if roundtrip:
            self._round_trip_in_process()

    # -- finding the failing leaves -----------------------------------------------------
    def _find_failures(self, root_error: BaseException, oracle) -> list[_Failure]:
        """The deepest parts that fail ``oracle`` (objects -> their errors) on their own."""
        failures: list[_Failure] = []
        seen: dict[int, _Failure] = {}

        def descend(obj, path, error, first_edge, owner, ancestors):
            try:
                edges = children(obj, self.backend)
            except Exception as e:
                failure = _Failure(path, obj, e, first_edge, owner)
                seen[id(obj)] = failure
                failures.append(failure)
                return
            failing: list = []
            candidates: list[Edge] = []
            back_reference = False
            for edge in edges:
                child = edge.child
                if is_atomic(child):
                    continue
                if child is obj or id(child) in ancestors:
                    back_reference = True  # the ancestor is being examined already
                    continue
                if id(child) in seen:
                    known = seen[id(child)]
                    if edge.kind in ("class", "reduce-callable") and known.obj is not child:
                        # another instance of a class that cannot travel: an offender of its own
                        failure = _Failure(path, obj, known.error, first_edge, owner)
                        seen[id(obj)] = failure
                        failures.append(failure)
                    else:
                        known.aliases.append(path + edge.segment)
                    failing.append(None)
                    continue
                if _is_recursion(error) and type(child) is type(obj):
                    continue  # a chain of like nodes: the recursion is here, measure it
                candidates.append(edge)
            failing += _failing_edges(candidates, oracle)
            if not failing and _is_recursion(error):
                failure = self._recursion_failure(obj, path, error, first_edge)
                failure.owner = owner
                seen[id(obj)] = failure
                failures.append(failure)
                return
            if not failing and back_reference and path != self.root:
                return  # fails only because it contains an ancestor, reported on its own
            if not failing:
                failure = _Failure(path, obj, error, first_edge, owner)
                seen[id(obj)] = failure
                failures.append(failure)
                return
            for item in failing:
                if item is None:
                    continue
                edge, child_error = item
                if id(edge.child) in seen:
                    seen[id(edge.child)].aliases.append(path + edge.segment)
                    continue
                if edge.kind in ("class", "reduce-callable") and not _safe_children(edge.child, self.backend):
                    # the instance cannot be rebuilt because its class/constructor cannot
                    # travel by name: report the instance, with the class's error
                    failure = _Failure(path, obj, child_error, first_edge, owner)
                    seen[id(edge.child)] = failure
                    failures.append(failure)
                    continue
                child_owner = owner
                if child_owner is None and edge.kind not in _TRANSPARENT_EDGES:
                    child_owner = (path + edge.segment, edge.child)
                descend(
                    edge.child, path + edge.segment, child_error, first_edge or edge, child_owner, ancestors | {id(obj)}
                )

        descend(self.obj, self.root, root_error, None, None, frozenset())
        if not failures:  # nothing below fails on its own: the object as a whole does
            failures.append(_Failure(self.root, self.obj, root_error, None))
        self.offenders.update(id(f.obj) for f in failures)
        return failures

    def _recursion_failure(self, obj, path, error, first_edge) -> _Failure:
        chain, cycle = _deepest_chain(obj, path, self.backend)
        if cycle is not None:
            message = (
                f"{error} -- the object refers back to itself "
                f"through the arguments its __reduce__ returns ({cycle}), which pickle "
                "must save before the object exists"
            )
        else:
            message = (
                f"{error} -- pickle recurses once per level of "
                f"nesting, and this object is nested {chain[1]} levels deep along "
                f"{chain[0]} (recursion limit {sys.getrecursionlimit()})"
            )
        try:
            explained = type(error)(message)
        except Exception:
            explained = RecursionError(message)
        return _Failure(path, obj, explained, first_edge, kind="recursion", cycle=cycle)

    def _report_failures(self, failures: list[_Failure], phase: str) -> None:
        """One problem per attribute the user owns; ``phase`` is dump, load or fresh."""
        groups: dict[tuple[str, str], list[_Failure]] = collections.OrderedDict()
        for failure in failures:
            # every part a worker cannot import for want of one module has one fix: one problem
            module = getattr(failure.error, "missing_module", None)
            key = ("module", module) if module else ("owner", failure.owner[0] if failure.owner else failure.path)
            groups.setdefault(key, []).append(failure)
        when, default_kind, verb = _PHASES[phase]
        for (grouped_by, owner), members in groups.items():
            leaves = [
                Leaf(f.path, qualified_type_name(f.obj), _error_text(f.error) + when, list(f.aliases)) for f in members
            ]
            first = members[0]
            kind = first.kind or default_kind
            if len(members) == 1 or grouped_by == "module":
                path, tname, error_text, obj = first.path, leaves[0].type_name, leaves[0].error, first.obj
            else:
                obj = first.owner[1]
                path, tname = owner, qualified_type_name(obj)
                error_text = (
                    f"{len(members)} objects inside {owner} cannot be {verb} "
                    f"({', '.join(sorted({leaf.type_name for leaf in leaves}))})"
                )
            if kind == "recursion" and first.cycle is not None:
                fix = (
                    "return the back-reference in __reduce__'s state (third item) or from "
                    "__getstate__, not among the constructor arguments: pickle memoizes the "
                    "object only after its arguments are saved"
                )
            elif kind == "recursion":
                fix = (
                    "store long chains as a flat list (give the node class a __reduce__ or "
                    "__getstate__ that saves the items iteratively), or raise "
                    "sys.setrecursionlimit on the driver and the workers"
                )
            else:
                fix = _advice.advise(
                    _advice.Finding(
                        self.obj, self.root, path, first.first_edge, first.obj, first.error, self.backend, phase
                    )
                )
                if len(members) > 1 and phase != "fresh":  # what the owner is (fresh: what fails to load)
                    fix = _advice.advise(
                        _advice.Finding(self.obj, self.root, path, first.first_edge, obj, None, self.backend, phase)
                    )
            self.report.add(
                Problem(
                    path=path, type_name=tname, error=error_text, advice=fix, severity=ERROR, leaves=leaves, kind=kind
                )
            )

    # -- warnings: objects that pickle but change meaning --------------------------------
    def _scan_for_changes(self) -> None:
        error_paths = [leaf.path for p in self.report.errors for leaf in p.leaves]
        for path, obj, change in _scan(self.obj, self.root, self.backend, self.offenders):
            if any(_is_prefix(path, error_path) for error_path in error_paths):
                continue  # it contains an error already reported
            self.report.add(
                Problem(
                    path=path,
                    type_name=qualified_type_name(obj),
                    error=change.message,
                    advice=change.advice,
                    severity=WARNING,
                    kind=change.kind,
                )
            )

    # -- size --------------------------------------------------------------------------
    def _measure_sizes(self) -> None:
        total = self.report.size_bytes
        self.report.largest = _largest(self.obj, self.root, total, self.backend)
        where = self.report.largest[0][0] if self.report.largest else self.root
        detail = f"{total:,} bytes pickled; the largest part is {where}"
        if total > self.error_bytes:
            self.report.add(
                Problem(
                    path=self.root,
                    type_name=qualified_type_name(self.obj),
                    kind="size",
                    severity=ERROR,
                    error=f"{detail}, above the {self.error_bytes:,}-byte limit",
                    advice=(
                        "the pickled function is part of the job request (Dataflow rejects "
                        "requests above 20 MB): load large data on the worker (in setup(), "
                        "from a file) or pass it as a side input instead of capturing it."
                    ),
                )
            )
        elif total > self.warn_bytes:
            self.report.add(
                Problem(
                    path=self.root,
                    type_name=qualified_type_name(self.obj),
                    kind="size",
                    severity=WARNING,
                    error=f"{detail}, above the {self.warn_bytes:,}-byte warning threshold",
                    advice=(
                        "everything captured is shipped with the job and unpickled on every "
                        "worker: load large data on the worker or pass it as a side input."
                    ),
                )
            )

    # -- round trip --------------------------------------------------------------------
    def _round_trip_in_process(self) -> None:
        modules: set[str] = set()
        try:
            loaded = self.backend.raw_loads(self.payload, on_import=modules.add)
        except Exception as e:
            self.report.modules = _worker_modules(modules)
            self._report_failures(self._find_failures(e, self._load_errors), phase="load")
            return
        self.report.modules = _worker_modules(modules)
        if _no_longer_equal(self.obj, loaded):
            self.report.add(
                Problem(
                    path=self.root,
                    type_name=qualified_type_name(self.obj),
                    severity=WARNING,
                    kind="changes-meaning",
                    error=(
                        f"after a round trip the object no longer equals itself "
                        f"({short_repr(loaded)} != {short_repr(self.obj)})"
                    ),
                    advice=(
                        "a class pickled by value, or __reduce__/__setstate__ not restoring "
                        "every field used by __eq__: define the class in an importable module "
                        "and make the pickling hooks restore the full state."
                    ),
                )
            )


# phase -> (suffix of each error, problem kind, what the parts "cannot be")
_PHASES = {
    "dump": ("", "unpicklable", "pickled"),
    "load": (" (raised while unpickling)", "unloadable", "unpickled"),
    "fresh": (" (in a fresh interpreter)", "fresh-interpreter", "unpickled in a fresh interpreter"),
}


def _error_of(action, obj) -> BaseException | None:
    try:
        action(obj)
    except Exception as e:
        return e
    return None


def _failing_edges(edges: list[Edge], oracle, chunk: int = 16) -> list[tuple[Edge, BaseException]]:
    """The edges whose child fails ``oracle`` (a list of objects -> their errors), with its
    error. A long run of children is bisected (a list of its children pickled at once), so
    one socket among a million list items costs about 2 log2(n) pickles of shrinking halves
    instead of n."""
    if not edges:
        return []
    if len(edges) <= chunk:
        errors = oracle([edge.child for edge in edges])
        return [(edge, error) for edge, error in zip(edges, errors) if error is not None]
    if oracle([[edge.child for edge in edges]])[0] is None:
        return []
    middle = len(edges) // 2
    return _failing_edges(edges[:middle], oracle, chunk) + _failing_edges(edges[middle:], oracle, chunk)


def _is_prefix(path: str, longer: str) -> bool:
    return longer == path or (longer.startswith(path) and longer[len(path)] in ".[")


def _is_recursion(error: BaseException) -> bool:
    """RecursionError itself, or a pickler's rewording of it (cloudpickle: "excessively deep
    recursion required")."""
    return (
        isinstance(error, RecursionError)
        or isinstance(error.__cause__ or error.__context__, RecursionError)
        or "recursion" in str(error)
    )


def _error_text(error: BaseException) -> str:
    name = error.type_name if isinstance(error, _FreshError) else type(error).__name__
    return f"{name}: {error}"


def _no_longer_equal(original, loaded) -> bool:
    eq = getattr(type(original), "__eq__", None)
    if (
        eq is None
        or eq is object.__eq__
        or isinstance(
            original,
            (
                types.FunctionType,
                types.MethodType,
                types.BuiltinFunctionType,
                functools.partial,
                type,
                types.ModuleType,
            ),
        )
    ):
        return False  # identity-based equality: never equal across a round trip
    if type(original) in (dict, list, tuple, set, frozenset):
        return False  # decided by their items, whose own changes are reported at their paths
    try:
        if (original == original) is not True:
            return False  # NaN-like: equality is not checkable
        return (loaded == original) is not True
    except Exception:
        return False


def _worker_modules(modules: Iterable[str]) -> list[str]:
    """Modules outside the standard library: the workers must have them installed."""
    stdlib = sys.stdlib_module_names
    return sorted(m for m in set(modules) if m.partition(".")[0] not in stdlib and m not in ("__builtin__",))


# -- structural walks (no pickling) ---------------------------------------------------------


def _scan(obj, root: str, backend: Backend, skip_ids: set[int], max_nodes: int | None = None):
    """Breadth-first over the reduction tree; yields (path, obj, Change) for warnings.

    After ``max_nodes`` objects it stops and, if any were left, yields one last
    (path of the first object not visited, that object, a Change saying the scan stopped),
    so a report never looks complete when it is not."""
    limit = _MAX_SCAN_NODES if max_nodes is None else max_nodes
    seen = {id(obj)}
    queue = collections.deque([(obj, root)])
    visited = 0
    while queue and visited < limit:
        node, path = queue.popleft()
        visited += 1
        if id(node) in skip_ids:
            continue
        change = _advice.change_of(node, backend)
        if change is not None:
            yield path, node, change
            continue
        if _all_atomic_container(node):
            continue
        try:
            edges = children(node, backend)
        except Exception:
            continue
        for edge in edges:
            child = edge.child
            if is_atomic(child) or id(child) in seen:
                continue
            seen.add(id(child))
            queue.append((child, path + edge.segment))
    if queue:
        node, path = queue[0]
        yield (
            path,
            node,
            _advice.Change(
                message=(
                    f"the check for objects that change meaning (locks, files, iterators) stopped after "
                    f"{limit:,} objects; this one and at least {len(queue) - 1:,} more were not looked at"
                ),
                advice=(
                    "capture less (pass the values a function needs, not a whole object graph), or check "
                    "the parts that matter separately with check_picklable"
                ),
                kind="incomplete",
            ),
        )


def _all_atomic_container(node) -> bool:
    t = type(node)
    if t in (list, tuple, set, frozenset):
        values = node
    elif t is dict:
        values = node.values()
    else:
        return False
    return len(node) > 64 and all(type(v) in _ATOMIC_SET for v in values)


_ATOMIC_SET = frozenset(ATOMIC_TYPES)
_SEQUENCE_KINDS = ("reduce-arg", "new-arg", "item")


def _deepest_chain(obj, path: str, backend: Backend):
    """((compressed path, depth) of the deepest chain, None), or (None, description of a
    cycle through __reduce__ arguments). Iterative: the chain may be 100,000 levels deep."""
    # a chain is a cons cell (segment, kind, parent chain, depth, node id)
    root_chain = (None, None, None, 0, id(obj))
    on_path: dict[int, tuple] = {id(obj): root_chain}
    seen = {id(obj)}
    stack = [(iter(_safe_children(obj, backend)), root_chain)]
    best = root_chain
    while stack:
        edges, chain = stack[-1]
        edge = next(edges, None)
        if edge is None:
            stack.pop()
            on_path.pop(chain[4], None)
            continue
        child = edge.child
        if is_atomic(child) or (edge.kind == "class" and backend.pickles_by_reference(child)):
            continue  # plain values and import references add no depth worth showing
        link = (edge.segment, edge.kind, chain, chain[3] + 1, id(child))
        if id(child) in on_path:
            ancestor = on_path[id(child)]
            kinds, cell = [edge.kind], chain
            while cell is not ancestor:
                kinds.append(cell[1])
                cell = cell[2]
            if all(k in _SEQUENCE_KINDS for k in kinds) and any(k != "item" for k in kinds):
                return None, (f"{path}{_unroll(ancestor)} is reached again at {path}{_unroll(link)}")
            continue
        if link[3] > best[3]:
            best = link
        if is_atomic(child) or is_opaque(child) or id(child) in seen:
            continue
        seen.add(id(child))
        on_path[id(child)] = link
        stack.append((iter(_safe_children(child, backend)), link))
    segments = []
    cell = best
    while cell[0] is not None:
        segments.append(cell[0])
        cell = cell[2]
    segments.reverse()
    return (path + _compress(segments), best[3]), None


def _unroll(chain) -> str:
    segments = []
    while chain[0] is not None:
        segments.append(chain[0])
        chain = chain[2]
    return "".join(reversed(segments))


def _safe_children(obj, backend):
    try:
        return children(obj, backend)
    except Exception:
        return []


def _compress(segments: list[str]) -> str:
    """``['.next'] * 5`` -> ``(.next)x5``: the shortest rendering with repeated units."""
    best = "".join(segments)
    for unit in range(1, 5):
        out, i = [], 0
        while i < len(segments):
            block = segments[i : i + unit]
            j = i + unit
            while len(block) == unit and segments[j : j + unit] == block:
                j += unit
            reps = (j - i) // unit
            if reps >= 3:
                out.append(f"({''.join(block)})x{reps}")
                i = j
            else:
                out.append(segments[i])
                i += 1
        text = "".join(out)
        if len(text) < len(best):
            best = text
    return best


def _largest(obj, root: str, total: int, backend: Backend) -> list[tuple[str, int]]:
    """The biggest parts by path: nodes no single child of which makes up half their size.

    Each object is measured once (shared and cyclic references are not followed twice) and
    at most ``_MAX_SIZE_PICKLES`` children are pickled, so the cost stays near a few times
    that of pickling the object itself."""
    found: list[tuple[str, int]] = []
    min_bytes = max(1024, total // 100)
    seen = {id(obj)}
    budget = [_MAX_SIZE_PICKLES]

    def visit(node, path, size, depth):
        sized = []
        try:
            edges = [] if depth > 12 else children(node, backend)
        except Exception:
            edges = []
        if len(edges) <= _MAX_SIZED_CHILDREN:
            for edge in edges:
                child = edge.child
                if id(child) in seen or budget[0] <= 0:
                    continue
                if is_atomic(child) and not isinstance(child, (str, bytes, bytearray)):
                    continue
                if isinstance(child, (str, bytes, bytearray)) and len(child) < min_bytes:
                    continue
                seen.add(id(child))
                budget[0] -= 1
                try:
                    n = len(backend.raw_dumps(child))
                except Exception:
                    continue
                if n >= min_bytes:
                    sized.append((edge, n))
        for edge, n in sized:
            visit(edge.child, path + edge.segment, n, depth + 1)
        if not any(n * 2 >= size for _, n in sized):
            found.append((path, size))

    if total >= 1024:
        visit(obj, root, total, 0)
    else:
        found.append((root, total))
    found.sort(key=lambda item: -item[1])
    return found[:_TOP_LARGEST]


# -- the fresh interpreter ------------------------------------------------------------------

_CHILD_SCRIPT = r"""
def _coderkit_fresh_main():
    import builtins, dis, functools, io, json, os, pickle, sys, types
    # answers go to a private copy of stdout; whatever loading prints goes to stderr
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.path[:] = json.loads(sys.argv[1])
    family = sys.argv[2]
    if family == "beam:cloudpickle":
        from apache_beam.internal import cloudpickle_pickler as p
        import apache_beam  # a Beam worker has it imported before it unpickles anything
        load = p._loads
    elif family == "beam:dill":
        from apache_beam.internal import dill_pickler as p
        import apache_beam
        load = lambda data: p._loads(data, enable_trace=False)
    elif family == "dill":
        import dill
        load = dill.loads
    else:
        load = pickle.loads

    def global_names(code):
        names = {}
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME"):
                names[ins.argval] = None
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names.update(global_names(const))
        return names

    def functions_of(obj, where):
        if isinstance(obj, types.FunctionType):
            yield where, obj
        elif isinstance(obj, types.MethodType):
            yield from functions_of(obj.__func__, where)
        elif isinstance(obj, functools.partial):
            yield from functions_of(obj.func, where + ".func")
        elif not isinstance(obj, type):
            for name, value in vars(type(obj)).items():
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if isinstance(value, types.FunctionType):
                    yield where + "." + name, value

    def copied_by_value(fn):
        module = sys.modules.get(fn.__module__)
        return fn.__module__ == "__main__" or module is None or fn.__globals__ is not vars(module)

    def failure(e):
        try:
            text = str(e)
        except BaseException:
            text = "<str() of the error raised>"
        return {"ok": False, "error_type": type(e).__name__, "error": text,
                "missing_module": e.name if isinstance(e, ImportError) else None}

    def load_items(items):
        results = []
        for item in items:
            out = {"index": item["index"], "ok": True, "unresolved": []}
            try:
                loaded = load(item["data"])
            except BaseException as e:
                out.update(failure(e))
            else:
                for where, fn in functions_of(loaded, item["root"]):
                    if not copied_by_value(fn):
                        continue
                    missing = [n for n in global_names(fn.__code__)
                               if n not in fn.__globals__ and not hasattr(builtins, n)]
                    if missing:
                        out["unresolved"].append({"where": where, "names": missing})
            results.append(out)
        return results

    def probe(payloads):
        results = []
        for data in payloads:
            try:
                load(data)
            except BaseException as e:
                results.append(failure(e))
            else:
                results.append({"ok": True})
        return results

    # one request (a pickle on stdin) -> one answer (a JSON line), until stdin closes
    while True:
        try:
            request = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        if request["op"] == "load":
            answer = load_items(request["items"])
        else:
            answer = probe(request["payloads"])
        answers.write(json.dumps(answer) + "\n")
        answers.flush()

_coderkit_fresh_main()
"""


def _launcher_only_paths() -> set[str]:
    """sys.path entries only the launching process has: a ``__main__`` script's directory."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    main_file = getattr(main, "__file__", None)
    if main_file and spec is None:
        return {os.path.dirname(os.path.abspath(main_file))}
    return set()


def worker_sys_path(sys_path: list[str] | None = None, exclude_paths: Iterable[str] = ()) -> list[str]:
    """The sys.path a worker-like process gets: the driver's, minus launcher-only entries."""
    excluded = {os.path.abspath(p) for p in exclude_paths} | _launcher_only_paths()
    paths = []
    for entry in sys.path if sys_path is None else sys_path:
        full = os.path.abspath(entry or os.getcwd())
        if full not in excluded and full not in paths:
            paths.append(full)
    return paths


def _clean_env(env: Mapping[str, str] | None) -> dict[str, str]:
    if env is not None:
        return dict(env)
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "JAVA_HOME")
    return {k: os.environ[k] for k in keep if k in os.environ}


class _FreshError(Exception):
    """An error raised in the fresh interpreter, known by its type's name and its message."""

    def __init__(self, type_name: str, message: str, missing_module: str | None = None):
        super().__init__(message)
        self.type_name, self.missing_module = type_name, missing_module

    @classmethod
    def of(cls, answer: dict) -> _FreshError | None:
        if answer["ok"]:
            return None
        return cls(answer["error_type"], answer["error"], answer.get("missing_module"))


class _NoAnswer(Exception):
    """The fresh interpreter died or ran out of time; it has been stopped."""


class _FreshInterpreter:
    """One new Python process (``-I``: no user site, no PYTHON* variables; a clean environment;
    a temporary working directory; the worker sys.path) that unpickles every payload, then,
    for each payload that failed, unpickles its parts one by one as the driver asks, so the
    failing part is found where it fails and at no cost of another process."""

    def __init__(self, backend: Backend, sys_path: list[str], env):
        self.backend = backend
        self.workdir = tempfile.TemporaryDirectory(prefix="coderkit-fresh-")
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD_SCRIPT, json.dumps(sys_path), backend.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=self.workdir.name,
            env=_clean_env(env),
        )
        self.timed_out = False

    def abandon(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        self.stderr.close()
        self.workdir.cleanup()

    def _ask(self, request: dict, deadline: float) -> list:
        """Send one request and wait, until ``deadline``, for its answer; raises _NoAnswer
        (having stopped the process) when the process is gone or too slow."""
        if self.proc.poll() is not None:
            raise _NoAnswer
        answer: list[bytes] = []

        def exchange():  # in a thread: a hung process must not hang the check
            try:
                self.proc.stdin.write(pickle.dumps(request))
                self.proc.stdin.flush()
                answer.append(self.proc.stdout.readline())
            except (OSError, ValueError):
                answer.append(b"")

        thread = threading.Thread(target=exchange, daemon=True)
        thread.start()
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            self.timed_out = True
            self.proc.kill()
            thread.join()
            raise _NoAnswer
        if not answer or not answer[0]:
            self.proc.kill()
            raise _NoAnswer
        return json.loads(answer[0])

    def _stderr_tail(self) -> str:
        self.stderr.seek(0)
        return " | ".join(self.stderr.read().decode("utf-8", "replace").strip().splitlines()[-5:])

    def round_trip(self, checks: list[_Check], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        items = [{"index": i, "root": c.root, "data": c.payload} for i, c in enumerate(checks)]
        try:
            try:
                results = self._ask({"op": "load", "items": items}, deadline)
            except _NoAnswer:
                if self.timed_out:
                    message = f"the fresh interpreter did not finish within {timeout} s"
                    advice = (
                        "loading waits for something (a lock, a network call, input): make loading "
                        "self-contained, or pass a longer timeout if it is only slow."
                    )
                else:
                    self.proc.wait()
                    message = f"the fresh interpreter failed (exit {self.proc.returncode}): {self._stderr_tail()}"
                    advice = (
                        "loading ended the process (os._exit, a crash in a C extension): the "
                        "lines of its stderr above say where; make loading self-contained."
                    )
                for check in checks:
                    check.report.add(_fresh_problem(check, message, advice))
                return
            for result in results:
                check = checks[result["index"]]
                error = _FreshError.of(result)
                if error is not None:
                    check._report_failures(self._bisect(check, error, deadline), phase="fresh")
                for unresolved in result["unresolved"]:
                    for name in unresolved["names"]:
                        check.report.add(_unresolved_problem(check, unresolved["where"], name))
        finally:
            self._close()

    def _bisect(self, check: _Check, error: _FreshError, deadline: float) -> list[_Failure]:
        """The deepest parts of ``check.obj`` that fail to load here on their own: the same
        walk as the in-process check, each batch of parts pickled by the driver and loaded
        in this process. If the process stops answering, the object as a whole."""

        def oracle(objs: list) -> list[BaseException | None]:
            payloads = []
            for obj in objs:
                try:
                    payloads.append(self.backend.raw_dumps(obj))
                except Exception:
                    payloads.append(None)  # a part that does not pickle alone tells nothing
            answers = iter(self._ask({"op": "probe", "payloads": [p for p in payloads if p is not None]}, deadline))
            return [None if p is None else _FreshError.of(next(answers)) for p in payloads]

        try:
            return check._find_failures(error, oracle)
        except _NoAnswer:
            return [_Failure(check.root, check.obj, error, None)]


def _fresh_problem(check: _Check, error: str, advice: str) -> Problem:
    """The fresh interpreter gave no answer about ``check.obj``: said at its root."""
    return Problem(
        path=check.root,
        type_name=qualified_type_name(check.obj),
        severity=ERROR,
        kind="fresh-interpreter",
        error=error,
        advice=advice,
        label=check.report.label,
    )


def _unresolved_problem(check: _Check, where: str, name: str) -> Problem:
    return Problem(
        path=f"{where}.<globals>.{name}",
        type_name="NameError",
        severity=ERROR,
        kind="unresolved-global",
        label=check.report.label,
        error=(
            f"NameError on first call: global name {name!r} is used by {where} but was not "
            "pickled with it (in a fresh interpreter)"
        ),
        advice=(
            "the pickler referred to the driver's module instead of copying this global "
            "(dill does so for __main__): move the function into an importable module, use "
            "the cloudpickle pickle_library, or save_main_session."
        ),
    )
