"""Alert actions that arrive, say where they come from, and say so when they cannot be delivered.

Name them in ``ALERT_ACTIONS``; they run when a monitor fails (see :mod:`sasscrawl.monitors`).

* :class:`SendEmailAlert`: a multipart/alternative e-mail, a plain-text part a
  person reads in any client and Spidermon's HTML report. Spidermon's own
  SendSmtpEmail builds the same message and then hands it whole to Scrapy's
  (deprecated) MailSender as the body of another, so it arrives as text/plain raw
  MIME, sent later in the reactor, so a down server shows as OK. This one sends
  the message itself with :mod:`smtplib`, at once.
* :class:`SendDiscordAlert` and :class:`SendSlackAlert`: the same plain text
  POSTed to a Discord or a Slack incoming webhook (or a compatible one, such as
  Mattermost's), with the standard library.

Every alert names the host, ``DATA_DIR`` and the run id (the name of the run's
summary in ``DATA_DIR/runs/``). A delivery that fails (server down, refused,
timed out, an HTTP error status) is counted in ``sasscrawl/alerts/failed``, named
in ``sasscrawl/alerts/failures`` (the run summary's ``alerts``), logged as one
ERROR line with its cause, and is the action's ERROR in the Spidermon report. It
never changes the run's exit status. Delivery waits at most
``DELIVERY_TIMEOUT_SECONDS`` at the end of the run.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import traceback
import urllib.error
import urllib.request
from datetime import datetime, timezone
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from spidermon.contrib.actions import reports
from spidermon.contrib.actions.email import SendEmail
from spidermon.core.actions import Action
from spidermon.exceptions import NotConfigured
from spidermon.templates import template_loader

from sasscrawl.extensions.summary import RUN_ID, summarise

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 30

# Spidermon's HTML report (SendEmail's default HTML part) is found by its name in this folder.
template_loader.add_path(Path(reports.__file__).parent / "templates")


class DeliveryFailed(Exception):
    """The alert did not reach its server; the message is the cause, in one line."""


def run_facts(crawler) -> dict:
    """What every alert tells: where the run was, its id, its verdict and its counts (as the run summary has them)."""
    stats, settings = crawler.stats.get_stats(), crawler.settings
    summary = summarise(stats, stats.get("finish_reason", ""), settings.getfloat("FAILED_PAGES_MAX_SHARE"),
                        datetime.now(timezone.utc), settings.getfloat("STALE_AFTER_DAYS"),
                        getattr(crawler.spider, "chronic_pages", ()))
    status = summary["exitStatus"]
    return {
        **summary,
        "host": socket.gethostname(),
        "dataDir": str(Path(crawler.settings["DATA_DIR"]).resolve()),
        "runId": stats.get(RUN_ID, "(none)"),
        "verdict": summary["verdict"] if status == 0 else f"{summary['verdict']} (exit status {status})",
    }


def alert_subject(facts: dict) -> str:
    return f"sasscrawl on {facts['host']}: run {facts['runId']} {facts['verdict']}"


def alert_text(facts: dict) -> str:
    """The alert in plain text: the e-mail's text part and the webhook message."""
    articles, images = facts["articles"], facts["images"]
    lines = [
        alert_subject(facts),
        "",
        f"Host: {facts['host']}",
        f"DATA_DIR: {facts['dataDir']}",
        f"Run id: {facts['runId']} (summary: {Path(facts['dataDir']) / 'runs' / (facts['runId'] + '.json')})",
        f"Verdict: {facts['verdict']}",
        "",
        "Problems:",
        *(f"- {problem}" for problem in facts["problems"] or ["none"]),
        "",
        "Articles: " + ", ".join(f"{name} {count}" for name, count in articles.items()),
        f"Images: downloaded {images['downloaded']}, cached {images['cached']}, failed {images['failed']}",
        f"Requests: {facts['requests']} in {facts['durationSeconds']:.1f} s",
    ]
    return "\n".join(lines) + "\n"


class DeliveredAlert(Action):
    """An action whose failed delivery is counted, logged in one line and reported as ERROR, never as OK."""

    def run(self, result, data):
        # Spidermon's Action.run, but a failed delivery is the report's ERROR with its cause instead of a traceback.
        self.result, self.data = result, data
        stats = data.crawler.stats
        result.start_action(self)
        try:
            self.run_action()
        except DeliveryFailed as failure:
            self._count_failure(stats, str(failure))
            result.add_action_error(self, str(failure))
        except Exception as error:  # a fault of ours (a template, say): the report keeps the traceback to fix it by
            self._count_failure(stats, f"{type(error).__name__}: {error}")
            result.add_action_error(self, traceback.format_exc())
        else:
            stats.inc_value("sasscrawl/alerts/sent")
            result.add_action_success(self)
        data.meta.update(self.get_meta())

    def _count_failure(self, stats, cause: str) -> None:
        stats.inc_value("sasscrawl/alerts/failed")
        stats.set_value("sasscrawl/alerts/failures", [*stats.get_value("sasscrawl/alerts/failures", []),
                                                      f"{self.name}: {cause}"])
        logger.error("Alert not delivered by %s: %s", self.name, cause)

    @property
    def facts(self) -> dict:
        return run_facts(self.data.crawler)


class SendEmailAlert(DeliveredAlert, SendEmail):
    """The alert by e-mail over SMTP, with Spidermon's e-mail settings.

    ``SPIDERMON_SMTP_HOST``, ``SPIDERMON_EMAIL_SENDER`` and ``SPIDERMON_EMAIL_TO``
    are required; ``SPIDERMON_SMTP_PORT`` defaults to 25 (465 with
    ``SPIDERMON_SMTP_ENFORCE_SSL``); ``SPIDERMON_SMTP_ENFORCE_TLS`` asks for
    STARTTLS; ``SPIDERMON_SMTP_USER``/``SPIDERMON_SMTP_PASSWORD`` log in, and are
    optional so a local relay needs none. The subject (``SPIDERMON_EMAIL_SUBJECT``,
    a Jinja template) and the text part (``SPIDERMON_BODY_TEXT``) default to ours;
    the HTML part is Spidermon's report (``SPIDERMON_BODY_HTML_TEMPLATE``).
    """

    subject = "{{ subject }}"

    def __init__(self, smtp_host=None, smtp_port=None, smtp_user=None, smtp_password=None, smtp_enforce_tls=False,
                 smtp_enforce_ssl=False, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, setting in ((smtp_host, "SPIDERMON_SMTP_HOST"), (self.sender, "SPIDERMON_EMAIL_SENDER")):
            if not value:
                raise NotConfigured(f"You must provide a value for {setting} setting.")
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port or 0  # 0: smtplib's default for the connection, 25 or 465
        self.smtp_user = smtp_user
        self.smtp_password = smtp_password
        self.smtp_enforce_tls = smtp_enforce_tls
        self.smtp_enforce_ssl = smtp_enforce_ssl

    @classmethod
    def from_crawler_kwargs(cls, crawler):
        settings = crawler.settings
        return {
            **super().from_crawler_kwargs(crawler),
            "smtp_host": settings.get("SPIDERMON_SMTP_HOST"),
            "smtp_port": settings.getint("SPIDERMON_SMTP_PORT"),
            "smtp_user": settings.get("SPIDERMON_SMTP_USER"),
            "smtp_password": settings.get("SPIDERMON_SMTP_PASSWORD"),
            "smtp_enforce_tls": settings.getbool("SPIDERMON_SMTP_ENFORCE_TLS"),
            "smtp_enforce_ssl": settings.getbool("SPIDERMON_SMTP_ENFORCE_SSL"),
        }

    def get_template_context(self):
        facts = self.facts
        return {**super().get_template_context(), **facts, "subject": alert_subject(facts),
                "report_title": alert_subject(facts)}

    def get_body_text(self):
        if self.body_text or self.body_text_template:
            return super().get_body_text()
        return alert_text(self.facts)

    def send_message(self, message, **kwargs):
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=socket.gethostname())
        server = f"SMTP server {self.smtp_host}:{self.smtp_port or ('465' if self.smtp_enforce_ssl else '25')}"
        connection_class = smtplib.SMTP_SSL if self.smtp_enforce_ssl else smtplib.SMTP
        try:
            with connection_class(self.smtp_host, self.smtp_port, timeout=DELIVERY_TIMEOUT_SECONDS) as smtp:
                if self.smtp_enforce_tls:
                    smtp.starttls()
                if self.smtp_user:
                    smtp.login(self.smtp_user, self.smtp_password or "")
                smtp.send_message(message)  # to To, Cc and Bcc; the Bcc header is not sent
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"{server}: {describe_error(error)}") from error


class WebhookAlert(DeliveredAlert):
    """The alert's plain text POSTed as JSON, ``{payload_key: text}``, to the URL in ``url_setting``."""

    url_setting: str
    payload_key: str
    max_length: int

    def __init__(self, url=None):
        super().__init__()
        if not url:
            raise NotConfigured(f"You must provide a value for {self.url_setting} setting.")
        self.url = url

    @classmethod
    def from_crawler_kwargs(cls, crawler):
        return {"url": crawler.settings.get(cls.url_setting)}

    def run_action(self):
        text = alert_text(self.facts)
        if len(text) > self.max_length:
            text = text[: self.max_length - 2] + "…\n"
        request = urllib.request.Request(self.url, data=json.dumps({self.payload_key: text}).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, method="POST")
        where = "webhook " + urlsplit(self.url).netloc  # never the whole URL: its path is the secret
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"{where} answered {error.code} {error.reason}") from error
        except urllib.error.URLError as error:
            raise DeliveryFailed(f"{where}: {describe_error(error.reason)}") from error
        except OSError as error:
            raise DeliveryFailed(f"{where}: {describe_error(error)}") from error


class SendDiscordAlert(WebhookAlert):
    """A Discord webhook (``SPIDERMON_DISCORD_WEBHOOK_URL``, as for Spidermon's Discord actions)."""

    url_setting = "SPIDERMON_DISCORD_WEBHOOK_URL"
    payload_key = "content"
    max_length = 2000  # Discord refuses longer messages


class SendSlackAlert(WebhookAlert):
    """A Slack incoming webhook (``ALERT_SLACK_WEBHOOK_URL``), or one taking Slack's ``{"text": ...}``."""

    url_setting = "ALERT_SLACK_WEBHOOK_URL"
    payload_key = "text"
    max_length = 40000


def describe_error(error: BaseException | str) -> str:
    """One line for a network or SMTP failure: 'Connection refused', '550 mailbox unavailable', 'timed out'."""
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}".replace("\n", " ")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "every recipient refused: " + ", ".join(error.recipients)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error).replace("\n", " ") or type(error).__name__
