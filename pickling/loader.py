"""Load a pipeline file the way a job submission would, without running the pipeline.

``coderkit doctor my_pipeline.py`` must see *every* problem, but Beam pickles each
fn when ``beam.ParDo(...)`` is constructed and raises at the first one that fails,
so the rest of the file never runs. While a file is loaded here:

* Beam's construction-time ``pickler.roundtrip`` is deferred (it returns the object
  unchanged), so the pipeline builds in full and the checker finds every problem;
* ``Pipeline.run`` records the pipeline and returns a stand-in result (``DONE``, no
  metrics), so a script that waits for its job or queries its metrics goes on to
  build every pipeline it defines: no DoFn ``setup()`` is called, no data moves;
* every ``beam.Pipeline`` the file creates is captured, including ones built inside
  a function that is never run;
* code after ``run()`` that needs the job's output (reading its files) fails, since
  the job never ran: once a pipeline has been "run", such an
  error is kept in ``LoadedPipelines.after_run_error`` and the pipelines are still
  checked, instead of the whole load failing.

The file executes as ``__main__`` in a real module installed in ``sys.modules``
(as on a submitting machine), and stays installed until the ``LoadedPipelines``
context exits, so pickling checks run against the same ``__main__`` the job would.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

__all__ = ["LoadError", "LoadedPipelines", "captured_pipelines", "deferred_pickling_checks", "load_pipelines"]


class LoadError(Exception):
    """The target could not be loaded: a missing file or function, or the file raised while building."""


class NotRunResult:
    """What ``Pipeline.run`` returns while the doctor loads a file: a job that finished at once with no metrics.

    Scripts commonly wait for their job and print its metrics after ``run()``; answering
    like a finished DirectRunner job (``state`` ``DONE``, every metrics query empty) lets
    them go on and build the rest of their pipelines instead of stopping the load.
    """

    state = "DONE"
    has_job = True

    def wait_until_finish(self, duration=None):
        return self.state

    def cancel(self):
        return self.state

    def metrics(self):
        return EmptyMetrics()

    def monitoring_infos(self):
        return []


class EmptyMetrics:
    """``result.metrics()`` of a job that never ran: every query answers each metric kind with no results."""

    _KINDS = ("counters", "distributions", "gauges", "string_sets", "bounded_tries", "histograms")

    def query(self, filter=None):
        return {kind: [] for kind in self._KINDS}


@contextlib.contextmanager
def deferred_pickling_checks() -> Iterator[None]:
    """Make Beam's construction-time ``pickler.roundtrip(fn)`` a no-op, so a bad fn does not stop the build."""
    from apache_beam.internal import pickler

    original = pickler.roundtrip
    pickler.roundtrip = lambda obj: obj
    try:
        yield
    finally:
        pickler.roundtrip = original


@contextlib.contextmanager
def captured_pipelines(into: list, ran: list | None = None) -> Iterator[list]:
    """Record every Pipeline created, and make ``run`` (and ``with Pipeline()`` exit) record instead of run
    (in ``ran`` too, when given)."""
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    originals = {
        (beam.Pipeline, "__init__"): beam.Pipeline.__init__,
        (beam.Pipeline, "run"): beam.Pipeline.run,
        (TestPipeline, "run"): TestPipeline.run,
    }
    original_init = beam.Pipeline.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if not any(p is self for p in into):
            into.append(self)

    def recording_run(self, *args, **kwargs):
        if not any(p is self for p in into):
            into.append(self)
        if ran is not None:
            ran.append(self)
        return NotRunResult()

    beam.Pipeline.__init__ = recording_init
    beam.Pipeline.run = recording_run
    TestPipeline.run = recording_run
    try:
        yield into
    finally:
        for (cls, name), value in originals.items():
            setattr(cls, name, value)


@dataclass
class LoadedPipelines:
    """The pipelines a file built, with its ``__main__`` module kept installed while in use."""

    target: str
    pipelines: list = field(default_factory=list)
    module: types.ModuleType | None = None
    directory: str = ""  # the file's directory, put on sys.path while loaded (a worker does not have it)
    ran: list = field(default_factory=list)  # pipelines whose run() the file called (recorded, not run)
    after_run_error: str | None = None  # what the file raised after a run() (it expected the job's results)
    _saved_main: Any = None
    _saved_path: list = field(default_factory=list)
    _saved_module: tuple | None = None  # (name, the sys.modules entry it replaced or None) in FUNCTION mode

    def __enter__(self) -> LoadedPipelines:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._saved_main is not None:
            sys.modules["__main__"] = self._saved_main
            self._saved_main = None
        if self._saved_path:
            sys.path[:] = self._saved_path
            self._saved_path = []
        if self._saved_module is not None:  # a file named like a real module (json.py) must not shadow it
            name, previous = self._saved_module
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
            self._saved_module = None


def _split_target(target: str) -> tuple[str, str | None]:
    path, sep, function = target.rpartition(":")
    if sep and path.endswith(".py") and function.isidentifier():
        return path, function
    return target, None


def load_pipelines(target: str, argv: list[str] | None = None) -> LoadedPipelines:
    """Load ``PATH.py`` or ``PATH.py:FUNCTION`` and return every pipeline it builds, unrun.

    With FUNCTION, the file is imported as a module (its ``if __name__ == "__main__"``
    block does not run) and FUNCTION is called with no arguments; a Pipeline it
    returns is included. Without, the file runs as ``__main__``. ``argv`` becomes
    ``sys.argv[1:]`` for the file's own argument parsing.
    """
    path, function = _split_target(target)
    if os.path.isdir(path):
        raise LoadError(_directory_message(path))
    if not os.path.isfile(path):
        raise LoadError(f"no such pipeline file: {path!r}")
    with open(path, "rb") as f:
        source = f.read()
    try:
        code = compile(source, path, "exec")
    except SyntaxError as e:
        raise LoadError(f"{path} does not compile: {e}") from e

    loaded = LoadedPipelines(target=target)
    module = types.ModuleType("__main__" if function is None else _module_name_for(path))
    module.__file__ = os.path.abspath(path)
    module.__builtins__ = __builtins__
    loaded.module = module
    loaded._saved_main = sys.modules.get("__main__") if function is None else None
    loaded._saved_path = list(sys.path)
    loaded.directory = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, loaded.directory)
    if function is None:
        sys.modules["__main__"] = module
    else:
        loaded._saved_module = (module.__name__, sys.modules.get(module.__name__))
        sys.modules[module.__name__] = module

    saved_argv = sys.argv
    sys.argv = [path, *(argv or [])]
    try:
        with deferred_pickling_checks(), captured_pipelines(loaded.pipelines, loaded.ran):
            try:
                exec(code, module.__dict__)
                if function is not None:
                    fn: Callable | None = module.__dict__.get(function)
                    if not callable(fn):
                        raise LoadError(f"{path} defines no function {function!r}")
                    result = fn()
                    is_pipeline = result is not None and type(result).__name__ in {"Pipeline", "TestPipeline"}
                    if is_pipeline and not any(p is result for p in loaded.pipelines):
                        loaded.pipelines.append(result)
            except LoadError:
                raise
            except SystemExit as e:
                if e.code not in (0, None):
                    raise LoadError(
                        f"{path} exited with status {e.code} while building its pipeline (if it "
                        f"parses arguments, give them with --pipeline-args '--input ...')"
                    ) from e
            except Exception as e:
                if not loaded.ran:
                    raise LoadError(
                        f"{_where(e, path)} raised {type(e).__name__} while building its pipeline: {e}"
                    ) from e
                # the pipeline was built and "run"; what failed wanted the results of a job that never ran
                loaded.after_run_error = (
                    f"{path} raised {type(e).__name__} after running its pipeline: {e} (the doctor does not "
                    f"run pipelines, so code that reads their results fails; the pipelines built are checked)"
                )
    except BaseException:
        loaded.close()
        raise
    finally:
        sys.argv = saved_argv
    return loaded


def _module_name_for(path: str) -> str:
    name = os.path.splitext(os.path.basename(path))[0]
    return name if name.isidentifier() else "coderkit_doctor_target"


def _where(error: BaseException, path: str) -> str:
    """``path:line`` of the deepest frame of ``path`` in the traceback, plus where the error was raised when
    that is another file (an import inside the pipeline file, a helper module)."""
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    own = [line for filename, line in frames if filename == path]
    where = f"{path}:{own[-1]}" if own else path
    if frames and frames[-1][0] != path and not frames[-1][0].startswith("<"):
        where += f" (raised at {frames[-1][0]}:{frames[-1][1]})"
    return where


def _directory_message(path: str) -> str:
    """What to pass instead of a directory: its Python files that build a ``beam.Pipeline``, when any do."""
    candidates = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.endswith(".py") and os.path.isfile(full):
            with open(full, "rb") as f:
                if b"Pipeline(" in f.read():
                    candidates.append(full)
    hint = f" ({', '.join(candidates[:5])}{' ...' if len(candidates) > 5 else ''} build one)" if candidates else ""
    return (
        f"{path!r} is a directory: pass the Python file that builds the pipeline, as PATH.py or PATH.py:FUNCTION{hint}"
    )
