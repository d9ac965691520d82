"""Alerts from real crawls to a real local SMTP server (aiosmtpd) and local webhook receivers.

Two crawls of a broken site (module fixtures) with every kind of alert at once: one whose
receivers all take the alert (``delivered``), one whose receivers all fail it (``undelivered``).
An alert setting the run cannot work with refuses one real crawl; the other such settings are checked
in this process, on the monitor suite the crawl builds.
"""

from __future__ import annotations

import email
import json
import logging
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from scrapy.exceptions import CloseSpider
from scrapy.utils.test import get_crawler

from harness import PROJECT_SETTINGS, CrawlResult, free_port, opened_in_process, run_crawl
from sasscrawl.health import run_exit_status
from sasscrawl.monitors import SpiderCloseMonitorSuite
from sasscrawl.spiders.commentary import CommentarySpider
from sasscrawl_replica import ReplicaServer, build_site
from test_monitors import ChangedLayout, body_moved_out_of_cdata_p

EMAIL = "sasscrawl.alerts.SendEmailAlert"
DISCORD = "sasscrawl.alerts.SendDiscordAlert"
SLACK = "sasscrawl.alerts.SendSlackAlert"
WEBHOOKS = [(DISCORD, "SPIDERMON_DISCORD_WEBHOOK_URL", "content"), (SLACK, "ALERT_SLACK_WEBHOOK_URL", "text")]
"""Webhook action → the setting naming its URL, the key of the JSON it posts."""


def broken_site():
    """Every article body moved where the parser does not look: the field coverage monitor fails."""
    return ChangedLayout(build_site(articles=3, seed=13, quirks=False), body_moved_out_of_cdata_p)


class _Mailbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@contextmanager
def smtp_server():
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


def email_settings(port: int) -> dict:
    return {"SPIDERMON_SMTP_HOST": "127.0.0.1", "SPIDERMON_SMTP_PORT": str(port),
            "SPIDERMON_EMAIL_SENDER": "crawler@example.org", "SPIDERMON_EMAIL_TO": "team@example.org"}


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def webhook(status: int = 204):
    """A webhook receiver on 127.0.0.1 answering ``status``; what it was posted is in ``received``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    server.received = []
    server.status = status
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def hook_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/hook/secret"  # the path of a webhook URL is its credential


@dataclass
class Alerted:
    result: CrawlResult
    mailbox: _Mailbox | None
    webhooks: dict  # action → its receiver, when one listens
    causes: dict  # action → why its delivery failed (the undelivered crawl)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    """The broken site crawled with an e-mail, a Discord and a Slack alert, each to a receiver that takes it."""
    with (ReplicaServer(broken_site()) as site, smtp_server() as (controller, mailbox),
          webhook() as discord, webhook() as slack):
        settings = {"ALERT_ACTIONS": ",".join((EMAIL, DISCORD, SLACK)), **email_settings(controller.port),
                    "SPIDERMON_DISCORD_WEBHOOK_URL": hook_url(discord.server_address[1]),
                    "ALERT_SLACK_WEBHOOK_URL": hook_url(slack.server_address[1])}
        result = run_crawl(site.start_url, tmp_path_factory.mktemp("delivered"), settings=settings)
    return Alerted(result, mailbox, {DISCORD: discord, SLACK: slack}, {})


@pytest.fixture(scope="module")
def undelivered(tmp_path_factory):
    """The broken site crawled with the same alerts to an SMTP server that is down, a Discord webhook that answers
    500 and a Slack webhook that nothing listens at."""
    smtp_port, slack_port = free_port(), free_port()
    with ReplicaServer(broken_site()) as site, webhook(status=500) as discord:
        discord_port = discord.server_address[1]
        settings = {"ALERT_ACTIONS": ",".join((EMAIL, DISCORD, SLACK)), **email_settings(smtp_port),
                    "SPIDERMON_DISCORD_WEBHOOK_URL": hook_url(discord_port),
                    "ALERT_SLACK_WEBHOOK_URL": hook_url(slack_port)}
        result = run_crawl(site.start_url, tmp_path_factory.mktemp("undelivered"), settings=settings)
    causes = {EMAIL: f"SMTP server 127.0.0.1:{smtp_port}: Connection refused",
              DISCORD: f"webhook 127.0.0.1:{discord_port} answered 500 Internal Server Error",
              SLACK: f"webhook 127.0.0.1:{slack_port}: Connection refused"}
    return Alerted(result, None, {DISCORD: discord}, causes)


def assert_names_the_run(text: str, result) -> None:
    assert socket.gethostname() in text
    assert f"DATA_DIR: {result.data_dir.resolve()}" in text
    assert result.summary["runId"] in text


def short_name(action: str) -> str:
    return action.rsplit(".", 1)[1]


def test_every_alert_is_sent_once_when_a_monitor_fails(delivered):
    result = delivered.result
    assert result.returncode == 1
    assert result.summary["alerts"] == {"sent": 3, "failed": 0, "failures": []}
    for action in (EMAIL, DISCORD, SLACK):
        assert f"{short_name(action)}... OK" in result.log


def test_email_alert_is_multipart_with_a_readable_text_part(delivered):
    result, mailbox = delivered.result, delivered.mailbox
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


@pytest.mark.parametrize("action, url_setting, key", WEBHOOKS)
def test_webhook_alert_names_host_data_dir_and_run_id(delivered, action, url_setting, key):
    received = delivered.webhooks[action].received
    assert len(received) == 1
    text = json.loads(received[0])[key]
    assert "broken (exit status 1)" in text and "Field coverage" in text
    assert_names_the_run(text, delivered.result)


def test_failed_alerts_are_counted_and_summarised_and_do_not_fail_the_run(undelivered):
    result = undelivered.result
    assert result.returncode == 1  # the monitor's verdict, not the alerts'
    assert "Traceback (most recent call last)" not in result.log
    assert result.stat("sasscrawl/alerts/failed") == 3
    assert result.summary["alerts"] == {"sent": 0, "failed": 3, "failures": [
        f"{short_name(action)}: {cause}" for action, cause in undelivered.causes.items()]}


@pytest.mark.parametrize("action", [EMAIL, DISCORD, SLACK], ids=["smtp down", "webhook 500", "webhook unreachable"])
def test_an_alert_that_cannot_be_delivered_is_one_error_line_with_its_cause(undelivered, action):
    result, name = undelivered.result, short_name(action)
    failures = [line for line in result.log.splitlines() if f"Alert not delivered by {name}:" in line]
    assert len(failures) == 1 and failures[0].endswith(
        f"ERROR: Alert not delivered by {name}: {undelivered.causes[action]}")
    assert "secret" not in failures[0]  # a webhook URL's path is its credential
    assert f"{name}... ERROR" in result.log and f"{name}... OK" not in result.log


MISSING_SETTINGS = [
    (EMAIL, {"SPIDERMON_EMAIL_SENDER": "crawler@example.org", "SPIDERMON_EMAIL_TO": "team@example.org"},
     "SPIDERMON_SMTP_HOST"),
    ("spidermon.contrib.actions.email.smtp.SendSmtpEmail",  # Spidermon's own: it needs a login
     {"SPIDERMON_SMTP_HOST": "127.0.0.1", "SPIDERMON_EMAIL_TO": "team@example.org", "SPIDERMON_EMAIL_SUBJECT": "x"},
     "SPIDERMON_SMTP_USER"),
    (SLACK, {}, "ALERT_SLACK_WEBHOOK_URL"),
]
"""An alert action → settings that leave out one it needs → the one it names."""


def refused_in_process(settings: dict, caplog) -> tuple[int, list[str]]:
    """What the crawl's monitor suite decides when the spider opens, in this process: the exit status its stats give
    and its ERROR lines. ``test_an_alert_action_missing_a_setting_refuses_the_run`` runs the same path as a real
    command: one such refusal is the process's exit status 2, its one line and nothing fetched."""
    crawler = get_crawler(CommentarySpider, {**PROJECT_SETTINGS, **settings,
                                             "EXTENSIONS_BASE": {}, "EXTENSIONS": {}})  # theirs need a reactor
    spider = CommentarySpider.from_crawler(crawler)
    SpiderCloseMonitorSuite(crawler=crawler)  # connects its refusal to spider_opened, as in a crawl
    assert [type(refusal) for refusal in opened_in_process(crawler, spider, caplog)] == [CloseSpider]
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    return run_exit_status(crawler.stats.get_stats(), crawler.settings), errors


def test_an_alert_action_missing_a_setting_refuses_the_run(clean_site, serve, tmp_path):
    action, settings, missing = MISSING_SETTINGS[0]
    server = serve(clean_site)
    result = run_crawl(server.start_url, tmp_path, settings={"ALERT_ACTIONS": action, **settings})
    assert result.returncode == 2
    refusals = [line for line in result.log.splitlines() if "Not crawling:" in line]
    assert len(refusals) == 1 and refusals[0].endswith(
        f"Not crawling: ALERT_ACTIONS {action}: You must provide a value for {missing} setting.")
    assert "Traceback (most recent call last)" not in result.log
    assert server.requests == []
    assert not (tmp_path / "articles.jsonl").exists()


@pytest.mark.parametrize("action, settings, missing", MISSING_SETTINGS)
@pytest.mark.filterwarnings("ignore:The scrapy.mail module is deprecated")  # Spidermon's e-mail action imports it
def test_each_alert_action_missing_a_setting_names_it_and_refuses_the_run(caplog, action, settings, missing):
    status, errors = refused_in_process({"ALERT_ACTIONS": action, **settings}, caplog)
    assert status == 2
    assert errors == [f"Not crawling: ALERT_ACTIONS {action}: You must provide a value for {missing} setting."]


def test_an_alert_action_that_does_not_import_refuses_the_run(caplog):
    status, errors = refused_in_process({"ALERT_ACTIONS": "sasscrawl.alerts.SendPigeon"}, caplog)
    assert status == 2
    assert len(errors) == 1
    assert errors[0].startswith("Not crawling: ALERT_ACTIONS sasscrawl.alerts.SendPigeon cannot be loaded:")


def test_no_alert_when_the_monitors_pass(clean_site, serve, tmp_path):
    with webhook() as discord:
        result = run_crawl(serve(clean_site).start_url, tmp_path, settings={
            "ALERT_ACTIONS": DISCORD, "SPIDERMON_DISCORD_WEBHOOK_URL": hook_url(discord.server_address[1])})
    assert result.returncode == 0
    assert discord.received == []
    assert result.summary["alerts"] == {"sent": 0, "failed": 0, "failures": []}
