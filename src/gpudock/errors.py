"""Errors that reach the user as one line and exit status 2."""


class GpudockError(Exception):
    """A problem the user can fix (bad input, missing file, missing daemon).

    The CLI prints ``str(err)`` as one line and exits with ``exit_code``; no
    traceback. Library callers (notebooks) see an ordinary exception.
    """

    exit_code = 2


class SnapshotError(GpudockError):
    """A snapshot file that cannot be read or does not follow the contract."""


class UsageError(GpudockError):
    """A wrong parameter or option value."""
