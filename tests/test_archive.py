"""WARC capture, the CDXJ index and offline re-extraction, against the replica over HTTP."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from scrapy.settings import Settings
from warcio.archiveiterator import ArchiveIterator

from harness import ARCHIVE_OPERATOR, PROJECT_ROOT, command_in_process, run_crawl
from sasscrawl.archive import write_index
from sasscrawl.commands.reextract import Command as ReextractCommand
from sasscrawl.middlewares import warcinfo
from sasscrawl.section import Section
from sasscrawl import archive, settings
from sasscrawl.pages.document import Document

STYLESHEET_FILES = ("/ui/templates/normal/view.xsl", "/ui/templates/normal/common.xsl",
                    "/ui/templates/normal/list.xsl", "/ui/css/site.css", "/ui/images/logo.png")


def index_urls(data_dir: Path) -> list[str]:
    lines = (data_dir / "warc" / "index.cdxj").read_text().splitlines()
    return [json.loads(line.split(" ", 2)[2])["url"] for line in lines]


def warc_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "warc").glob("*.warc.gz"))


def reextract(data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "reextract", "-s", f"DATA_DIR={data_dir}", *options],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def test_warcs_pass_warcio_check(archived_crawl):
    result = archived_crawl.result
    assert result.returncode == 0
    files = warc_files(result.data_dir)
    assert files
    check = subprocess.run([Path(sys.executable).parent / "warcio", "check", "-v", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "digest fail" not in check.stdout


def test_every_fetched_url_is_archived_and_indexed(archived_crawl):
    server, result, requests = archived_crawl.server, archived_crawl.result, archived_crawl.requests
    indexed = set(index_urls(result.data_dir))
    fetched = {server.origin + request.path for request in requests}
    assert fetched <= indexed, fetched - indexed
    assert server.origin + "/robots.txt" in indexed


def test_request_and_response_records_are_warc_1_1_with_digests(archived_crawl):
    result = archived_crawl.result
    types = {}
    with warc_files(result.data_dir)[0].open("rb") as stream:
        for record in ArchiveIterator(stream):
            types[record.rec_type] = types.get(record.rec_type, 0) + 1
            assert record.rec_headers.protocol == "WARC/1.1"
            if record.rec_type == "response":
                assert record.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
                assert record.rec_headers.get_header("WARC-Block-Digest")
    assert types["warcinfo"] == 1 and types["request"] == types["response"] > 0


def test_the_stylesheet_and_what_it_uses_are_archived_once(archived_crawl):
    server, result, requests = archived_crawl.server, archived_crawl.result, archived_crawl.requests
    indexed = index_urls(result.data_dir)
    for path in STYLESHEET_FILES:
        assert server.origin + path in indexed, path
        assert [r.path for r in requests].count(path) == 1


@pytest.fixture(scope="module")
def reextracted(archived_crawl, tmp_path_factory):
    """One ``scrapy reextract -o`` of the shared crawl, with a link planted where its temporary file would go, and what
    the replica served meanwhile: the test of its output and the test of the planted link read the one run."""
    folder = tmp_path_factory.mktemp("reextracted")
    output, outside = folder / "rebuilt.jsonl", folder / "someone-elses.txt"
    outside.write_bytes(b"not the crawler's")
    (folder / ".rebuilt.jsonl.tmp").symlink_to(outside)
    served_before = len(archived_crawl.server.requests)
    done = reextract(archived_crawl.result.data_dir, "-o", str(output))
    return SimpleNamespace(done=done, output=output, outside=outside,
                           served=archived_crawl.server.requests[served_before:])


def test_reextraction_offline_gives_the_live_records(archived_crawl, reextracted):
    """The replica still serves: re-extraction asks it for nothing."""
    result, done, output = archived_crawl.result, reextracted.done, reextracted.output
    assert done.returncode == 0, done.stderr[-2000:]
    assert reextracted.served == []
    rebuilt = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    live = result.records
    assert [r["articleId"] for r in rebuilt] == [r["articleId"] for r in live]
    assert rebuilt == live


def test_an_articles_date_downloaded_is_its_captures_warc_date(archived_crawl):
    """One capture time: the crawl once took the parse time, a second off the WARC-Date now and then."""
    result = archived_crawl.result
    captured = {capture.url: capture.date for capture in archive.iter_captures(result.data_dir / "warc")}
    for record in result.records:
        warc_date = datetime.fromisoformat(captured[record["url"]]).replace(microsecond=0)
        assert datetime.fromisoformat(record["dateDownloaded"]) == warc_date, record["url"]


def test_reextraction_output_is_never_written_through_a_planted_link(archived_crawl, reextracted):
    """-o once wrote to .<name>.tmp beside the output, following a link there to whatever it named."""
    result, done, output, outside = archived_crawl.result, reextracted.done, reextracted.output, reextracted.outside
    assert done.returncode == 0, done.stderr[-2000:]
    assert outside.read_bytes() == b"not the crawler's"
    assert not output.is_symlink() and len(output.read_text("utf-8").splitlines()) == len(result.records)


def test_reextraction_into_the_data_folder_replaces_the_dataset_atomically(archived_crawl, tmp_path):
    result = archived_crawl.result
    copy = tmp_path / "data"
    done = reextract(copy, "--warc-dir", str(result.data_dir / "warc"))
    assert done.returncode == 0, done.stderr[-2000:]
    rebuilt = [json.loads(line) for line in (copy / "articles.jsonl").read_text("utf-8").splitlines()]
    assert len(rebuilt) == len(result.records)


def test_too_large_response_is_recorded_truncated(archive_settings_crawl):
    result = archive_settings_crawl.result
    truncated = []
    for path in warc_files(result.data_dir):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_headers.get_header("WARC-Truncated"):
                    truncated.append(record.rec_headers.get_header("WARC-Truncated"))
                    assert len(record.content_stream().read()) <= 2000
    assert truncated and set(truncated) == {"length"}
    assert result.stat("sasscrawl/warc/truncated") == len(truncated)
    assert "truncated to WARC_MAX_RECORD_SIZE" in result.log


def test_cut_off_warc_is_skipped_past_and_never_appended_to(archived_crawl, tmp_path):
    """On a copy of the shared crawl; its rerun writes (the listings, robots.txt) into a file of its own."""
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    [first] = warc_files(data_dir)
    data = first.read_bytes()
    first.write_bytes(data[: len(data) - 700])  # a kill in the middle of the last record
    cut = first.read_bytes()

    done = command_in_process(ReextractCommand, data_dir, "-o", str(tmp_path / "rebuilt.jsonl"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Skipping the rest of damaged WARC file" in done.stderr
    assert len((tmp_path / "rebuilt.jsonl").read_text().splitlines()) >= len(archived_crawl.site.articles) - 1

    again = run_crawl(archived_crawl.server.start_url, data_dir, "archive=warc")
    assert again.returncode == 0
    assert len(warc_files(data_dir)) == 2 and first.read_bytes() == cut


def _record_offsets(path: Path) -> list[tuple[int, str, str | None]]:
    """(offset, type, target URI) of every record in a WARC file."""
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        return [(records.get_record_offset(), record.rec_type, record.rec_headers.get_header("WARC-Target-URI"))
                for record in records]


def _response_offsets(path: Path) -> dict[str, int]:
    return {url: offset for offset, kind, url in _record_offsets(path) if kind == "response"}


def test_a_record_cut_by_a_kill_is_left_out_of_the_index_and_fetched_again(archived_crawl, tmp_path):
    """A kill or power cut in the middle of an article's response: the next run says where, leaves the cut
    record out of index.cdxj (a replay tool would serve its promised length and stall) and archives it again.
    On a copy of the shared crawl."""
    site, server = archived_crawl.site, archived_crawl.server
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    [first] = warc_files(data_dir)
    article_url = server.url(f"/103002/{site.articles[-1].id}.aspx")
    offset = _response_offsets(first)[article_url]
    data = first.read_bytes()
    first.write_bytes(data[: offset + 600])  # inside the response's payload: cdxj_indexer still reads it
    requested_before = len(server.requests)

    again = run_crawl(server.start_url, data_dir, "archive=warc")

    assert again.returncode == 0, again.log[-3000:]
    assert f"WARC file {first.name} is cut at offset {offset} ({article_url})" in again.log
    assert again.stat("sasscrawl/warc/cut_records") == 1
    refetched = [r.path for r in server.requests[requested_before:]]
    assert refetched.count(urlsplit(article_url).path) == 1
    index = [json.loads(line.split(" ", 2)[2]) for line in (data_dir / "warc" / "index.cdxj").read_text().splitlines()]
    assert not [e for e in index if e["filename"] == first.name and int(e["offset"]) >= offset]
    assert [e for e in index if e["url"] == article_url and e["filename"] != first.name and e["status"] == "200"]

    third = run_crawl(server.start_url, data_dir, "archive=warc")  # reported once, not on every run
    assert "is cut at offset" not in third.log


@pytest.mark.parametrize("damage", ["garbage", "folder"])
def test_a_damaged_index_costs_the_revisits_and_no_page(archived_crawl, tmp_path, damage):
    """index.cdxj is read when an archiving run starts: garbage in it (bad bytes, a cut line) is skipped as replay
    tools skip it; a folder in its place is named once, and the run archives whole records. No page is lost."""
    result = archived_crawl.result
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    index = data_dir / "warc" / "index.cdxj"
    if damage == "garbage":
        index.write_bytes(b"\xff\xfe not an index \x00\n" + index.read_bytes()[:-40])
    else:
        index.unlink()
        index.mkdir()
    again = run_crawl(archived_crawl.server.start_url, data_dir, "archive=warc", "refresh=all")
    assert again.stat("sasscrawl/articles/unchanged") == len(result.records), again.log[-3000:]
    assert again.stat("sasscrawl/pages/failed") == 0
    assert "Traceback (most recent call last)" not in again.log
    if damage == "garbage":
        assert again.returncode == 0 and again.stat("sasscrawl/warc/revisits") > 0
    else:
        assert "The archive's index" in again.log and "cannot be read" in again.log
        assert again.stat("sasscrawl/warc/revisits") == 0


def test_the_index_never_lists_a_cut_record_wherever_the_cut_falls(archived_crawl, tmp_path):
    """Cuts at every 40 bytes through the last response: the index keeps the records before it, never the cut one,
    and a cut where cdxj_indexer itself fails (inside the WARC headers) does not stop the index being written."""
    result = archived_crawl.result
    [source] = warc_files(result.data_dir)
    records = _record_offsets(source)
    responses = [index for index, (_, kind, _) in enumerate(records) if kind == "response"]
    start, end, earlier = records[responses[-1]][0], records[responses[-1] + 1][0], records[responses[-2]][0]
    data = source.read_bytes()
    folder = tmp_path / "warc"
    folder.mkdir()
    copy = folder / source.name
    for cut in range(start + 1, end, 40):
        copy.write_bytes(data[:cut])
        write_index(tmp_path)
        listed = {int(json.loads(line.split(" ", 2)[2])["offset"])
                  for line in (folder / "index.cdxj").read_text().splitlines()}
        assert start not in listed and earlier in listed, cut


def test_reextraction_skips_a_capture_the_parser_fails_on_and_goes_on(archived_crawl, monkeypatch, caplog):
    """One capture that breaks the parser costs that capture, with a warning, not the rebuild."""
    site, result = archived_crawl.site, archived_crawl.result
    broken_id = site.articles[3].id

    class DocumentBrokenOnOne(Document):
        def __init__(self, body, url):
            if url.endswith(f"/{broken_id}.aspx"):
                raise RuntimeError("boom")
            super().__init__(body, url)

    monkeypatch.setattr("sasscrawl.archive.Document", DocumentBrokenOnOne)
    with caplog.at_level(logging.WARNING):
        ids = [record["articleId"] for record in archive.reextract(result.data_dir / "warc")]
    assert sorted(ids) == sorted(spec.id for spec in site.articles if spec.id != broken_id)
    assert any(f"/{broken_id}.aspx could not be read, skipped: RuntimeError: boom" in record.getMessage()
               for record in caplog.records if record.levelno == logging.WARNING)


# --- revisits: archived_twice (conftest) --------------------------------------------------------------

def _records(paths: list[Path]) -> list:
    """Every record of the files as (type, WARC headers, HTTP headers), in order."""
    found = []
    for path in paths:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                found.append((record.rec_type, record.rec_headers, record.http_headers))
    return found


def test_a_rerun_of_the_unchanged_site_writes_a_revisit_for_every_payload(archived_twice):
    first, second = archived_twice.first, archived_twice.second
    assert first.returncode == 0 and second.returncode == 0, second.log[-2000:]
    responses = {(headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Payload-Digest")):
                 headers.get_header("WARC-Date")
                 for kind, headers, _ in _records(archived_twice.first_warcs) if kind == "response"}
    rerun = _records(archived_twice.second_warcs)
    revisits = [(headers, http) for kind, headers, http in rerun if kind == "revisit"]
    assert [kind for kind, _, _ in rerun if kind not in ("warcinfo", "request")] == ["revisit"] * len(revisits)
    assert len(revisits) == second.stat("downloader/response_count") == second.stat("sasscrawl/warc/revisits") > 60
    for headers, http in revisits:
        url = headers.get_header("WARC-Target-URI")
        assert headers.protocol == "WARC/1.1"
        assert headers.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
        assert headers.get_header("WARC-Refers-To-Target-URI") == url
        assert headers.get_header("WARC-Refers-To-Date") == responses[(url, headers.get_header("WARC-Payload-Digest"))]
        assert http.get_statuscode() == "200" and http.get_header("Content-Type")  # the headers kept


def test_a_rerun_of_revisits_grows_the_archive_by_under_a_fifth(archived_twice):
    first_size = sum(path.stat().st_size for path in archived_twice.first_warcs)
    growth = sum(path.stat().st_size for path in archived_twice.second_warcs)
    assert growth < 0.2 * first_size, f"{growth} bytes after a first run of {first_size}"


def test_the_index_lists_the_revisits(archived_twice):
    lines = [json.loads(line.split(" ", 2)[2]) for line in (archived_twice.warc_dir / "index.cdxj").read_text().splitlines()]
    revisits = [line for line in lines if line["mime"] == "warc/revisit"]
    assert len(revisits) == archived_twice.second.stat("sasscrawl/warc/revisits")
    assert {line["filename"] for line in revisits} == {path.name for path in archived_twice.second_warcs}


def test_a_revisits_capture_reads_its_originals_payload(archived_twice):
    captures = list(archive.iter_captures(archived_twice.warc_dir))
    revisits = [capture for capture in captures if capture.original is not None]
    assert len(revisits) == archived_twice.second.stat("sasscrawl/warc/revisits")
    for capture in revisits:
        assert capture.path in archived_twice.second_warcs and capture.original.path in archived_twice.first_warcs
        assert capture.original.url == capture.url and capture.original.date < capture.date
        assert archive.read_payload(capture) == archive.read_payload(capture.original) != b""


def test_reextraction_after_a_rerun_of_revisits_gives_the_saved_records(archived_twice, tmp_path):
    """The unchanged records the crawl kept are dated by their first capture; so are the ones rebuilt from revisits."""
    output = tmp_path / "rebuilt.jsonl"
    done = command_in_process(ReextractCommand, archived_twice.first.data_dir, "-o", str(output))
    assert done.returncode == 0, done.stderr[-2000:]
    rebuilt = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    assert len(rebuilt) == 60 and rebuilt == archived_twice.second.records


def _warcinfo(path: Path) -> dict[str, str]:
    with path.open("rb") as stream:
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "warcinfo"
        return dict(line.split(": ", 1) for line in record.content_stream().read().decode().splitlines())


def test_warcinfo_names_the_software_user_agent_robots_policy_operator_and_collection(archive_settings_crawl):
    server, result = archive_settings_crawl.server, archive_settings_crawl.result
    fields = _warcinfo(warc_files(result.data_dir)[0])
    assert fields["software"].startswith("sasscrawl/") and "Scrapy " in fields["software"]
    assert fields["http-header-user-agent"] == settings.USER_AGENT
    assert fields["robots"] == "obey"
    assert fields["operator"] == ARCHIVE_OPERATOR
    assert fields["isPartOf"] == f"Section 103002 of {urlsplit(server.origin).netloc} ({server.origin}/103002/)"
    assert fields["format"] == "WARC File Format 1.1"
    assert fields["conformsTo"] == "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"


def test_warcinfo_names_by_default_the_section_crawled_whatever_the_spider():
    spider = SimpleNamespace(name="commentary", section=Section.from_start_url("http://en.sass.cn/103005/default.aspx"))
    fields = warcinfo(Settings({"WARC_IS_PART_OF": ""}), spider)
    assert fields["isPartOf"] == "Section 103005 of en.sass.cn (http://en.sass.cn/103005/)"
    fields = warcinfo(Settings({"WARC_IS_PART_OF": "SASS web archive"}), spider)
    assert fields["isPartOf"] == "SASS web archive"


def test_warcinfo_leaves_out_an_operator_not_set(archived_twice):
    assert "operator" not in _warcinfo(archived_twice.first_warcs[0])


def _write(warcs: archive.WarcArchive, url: str, body: bytes) -> bool:
    return warcs.write_exchange(url=url, method="GET", request_headers=[("Host", "h.test")], request_body=b"",
                                protocol="HTTP/1.1", status=200, response_headers=[("Content-Type", "text/xml")],
                                body=body, ip_address=None, moment=datetime.now(timezone.utc))


def test_a_revisit_means_unchanged_since_the_urls_newest_response(tmp_path):
    """Across runs (through index.cdxj) and within one: a page that changed and changed back is written whole."""
    url, other = "http://h.test/103002/1.aspx", "http://h.test/103002/2.aspx"
    first = archive.WarcArchive(tmp_path, max_file_size=1 << 30, max_record_size=100, info={})
    assert not _write(first, url, b"A") and not _write(first, other, b"A")
    first.close()
    second = archive.WarcArchive(tmp_path, max_file_size=1 << 30, max_record_size=100, info={})
    second.prefix += "-next"  # a run's files are named by its start second and pid: these two share both
    assert _write(second, url, b"A")  # unchanged since the first run
    assert not _write(second, url, b"B") and _write(second, url, b"B")
    assert not _write(second, url, b"A")  # back to A: not "unchanged since" A's record
    assert not _write(second, other, b"x" * 101) and not _write(second, other, b"x" * 101)  # truncated: never
    second.close()
    kinds = [(capture.url, capture.original is not None) for capture in archive.iter_captures(tmp_path / "warc")]
    assert kinds == [(url, False), (other, False), (url, True), (url, False), (url, True), (url, False),
                     (other, False), (other, False)]


def test_intact_length_follows_a_file_that_grows_or_is_cut(tmp_path):
    """The length is kept per file while its size and time stay; a file appended to, or cut, is read again."""
    path = tmp_path / "x.warc.gz"
    member = gzip.compress(b"WARC/1.1\r\n\r\n")
    path.write_bytes(member)
    assert archive.intact_length(path) == len(member)
    path.write_bytes(member * 2)
    assert archive.intact_length(path) == 2 * len(member)
    path.write_bytes(member * 2 + member[:5])
    assert archive.intact_length(path) == 2 * len(member)
    path.write_bytes(member[:-1])
    assert archive.intact_length(path) == 0
