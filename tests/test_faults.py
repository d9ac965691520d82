"""The fault and attack suite: the real crawl against a replica that fails and attacks at once.

One siege (module fixture): the quirky replica with every network fault and hostile page of
``sasscrawl_replica.faults`` switched on, served over real HTTP on 127.0.0.1 and crawled in a
sandbox (see ``sandbox``), then crawled once more on the same data folder. Each test checks one
promise on that evidence and records what it tried in the session's tally, which is printed at
the end of the run (see ``fault_tally``).
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

import lxml.html
import pytest

from sandbox import Sandbox, SandboxedCrawl
from sasscrawl.mirror import image_key, mirror_path
from sasscrawl.pipelines.images import MirrorStore
from sasscrawl_replica import FAULTS, HOSTILE_PAGES, NETWORK_FAULTS, ReplicaServer, RequestRecord, build_site
from sasscrawl_replica.faults import AUTHORS_OVERRIDES, ESCAPING_IMAGE_PATHS, HOSTILE_IMAGE_MARKER, PWNED, SPOOF_SITE
from sasscrawl.store import ArticleStore

SIEGE_SETTINGS = {
    "DOWNLOAD_TIMEOUT": "2",  # the stalls outlast it
    "RETRY_TIMES": "2",  # the transient faults fail twice at most
    "RETRY_AFTER_MAX": "2",  # the 86400 s Retry-After must be cut to this
}
STALL_SECONDS = 3
CANARY = b"SASSCRAWL-CANARY-5e0c1d"
MAX_RSS_BYTES = 768 * 2**20
"""The gzip bomb inflates to 1 GiB: held whole, it alone passes this. Below it, the oversized bodies (each
buffered up to DOWNLOAD_MAXSIZE, 64 MiB, before Scrapy refuses it) and the 20 MB page overlap more or less
as the machine is loaded: 220 to 460 MiB seen on two cores."""
SECTION = "103002"


@dataclass
class Run:
    """One crawl of the siege, with what the data folder held right after it."""

    crawl: SandboxedCrawl
    requests: list[RequestRecord]
    records: list[dict]
    summary: dict


@dataclass
class Siege:
    site: object
    sandbox: Sandbox
    first: Run
    rerun: Run
    origin_host: str

    @property
    def plan(self):
        return self.site.faults

    @cached_property
    def records(self) -> dict[int, dict]:
        return {record["articleId"]: record for record in self.first.records}

    @cached_property
    def paths(self) -> list[str]:
        return [request.path for request in self.first.requests]

    def times(self, path: str) -> list[float]:
        return [request.time for request in self.first.requests if request.path == path]


@pytest.fixture(scope="module")
def siege(tmp_path_factory, fault_tally):
    canary = tmp_path_factory.mktemp("canary") / "secret.txt"
    canary.write_bytes(CANARY)
    # Enough ordinary articles that the odd ones (several without a byline) stay within the monitors' coverage rules.
    site = build_site(articles=60, seed=9, stall_seconds=STALL_SECONDS, xxe_canary_path=str(canary),
                      faults=NETWORK_FAULTS | HOSTILE_PAGES)
    sandbox = Sandbox(tmp_path_factory.mktemp("siege") / "sandbox")
    runs = []
    with ReplicaServer(site) as server:
        for _ in ("first", "rerun"):
            server.clear_log()
            crawl = sandbox.crawl(server.start_url, settings=SIEGE_SETTINGS)
            fault_tally.crawl(crawl.seconds, crawl.max_rss_bytes, crawl.hung)
            assert not crawl.hung, f"the crawl hung: killed after its timeout\n{crawl.log[-3000:]}"
            runs.append(Run(crawl, server.requests, crawl.records, crawl.summary))
    return Siege(site, sandbox, *runs, origin_host=f"{server.host}:{server.port}")


def article_path(article_id: int) -> str:
    return f"/{SECTION}/{article_id}.aspx"


def saved_problem(siege: Siege, name: str) -> str | None:
    """Why the article carrying fault ``name`` is not saved with the headline its page shows; None if it is."""
    article_id = siege.plan.article_ids[name]
    record = siege.records.get(article_id)
    if record is None:
        return "not saved"
    expected = siege.plan.expected_headline(name, siege.site.article(article_id).headline)
    if record["headline"] != expected:
        return f"headline {record['headline']!r}, expected {expected!r}"
    return None


def article_url(siege: Siege, article_id: int) -> str:
    return f"http://{siege.origin_host}{article_path(article_id)}"


def identity_overwritten(siege: Siege, page_id: int, claimed_id: int) -> bool:
    """Whether the page at ``page_id``'s URL, which claims to be article ``claimed_id``, overwrote an identity:
    it is not saved as its URL's article, or ``claimed_id``'s record is not that article's own."""
    page, claimed = siege.records.get(page_id), siege.records.get(claimed_id)
    return (page is None or page["url"] != article_url(siege, page_id) or claimed is None
            or claimed["url"] != article_url(siege, claimed_id)
            or claimed["headline"] != siege.site.article(claimed_id).headline)


def record_outcomes(fault_tally, problems: dict[str, str | None]) -> dict[str, str]:
    for name, problem in problems.items():
        fault_tally.fault(name, problem is None)
    return {name: problem for name, problem in problems.items() if problem}


# --- the dataset ---------------------------------------------------------------------------


def test_every_article_a_valid_copy_of_arrived_is_saved_once(siege, fault_tally):
    ids = [record["articleId"] for record in siege.first.records]
    expected = siege.site.expected_article_ids()
    fault_tally.dataset(expected, ids)
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    assert siege.plan.saved_ids <= expected and not siege.plan.lost_ids & expected


# --- network faults ----------------------------------------------------------------------------

TRANSIENT = [name for name, fault in FAULTS.items() if fault.failures and name != "flaky_image"]
ODD_BUT_VALID = ["trickle", "gzip", "wrong_content_type", "wrong_charset", "utf16_page"]
LOSS_REPORTS = {
    "http_503_forever": ("after retries: HTTP 503", "sasscrawl/pages/failed/HTTP_503"),
    "gzip_bomb": ("exceeded DOWNLOAD_MAXSIZE", "sasscrawl/pages/failed/IgnoreRequest"),
    "redirect_loop": ("Redirect loop:", "sasscrawl/redirect_loops"),
    "redirect_endless": ("max redirections reached", "sasscrawl/pages/failed/IgnoreRequest"),
    "redirect_off_host": ("refused as off-site", "sasscrawl/requests/off_site"),
    "off_site_redirect": ("refused as off-site", "sasscrawl/requests/off_site"),
    "redirect_to_file": ("after retries: HTTP 302", "sasscrawl/pages/failed/HTTP_302"),
    "vanishing_404": ("Gone (404)", "sasscrawl/pages/gone/404"),
    "vanishing_410": ("Gone (410)", "sasscrawl/pages/gone/410"),
    "oversized_page": ("DownloadCancelledError", "sasscrawl/pages/failed/DownloadCancelledError"),
    "oversized_stream": ("DownloadCancelledError", "sasscrawl/pages/failed/DownloadCancelledError"),
}
"""Fault whose article no valid copy of ever arrives → the words of its log line, its counter."""


def answered_problem(siege: Siege, name: str, path: str, expected_answers: int) -> str | None:
    """Why the article carrying ``name`` is not saved, or ``path`` not requested ``expected_answers`` times."""
    if problem := saved_problem(siege, name):
        return problem
    answers = siege.paths.count(path)
    return f"{answers} requests of {path}, expected {expected_answers}" if answers != expected_answers else None


def test_transient_faults_are_retried_until_the_page_arrives(siege, fault_tally):
    problems = {name: answered_problem(siege, name, article_path(siege.plan.article_ids[name]),
                                       FAULTS[name].failures + 1) for name in TRANSIENT}
    problems["flaky_image"] = answered_problem(siege, "flaky_image", siege.plan.flaky_image_path,
                                               FAULTS["flaky_image"].failures + 1)
    image = next(image for image in siege.records[siege.plan.article_ids["flaky_image"]]["images"]
                 if urlsplit(image["url"]).path == siege.plan.flaky_image_path)
    if image["status"] != "downloaded":
        problems["flaky_image"] = f"image {image['status']}: {image['error']}"
    assert record_outcomes(fault_tally, problems) == {}


def test_odd_but_valid_answers_are_read_on_the_first_try(siege, fault_tally):
    problems = {name: answered_problem(siege, name, article_path(siege.plan.article_ids[name]), 1)
                for name in ODD_BUT_VALID}
    assert record_outcomes(fault_tally, problems) == {}


def duplicate_problem(siege: Siege) -> str | None:
    """Five spellings of the article, one fetch; the other id serving its page is saved as that id's article.

    An article is the one its URL names: the other id's record has the other id and URL, and the page's text.
    """
    article_id = siege.plan.article_ids["duplicate_urls"]
    if problem := answered_problem(siege, "duplicate_urls", article_path(article_id), 1):
        return problem
    other = siege.records.get(siege.plan.duplicate_id)
    if other is None:
        return "the other id was not saved"
    if other["url"] != article_url(siege, siege.plan.duplicate_id):
        return f"the other id saved with url {other['url']}"
    if other["headline"] != siege.records[article_id]["headline"]:
        return "the other id saved with another page's headline"
    return None


def test_redirect_chains_are_followed_and_duplicates_saved_once(siege, fault_tally):
    chained = article_path(siege.plan.article_ids["redirect_chain"])
    hops = [path for path in siege.paths if path.startswith(chained)]
    problems = {
        "redirect_chain": saved_problem(siege, "redirect_chain") or (
            f"requests {hops}" if hops != [chained] + [f"{chained}?hop={n}" for n in range(1, 5)] else None),
        "duplicate_urls": duplicate_problem(siege),
    }
    fault_tally.identity_overwrites += identity_overwritten(siege, siege.plan.duplicate_id,
                                                            siege.plan.article_ids["duplicate_urls"])
    assert record_outcomes(fault_tally, problems) == {}


def loss_problem(siege: Siege, name: str) -> str | None:
    """Why the loss of the article carrying ``name`` is not as it must be: alone, logged and counted."""
    words, counter = LOSS_REPORTS[name]
    path = article_path(siege.plan.article_ids[name])
    if siege.plan.article_ids[name] in siege.records:
        return "saved although no valid copy was served"
    if not any(path in line and words in line for line in siege.first.crawl.log.splitlines()):
        return f"no log line with {words!r}"
    if not siege.first.crawl.stat(counter):
        return f"no {counter} count"
    return None


def test_an_article_no_valid_copy_of_arrives_is_lost_alone_and_said_so(siege, fault_tally):
    problems = {name: loss_problem(siege, name) for name in LOSS_REPORTS}
    assert record_outcomes(fault_tally, problems) == {}


def test_listing_faults_cost_a_bounded_number_of_requests(siege, fault_tally):
    listings = [path for path in siege.paths if path.startswith(f"/{SECTION}/default.aspx")]
    deepest = max(int(path.split("page=")[1].split("&")[0]) if "page=" in path else 1 for path in listings)
    self_links = [path for path in listings if "visit=" in path]
    pages = {path for path in listings if "visit=" not in path}
    first_three = [listings.count(f"/{SECTION}/default.aspx{query}") for query in ("", "?page=2", "?page=3")]
    problems = {"self_linking_listing": None, "pagination_repeats_last": None, "flaky_listings": None}
    if not 0 < len(self_links) <= len(pages):  # each page's self-link followed at most once
        problems["self_linking_listing"] = f"{len(self_links)} self-links followed for {len(pages)} pages"
    if deepest != siege.site.page_count() + 1:  # one page past the end, then the walk stops
        problems["pagination_repeats_last"] = f"walked to page {deepest} of {siege.site.page_count()}"
    if first_three != [2, 2, 2]:  # each failed once, then was retried
        problems["flaky_listings"] = f"pages 1-3 requested {first_three} times"
    assert record_outcomes(fault_tally, problems) == {}


def test_retry_after_is_waited_for_and_capped(siege, fault_tally):
    def retried_after(path: str) -> float:
        first, retry = siege.times(path)[:2]
        return retry - first

    log = siege.first.crawl.log
    cap = float(SIEGE_SETTINGS["RETRY_AFTER_MAX"])
    huge_path = article_path(siege.plan.article_ids["retry_after_huge"])
    seconds = retried_after(article_path(siege.plan.article_ids["http_503_retry_after"]))
    huge = retried_after(huge_path)
    start_page = retried_after(f"/{SECTION}/default.aspx")
    problems = {"http_503_retry_after": None, "http_429_retry_after_date": None, "retry_after_huge": None,
                "flaky_listings": None}
    if seconds < 1.0:
        problems["http_503_retry_after"] = f"retried after {seconds:.2f} s, not the 1 s asked"
    if "answered 429 with Retry-After" not in log:
        problems["http_429_retry_after_date"] = "the HTTP date was not honoured"
    capped = f"{huge_path} answered 503 with Retry-After 86400: holding requests to {siege.origin_host} for {cap} s"
    if huge < cap or not any(capped in line and "(capped by RETRY_AFTER_MAX" in line for line in log.splitlines()):
        problems["retry_after_huge"] = f"retried after {huge:.2f} s, not held for the cap of {cap} s, or not said so"
    if start_page < 1.0:
        problems["flaky_listings"] = f"start page retried after {start_page:.2f} s, not the 1 s asked"
    assert record_outcomes(fault_tally, problems) == {}
    assert siege.first.crawl.stat("sasscrawl/retry_after/capped") == 1


# --- hostile pages ---------------------------------------------------------------------------


def test_hostile_pages_are_saved_with_their_true_text(siege, fault_tally):
    """A hostile but readable page is a valid copy: saved, with the text a reader sees and nothing injected."""
    fault_tally.hostile_inputs.update({name: len(payloads) for name, payloads in siege.plan.hostile_inputs().items()})
    problems = {}
    for name in sorted(HOSTILE_PAGES - LOSS_REPORTS.keys()):
        article_id = siege.plan.article_ids[name]
        problem = saved_problem(siege, name)
        if problem is None:
            record = siege.records[article_id]
            found_blocks = iter(record["articleBody"].split("\n\n"))
            truth = [block.text for block in siege.site.body_blocks(article_id) if block.kind != "figure"]
            if not all(any(text == found for found in found_blocks) for text in truth):  # in order
                problem = "body text lost or changed"
            elif name in AUTHORS_OVERRIDES and record["authors"] != []:
                problem = f"authors {record['authors']} from an entity"
        problems[name] = problem
    assert record_outcomes(fault_tally, problems) == {}


PAGE_FAILURE_LINE = "[sasscrawl.spiders.commentary] ERROR: "
GAVE_UP_LINE = "[scrapy.downloadermiddlewares.retry] ERROR: Gave up"


def crashes(crawl) -> int:
    """ERROR lines of a crawl that no counter explains (an unhandled spider error, say), and the pages whose
    handling raised: the spider counts those as page failures, but the parser crashed all the same."""
    lines = [line for line in crawl.log.splitlines() if "] ERROR: " in line]
    page_failures = sum(PAGE_FAILURE_LINE in line for line in lines)
    retries_given_up = sum(GAVE_UP_LINE in line for line in lines)
    explained = (min(page_failures, crawl.stat("sasscrawl/pages/failed"))
                 + min(retries_given_up, crawl.stat("retry/max_reached")))
    return crawl.stat("log_count/ERROR") - explained + crawl.stat("sasscrawl/pages/rejected/parser_error")


def test_pages_that_hung_or_crashed_the_parser_are_read_and_every_error_is_a_counted_page_failure(siege, fault_tally):
    """The DOCTYPE that backtracked, URLs urllib refuses, a declared non-text encoding: saved, and the run's
    ERROR lines are exactly its counted page failures (no unhandled spider error, no parser error)."""
    fault_tally.crashes += sum(crashes(run.crawl) for run in (siege.first, siege.rerun))
    stats = siege.first.crawl.stats
    problems = {name: saved_problem(siege, name) for name in ("doctype_backtracking", "crash_urls", "non_text_encoding")}
    if not siege.first.crawl.stat("sasscrawl/pages/encoding_refused"):
        problems["non_text_encoding"] = "no sasscrawl/pages/encoding_refused count"
    crash_record = siege.records.get(siege.plan.article_ids["crash_urls"])
    if crash_record and crash_record["previousArticleId"] is not None:
        problems["crash_urls"] = f"previousArticleId {crash_record['previousArticleId']} from a URL urllib refuses"
    assert record_outcomes(fault_tally, problems) == {}
    for run in (siege.first, siege.rerun):
        assert not [name for name in run.crawl.stats if name.startswith("spider_exceptions")]
        assert run.crawl.stat("sasscrawl/pages/rejected/parser_error") == 0
        errors = [line for line in run.crawl.log.splitlines() if "] ERROR: " in line]
        page_failures = [line for line in errors if PAGE_FAILURE_LINE in line]
        retries_given_up = [line for line in errors if GAVE_UP_LINE in line]
        assert len(errors) == run.crawl.stat("log_count/ERROR")
        assert len(page_failures) + len(retries_given_up) == len(errors), errors
        assert len(page_failures) == run.crawl.stat("sasscrawl/pages/failed"), page_failures
    assert stats["sasscrawl/pages/failed"] > 0  # the pages that fail for good: the equality above is not 0 == 0


def test_a_page_cannot_take_another_articles_identity(siege, fault_tally):
    """A page whose meta/@id names another article and whose site names another host is saved as its URL's
    article, on the crawled host, with a warning; the article it names keeps its own record."""
    spoof_id, spoofed_id = siege.plan.article_ids["identity_spoof"], siege.plan.spoofed_id
    problem = saved_problem(siege, "identity_spoof")
    spoof, spoofed = siege.records.get(spoof_id), siege.records.get(spoofed_id)
    if problem is None and spoof["url"] != article_url(siege, spoof_id):
        problem = f"saved with url {spoof['url']}"
    elif spoofed is None or spoofed["headline"] != siege.site.article(spoofed_id).headline:
        problem = "the article it names lost its record"
    elif spoofed["url"] != article_url(siege, spoofed_id):
        problem = f"the article it names now has url {spoofed['url']}"
    elif not any(f"{article_path(spoof_id)} saved as article {spoof_id}" in line and SPOOF_SITE in line
                 and f"meta/@id '{spoofed_id}'" in line for line in siege.first.crawl.log.splitlines()):
        problem = "no warning naming the page and what disagreed"
    fault_tally.identity_overwrites += identity_overwritten(siege, spoof_id, spoofed_id)
    assert record_outcomes(fault_tally, {"identity_spoof": problem}) == {}
    assert siege.first.crawl.stat("sasscrawl/pages/identity_mismatch") >= 2  # the spoof and the duplicate
    assert not any("evil.test" in json.dumps(record) for record in siege.first.records)


ALLOWED_HTML = {"p": set(), "h2": set(), "strong": set(), "em": set(), "figure": set(), "figcaption": set(),
                "a": {"href"}, "img": {"src", "width", "height", "alt"}}


def test_article_html_is_rebuilt_from_safe_parts_only(siege):
    """No script, handler, style or non-http(s) URL reaches a record, whatever the page held."""
    for record in siege.first.records:
        assert PWNED not in json.dumps(record), record["url"]
        html = record["articleBodyHtml"]
        for fragment in lxml.html.fragments_fromstring(html) if html else ():
            for element in fragment.iter():
                assert element.tag in ALLOWED_HTML, (record["url"], element.tag)
                assert set(element.attrib) <= ALLOWED_HTML[element.tag], (record["url"], dict(element.attrib))
                for name in ("href", "src"):
                    if name in element.attrib:
                        assert urlsplit(element.get(name)).scheme in ("http", "https"), element.get(name)
        urls = [record["url"], *(crumb["url"] for crumb in record["breadcrumbs"]),
                (record["source"] or {}).get("url"), (record["mainImage"] or {}).get("url"),
                *(figure["url"] for figure in record["figures"]), *(image["url"] for image in record["images"])]
        assert all(url is None or urlsplit(url).scheme in ("http", "https") for url in urls), record["url"]


def test_text_holds_no_control_characters_and_is_utf8(siege):
    """Control characters, invalid references and invalid bytes never reach a record or the file."""
    raw = (siege.sandbox.data_dir / "articles.jsonl").read_bytes()
    raw.decode("utf-8")  # strict: a surrogate or stray byte would raise

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict | list):
            for item in value.values() if isinstance(value, dict) else value:
                yield from strings(item)

    for record in siege.first.records:
        for text in strings(record):
            bad = {char for char in text if unicodedata.category(char) in ("Cc", "Cs") and char != "\n"}
            assert not bad, (record["url"], bad, text[:80])


def test_images_stay_inside_the_mirror_and_never_share_a_file(siege):
    """Each mirrored file holds the bytes its URL served, inside images/, and no two URLs' bytes share one."""
    data_dir = siege.sandbox.data_dir
    mirror = (data_dir / "images").resolve()
    images = [image for record in siege.first.records for image in record["images"]]
    downloaded = [image for image in images if image["status"] != "failed"]
    failed = [image for image in images if image["status"] == "failed"]
    sha_by_path = {}
    for image in downloaded:
        path = (data_dir / image["path"]).resolve()
        assert path.is_relative_to(mirror) and path.is_file(), image["url"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == image["sha256"], image["url"]
        sent = urlsplit(image_key(image["url"]))  # what the crawl requests: the image's key
        served = siege.site.response("GET", sent.path + (f"?{sent.query}" if sent.query else ""), siege.origin_host)
        assert hashlib.sha256(served.body).hexdigest() == image["sha256"], image["url"]
        assert sha_by_path.setdefault(image["path"], image["sha256"]) == image["sha256"], image["path"]
    # Refused before they were sent: images on other hosts, and paths that hide a separator from the checks.
    # A climb to the end of a path (/upload/x/%2e%2e) asks for a folder, which answers 404.
    # One clash is left to the disk (sasscrawl.mirror): a name that is a file for one URL and a folder for
    # another. Whichever image comes second fails, and says so.
    paths = {mirror_path(image["url"]) for image in images}
    for image in failed:
        if image["error"].startswith(("refused as off-site", "refused: its path holds")):
            continue
        if image["error"] == "HTTP 404":
            assert urlsplit(image_key(image["url"])).path.endswith("/"), image
            continue
        path = mirror_path(image["url"])
        assert "directory" in image["error"], image
        assert any(other.startswith(path + "/") or path.startswith(other + "/") for other in paths), image
    hostile = [image for image in images if HOSTILE_IMAGE_MARKER in image["url"]]
    assert len(hostile) == len(ESCAPING_IMAGE_PATHS) - 1  # the user-info URL is refused
    files = {path.relative_to(data_dir).as_posix() for path in (data_dir / "images").rglob("*") if path.is_file()}
    assert files == set(sha_by_path)  # nothing half-written or stray


def test_temporary_image_files_never_overwrite_another_image(tmp_path):
    """An image named like another's temporary file keeps its bytes, and a failed write leaves nothing."""
    store = MirrorStore(str(tmp_path))
    lookalike = mirror_path("http://h/upload/.x.jpeg.part")
    store.persist_file(lookalike, io.BytesIO(b"first"), info=None)
    store.persist_file(mirror_path("http://h/upload/x.jpeg"), io.BytesIO(b"second"), info=None)
    assert (tmp_path / lookalike).read_bytes() == b"first"
    assert not mirror_path("http://h/upload/~x.jpeg.part").rsplit("/", 1)[1].startswith("~")
    (tmp_path / mirror_path("http://h/upload/folder")).mkdir()
    with pytest.raises(OSError):
        store.persist_file(mirror_path("http://h/upload/folder"), io.BytesIO(b"third"), info=None)
    assert sorted(path.name for path in (tmp_path / "images/h/upload").iterdir()) == [".x.jpeg.part", "folder",
                                                                                     "x.jpeg"]


# --- the host, the disk, the canary, the clock, the memory -------------------------------------------


def test_requests_never_leave_the_section_host_or_fetch_what_pages_name(siege, fault_tally):
    """Pages in the section, robots.txt, and the images the records name, by their keys: nothing else is asked."""
    requests = siege.first.requests + siege.rerun.requests
    fault_tally.off_host_requests += sum(request.host != siege.origin_host for request in requests)
    images = set()
    for record in siege.first.records:
        for image in record["images"]:
            key = urlsplit(image_key(image["url"]))
            images.add(key.path + (f"?{key.query}" if key.query else ""))
    for request in requests:
        assert request.host == siege.origin_host, request
        assert request.path == "/robots.txt" or request.path.startswith(f"/{SECTION}/") or request.path in images, (
            request.path)


def test_nothing_is_written_outside_data_dir_and_nothing_leaks(siege, fault_tally):
    stray = siege.sandbox.files_outside_data_dir()
    canary = CANARY.decode()
    leaks = [str(path) for path in siege.sandbox.files_containing(CANARY)]
    leaks += [f"log of crawl {n}" for n, run in enumerate((siege.first, siege.rerun), 1) if canary in run.crawl.log]
    leaks += [f"request {request.path}" for request in siege.first.requests + siege.rerun.requests
              if canary in request.path or canary in request.host]
    fault_tally.files_outside_data_dir += len(stray)
    fault_tally.leaks += len(leaks)
    assert stray == [] and leaks == []
    top_level = {path.name for path in siege.sandbox.data_dir.iterdir()}
    assert top_level <= {"articles.jsonl", "state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm", ".lock",
                         "images", "runs", "exports", "README.md"}


def test_stalls_are_cut_by_the_download_timeout(siege):
    """A page that stalls past DOWNLOAD_TIMEOUT (for STALL_SECONDS, then it would answer) costs its tries, each
    ended by the timeout: it fails after RETRY_TIMES + 1 of them, in one line that names the timeout.

    How long the siege takes is measured (the tally's longest crawl, and the bench), not asserted: a crawl that
    hangs is caught by the sandbox's time-out (``Sandbox.crawl``), whatever the machine's load.
    """
    stalled = article_path(siege.site.quirks.bad_inputs["stall"])
    timeout = float(SIEGE_SETTINGS["DOWNLOAD_TIMEOUT"])
    assert siege.paths.count(stalled) == int(SIEGE_SETTINGS["RETRY_TIMES"]) + 1
    assert siege.site.quirks.bad_inputs["stall"] not in siege.records
    failures = [line for line in siege.first.crawl.log.splitlines() if f"Failed to fetch http://{siege.origin_host}"
                f"{stalled} after retries: DownloadTimeoutError" in line]
    assert len(failures) == 1 and failures[0].endswith(f"took longer than {timeout} seconds."), failures


def test_the_siege_stays_within_its_memory(siege):
    for run in (siege.first, siege.rerun):
        assert run.crawl.max_rss_bytes < MAX_RSS_BYTES


def test_the_siege_run_is_healthy_and_its_rerun_ends_cleanly(siege):
    """Every fault is one a healthy run survives: exit 0, no traceback, no run problem.

    The rerun fetches little besides the pages that fail for good, so the monitors may well call
    it broken (their share is over FAILED_PAGES_MAX_SHARE); it must still run to its end.
    """
    assert siege.first.crawl.returncode == 0, siege.first.crawl.log[-3000:]
    assert siege.first.summary["problems"] == []
    assert siege.rerun.summary["finishReason"] == "finished"
    for run in (siege.first, siege.rerun):
        assert "Traceback (most recent call last)" not in run.crawl.log


def test_rerun_fetches_no_saved_article_and_keeps_only_failures_pending(siege, fault_tally):
    ids = [record["articleId"] for record in siege.rerun.records]
    fault_tally.dataset(siege.site.expected_article_ids(), ids)
    assert len(ids) == len(set(ids)) and set(ids) == siege.site.expected_article_ids()
    refetched = {int(path.rsplit("/", 1)[1].split(".")[0]) for path in (r.path for r in siege.rerun.requests)
                 if path.startswith(f"/{SECTION}/") and path.split("/")[-1][:1].isdigit()}
    # The quirky site's show.aspx?id= alias cannot be told from a listing before it is fetched and redirects.
    assert refetched & set(siege.records) <= {siege.site.quirks.link_variety_id}
    store = ArticleStore(siege.sandbox.data_dir)
    try:
        pending = {entry.article_id for entry in store.frontier.pending()}
    finally:
        store.close(snapshot=False)
    failing = {siege.plan.article_ids[name] for name in LOSS_REPORTS} | set(siege.site.quirks.bad_inputs.values())
    assert pending <= failing and siege.plan.duplicate_id not in pending
