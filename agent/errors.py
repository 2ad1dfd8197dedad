"""User-facing errors: one base class, messages that say how to fix the problem."""


class PitchroomError(Exception):
    """Base class for every error a user may see."""

    kind = "pitchroom_error"
    status = 400


class ConfigError(PitchroomError):
    """A setting is missing or invalid."""

    kind = "config_error"
    status = 500


class ModelUnavailable(PitchroomError):
    """The chat model cannot be reached or started."""

    kind = "model_unavailable"
    status = 503


class ModelOutputError(PitchroomError):
    """The model answered with something unusable (garbage, wrong schema)."""

    kind = "model_output_error"
    status = 503


class PackError(PitchroomError):
    """A company research pack is malformed."""

    kind = "pack_error"
    status = 422


class NotFound(PitchroomError):
    """A session, company or round does not exist."""

    kind = "not_found"
    status = 404


class InputRejected(PitchroomError):
    """A candidate message or upload breaks a limit (empty, too long, binary)."""

    kind = "input_rejected"
    status = 422


class Conflict(PitchroomError):
    """The request does not fit the session's state (e.g. it already ended)."""

    kind = "conflict"
    status = 409


class PromptError(PitchroomError):
    """A prompt template is malformed or rendered with wrong variables."""

    kind = "prompt_error"
    status = 500


class StoreError(PitchroomError):
    """The database or vector store cannot be used."""

    kind = "store_error"
    status = 503
