"""docs/extending.md runs as written, and the ``coderkit.coders`` entry points are found, loaded lazily
and explained when broken (with a real installed distribution: a .dist-info directory on sys.path)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import coders
from coders import typecoders

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def test_the_worked_example_runs_as_written():
    text = DOC.read_text()
    blocks = [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]
    assert len(blocks) == 6
    module = type(sys)("extending_doc")  # the doc's classes live in a module of their own, as a user's do
    sys.modules["extending_doc"] = module
    try:
        exec(compile("\n".join(blocks), str(DOC), "exec", dont_inherit=True), module.__dict__)
    finally:
        del sys.modules["extending_doc"]
    namespace = module.__dict__
    assert namespace["pixel_coder"].field_coders[2] == coders.NullableCoder(namespace["rgb"])


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """A package `colorlib` with an Rgb type, declaring coderkit entry points as an installed distribution."""

    def install(entry_points: str, coders_module: str) -> Path:
        package = tmp_path / "colorlib"
        package.mkdir()
        (package / "__init__.py").write_text(
            textwrap.dedent(
                """
                import dataclasses

                @dataclasses.dataclass(frozen=True)
                class Rgb:
                    red: int
                    green: int
                    blue: int

                class Opaque:
                    pass
                """
            )
        )
        (package / "coders.py").write_text(textwrap.dedent(coders_module))
        dist = tmp_path / "colorlib-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: colorlib\nVersion: 1.0\n")
        (dist / "entry_points.txt").write_text(textwrap.dedent(entry_points))
        monkeypatch.syspath_prepend(str(tmp_path))
        typecoders._entry_points.cache_clear()
        return package

    yield install
    typecoders._entry_points.cache_clear()
    for name in [m for m in sys.modules if m == "colorlib" or m.startswith("colorlib.")]:
        del sys.modules[name]


CODERS_MODULE = """
    import coders
    from colorlib import Rgb

    LOADED = []

    class RgbCoder(coders.Coder):
        '''Three bytes. Deterministic.'''
        def __init__(self):
            LOADED.append(self)
        def encode_to(self, value, out, nested):
            out += bytes((value.red, value.green, value.blue))
        def decode_from(self, data, pos, nested):
            return Rgb(*data[pos:pos + 3]), pos + 3
"""


def test_an_entry_point_coder_is_used_and_loaded_only_when_its_type_is_met(installed_package):
    installed_package(
        """
        [coderkit.coders]
        colorlib.Rgb = colorlib.coders:RgbCoder
        """,
        CODERS_MODULE,
    )
    registry = coders.CoderRegistry()
    assert registry.get_coder(int) == coders.VarIntCoder(lenient=True)
    assert "colorlib.coders" not in sys.modules  # nothing loaded for other types
    import colorlib

    coder = registry.get_coder(list[colorlib.Rgb])
    assert "colorlib.coders" in sys.modules
    assert type(coder.element_coder).__name__ == "RgbCoder"
    assert coder.encode([colorlib.Rgb(1, 2, 3)]) == b"\x00\x00\x00\x01\x01\x02\x03"
    assert coder.decode(b"\x00\x00\x00\x01\x01\x02\x03") == [colorlib.Rgb(1, 2, 3)]


def test_a_users_registration_wins_over_an_entry_point(installed_package):
    installed_package("[coderkit.coders]\ncolorlib.Rgb = colorlib.coders:RgbCoder\n", CODERS_MODULE)
    import colorlib

    registry = coders.CoderRegistry()
    registry.register_coder(colorlib.Rgb, coders.BytesCoder())
    assert registry.get_coder(colorlib.Rgb) == coders.BytesCoder()
    assert "colorlib.coders" not in sys.modules


def test_a_broken_entry_point_names_itself_and_the_fix(installed_package):
    installed_package(
        "[coderkit.coders]\ncolorlib.Rgb = colorlib.coders:Missing\ncolorlib.Opaque = colorlib.coders:NUMBER\n",
        textwrap.dedent(CODERS_MODULE) + "\nNUMBER = 42\n",
    )
    import colorlib

    registry = coders.CoderRegistry()
    with pytest.raises(coders.CoderNotFoundError) as info:
        registry.get_coder(colorlib.Rgb)
    assert str(info.value).startswith(
        "the entry point 'colorlib.Rgb' = 'colorlib.coders:Missing' in group 'coderkit.coders' could not be "
        "loaded (AttributeError: "
    )
    assert "register a coder for `Rgb` yourself (register_coder wins over entry points)" in str(info.value)
    with pytest.raises(coders.CoderNotFoundError, match="gave int 42, not a Coder, a Coder class or a factory"):
        registry.get_coder(colorlib.Opaque)
