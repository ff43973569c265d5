"""Typed errors raised by the builder core.

Every error carries a one-line message a non-expert can act on; the CLI prints it as
``error: <message>`` and the UI shows it as a notification, never a traceback.
"""


class BuilderError(Exception):
    """Base class: a problem the user can fix, described in plain words."""


class ConfigError(BuilderError):
    """A configuration value is out of range or of the wrong kind."""


class ProjectError(BuilderError):
    """A project folder is missing, malformed, or busy."""


class EditConflict(ProjectError):
    """A saved edit was based on a pair that someone else changed or removed since (reload first)."""


class UnsupportedDocument(BuilderError):
    """The file type is not one we can read."""


class EncryptedDocument(BuilderError):
    """The document is password-protected."""


class NoTextExtracted(BuilderError):
    """The document was read but holds no extractable text (e.g. scanned images)."""


class DocumentTooLarge(BuilderError):
    """The document or archive exceeds a configured size limit."""


class CorruptDocument(BuilderError):
    """The file is truncated, damaged, or not really of the type its name says."""


class ModelNotFound(BuilderError):
    """A model id or folder cannot be resolved (offline, typo, or missing files)."""


class TrainingError(BuilderError):
    """Training cannot start or failed in a way the user can fix."""


class AdapterError(BuilderError):
    """An adapter folder is missing, corrupt, or belongs to another base model."""


class GeneratorError(BuilderError):
    """A pair generator (teacher model or endpoint) failed for a chunk or could not start."""


class DatasetError(BuilderError):
    """A dataset file cannot be imported or exported (unknown format, malformed rows)."""


class TrainingBusy(TrainingError):
    """Another training of the same project is already running (one at a time per project)."""


class ExportError(BuilderError):
    """A model cannot be exported or uploaded (missing token, offline, unwritable folder)."""
