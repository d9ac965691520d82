"""The replica's fault mode must misbehave exactly as promised, or the fault suite proves nothing."""

from __future__ import annotations

import socket
import time
import zlib

import pytest

from sasscrawl_replica import FAULTS, HOSTILE_PAGES, NETWORK_FAULTS, ForeignSite, ReplicaServer, build_site
from sasscrawl_replica.faults import (BACKTRACKING_COMMENT, CRASH_URLS, FOREIGN_SECRET, GZIP_BOMB_BYTES,
                                      HOSTILE_IMAGE_MARKER, IDN_LOCALHOST, METADATA_PATH, NON_TEXT_ENCODING,
                                      SPOOF_SITE)

ALL_FAULTS = NETWORK_FAULTS | HOSTILE_PAGES
HOST = "127.0.0.1:8000"


@pytest.fixture(scope="module")
def site():
    return build_site(articles=12, seed=5, quirks=False, stall_seconds=1, faults=ALL_FAULTS)


def raw_get(server, path: str, read_limit: int | None = None) -> tuple[bytes, bytes, str]:
    """(head, body bytes received, how the connection ended: 'eof', 'reset' or 'stopped reading')."""
    with socket.create_connection((server.host, server.port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n\r\n".encode())
        received = b""
        ending = "eof"
        try:
            while chunk := connection.recv(65536):
                received += chunk
                if read_limit and len(received) > read_limit:
                    ending = "stopped reading"
                    break
                if b"\r\n\r\n" in received and _complete(received):
                    break
        except ConnectionResetError:
            ending = "reset"
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body, ending


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def declared_length(head: bytes) -> int:
    return next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))


def article(site, name: str) -> str:
    return f"/103002/{site.faults.article_ids[name]}.aspx"


def test_unknown_fault_names_are_refused_and_no_faults_changes_nothing():
    with pytest.raises(ValueError, match="unknown faults: no_such_fault"):
        build_site(faults={"no_such_fault"})
    plain, explicit = build_site(seed=3), build_site(seed=3, faults=())
    assert plain.faults is None and explicit.faults is None
    assert [spec.id for spec in plain.articles] == [spec.id for spec in explicit.articles]


def test_ground_truth_counts_only_articles_a_valid_copy_of_is_served(site):
    expected = site.expected_article_ids()
    assert site.faults.saved_ids <= expected
    assert site.faults.lost_ids.isdisjoint(expected)
    assert set(site.faults.article_ids) == {name for name in ALL_FAULTS if FAULTS[name].target == "article"}


def test_reset_and_short_body_cut_the_body_then_heal(site):
    with ReplicaServer(site) as server:
        for name, ending in (("reset_mid_body", "reset"), ("short_body", "eof")):
            for _ in range(FAULTS[name].failures):
                head, body, how = raw_get(server, article(site, name))
                assert how == ending and len(body) < declared_length(head), name
            head, body, how = raw_get(server, article(site, name))
            assert len(body) == declared_length(head) and body.endswith(b"</html>"), name


def test_trickle_is_slow_but_whole_and_stop_does_not_wait_for_it(site):
    with ReplicaServer(site) as server:
        started = time.monotonic()
        head, body, _ = raw_get(server, article(site, "trickle"))
        assert time.monotonic() - started >= 0.5 and len(body) == declared_length(head)
        with socket.create_connection((server.host, server.port), timeout=60) as reader:  # a guard against a hang
            reader.sendall(f"GET {article(site, 'trickle')} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            received = reader.recv(100)
            assert received  # the trickle has begun
            server.stop()
            while not _complete(received) and (chunk := reader.recv(65536)):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert len(body) < declared_length(head)  # cut where it was, not sent to its end: the stop did not wait


def test_oversized_pages_promise_or_stream_more_than_download_maxsize(site):
    with ReplicaServer(site) as server:
        head, _, how = raw_get(server, article(site, "oversized_page"), read_limit=1 << 20)
        assert declared_length(head) > 64 * 2**20 and how == "stopped reading"
        head, _, how = raw_get(server, article(site, "oversized_stream"), read_limit=1 << 20)
        assert b"Transfer-Encoding: chunked" in head and how == "stopped reading"


def test_the_gzip_bomb_is_real(site):
    response = site.response("GET", article(site, "gzip_bomb"), HOST)
    assert ("Content-Encoding", "gzip") in response.headers and len(response.body) < 2 * 2**20
    assert int.from_bytes(response.body[-4:], "little") == GZIP_BOMB_BYTES % 2**32
    inflater = zlib.decompressobj(31)
    assert inflater.decompress(response.body[:64 * 1024], 10 * 2**20) == bytes(10 * 2**20)


def test_redirect_faults_send_where_they_say(site):
    def location(path):
        return dict(site.response("GET", path, HOST).headers)["Location"]

    assert location(article(site, "redirect_loop") + "?loop=2") == article(site, "redirect_loop") + "?loop=1"
    assert location(article(site, "redirect_off_host")).startswith("http://localhost:8000/")
    assert location(article(site, "redirect_to_file")).startswith("file:///")
    assert site.response("GET", article(site, "redirect_chain") + "?hop=4", HOST).status == 200


def test_vanishing_articles_are_gone_once_listed():
    site = build_site(articles=12, seed=5, quirks=False, faults={"vanishing_410"})
    path = article(site, "vanishing_410")
    assert site.response("GET", path, HOST).status == 200
    listings = [site.response("GET", f"/103002/default.aspx?page={n}", HOST).body for n in (1, 2)]
    assert any(path.rsplit("/", 1)[1].encode() in listing for listing in listings)
    assert site.response("GET", path, HOST).status == 410


def test_hostile_images_differ_where_rfc_3986_says_urls_differ(site):
    def image(path):
        return site.response("GET", f"/upload/{HOSTILE_IMAGE_MARKER}/{path}", HOST).body

    assert image("a~b.jpeg") == image("a%7eb.jpeg")  # unreserved: one resource
    assert image("a;b.jpeg") != image("a%3Bb.jpeg")  # reserved: two


def test_off_site_faults_point_at_the_foreign_host_or_else_the_replicas_other_name():
    def article_body(site, name):
        return site.response("GET", article(site, name), HOST)

    for foreign_host, expected in (("127.0.0.1:9", "127.0.0.1:9"), (None, "localhost:8000")):
        site = build_site(articles=12, seed=5, quirks=False, foreign_host=foreign_host,
                          faults={"off_site_image", "off_site_image_list", "off_site_relative_path",
                                  "off_site_scheme_relative", "off_site_idn", "off_site_redirect"})
        assert f'src="http://{expected}{METADATA_PATH}body.jpeg"'.encode() in article_body(site, "off_site_image").body
        assert f"<li>http://{expected}{METADATA_PATH}".encode() in article_body(site, "off_site_image_list").body
        assert f'RelativePath="http://{expected}/'.encode() in article_body(site, "off_site_relative_path").body
        assert f'src="//{expected}/'.encode() in article_body(site, "off_site_scheme_relative").body
        port = expected.rpartition(":")[2]
        assert f"http://{IDN_LOCALHOST}:{port}/".encode() in article_body(site, "off_site_idn").body
        redirect = article_body(site, "off_site_redirect")
        assert redirect.status == 302 and dict(redirect.headers)["Location"].startswith(f"http://{expected}/latest/")
    answer = ForeignSite().response("GET", "/latest/meta-data/iam/x", "127.0.0.1:9")
    assert answer.status == 200 and answer.body.startswith(FOREIGN_SECRET)
def test_the_pages_that_hung_crashed_or_misdirected_the_parser_serve_what_they_say(site):
    def page(name):
        return site.response("GET", article(site, name), HOST).body.decode()

    assert BACKTRACKING_COMMENT in page("doctype_backtracking").split("]]>", 1)[1]
    crash = page("crash_urls")
    assert all(f'href="{url}"' in crash and f'src="{url}"' in crash and f"<li>{url}</li>" in crash
               for url in CRASH_URLS)
    assert crash.index('<a id="perv" href="http://[x]/">') < crash.index("<span>")
    assert f"href='{CRASH_URLS[0]}'?>" in crash
    declared = page("non_text_encoding")
    assert declared.startswith(f'<?xml version="1.0" encoding="{NON_TEXT_ENCODING}"?>') and "Tom & Jerry" in declared
    spoof = page("identity_spoof")
    assert f'<meta id="{site.faults.spoofed_id}"' in spoof and f'site="{SPOOF_SITE}"' in spoof
    assert site.faults.spoofed_id in site.expected_article_ids()
    assert site.faults.duplicate_id in site.expected_article_ids()
