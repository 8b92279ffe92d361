"""Pickle-backed fallback coders: any picklable value, at the price of speed and determinism.

SECURITY: decoding unpickles, and unpickling runs arbitrary code chosen by whoever
wrote the bytes (any importable callable, with any arguments). Decode only bytes
your own pipeline wrote; never bytes from users, the network or untrusted storage.

Bytes (both coders): outer context, the pickle itself; nested context, a varint
byte count then the pickle (Beam's ``PickleCoder`` and ``DillCoder`` frame their
bytes the same way). Pickles are written with protocol 5, which every Python from
3.8 reads; coderkit needs 3.11, so reader and writer always understand it.

These coders are never deterministic and cannot be made so (see
``PICKLE_NOT_DETERMINISTIC``): register a real coder for the type instead.
"""

from __future__ import annotations

import importlib
import io
import pickle as _stdlib_pickle
from typing import Any

from .base import WRAPPED, Coder, any_value_strategy
from .errors import DecodeError, NonDeterministicCoderError
from .streams import read_length_prefixed, varint64_size, write_varint64

__all__ = ["PICKLE_NOT_DETERMINISTIC", "PICKLE_PROTOCOL", "CloudpickleCoder", "PickleCoder"]

#: The pickle protocol both coders write (readable by Python 3.8+).
PICKLE_PROTOCOL = 5

PICKLE_NOT_DETERMINISTIC = (
    "pickle bytes are not a function of the value: they depend on object identity and sharing "
    "(the memo writes a repeated object once, so equal values with different sharing differ), on "
    "dict and set iteration order (insertion history; str hashes vary per process), on classes and "
    "functions pickled by value (cloudpickle/dill embed code objects and globals), and on the "
    "protocol and library versions"
)

_FIX = (
    "register a deterministic coder for this type (coders.register_coder), or make it a dataclass "
    "or NamedTuple of deterministic fields so the registry derives a RecordCoder"
)


_MODULES: dict[str, Any] = {}


def _module(name: str):
    """dill or cloudpickle, imported on first use (``import coders.pickle`` stays cheap)."""
    module = _MODULES.get(name)
    if module is None:
        module = _MODULES[name] = importlib.import_module(name)
    return module


class _TrailingBytes(ValueError):
    """Bytes left over after one complete pickle: ``end`` (where it stopped) and how many follow."""

    def __init__(self, end: int, extra: int):
        super().__init__(end, extra)
        self.end, self.extra = end, extra


class _PickleCoderBase(Coder):
    """Shared framing and error handling; subclasses choose the pickler."""

    #: Shown in messages: which library pickles.
    library = "pickle"
    is_pickle_fallback = True

    def _dumps(self, value: Any) -> bytes:
        raise NotImplementedError

    def _unpickler(self, file):
        return _stdlib_pickle.Unpickler(file)

    def _loads_prefix(self, data: bytes) -> Any:
        """The library's ``loads``: fast, but it stops at STOP and ignores what follows."""
        return _stdlib_pickle.loads(data)

    def _loads(self, data: bytes) -> Any:
        """Unpickle ``data``, which must be exactly one pickle: bytes after its STOP opcode
        (which ``pickle.loads`` silently ignores) mean the framing is wrong.

        Fast path: a protocol-5 pickle under 64 KiB is PROTO, then one FRAME whose 8-byte
        length runs to its STOP; when that length reaches exactly the end of ``data``,
        nothing was appended and ``loads`` is used. Otherwise an Unpickler over a file
        says where the pickle ended (about 3 us more per value).
        """
        if (
            len(data) > 11
            and data[0] == 0x80
            and data[1] == PICKLE_PROTOCOL
            and data[2] == 0x95
            and int.from_bytes(data[3:11], "little") == len(data) - 11
            and data[-1] == 0x2E
        ):
            return self._loads_prefix(data)
        file = io.BytesIO(data)
        value = self._unpickler(file).load()
        end = file.tell()
        if end != len(data):
            raise _TrailingBytes(end, len(data) - end)
        return value

    def _pickled(self, value: Any) -> bytes:
        try:
            return self._dumps(value)
        except RecursionError as e:
            raise self._encode_error(
                value,
                f"a value {self.library} can pickle (too deeply nested: {e})",
                fix="flatten the structure or register a coder for its type",
            ) from e
        except Exception as e:  # PicklingError, TypeError("cannot pickle ..."), AttributeError, ...
            raise self._encode_error(
                value,
                f"a value {self.library} can pickle ({type(e).__name__}: {e})",
                fix="register a coder for this type, or remove the unpicklable attribute (a lock, socket, "
                "open file, generator); coderkit's pickling.check_picklable shows the path to it",
            ) from e

    def encode_to(self, value, out: bytearray, nested: bool) -> None:
        data = self._pickled(value)
        if nested:
            write_varint64(out, len(data))
        out += data

    def decode_from(self, data, pos: int, nested: bool):
        start = pos
        if nested:
            payload, pos = read_length_prefixed(data, pos, f"{type(self).__name__} pickle")
        else:
            payload = bytes(data[pos:])
            pos = len(data)
        payload_at = pos - len(payload)
        try:
            value = self._loads(payload)
        except _TrailingBytes as e:
            raise DecodeError(
                f"{e.extra} unexpected byte(s) after the end of the {self.library} pickle ({e.end} bytes); the "
                f"bytes are not one pickle written by {type(self).__name__} (a framing or length error)",
                offset=payload_at + e.end,
            ) from None
        except Exception as e:  # the unpickler raises almost anything on bad input
            raise DecodeError(
                f"{self.library} could not unpickle {len(payload)} bytes ({type(e).__name__}: {e}); the bytes "
                f"are not a pickle written by {type(self).__name__}, or need a module this process lacks",
                offset=start,
            ) from e
        return value, pos

    def encode(self, value: Any) -> bytes:
        return self._pickled(value)

    def encode_nested(self, value: Any) -> bytes:
        data = self._pickled(value)
        out = bytearray()
        write_varint64(out, len(data))
        out += data
        return bytes(out)

    def estimate_size(self, value: Any, nested: bool = False) -> int:
        n = len(self._pickled(value))
        return n + varint64_size(n) if nested else n

    def own_determinism_issues(self) -> list[tuple[str, str | None]]:
        return [(PICKLE_NOT_DETERMINISTIC, _FIX)]

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """Always raises: no ordering or canonical form makes pickle bytes a function of the value."""
        raise NonDeterministicCoderError(self, self.determinism_issues(), context=context)

    def min_nested_size(self) -> int:
        return 2  # a length byte and at least the STOP opcode

    def to_type_hint(self):
        return Any

    def value_strategy(self, child, st):
        return any_value_strategy(st)


class PickleCoder(_PickleCoderBase):
    """Any value dill can pickle (dill handles lambdas, nested functions, interactive classes).

    Bytes: outer, ``dill.dumps(value, protocol=5)``; nested, varint length + those
    bytes. ``PickleCoder().encode(None)`` -> ``80 05 4e 2e`` (PROTO 5, NONE, STOP).

    Decoding runs arbitrary code: use it only on bytes your own pipeline wrote.
    Not deterministic, and ``as_deterministic_coder`` raises.
    """

    beam_coder = WRAPPED  # Beam's PickleCoder frames its pickles differently

    library = "dill"

    def _dumps(self, value: Any) -> bytes:
        return _module("dill").dumps(value, protocol=PICKLE_PROTOCOL)

    def _unpickler(self, file):
        return _module("dill").Unpickler(file)

    def _loads_prefix(self, data: bytes) -> Any:
        return _module("dill").loads(data)


class CloudpickleCoder(_PickleCoderBase):
    """Any value cloudpickle can pickle (lambdas, closures, classes defined in ``__main__`` by value).

    Bytes: outer, ``cloudpickle.dumps(value, protocol=5)``; nested, varint length +
    those bytes. Read back with the standard unpickler (cloudpickle's pickles need
    cloudpickle importable only when they contain code pickled by value).

    Decoding runs arbitrary code: use it only on bytes your own pipeline wrote.
    Not deterministic, and ``as_deterministic_coder`` raises.
    """

    beam_coder = WRAPPED

    library = "cloudpickle"

    def _dumps(self, value: Any) -> bytes:
        return _module("cloudpickle").dumps(value, protocol=PICKLE_PROTOCOL)
