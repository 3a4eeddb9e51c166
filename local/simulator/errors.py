"""The two ways a simulator request fails: as Amazon would answer, or as bad control input."""

from __future__ import annotations


class SpApiError(Exception):
    """An SP-API error answer: `{"errors": [{code, message, details?}]}` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, object]:
        error: dict[str, str] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"errors": [error]}


def invalid_input(message: str, details: str | None = None) -> SpApiError:
    return SpApiError(400, "InvalidInput", message, details)


def not_found(message: str) -> SpApiError:
    return SpApiError(404, "NotFound", message)


class ControlError(ValueError):
    """Bad input to the simulator's own control API (`/_sim/...`): 400 with the message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
