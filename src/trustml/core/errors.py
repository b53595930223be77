"""Exceptions a user can meet; each message says what to do."""


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
