"""Alerts from real crawls to a real local SMTP server (aiosmtpd) and a local webhook receiver."""

from __future__ import annotations

import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from harness import free_port, run_crawl
from sasscrawl_replica import build_site
from test_monitors import ChangedLayout, body_moved_out_of_cdata_p

EMAIL = "sasscrawl.alerts.SendEmailAlert"


@pytest.fixture
def broken_site(serve):
    """Served, with every article body moved where the parser does not look: the field coverage monitor fails."""
    return serve(ChangedLayout(build_site(articles=3, seed=13, quirks=False), body_moved_out_of_cdata_p))


class _Mailbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


def email_settings(port: int) -> dict:
    return {"ALERT_ACTIONS": EMAIL, "SPIDERMON_SMTP_HOST": "127.0.0.1", "SPIDERMON_SMTP_PORT": str(port),
            "SPIDERMON_EMAIL_SENDER": "crawler@example.org", "SPIDERMON_EMAIL_TO": "team@example.org"}


def assert_names_the_run(text: str, result) -> None:
    assert socket.gethostname() in text
    assert f"DATA_DIR: {result.data_dir.resolve()}" in text
    assert result.summary["runId"] in text


def test_email_alert_is_multipart_with_a_readable_text_part(broken_site, smtp_server, tmp_path):
    controller, mailbox = smtp_server
    result = run_crawl(broken_site.start_url, tmp_path, settings=email_settings(controller.port))
    assert result.returncode == 1
    assert [envelope.rcpt_tos for envelope in mailbox.envelopes] == [["team@example.org"]]
    message = email.message_from_bytes(mailbox.envelopes[0].original_content, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert "broken (exit status 1)" in message["Subject"] and result.summary["runId"] in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Verdict: broken (exit status 1)" in text
    assert "Field coverage" in text and "Article/articleBody" in text
    assert f"Articles: new {result.summary['articles']['new']}," in text
    assert_names_the_run(text, result)
    html = message.get_body(("html",)).get_content()
    assert html.lstrip().startswith("<html") and result.summary["runId"] in html
    assert "SendEmailAlert... OK" in result.log
    assert result.summary["alerts"] == {"sent": 1, "failed": 0, "failures": []}


def test_a_down_smtp_server_is_a_failed_alert_not_a_failed_run(broken_site, tmp_path):
    port = free_port()  # nothing listens there
    result = run_crawl(broken_site.start_url, tmp_path, settings=email_settings(port))
    assert result.returncode == 1  # the monitor's verdict, not the alert's
    cause = f"SMTP server 127.0.0.1:{port}: Connection refused"
    failures = [line for line in result.log.splitlines() if "Alert not delivered" in line]
    assert len(failures) == 1 and failures[0].endswith(f"ERROR: Alert not delivered by SendEmailAlert: {cause}")
    assert "SendEmailAlert... ERROR" in result.log and "SendEmailAlert... OK" not in result.log
    assert "Traceback (most recent call last)" not in result.log
    assert result.stat("sasscrawl/alerts/failed") == 1
    assert result.summary["alerts"] == {"sent": 0, "failed": 1, "failures": [f"SendEmailAlert: {cause}"]}


@pytest.mark.parametrize("action, settings, missing", [
    (EMAIL, {"SPIDERMON_EMAIL_SENDER": "crawler@example.org", "SPIDERMON_EMAIL_TO": "team@example.org"},
     "SPIDERMON_SMTP_HOST"),
    ("spidermon.contrib.actions.email.smtp.SendSmtpEmail",  # Spidermon's own: it needs a login
     {"SPIDERMON_SMTP_HOST": "127.0.0.1", "SPIDERMON_EMAIL_TO": "team@example.org", "SPIDERMON_EMAIL_SUBJECT": "x"},
     "SPIDERMON_SMTP_USER"),
    ("sasscrawl.alerts.SendSlackAlert", {}, "ALERT_SLACK_WEBHOOK_URL"),
])
def test_an_alert_action_missing_a_setting_refuses_the_run(clean_site, serve, tmp_path, action, settings, missing):
    server = serve(clean_site)
    result = run_crawl(server.start_url, tmp_path, settings={"ALERT_ACTIONS": action, **settings})
    assert result.returncode == 2
    refusals = [line for line in result.log.splitlines() if "Not crawling:" in line]
    assert len(refusals) == 1 and refusals[0].endswith(
        f"Not crawling: ALERT_ACTIONS {action}: You must provide a value for {missing} setting.")
    assert "Traceback (most recent call last)" not in result.log
    assert server.requests == []
    assert not (tmp_path / "articles.jsonl").exists()


def test_an_alert_action_that_does_not_import_refuses_the_run(clean_site, serve, tmp_path):
    result = run_crawl(serve(clean_site).start_url, tmp_path, settings={"ALERT_ACTIONS": "sasscrawl.alerts.SendPigeon"})
    assert result.returncode == 2
    assert "Not crawling: ALERT_ACTIONS sasscrawl.alerts.SendPigeon cannot be loaded:" in result.log


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    server.received = []
    server.status = 204
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


WEBHOOKS = [("sasscrawl.alerts.SendDiscordAlert", "SPIDERMON_DISCORD_WEBHOOK_URL", "content"),
            ("sasscrawl.alerts.SendSlackAlert", "ALERT_SLACK_WEBHOOK_URL", "text")]


@pytest.mark.parametrize("action, url_setting, key", WEBHOOKS)
def test_webhook_alert_names_host_data_dir_and_run_id(broken_site, tmp_path, webhook, action, url_setting, key):
    result = run_crawl(broken_site.start_url, tmp_path, settings={
        "ALERT_ACTIONS": action, url_setting: f"http://127.0.0.1:{webhook.server_address[1]}/hook/secret"})
    assert result.returncode == 1
    assert len(webhook.received) == 1
    text = json.loads(webhook.received[0])[key]
    assert "broken (exit status 1)" in text and "Field coverage" in text
    assert_names_the_run(text, result)
    assert result.summary["alerts"]["sent"] == 1


@pytest.mark.parametrize("answer", ["500", "unreachable"])
def test_a_failing_webhook_is_counted_and_reported(broken_site, tmp_path, webhook, answer):
    webhook.status = 500
    port = webhook.server_address[1] if answer == "500" else free_port()
    result = run_crawl(broken_site.start_url, tmp_path, settings={
        "ALERT_ACTIONS": "sasscrawl.alerts.SendDiscordAlert",
        "SPIDERMON_DISCORD_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook/secret"})
    assert result.returncode == 1
    cause = f"webhook 127.0.0.1:{port}" + (" answered 500 Internal Server Error" if answer == "500"
                                            else ": Connection refused")
    failures = [line for line in result.log.splitlines() if "Alert not delivered" in line]
    assert len(failures) == 1 and failures[0].endswith(f"ERROR: Alert not delivered by SendDiscordAlert: {cause}")
    assert "secret" not in failures[0]  # a webhook URL's path is its credential
    assert "SendDiscordAlert... ERROR" in result.log and "Traceback (most recent call last)" not in result.log
    assert result.stat("sasscrawl/alerts/failed") == 1 and result.summary["alerts"]["failed"] == 1


def test_no_alert_when_the_monitors_pass(clean_site, serve, tmp_path, webhook):
    result = run_crawl(serve(clean_site).start_url, tmp_path, settings={
        "ALERT_ACTIONS": "sasscrawl.alerts.SendDiscordAlert",
        "SPIDERMON_DISCORD_WEBHOOK_URL": f"http://127.0.0.1:{webhook.server_address[1]}/hook"})
    assert result.returncode == 0
    assert webhook.received == []
    assert result.summary["alerts"] == {"sent": 0, "failed": 0, "failures": []}
