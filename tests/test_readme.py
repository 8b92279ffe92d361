"""The README's snippets run as written: pasted in order into one script and run with Python."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    first_block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines()[0].startswith("make demo")
    assert first_block.splitlines()[1].startswith("make test")


def test_readme_python_snippets_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 5
    script = tmp_path / "readme_snippets.py"
    script.write_text("\n\n".join(blocks))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Order.tags -> SetCoder" in result.stdout and "Order.amount -> FloatCoder" in result.stdout
    assert "VarIntCoder expected int, got float 1.5" in result.stdout
    assert "Enrich.client" in result.stdout
