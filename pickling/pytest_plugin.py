"""coderkit's pytest plugin (registered through the ``pytest11`` entry point).

* Fixture ``assert_picklable``: ``assert_picklable(obj, **options)`` fails the test with
  the full report (every culprit, its path and the fix) unless ``obj`` pickles cleanly;
  it returns the report otherwise.
* ``--check-picklable`` (every test) or ``@pytest.mark.check_picklable`` (one test):
  every Beam pipeline the test builds is checked with ``pickling.check_pipeline`` when it
  is run (or, if never run, when the test ends), and the test fails with the report.
  Beam's own construction-time check, which stops at the first bad fn with no path, is
  deferred so the report lists them all. ``@pytest.mark.check_picklable(keys=True)`` also
  fails on non-deterministic grouping keys.
* ``--coderkit-update-snapshots``: ``coders.testing.assert_compatible`` and
  ``assert_decodes_golden`` rewrite their snapshot and golden files from the current code
  (the same as ``CODERKIT_UPDATE_SNAPSHOTS=1``; the environment carries it to xdist workers).
"""

from __future__ import annotations

import contextlib
import os

import pytest

_MARKER = "check_picklable"
_UPDATE_ENV = "CODERKIT_UPDATE_SNAPSHOTS"  # read by coders.testing (not imported here: coders stays lazy)
_SAVED_ENV = pytest.StashKey[object]()
_UNSET = object()


def pytest_addoption(parser) -> None:
    group = parser.getgroup("coderkit")
    group.addoption(
        "--check-picklable",
        action="store_true",
        default=False,
        help="check the fns of every Beam pipeline a test builds (coderkit)",
    )
    group.addoption(
        "--coderkit-update-snapshots",
        action="store_true",
        default=False,
        help="rewrite the compatibility snapshots and golden files that coders.testing checks "
        f"(the same as {_UPDATE_ENV}=1); do it once old data is drained or migrated (coderkit)",
    )


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(keys=False, **options): check every Beam pipeline this test builds with "
        "coderkit's check_pipeline; keys=True also checks grouping keys",
    )
    if config.getoption("coderkit_update_snapshots", default=False):
        config.stash[_SAVED_ENV] = os.environ.get(_UPDATE_ENV, _UNSET)
        os.environ[_UPDATE_ENV] = "1"


def pytest_unconfigure(config) -> None:
    """Put the environment back, so a pytest run inside a process (pytester) does not leak the flag."""
    saved = config.stash.get(_SAVED_ENV, None)
    if saved is None:
        return
    if saved is _UNSET:
        os.environ.pop(_UPDATE_ENV, None)
    else:
        os.environ[_UPDATE_ENV] = saved


@pytest.fixture
def assert_picklable():
    """``assert_picklable(obj, **check_picklable_options)``: fail with the report unless obj is clean."""
    from .check import check_picklable

    def _assert(obj, *, strict: bool = False, **options):
        report = check_picklable(obj, **options)
        if not report.ok or (strict and report.warnings):
            pytest.fail(str(report), pytrace=False)
        return report

    return _assert


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker(_MARKER)
    if marker is None and not item.config.getoption("check_picklable"):
        return (yield)
    options = dict(marker.kwargs) if marker is not None else {}
    keys = options.pop("keys", False)
    with _checked_pipelines(keys=keys, options=options) as never_run:
        result = yield
        for pipeline in list(never_run):
            _fail_if_bad(pipeline, keys, options)
    return result


def _fail_if_bad(pipeline, keys: bool, options: dict) -> None:
    from .pipeline import check_pipeline

    report = check_pipeline(pipeline, check_keys=keys, check_fallbacks=False, **options)
    if not report.ok:
        pytest.fail(
            f"coderkit --check-picklable: this test's pipeline will fail or group wrongly on the workers\n\n{report}",
            pytrace=False,
        )


@contextlib.contextmanager
def _checked_pipelines(*, keys: bool, options: dict):
    """Defer Beam's construction check; check each pipeline when run; yield those never run."""
    import apache_beam as beam

    from .loader import deferred_pickling_checks

    built: list = []
    original_init, original_run = beam.Pipeline.__init__, beam.Pipeline.run

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        built.append(self)

    def checked_run(self, *args, **kwargs):
        if any(p is self for p in built):
            built.remove(next(p for p in built if p is self))
        _fail_if_bad(self, keys, options)
        return original_run(self, *args, **kwargs)

    beam.Pipeline.__init__, beam.Pipeline.run = recording_init, checked_run
    try:
        with deferred_pickling_checks():
            yield built
    finally:
        beam.Pipeline.__init__, beam.Pipeline.run = original_init, original_run
