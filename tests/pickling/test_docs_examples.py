"""The runnable examples of docs/pickling.md run and say what the page says."""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def python_blocks(page: str) -> list[str]:
    with open(os.path.join(ROOT, "docs", page), encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_the_check_pipeline_example_runs_and_finds_both_problems(capsys):
    [block] = [b for b in python_blocks("pickling.md") if "check_pipeline(p)" in b]
    exec(compile(block, "docs/pickling.md", "exec"), {"__name__": "docs_example"})  # its own asserts
    out = capsys.readouterr().out
    assert "ERROR: [Send] Send.conn" in out and "ERROR: [Group] GroupByKey key" in out
