"""How the project's commands meet their user, one convention for all of them: microgpt-course, the
chapter builder, the trial grader and the benchmarks.

Bad input (a UsageError, argparse's complaints included) is one line on stderr, `PROG: error: WHAT`,
and exit 2; Ctrl-C is one line, `PROG: interrupted`, and exit 130; results go to stdout, progress to
stderr. The reference's own command, `microgpt`, keeps the same convention without importing this
package (the reference stands alone): tests/test_command_line.py holds every command to it.
"""

import argparse
import sys

USAGE_ERROR = 2
INTERRUPTED = 130


class UsageError(Exception):
    """The command asks for something that cannot be done: one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse whose complaints (an unknown option, a bad value) are UsageErrors, not usage text
    and exit 2."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def run(prog: str, command) -> int:
    """command()'s exit code; a UsageError or Ctrl-C on its way out is reported in one line on
    stderr."""
    try:
        return command()
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
