"""A pipeline file whose import fails two lines in, for the loader's file:line."""

import apache_beam as beam  # noqa: F401
import no_such_module_for_the_doctor  # noqa: F401
