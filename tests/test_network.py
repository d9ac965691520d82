"""Retry-After comes as seconds or as an HTTP date; anything else must be recognised as unreadable."""

import email.utils

from sasscrawl.network import retry_after_seconds

NOW = 1_800_000_000.0


def test_delay_seconds():
    assert retry_after_seconds("120", NOW) == 120.0
    assert retry_after_seconds(" 0 ", NOW) == 0.0


def test_http_dates_count_from_now_and_never_backwards():
    assert retry_after_seconds(email.utils.formatdate(NOW + 30, usegmt=True), NOW) == 30.0
    assert retry_after_seconds(email.utils.formatdate(NOW - 30, usegmt=True), NOW) == 0.0


def test_anything_else_is_unreadable():
    for value in ("soon", "-5", "1.5", "", "Mon, 99 Foo 2026 99:99:99 GMT"):
        assert retry_after_seconds(value, NOW) is None, value
