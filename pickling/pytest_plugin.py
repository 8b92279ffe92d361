"""pytest plugin (registered through the ``pytest11`` entry point); its fixtures and options land with the pickling checker."""
