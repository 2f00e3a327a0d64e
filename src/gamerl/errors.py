"""One error family for everything a user can get wrong.

The CLI catches :class:`GamerlError`, prints its one-line message (what is wrong and how to fix it)
and exits with status 2. Library users catch the subclass they care about.
"""


class GamerlError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is a single line saying what and how."""


class ConfigError(GamerlError, ValueError):
    """A configuration value is invalid."""


class EnvNotFoundError(GamerlError, KeyError):
    """An environment id is not known to gamerl."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CheckpointError(GamerlError):
    """A checkpoint is missing, corrupt, or was written for another system or shape."""


class RunDirError(GamerlError):
    """A run directory is missing, incomplete, or would be overwritten."""


class DependencyError(GamerlError):
    """An optional dependency (package, ROM, system program) is missing."""


class TrainingError(GamerlError):
    """Training cannot go on (for example a NaN loss)."""
