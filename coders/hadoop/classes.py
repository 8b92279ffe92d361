"""Which coder reads a Hadoop class: a registry from Java class names to Writable coders.

A SequenceFile header and a MapWritable's class table name Java classes
(``org.apache.hadoop.io.Text``); this registry turns each name into the coder that
reads and writes it. Hadoop's own Writables are registered (by :mod:`coders.hadoop.writables`,
which defines them and depends on this module, never the reverse); register your own with
``writable_registry.register("com.example.PointWritable", coder)`` (or
:func:`register_writable`). A name nobody registered raises
:class:`UnknownWritableClassError`, which names the class and says how to register it.
"""

from __future__ import annotations

import threading
from typing import Callable, Union

from ..base import Coder
from ..errors import CoderNotFoundError

__all__ = [
    "HADOOP_IO",
    "UnknownWritableClassError",
    "WritableRegistry",
    "coder_for_class",
    "register_writable",
    "writable_registry",
]

HADOOP_IO = "org.apache.hadoop.io."

CoderOrFactory = Union[Coder, Callable[[], Coder]]


class UnknownWritableClassError(CoderNotFoundError):
    """No coder is registered for a Hadoop class name."""

    def __init__(self, class_name: str, known: list[str], *, default_registry: bool = True):
        self.class_name = class_name
        how = (
            f"coders.hadoop.register_writable({class_name!r}, coder)"
            if default_registry
            else f"registry.register({class_name!r}, coder) on the WritableRegistry you pass as registry="
        )
        message = (
            f"no coder is registered for the Hadoop class {class_name!r}. Register one with "
            f"{how} where coder is a coders.Coder whose "
            f"bytes match the class's write()/readFields(); or read the raw bytes with "
            f"SequenceFileReader(path, raw=True). Known classes: {', '.join(sorted(known)) or 'none'}"
        )
        super().__init__(message, types=(class_name,))


class WritableRegistry:
    """Java class name -> coder. Short names (``Text``) resolve to ``org.apache.hadoop.io.*``."""

    def __init__(self, parent: WritableRegistry | None = None):
        self._parent = parent
        self._entries: dict[str, CoderOrFactory] = {}
        self._lock = threading.Lock()

    def __getstate__(self):
        # picklable (a MapWritableCoder holding a registry travels to Beam workers); the lock does not travel
        return {"parent": self._parent, "entries": dict(self._entries)}

    def __setstate__(self, state):
        self._parent = state["parent"]
        self._entries = state["entries"]
        self._lock = threading.Lock()

    def register(self, class_name: str, coder: CoderOrFactory) -> None:
        """Make ``class_name`` read and write with ``coder`` (a Coder or a no-argument factory)."""
        if not isinstance(class_name, str) or not class_name:
            raise TypeError("register takes a Java class name such as 'com.example.PointWritable'")
        if not (isinstance(coder, Coder) or callable(coder)):
            raise TypeError(f"register takes a coders.Coder or a factory returning one, not {type(coder).__name__}")
        with self._lock:
            self._entries[class_name] = coder

    def unregister(self, class_name: str) -> None:
        with self._lock:
            self._entries.pop(class_name, None)

    def _lookup(self, class_name: str):
        found = self._entries.get(class_name)
        if found is None and self._parent is not None:
            return self._parent._lookup(class_name)
        return found

    def full_name(self, class_name: str) -> str:
        """``Text`` -> ``org.apache.hadoop.io.Text`` when only the full name is registered."""
        if self._lookup(class_name) is None and "." not in class_name and self._lookup(HADOOP_IO + class_name):
            return HADOOP_IO + class_name
        return class_name

    def coder_for(self, class_name: str) -> Coder:
        """The coder for ``class_name``, or UnknownWritableClassError naming it and the fix."""
        entry = self._lookup(self.full_name(class_name))
        if entry is None:
            raise UnknownWritableClassError(class_name, self.known(), default_registry=self is writable_registry)
        coder = entry if isinstance(entry, Coder) else entry()
        if not isinstance(coder, Coder):
            raise TypeError(f"the factory registered for {class_name!r} returned {type(coder).__name__}, not a Coder")
        return coder

    def __contains__(self, class_name: str) -> bool:
        return self._lookup(self.full_name(class_name)) is not None

    def known(self) -> list[str]:
        names = set(self._entries)
        if self._parent is not None:
            names |= set(self._parent.known())
        return sorted(names)

    def child(self) -> WritableRegistry:
        """A registry that starts with every registration of this one and can add its own."""
        return WritableRegistry(parent=self)


#: The process-wide registry the readers, writers and MapWritableCoder use by default. Hadoop's own
#: Writables register themselves here where they are defined (:mod:`coders.hadoop.writables`).
writable_registry = WritableRegistry()


def register_writable(class_name: str, coder: CoderOrFactory) -> None:
    """Register ``coder`` for ``class_name`` in the process-wide :data:`writable_registry`."""
    writable_registry.register(class_name, coder)


def coder_for_class(class_name: str) -> Coder:
    """The coder the process-wide registry has for ``class_name``."""
    return writable_registry.coder_for(class_name)
