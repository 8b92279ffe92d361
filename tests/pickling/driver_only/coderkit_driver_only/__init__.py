"""A package only the driver can import: tests put this directory on sys.path themselves and
exclude it from the fresh interpreter, like a module next to a launcher script."""


class DriverOnlyConfig:
    def __init__(self, table: str):
        self.table = table
