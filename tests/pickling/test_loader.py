"""pickling.loader: a pipeline file builds in full, unrun, even when its fns do not pickle."""

from __future__ import annotations

import os
import sys

import pytest

from pickling.loader import LoadError, NotRunResult, load_pipelines

HERE = os.path.join(os.path.dirname(__file__), "doctor_files")


def labels_and_fns(pipeline):
    from apache_beam.pipeline import PipelineVisitor

    found = {}

    class Visitor(PipelineVisitor):
        def visit_transform(self, node):
            found[node.full_label] = getattr(node.transform, "fn", None)

    pipeline.visit(Visitor())
    return found


def test_file_with_two_unpicklable_dofns_builds_in_full_without_running():
    main_before = sys.modules["__main__"]
    with load_pipelines(os.path.join(HERE, "two_bad_dofns.py")) as loaded:
        assert len(loaded.pipelines) == 1
        fns = labels_and_fns(loaded.pipelines[0])
        # Beam would have raised at "a"; both bad DoFns are in the built pipeline.
        assert type(fns["a"]).__name__ == "A" and type(fns["b"]).__name__ == "B"
        assert type(fns["a"]).__module__ == "__main__"
        # The file's module stays __main__ while the pipelines are in use.
        assert sys.modules["__main__"] is loaded.module
    assert sys.modules["__main__"] is main_before


def test_beam_construction_check_is_restored_after_loading():
    import apache_beam as beam

    with load_pipelines(os.path.join(HERE, "two_bad_dofns.py")):
        pass

    class HoldsGenerator(beam.DoFn):
        def __init__(self):
            self.gen = (i for i in range(2))

        def process(self, x):
            yield x

    with pytest.raises(RuntimeError, match="Unable to pickle fn"):
        beam.ParDo(HoldsGenerator())


def test_function_target_is_called_and_its_pipeline_returned_unrun():
    with load_pipelines(os.path.join(HERE, "builds_in_function.py") + ":build") as loaded:
        assert len(loaded.pipelines) == 1
        assert "Upper" in labels_and_fns(loaded.pipelines[0])
    assert isinstance(NotRunResult().wait_until_finish(), str)


def test_missing_file_function_and_failing_file_are_load_errors():
    with pytest.raises(LoadError, match="no such pipeline file"):
        load_pipelines(os.path.join(HERE, "nope.py"))
    with pytest.raises(LoadError, match="defines no function 'missing'"):
        load_pipelines(os.path.join(HERE, "builds_in_function.py") + ":missing")
    with pytest.raises(LoadError, match=r"raised KeyError while building its pipeline: \"missing config 'project'\""):
        load_pipelines(os.path.join(HERE, "raises.py"))
    assert sys.modules["__main__"].__name__ == "__main__"


def test_a_function_target_named_like_a_real_module_does_not_shadow_it_afterwards(tmp_path):
    import json

    source = open(os.path.join(HERE, "builds_in_function.py")).read()
    (tmp_path / "json.py").write_text(source)
    with load_pipelines(str(tmp_path / "json.py") + ":build") as loaded:
        assert sys.modules["json"] is loaded.module  # importable by name while checked, as on the driver
    assert sys.modules["json"] is json
    (tmp_path / "coderkit_only_here.py").write_text(source)
    with load_pipelines(str(tmp_path / "coderkit_only_here.py") + ":build"):
        assert "coderkit_only_here" in sys.modules
    assert "coderkit_only_here" not in sys.modules


def test_code_after_run_that_wants_the_results_does_not_stop_the_check():
    with load_pipelines(os.path.join(HERE, "reads_its_output.py")) as loaded:
        assert len(loaded.pipelines) == 1 and loaded.ran == loaded.pipelines
        assert "Send" in labels_and_fns(loaded.pipelines[0])
        assert loaded.after_run_error.startswith(
            f"{os.path.join(HERE, 'reads_its_output.py')} raised FileNotFoundError after running its pipeline"
        )
