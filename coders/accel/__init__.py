"""coderkit's one accelerated path: the optional C extension ``coders.accel._speedups``, decided once.

The C functions are used when the extension was built (``pip install`` compiles it when
a C compiler is available; a failed compile never fails the install) and the
environment variable ``CODERKIT_PURE_PYTHON`` is not ``1``. The pure-Python code is the
reference: every C path handles only the common exact-type case and hands anything
else to it, so bytes, values and errors are the same either way (tests/coders/test_speedups.py).

* ``ENABLED``: True when the C paths are in use.
* ``REASON``: why not, when they are not (for ``coderkit`` diagnostics and bug reports).
* ``Codec``, ``Unhandled``, ``varint_methods``, ``load_spark_batches``,
  ``contains``: the extension's API, or None.
"""

from __future__ import annotations

import os

__all__ = ["ENABLED", "REASON", "Codec", "Unhandled", "contains", "load_spark_batches", "varint_methods"]

ENV_VAR = "CODERKIT_PURE_PYTHON"

Codec = Unhandled = varint_methods = load_spark_batches = contains = None
ENABLED = False
if os.environ.get(ENV_VAR) == "1":
    REASON = f"disabled by {ENV_VAR}=1"
else:
    try:
        from . import _speedups
    except ImportError as e:  # not built (no compiler at install time) or built for another Python
        REASON = f"the C extension coders.accel._speedups is not importable ({e}); reinstall with a C compiler"
    else:
        Codec, Unhandled, varint_methods = _speedups.Codec, _speedups.Unhandled, _speedups.varint_methods
        load_spark_batches, contains = _speedups.load_spark_batches, _speedups.contains
        ENABLED = True
        REASON = "enabled"
