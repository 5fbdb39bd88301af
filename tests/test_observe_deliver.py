from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from govweibo.observe.alerts import Alert
from govweibo.observe.config import EmailConfig, WebhookConfig
from govweibo.observe.deliver import DeliveryError, email_message, post_webhook, send_email

T = datetime(2026, 7, 18, tzinfo=UTC)
ALERT = Alert(7, "rumour", "weibo:1", "热点爆料哥: 紧急扩散", {"p": 0.9}, T, T, 4, 4, "open")


class Receiver:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.bodies = statuses, []
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                rec.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                status = rec.statuses.pop(0) if rec.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([])
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_webhook_retries_5xx_with_back_off(receiver: Receiver) -> None:
    receiver.statuses[:] = [503, 500]
    sleeps: list[float] = []
    status = post_webhook(WebhookConfig(url=receiver.url, retries=3), [ALERT], sleep=sleeps.append)
    assert status == 200 and sleeps == [1.0, 2.0] and len(receiver.bodies) == 3
    body = json.loads(receiver.bodies[-1])
    assert body["count"] == 1 and body["alerts"][0]["title"] == ALERT.title


def test_webhook_gives_up_and_does_not_retry_a_refusal(receiver: Receiver) -> None:
    receiver.statuses[:] = [500, 500, 500]
    with pytest.raises(DeliveryError, match="HTTP 500 after 3 attempt"):
        post_webhook(WebhookConfig(url=receiver.url, retries=2), [ALERT], sleep=lambda s: None)
    receiver.statuses[:] = [404]
    with pytest.raises(DeliveryError, match="HTTP 404 after 1 attempt"):
        post_webhook(WebhookConfig(url=receiver.url, retries=2), [ALERT], sleep=lambda s: None)


def test_email_message_and_an_unreachable_server() -> None:
    cfg = EmailConfig(host="127.0.0.1", port=1, to=["a@example.org", "b@example.org"], timeout=2)
    msg = email_message(cfg, [ALERT])
    assert msg["To"] == "a@example.org, b@example.org" and "1 new alert" in msg["Subject"]
    assert "#7 [rumour]" in msg.get_content()
    with pytest.raises(DeliveryError, match="e-mail via 127.0.0.1:1"):
        send_email(cfg, [ALERT])
