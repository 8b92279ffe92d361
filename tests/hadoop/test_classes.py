"""The Hadoop class-name registry: built-ins, short names, user registrations, a clear error otherwise."""

from __future__ import annotations

import pytest

import coders
from coders.hadoop import (
    ArrayWritableCoder,
    IntWritableCoder,
    SequenceFileReader,
    SequenceFileWriter,
    TextCoder,
    UnknownWritableClassError,
    WritableRegistry,
    coder_for_class,
    register_writable,
    writable_registry,
)

BUILTIN = [
    "IntWritable",
    "LongWritable",
    "VIntWritable",
    "VLongWritable",
    "Text",
    "BytesWritable",
    "NullWritable",
    "BooleanWritable",
    "FloatWritable",
    "DoubleWritable",
    "MD5Hash",
    "MapWritable",
]


@pytest.mark.parametrize("short", BUILTIN)
def test_builtins_resolve_by_full_and_short_name(short):
    full = "org.apache.hadoop.io." + short
    coder = coder_for_class(full)
    assert coder.hadoop_class == full
    assert writable_registry.coder_for(short) == coder
    assert full in writable_registry and short in writable_registry


def test_unknown_class_names_it_and_the_fix():
    with pytest.raises(UnknownWritableClassError) as info:
        coder_for_class("com.example.Missing")
    message = str(info.value)
    assert "'com.example.Missing'" in message
    assert "coders.hadoop.register_writable('com.example.Missing', coder)" in message
    assert "raw=True" in message
    assert isinstance(info.value, coders.CoderNotFoundError) and isinstance(info.value, LookupError)


def test_unknown_class_in_a_users_own_registry_says_how_to_register_there():
    with pytest.raises(UnknownWritableClassError) as info:
        WritableRegistry().coder_for("com.example.Missing")
    message = str(info.value)
    assert "registry.register('com.example.Missing', coder) on the WritableRegistry you pass as registry=" in message
    assert "register_writable" not in message
    assert message.endswith("Known classes: none")
    with pytest.raises(UnknownWritableClassError, match="Known classes: com.example.Other$"):
        child = WritableRegistry()
        child.register("com.example.Other", TextCoder())
        child.coder_for("com.example.Missing")


def test_child_registry_adds_without_touching_the_parent():
    child = writable_registry.child()
    child.register("com.example.Pair", ArrayWritableCoder(IntWritableCoder()))
    assert child.coder_for("com.example.Pair") == ArrayWritableCoder(IntWritableCoder())
    assert "com.example.Pair" not in writable_registry
    assert child.coder_for("Text") == TextCoder()


def test_factories_and_bad_registrations():
    reg = WritableRegistry()
    reg.register("x.Y", TextCoder)
    assert reg.coder_for("x.Y") == TextCoder()
    with pytest.raises(TypeError, match="coders.Coder or a factory"):
        reg.register("x.Z", 42)
    reg.register("x.W", lambda: 42)
    with pytest.raises(TypeError, match="returned int, not a Coder"):
        reg.coder_for("x.W")


def test_reader_and_writer_use_registered_classes(tmp_path):
    name = "com.example.IntArrayWritable"
    register_writable(name, ArrayWritableCoder(IntWritableCoder(), hadoop_class=name))
    try:
        path = tmp_path / "a.seq"
        with SequenceFileWriter(path, "Text", name) as w:
            w.append("a", [1, 2, 3])
        with SequenceFileReader(path) as r:
            assert r.value_class == name
            assert list(r) == [("a", [1, 2, 3])]
    finally:
        writable_registry.unregister(name)
    with pytest.raises(UnknownWritableClassError, match="com.example.IntArrayWritable"):
        SequenceFileReader(path)
    with SequenceFileReader(path, raw=True) as r:  # raw access needs no coder
        assert list(r) == [(b"\x01a", bytes.fromhex("00000003000000010000000200000003"))]
