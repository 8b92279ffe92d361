"""The errors and warnings coderkit raises, in one place so callers can catch by family.

Every message is written for a person: it names the coder or type, the path inside
the value (or the byte offset inside the data), and the fix.
"""

from __future__ import annotations

from typing import Iterable, Sequence

__all__ = [
    "CoderError",
    "CoderNotFoundError",
    "DecodeError",
    "DeterminismIssue",
    "EncodeError",
    "FallbackCoderWarning",
    "NonDeterministicCoderError",
]


class CoderError(Exception):
    """Base of every error a coder raises."""


class DecodeError(CoderError, ValueError):
    """Malformed bytes: truncated, over-long, invalid UTF-8, a hostile length, trailing data.

    ``offset`` is the byte offset inside the data being decoded where the problem was
    found (None when unknown); ``path`` the place inside the value being decoded.
    """

    def __init__(self, message: str, *, offset: int | None = None, coder=None, path: Sequence[str] = ()):
        self.reason = message
        self.offset = offset
        self.coder = coder
        self.path = tuple(path)
        super().__init__(message)

    def with_path(self, segment: str) -> DecodeError:
        """Prepend a path segment while the error unwinds through a composite coder."""
        self.path = (segment,) + self.path
        self.args = (str(self),)
        return self

    def __str__(self) -> str:
        parts = [self.reason]
        if self.offset is not None:
            parts.append(f"at byte offset {self.offset}")
        if self.path:
            parts.append(f"while decoding {''.join(self.path).lstrip('.')}")
        if self.coder is not None:
            parts.append(f"with {self.coder!r}")
        return ", ".join(parts)


class EncodeError(CoderError, TypeError):
    """A value the coder cannot encode. Names the coder, the path inside the value and the value.

    It subclasses TypeError because the usual cause is a value of the wrong type; a value
    of the right type but out of range (an int beyond int64) raises it too.
    """

    def __init__(self, message: str, *, coder=None, value=None, path: Sequence[str] = (), fix: str | None = None):
        self.reason = message
        self.coder = coder
        self.value = value
        self.path = tuple(path)
        self.fix = fix
        super().__init__(message)

    def with_path(self, segment: str) -> EncodeError:
        """Prepend a path segment (``[0]``, ``.field``, ``['key']``) while unwinding."""
        self.path = (segment,) + self.path
        self.args = (str(self),)
        return self

    def __str__(self) -> str:
        where = "".join(self.path)
        text = self.reason
        if where:
            text = f"at value{where}: {text}"
        if self.coder is not None:
            text += f" (coder {self.coder!r})"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class DeterminismIssue:
    """One reason a coder is not deterministic: where in the coder tree, which coder, why, and the fix."""

    __slots__ = ("path", "coder", "reason", "fix")

    def __init__(self, path: str, coder, reason: str, fix: str | None = None):
        self.path = path
        self.coder = coder
        self.reason = reason
        self.fix = fix

    def __repr__(self) -> str:
        return f"DeterminismIssue(path={self.path!r}, coder={self.coder!r}, reason={self.reason!r})"

    def __eq__(self, other):
        return isinstance(other, DeterminismIssue) and (self.path, self.reason) == (other.path, other.reason)

    def __hash__(self):
        return hash((self.path, self.reason))

    def __str__(self) -> str:
        text = f"{self.path} -> {type(self.coder).__name__}: {self.reason}"
        if self.fix:
            text += f"{'' if text.endswith(('.', '!', '?')) else '.'} Fix: {self.fix}"
        return text


class NonDeterministicCoderError(CoderError, ValueError):
    """Raised by ``verify_deterministic`` / ``as_deterministic_coder``: lists every reason with its path."""

    def __init__(self, coder, issues: Iterable[DeterminismIssue], *, context: str | None = None):
        self.coder = coder
        self.issues = list(issues)
        self.context = context
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{self.coder!r} is not deterministic"
        if self.context:
            head = f"{self.context}: {head}"
        lines = [head + ":"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)

    def __reduce__(self):
        return (_rebuild_nondeterministic, (self.coder, self.issues, self.context))


def _rebuild_nondeterministic(coder, issues, context):
    return NonDeterministicCoderError(coder, issues, context=context)


class CoderNotFoundError(CoderError, LookupError):
    """A strict registry found no coder for one or more types; names every one and where it was met."""

    def __init__(self, message: str, *, types: Sequence = ()):
        self.types = tuple(types)
        super().__init__(message)


class FallbackCoderWarning(UserWarning):
    """A type fell back to the slow, non-deterministic pickle coder; the message names the type and the fix."""
