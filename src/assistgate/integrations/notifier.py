"""Alerts to commanding officers and command staff: one interface and its implementations.

`Notifier.alert(user_or_contact, request, level)` tells one person (a commander on duty, as a
`User`) or one contact (command staff, as text) that `request` waits for a commanding officer;
`level` is how many times it was escalated (0: the alert at intake).

- `WebhookNotifier` posts the alert as JSON to a paging or text-message gateway
  (`ASSISTGATE_PAGER_URL`); the gateway turns it into a page, a text or a call.
- `LoggingNotifier` writes it to the service's log (when no gateway is configured).
- `FakeNotifier` keeps every alert in memory, for tests.

An alert that cannot be delivered is logged, never raised: the escalation timer, not the pager,
is what guarantees that a request does not wait unseen, and it keeps going up the duty list.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from assistgate.auth.models import User
from assistgate.requests.models import Request
from assistgate.requests.snapshot import json_value
from assistgate.settings import Settings

log = logging.getLogger("assistgate.alerts")


class Notifier(Protocol):
    """Something that can alert a person or a contact about a request waiting for review."""

    def alert(self, user_or_contact: User | str, request: Request, level: int) -> None:
        """Alert one commander (a `User`) or one contact (text) about `request`."""


def recipient(user_or_contact: User | str) -> dict[str, str]:
    """Return who is alerted, as the pager gateway receives it."""
    if isinstance(user_or_contact, str):
        return {"contact": user_or_contact}
    return {
        "username": user_or_contact.username,
        "name": user_or_contact.display_name,
        "contact": user_or_contact.contact,
    }


def recipient_label(user_or_contact: User | str) -> str:
    """Return a short name for who is alerted: the username, or the contact."""
    if isinstance(user_or_contact, str):
        return user_or_contact
    return user_or_contact.username


def alert_body(user_or_contact: User | str, request: Request, level: int) -> dict[str, Any]:
    """Return the alert as JSON.

    Only what a commanding officer needs to find the request travels through the gateway
    (reference, agency, district, time): no names, no address, no caller's words, because a
    text-message gateway is outside the department's criminal-justice systems.
    """
    escalated = f" (escalated {level} time{'s' if level != 1 else ''})" if level else ""
    return {
        "to": recipient(user_or_contact),
        "level": level,
        "request": {
            "ref": request.ref,
            "agency": request.agency,
            "district": request.district,
            "received_at": json_value(request.received_at),
            "path": f"/requests/{request.ref}",
        },
        "message": f"Immigration agency request {request.ref} ({request.agency}) waits for a "
        f"commanding officer's review{escalated}. Claim it in assistgate.",
    }


@dataclass
class WebhookNotifier:
    """Post each alert as JSON to a paging or text-message gateway."""

    url: str
    timeout: float = 5.0

    def alert(self, user_or_contact: User | str, request: Request, level: int) -> None:
        body = json.dumps(alert_body(user_or_contact, request, level)).encode("utf-8")
        message = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "assistgate-pager"},
        )
        try:
            with urllib.request.urlopen(message, timeout=self.timeout) as response:
                response.read(1024)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.error(
                "the pager gateway did not take the alert for %s to %s (level %d): %s",
                request.ref,
                recipient_label(user_or_contact),
                level,
                exc,
            )


class LoggingNotifier:
    """Write each alert to the log (no gateway configured)."""

    def alert(self, user_or_contact: User | str, request: Request, level: int) -> None:
        log.warning(
            "ALERT %s: request %s (%s) waits for a commanding officer, level %d",
            recipient_label(user_or_contact),
            request.ref,
            request.agency,
            level,
        )


@dataclass(frozen=True)
class SentAlert:
    """One alert as the fake received it."""

    to: str
    ref: str
    level: int


class FakeNotifier:
    """Keep every alert in memory; tests read `sent` or wait for alerts to arrive."""

    def __init__(self) -> None:
        self.sent: list[SentAlert] = []
        self._changed = threading.Condition()

    def alert(self, user_or_contact: User | str, request: Request, level: int) -> None:
        with self._changed:
            self.sent.append(SentAlert(recipient_label(user_or_contact), request.ref, level))
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[SentAlert]:
        """Wait until at least `count` alerts were sent (or the timeout); return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.sent) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self.sent)


def notifier_from_settings(settings: Settings) -> Notifier:
    """Return the pager webhook when `ASSISTGATE_PAGER_URL` is set, else the logging notifier."""
    if settings.pager_url:
        return WebhookNotifier(settings.pager_url)
    return LoggingNotifier()
