"""What a Beam coder that runs a coderkit coder answers Beam: everything comes from the coder it wraps.

Shared by ``CoderkitBeamCoder`` (any coder, Beam's pickled-coder URN) and ``CoderkitRowCoder``
(a ``RowCoder``, Beam's row URN): determinism and the deterministic variant are coderkit's, and so
are the type hint, equality, hashing and what travels when the Beam coder is pickled.
"""

from __future__ import annotations

__all__ = ["WrapsCoderkitCoder"]


class WrapsCoderkitCoder:
    """Mixin (listed before Beam's coder class): ``self.coder`` is the coderkit coder."""

    def _rewrap(self, coder):
        """The Beam coder for ``coder`` (a deterministic variant of ``self.coder``)."""
        return type(self)(coder)

    def is_deterministic(self):
        return self.coder.is_deterministic()

    def as_deterministic_coder(self, step_label, error_message=None):
        if self.is_deterministic():
            return self
        context = f"key coder of {step_label}" if step_label else None
        return self._rewrap(self.coder.as_deterministic_coder(context=context))

    def to_type_hint(self):
        return self.coder.to_type_hint()

    def __eq__(self, other):
        return type(self) is type(other) and self.coder == other.coder

    def __hash__(self):
        return hash((type(self).__name__, self.coder))

    def __repr__(self):
        return f"{type(self).__name__}[{self.coder!r}]"

    def __reduce__(self):
        # Only the wrapped coder travels; the runtime impl is rebuilt on first use.
        return (type(self), (self.coder,))
