"""The exit codes every gpudock command returns (docs/contracts.md, "Exit codes").

Named so that no handler returns a bare number (pipx's ``constants.py`` is the model).
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: the host or a run has a problem: an error finding, a failed notebook or apply step, a refused plan
    PROBLEM = 1
    #: bad usage or unreadable input (one line on stderr, no traceback)
    USAGE = 2
    #: a tool or daemon that the command itself needs is missing (never returned by `doctor`)
    MISSING = 3
    #: Ctrl-C
    INTERRUPTED = 130
    #: SIGTERM (a CI cancel, `timeout`): cleaned up as for Ctrl-C, exit 128 + 15 as a shell reports it
    TERMINATED = 143
