"""The result of a picklability check: every problem with its path, type, error and fix.

A :class:`PicklabilityReport` is what :func:`pickling.check_picklable` returns and what
``pickling.check_pipeline``, the ``coderkit`` CLI and the pytest plugin print. It is built to
be read twice: by a person in a CI log (``str(report)``: one block per problem, path
first, then type, error and fix) and by a program (``report.to_dict()``, JSON-ready).

API used by the layers on top (kept stable):

* ``report.ok`` / ``bool(report)``: no problem of severity ``"error"``.
* ``report.problems``: list of :class:`Problem` (``.path``, ``.type_name``, ``.error``,
  ``.advice``, ``.severity`` ``"error"|"warning"``, ``.label``, ``.leaves``).
* ``problem.kind``: ``unpicklable``, ``unloadable`` (fails in the in-process round trip),
  ``recursion``, ``changes-meaning``, ``size``, ``fresh-interpreter``, ``unresolved-global``;
  ``problem.leaves``: :class:`Leaf` (``.path``, ``.type_name``, ``.error``, ``.aliases``).
* ``report.errors`` / ``report.warnings``: the problems of that severity.
* ``report.size_bytes`` (``None`` when the object did not pickle), ``report.largest``
  (list of ``(path, bytes)``, biggest first), ``report.modules`` (non-stdlib modules the
  payload imports by reference: the workers must have them installed), ``report.backend``,
  ``report.label``.
* ``PicklabilityReport.merge(reports)`` / ``report.extend(other)``: one report for many
  objects (each problem keeps its ``label``).
* :class:`UnpicklableError` (a :class:`pickle.PicklingError`) carries ``.report``; its
  ``str`` is the report.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Iterable

ERROR = "error"
WARNING = "warning"
_SEVERITIES = (ERROR, WARNING)


@dataclass
class Leaf:
    """One offending object found by the walk, at ``path`` (Python syntax from the root)."""

    path: str
    type_name: str
    error: str
    aliases: list[str] = field(default_factory=list)  # other paths reaching the same object

    def to_dict(self) -> dict:
        return {"path": self.path, "type": self.type_name, "error": self.error, "aliases": list(self.aliases)}


@dataclass
class Problem:
    """One thing to fix. ``leaves`` lists the offending objects it groups (at least one).

    A problem whose offenders all sit inside one attribute the user owns (two sockets deep
    inside ``client``) is reported once, at that attribute, with every leaf listed.
    """

    path: str
    type_name: str
    error: str
    advice: str
    severity: str = ERROR
    label: str | None = None
    leaves: list[Leaf] = field(default_factory=list)
    kind: str = "unpicklable"  # unpicklable | unloadable | recursion | changes-meaning | size | ...

    def __post_init__(self):
        if self.severity not in _SEVERITIES:
            raise ValueError(f"Problem.severity must be one of {_SEVERITIES}, got {self.severity!r}")
        if not self.leaves:
            self.leaves = [Leaf(self.path, self.type_name, self.error)]

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "severity": self.severity,
            "kind": self.kind,
            "path": self.path,
            "type": self.type_name,
            "error": self.error,
            "advice": self.advice,
            "leaves": [leaf.to_dict() for leaf in self.leaves],
        }

    def __str__(self) -> str:
        where = f"[{self.label}] " if self.label else ""
        lines = [f"{self.severity.upper()}: {where}{self.path}", f"  type:  {self.type_name}", f"  error: {self.error}"]
        if len(self.leaves) > 1 or (self.leaves and self.leaves[0].path != self.path):
            lines.append(f"  offenders ({len(self.leaves)}):")
            for leaf in self.leaves:
                lines.append(f"    - {leaf.path} ({leaf.type_name}): {leaf.error}")
                for alias in leaf.aliases:
                    lines.append(f"      also reachable as {alias}")
        else:
            for alias in self.leaves[0].aliases:
                lines.append(f"  also reachable as {alias}")
        lines.append(f"  fix:   {self.advice}")
        return "\n".join(lines)


@dataclass
class PicklabilityReport:
    """Everything a check found about one object (or, merged, about many)."""

    backend: str
    label: str | None = None
    problems: list[Problem] = field(default_factory=list)
    size_bytes: int | None = None
    largest: list[tuple[str, int]] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    root: str | None = None
    checked: int = 1  # how many objects this report covers

    @property
    def ok(self) -> bool:
        return not self.errors

    def __bool__(self) -> bool:
        return self.ok

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def add(self, problem: Problem) -> Problem:
        if problem.label is None:
            problem.label = self.label
        self.problems.append(problem)
        return problem

    def extend(self, other: PicklabilityReport) -> PicklabilityReport:
        """Fold ``other`` into this report (problems keep their labels); returns self."""
        for problem in other.problems:
            if problem.label is None and other.label is not None:
                problem.label = other.label
            self.problems.append(problem)
        if other.size_bytes is not None:
            self.size_bytes = (self.size_bytes or 0) + other.size_bytes
        prefix = f"[{other.label}] " if other.label and other.label != self.label else ""
        self.largest = sorted(self.largest + [(prefix + p, n) for p, n in other.largest], key=lambda item: -item[1])[
            :10
        ]
        self.modules = sorted(set(self.modules) | set(other.modules))
        self.checked += other.checked
        return self

    @classmethod
    def merge(
        cls, reports: Iterable[PicklabilityReport], *, label: str | None = None, backend: str | None = None
    ) -> PicklabilityReport:
        """One report covering many (e.g. every transform of a pipeline)."""
        reports = list(reports)
        merged = cls(backend=backend or (reports[0].backend if reports else "beam"), label=label, checked=0)
        for report in reports:
            merged.extend(report)
        return merged

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "backend": self.backend,
            "label": self.label,
            "root": self.root,
            "checked": self.checked,
            "size_bytes": self.size_bytes,
            "largest": [[path, size] for path, size in self.largest],
            "modules": list(self.modules),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
        }

    def summary(self) -> str:
        what = self.root or self.label or "object"
        if self.checked > 1:
            what = f"{self.root}, {self.checked} objects" if self.root else f"{self.checked} objects"
        size = "" if self.size_bytes is None else f", {_human(self.size_bytes)} pickled"
        # a grouping-key finding (from check_pipeline) is an error, but not a pickling one
        unpicklable = any(p.kind != "key" for p in self.errors)
        verdict = "NOT picklable" if unpicklable else "picklable"
        keys = ""
        if any(p.kind == "key" for p in self.errors):
            keys = f", {'and' if unpicklable else 'but'} grouping keys are not deterministic"
        return (
            f"{what}: {verdict} with backend {self.backend!r}{keys} "
            f"({len(self.errors)} error(s), {len(self.warnings)} warning(s){size})"
        )

    def __str__(self) -> str:
        blocks = [self.summary()]
        blocks.extend(str(p) for p in self.problems)
        if self.largest and (self.size_bytes or 0) >= 1024:
            blocks.append(
                "largest contributors:\n"
                + "\n".join(f"  {_human(size):>10}  {path}" for path, size in self.largest[:5])
            )
        if self.modules:
            blocks.append("modules the workers must be able to import: " + ", ".join(self.modules))
        return "\n\n".join(blocks)


def _human(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


class UnpicklableError(pickle.PicklingError):
    """Raised by ``assert_picklable``: the object will not survive the trip to the workers.

    ``.report`` is the full :class:`PicklabilityReport`; ``str(err)`` prints it.
    """

    def __init__(self, report: PicklabilityReport):
        self.report = report
        super().__init__(str(report))

    def __reduce__(self):
        return (type(self), (self.report,))
