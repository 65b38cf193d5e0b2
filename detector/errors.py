"""Errors raised by spin-detector: each names the bad value and says what to do instead."""

__all__ = ["SpinDetectorError", "InputError", "IndexFormatError", "ModelFormatError"]


class SpinDetectorError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(SpinDetectorError, ValueError):
    """A user-supplied text, file, option or record is unusable."""


class IndexFormatError(SpinDetectorError):
    """A source-index folder is missing, truncated, corrupt or of another format version."""


class ModelFormatError(SpinDetectorError):
    """A model folder is missing, truncated, corrupt or of another format version."""
