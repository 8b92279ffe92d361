"""A pipeline file that fails while building, for the loader's error message."""

raise KeyError("missing config 'project'")
