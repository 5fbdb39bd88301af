"""Alert delivery: a JSON POST to a webhook (with retries) and e-mail over SMTP.

A channel that fails after its retries raises DeliveryError; the loop turns that into an
alert of its own (kind `delivery_failed`) and leaves the alerts undelivered, so the next
cycle tries them again. Nothing secret is put in a message: the SMTP login comes from
environment variables the config names.
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from govweibo.errors import GovweiboError
from govweibo.observe.alerts import Alert
from govweibo.observe.config import EmailConfig, WebhookConfig

Sleep = Callable[[float], None]


class DeliveryError(GovweiboError):
    """A channel could not take the alerts after its retries."""


def payload(alerts: list[Alert]) -> dict[str, object]:
    return {"source": "govweibo", "count": len(alerts), "alerts": [a.as_dict() for a in alerts]}


def post_webhook(cfg: WebhookConfig, alerts: list[Alert], *, sleep: Sleep = time.sleep) -> int:
    """POST the alerts as one JSON document; retried on network errors and 5xx/429 with
    back-off (1 s, 2 s, 4 s …). Returns the HTTP status."""
    body = json.dumps(payload(alerts), ensure_ascii=False).encode("utf-8")
    last = ""
    for attempt in range(cfg.retries + 1):
        req = urllib.request.Request(
            cfg.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "govweibo"},
        )
        try:
            with urllib.request.urlopen(req, timeout=cfg.timeout) as resp:  # noqa: S310
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                break  # the receiver refuses this request: retrying won't change that
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if attempt < cfg.retries:
            sleep(2.0**attempt)
    raise DeliveryError(f"webhook {cfg.url}: {last} after {attempt + 1} attempt(s)")


def email_message(cfg: EmailConfig, alerts: list[Alert]) -> EmailMessage:
    msg = EmailMessage()
    first = alerts[0].title if alerts else ""
    more = f" (+{len(alerts) - 1})" if len(alerts) > 1 else ""
    msg["Subject"] = f"[govweibo] {len(alerts)} new alert(s): {first[:80]}{more}"
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    lines = []
    for a in alerts:
        lines.append(f"#{a.alert_id} [{a.kind}] {a.title}")
        lines.append(f"    first seen {a.first_seen:%Y-%m-%d %H:%M} UTC, cycle {a.first_cycle}")
        lines.append("    " + json.dumps(a.evidence, ensure_ascii=False, sort_keys=True))
    msg.set_content("\n".join(lines) + "\n")
    return msg


def send_email(cfg: EmailConfig, alerts: list[Alert]) -> None:
    msg = email_message(cfg, alerts)
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
            if cfg.starttls:
                smtp.starttls()
            user = os.environ.get(cfg.username_env, "") if cfg.username_env else ""
            if user:
                smtp.login(user, os.environ.get(cfg.password_env, "") if cfg.password_env else "")
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"e-mail via {cfg.host}:{cfg.port}: {exc}") from None
