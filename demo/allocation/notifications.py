"""The book's notifications: ``AbstractNotifications`` and e-mail through Django's mail API."""

from __future__ import annotations

import abc

from django.core.mail import send_mail


class AbstractNotifications(abc.ABC):
    """Tells people things (the out-of-stock handler uses it)."""

    @abc.abstractmethod
    def send(self, destination: str, message: str) -> None:
        """Send ``message`` to ``destination``."""


class EmailNotifications(AbstractNotifications):
    """E-mail through ``django.core.mail`` (the ``EMAIL_*`` settings; ``mail.outbox`` in tests)."""

    def __init__(self, from_email: str = "allocations@example.com") -> None:
        self.from_email = from_email

    def send(self, destination: str, message: str) -> None:
        send_mail(
            subject="allocation service notification",
            message=message,
            from_email=self.from_email,
            recipient_list=[destination],
        )
