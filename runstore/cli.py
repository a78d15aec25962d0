"""What every command line of the project shares: argument types that check their range when the
arguments are parsed, and :func:`run_main`, which turns a user's mistake into one line and an exit code.

Exit codes: 0 all work done; 1 the command ran but some of its parts failed (it says which, and how
to resume); 2 it could not start (bad arguments or input: nothing was written); 3 the run stopped
on an error of the computation itself (e.g. weights became non-finite; the last good checkpoint
is kept). ``--debug`` on any command line, or ``SNN_DEBUG=1``, shows the traceback instead.
"""
from __future__ import annotations

import argparse
import os
import sys

from runstore import provenance
from runstore.files import BadFileError
from runstore.locks import RunBusyError

DEBUG_ENV = "SNN_DEBUG"
EXIT_PARTIAL, EXIT_USAGE, EXIT_DIVERGED = 1, 2, 3


class UserError(Exception):
    """A problem the user can fix (a missing run, a bad combination of options); the message says how."""


class PartialFailure(Exception):
    """Some independent parts of the work failed; the others finished and were saved."""


class Diverged(RuntimeError):
    """The computation produced non-finite numbers; what was saved before is intact."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to read more, not the whole usage."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default, except where it is None: those options state in their help
    what they default to (a per-net or per-dataset value), and "(default: None)" would contradict it."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


# --- argument types ------------------------------------------------------------------------------
def _number(cast, text, ok, what):
    try:
        v = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if cast is int else 'a number'}") from None
    if not ok(v):
        raise argparse.ArgumentTypeError(f"{text} is not {what}")
    return v


def positive_int(text) -> int:
    """An integer >= 1 (sizes, counts, steps, threads)."""
    return _number(int, text, lambda v: v >= 1, "at least 1")


def count(text) -> int:
    """An integer >= 0."""
    return _number(int, text, lambda v: v >= 0, "at least 0")


def positive_float(text) -> float:
    """A finite number > 0 (learning rates, time constants, durations)."""
    return _number(float, text, lambda v: 0 < v < float("inf"), "a finite number above 0")


def nonnegative_float(text) -> float:
    return _number(float, text, lambda v: 0 <= v < float("inf"), "a finite number >= 0")


def pixel_eps(text) -> float:
    """A perturbation size in the pixel scale [0, 1]: in (0, 1]."""
    return _number(float, text, lambda v: 0 < v <= 1, "in (0, 1] (epsilon is in the pixel scale [0, 1]; 8/255 = 0.0314)")


def unit_interval(text) -> float:
    """A fraction in (0, 1] (a membrane leak per step, 1 = none)."""
    return _number(float, text, lambda v: 0 < v <= 1, "in (0, 1]")



def fraction(text) -> float:
    """A share in [0, 1) (dropout, momentum, label smoothing, warm-up)."""
    return _number(float, text, lambda v: 0 <= v < 1, "in [0, 1)")


def percentile(text) -> float:
    return _number(float, text, lambda v: 0 < v <= 100, "in (0, 100]")


def existing_dir(text) -> str:
    """A folder that must exist already (a data folder given by hand is not created on a typo)."""
    if not os.path.isdir(os.path.expanduser(text)):
        raise argparse.ArgumentTypeError(f"{text} is not an existing folder (create it first if the data should "
                                         f"be downloaded there)")
    return text


def from_keywords(parser: argparse.ArgumentParser, resolve, required: list[str] | None = None, **given):
    """The settings ``parser`` would give with ``required`` on its command line and ``given`` (option names
    with underscores) set, passed through ``resolve(args, error)`` as the command line's are; a bad value
    raises :class:`UserError` (a library call has no command line to print a usage error on)."""
    args = parser.parse_args(required or [])
    unknown = sorted(k for k in given if not hasattr(args, k))
    if unknown:
        raise TypeError(f"{parser.prog} has no option {', '.join(unknown)}")
    for name, value in given.items():
        setattr(args, name, value)
    return resolve(args, _user_error)


def _user_error(message: str):
    raise UserError(message)


# --- the one way every CLI ends --------------------------------------------------------------------
USER_ERRORS = (UserError, BadFileError, RunBusyError, FileNotFoundError, PermissionError, NotADirectoryError,
               IsADirectoryError, FileExistsError)


def _debug(argv) -> bool:
    return os.environ.get(DEBUG_ENV, "0") not in ("", "0") or "--debug" in (sys.argv[1:] if argv is None else argv)


def one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, OSError) and e.filename and str(e.filename) not in text:
        text += f": {e.filename}"
    return text


def run_main(main, argv=None, user_errors: tuple = ()) -> int:
    """Run ``main(argv)`` and return the process's exit code; errors a user can fix print one line
    (``user_errors`` adds a module's own, e.g. imagesets.DatasetError) unless --debug / SNN_DEBUG."""
    debug = _debug(argv)
    if argv is not None:
        argv = [a for a in argv if a != "--debug"]
    elif "--debug" in sys.argv:
        sys.argv.remove("--debug")
    # the command line and the clock every result this command saves records (runstore.provenance)
    provenance.start(provenance.entry_module(main), sys.argv[1:] if argv is None else argv)
    try:
        main(argv)
        return 0
    except SystemExit as e:   # argparse's usage errors (2), or a main that decided its own code
        if isinstance(e.code, str):
            print(e.code if e.code.startswith("error") else f"error: {e.code}", file=sys.stderr)
            return EXIT_USAGE
        return 0 if e.code is None else int(e.code)
    except KeyboardInterrupt:
        print("interrupted: what was saved so far is kept; the same command continues it (training runs: add "
              "--resume)", file=sys.stderr)
        return 130
    except (PartialFailure, Diverged, *USER_ERRORS, *user_errors) as e:
        if debug:
            raise
        print(f"error: {one_line(e)}", file=sys.stderr)
        return exit_code(e)


def exit_code(e: BaseException) -> int:
    if isinstance(e, PartialFailure):
        return EXIT_PARTIAL
    return EXIT_DIVERGED if isinstance(e, Diverged) else EXIT_USAGE


def exit_with(main, user_errors: tuple = ()):
    """``if __name__ == "__main__": exit_with(main)``: the CLI's one exit."""
    sys.exit(run_main(main, user_errors=user_errors))
