"""The project's own meter-link exceptions: every pyserial/OS failure maps to one of these."""

from __future__ import annotations


class MeterError(Exception):
    """A failure talking to the meter; ``code`` is stable, ``hint`` says what to check."""

    code = "meter_error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def describe(self) -> str:
        """The message followed by the hint, for logs and the console."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class PortNotFoundError(MeterError):
    """The port does not exist (meter unplugged, wrong path)."""

    code = "port_not_found"


class PermissionDeniedError(MeterError):
    """The port exists but this user may not open it."""

    code = "permission_denied"


class PortBusyError(MeterError):
    """The port could not be opened for another reason (busy, not a tty...)."""

    code = "port_error"


class MeterDisconnectedError(MeterError):
    """The port went away while in use (unplugged)."""

    code = "disconnected"


class MeterTimeoutError(MeterError):
    """The meter sent nothing, or too little, before the timeout."""

    code = "timeout"


class BadReplyError(MeterError):
    """The meter answered with bytes that are not a valid packet."""

    code = "bad_packet"


class WrongModeError(MeterError):
    """The meter is in its bootloader (``query`` answered ``boot``)."""

    code = "bootloader"
