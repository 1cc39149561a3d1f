"""Error hierarchy: every error a user can cause is an OtemachiError with a helpful message."""


class OtemachiError(Exception):
    """Base class. The CLI prints the message in one line and exits with status 2."""

    http_status = 400


class InvalidInput(OtemachiError):
    """The user gave a wrong value, a malformed file or an unusable image."""

    http_status = 422


class NotFound(OtemachiError):
    """A named file, dataset, model or record does not exist."""

    http_status = 404


class CheckpointError(InvalidInput):
    """A checkpoint is missing, corrupt, tampered with, or of another kind."""


class ModelNotTrained(NotFound):
    """A model is needed but has not been trained; the message names the command that trains it.
    Servers answer 503: the service is up but cannot serve this until someone trains it."""

    http_status = 503


class SetupError(OtemachiError):
    """The installation lacks something (a Python package, a system program); the message says
    how to install it. Not the user's input: servers answer 503."""

    http_status = 503


class Unauthorized(OtemachiError):
    """A protected route was called without a valid API key."""

    http_status = 401


class RateLimited(OtemachiError):
    """A client or a user id has made too many requests; ``retry_after`` says when to retry."""

    http_status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
