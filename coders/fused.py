"""Generated encode/decode functions for whole coder trees (placeholder until the generator lands)."""

from __future__ import annotations

__all__ = ["codec_for"]


def codec_for(coder):
    """The fused codec for ``coder``, or None when it cannot be fused."""
    return None
