"""Build script for the optional C accelerator; everything else is declared in pyproject.toml.

``coders.accel._speedups`` is optional: when the compiler or the Python headers are missing the
build prints a warning and the install goes on, and coderkit runs on its pure-Python path
(``coders.accel.ENABLED`` says which one is in use).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "coders.accel._speedups",
            sources=["coders/accel/_speedups.c"],
            optional=True,
            extra_compile_args=["-O3", "-Wall", "-Wno-missing-field-initializers"],
        ),
    ],
)
