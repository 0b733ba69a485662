"""The refusal services raise: a domain exception, free of the web layer.

A service that will not make a change raises :class:`Refused` with a message for
the person (what happened, what to do); nothing has changed when it does. Views
turn it into a flash message or a form error, the error handlers into a 400.
"""

from __future__ import annotations


class Refused(Exception):
    """A service refused a change; the message says why and what to do. Nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
