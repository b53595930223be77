"""Exceptions a user can meet; each message says what to do. `show_warning` prints a warning
in one line (the command line and the worker processes use it)."""

import sys
from typing import TextIO


class TrustmlError(Exception):
    """Base class of every error trustml raises on purpose."""


class DataError(TrustmlError):
    """A dataset file is missing, corrupt or of the wrong format."""


class ChecksumError(DataError):
    """A dataset file's SHA-256 differs from the published value."""


class CacheError(TrustmlError):
    """A results-cache entry cannot be read or written."""


class DeviceError(TrustmlError):
    """`$TRUSTML_DEVICE` names a device that does not exist or is not available."""


class UnknownExperimentError(TrustmlError, KeyError):
    """No experiment is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class WorkerError(TrustmlError):
    """A worker process computing an experiment died (e.g. killed when memory ran out)."""


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    """A `warnings.showwarning` that prints `warning: <message>` in one line, without the
    source line (`<category>: ` before the message unless it is one of trustml's)."""
    kind = "" if category.__module__.startswith("trustml") else f"{category.__name__}: "
    text = " ".join(str(message).split())
    print(f"warning: {kind}{text}", file=file if file is not None else sys.stderr)
