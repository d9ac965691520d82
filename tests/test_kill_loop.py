"""SIGKILL the crawl at random moments, restart it, again and again, then let it finish.

The site is the fault mode's (every network fault and hostile page), so kills land in retries,
redirects, Retry-After waits, image writes and snapshot rewrites alike. Each moment is drawn from
``random.Random`` with a fixed seed: after the N-th log line of a kind (an HTTP answer, a saved
article), never after a sleep. As the work left shrinks, so do the runs: a run that ends before
its moment sets the highest moment drawn for that kind of line next time. After every kill the
data folder must hold a whole, duplicate-free
articles.jsonl and every article saved before; after the last run, exactly the ground truth.
The default run kills 5 times; ``pytest -m slow`` runs the long loop of 40.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from harness import PROJECT_ROOT, crawl_command, free_port, run_crawl, signal_after
from sandbox import Sandbox
from sasscrawl_replica import HOSTILE_PAGES, NETWORK_FAULTS, ReplicaServer, build_site
from sasscrawl.store import ARTICLES_FILE, STATE_FILE, VERSIONS_FILE, ArticleStore, serialise

KILL_SETTINGS = {
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "2",
    "RETRY_AFTER_MAX": "1",
    "LOG_LEVEL": "DEBUG",  # for the "Scraped from" lines
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
}
MOMENTS = {"Crawled (": 60, "Scraped from": 20}
"""Log line kind (an HTTP answer received, an article saved) → the highest moment drawn at first."""
CANARY = b"SASSCRAWL-KILL-CANARY-9b27"


@pytest.mark.parametrize("kills", [5, pytest.param(40, marks=pytest.mark.slow)])
def test_repeated_sigkills_lose_and_duplicate_nothing(kills, tmp_path, fault_tally):
    rng = random.Random(f"kill loop {kills}")
    canary = tmp_path / "secret.txt"
    canary.write_bytes(CANARY)
    site = build_site(articles=40, seed=13, quirks=False, stall_seconds=3, xxe_canary_path=str(canary),
                      faults=NETWORK_FAULTS | HOSTILE_PAGES)
    sandbox = Sandbox(tmp_path / "sandbox")
    killed, survived, saved = 0, 0, set()
    problems = []
    latest_moment = dict(MOMENTS)
    with ReplicaServer(site) as server:
        for _ in range(3 * kills):
            if killed == kills:
                break
            marker = rng.choice([kind for kind in sorted(latest_moment) if latest_moment[kind]])
            moment = rng.randint(1, latest_moment[marker])
            seen = run_until(sandbox.start(server.start_url, settings=KILL_SETTINGS), marker, moment)
            fault_tally.crawls += 1
            if seen < moment:  # the run ended first: its count is the most the next run will show
                latest_moment[marker] = seen
                continue
            killed += 1
            found, saved_now, duplicates = data_folder_problems(sandbox.data_dir, saved)
            fault_tally.articles_duplicated += duplicates
            problems += [f"kill {killed} after {marker!r}: {problem}" for problem in found]
            survived += not found
            saved = saved_now
        final = sandbox.crawl(server.start_url, settings=KILL_SETTINGS)
    fault_tally.kills += killed
    fault_tally.kills_survived += survived
    fault_tally.crawl(final.seconds, final.max_rss_bytes, final.hung)
    ids = [record["articleId"] for record in final.records]
    fault_tally.dataset(site.expected_article_ids(), ids)
    stray = sandbox.files_outside_data_dir()
    leaks = sandbox.files_containing(CANARY)
    fault_tally.files_outside_data_dir += len(stray)
    fault_tally.leaks += len(leaks)

    assert not final.hung, f"the crawl hung: killed after its timeout\n{final.log[-3000:]}"
    assert killed == kills
    assert problems == []
    assert len(ids) == len(set(ids)) and set(ids) == site.expected_article_ids()
    # Its exit status is the monitors' verdict on whatever was left to fetch (failed pages, field
    # coverage), not the kill loop's business: it must just have run to its end.
    assert final.summary["finishReason"] == "finished"
    assert "Traceback (most recent call last)" not in final.log
    assert images_problems(sandbox.data_dir, final.records) == []
    assert stray == [] and leaks == []


def run_until(process: subprocess.Popen, marker: str, moment: int) -> int:
    """SIGKILL the crawl once its log has shown ``moment`` lines containing ``marker``; how many it showed.

    Fewer than ``moment``: the crawl ended by itself first.
    """
    seen = signal_after(process, marker, moment, signal.SIGKILL)
    assert seen < moment or process.returncode == -signal.SIGKILL
    return seen


def read_snapshot(path: Path) -> tuple[list[dict], list[str]]:
    """A JSON Lines snapshot as a reader finds it after a kill: its lines' objects, and what is wrong with it."""
    problems = []
    raw = path.read_bytes() if path.exists() else b""
    if raw and not raw.endswith(b"\n"):
        problems.append(f"{path.name} ends in a torn line")
    try:
        return [json.loads(line) for line in raw.decode("utf-8").splitlines()], problems
    except ValueError as error:
        return [], [*problems, f"{path.name} unreadable: {error}"]


def data_folder_problems(data_dir: Path, saved_before: set[int]) -> tuple[list[str], set[int], int]:
    """What a kill broke, if anything; the articles saved now; duplicate lines in articles.jsonl.

    articles.jsonl is read first, as a reader would find it; opening the store afterwards may
    rewrite it (a run that starts after a kill does the same).
    """
    records, problems = read_snapshot(data_dir / "articles.jsonl")
    ids = [record["articleId"] for record in records]
    duplicates = len(ids) - len(set(ids))
    if duplicates:
        problems.append(f"{duplicates} duplicate lines in articles.jsonl")
    store = ArticleStore(data_dir)
    try:
        saved = store.journal.known_ids()
        journal = list(store.journal.records())
    finally:
        store.close(snapshot=False)
    if lost := saved_before - saved:
        problems.append(f"saved articles lost: {sorted(lost)}")
    if unjournaled := set(ids) - saved:
        problems.append(f"articles.jsonl holds articles the journal lacks: {sorted(unjournaled)}")
    problems += images_problems(data_dir, journal)
    return problems, saved, duplicates


def images_problems(data_dir: Path, records: list[dict]) -> list[str]:
    """Mirrored images whose file is missing or holds other bytes than the record says."""
    problems = []
    for record in records:
        for image in record["images"]:
            if image["status"] == "failed":
                continue
            path = data_dir / image["path"]
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != image["sha256"]:
                problems.append(f"image {image['url']} of article {record['articleId']} not as recorded")
    return problems


# --- kills during a rebuild of the journal ----------------------------------------------

REBUILD_ARTICLES = 6000
REBUILD_SETTINGS = {"LOG_LEVEL": "DEBUG", "RETRY_TIMES": "0"}  # DEBUG: a "Restored article" line per line read
BAD_LINES = (b'{"articleId":1.5,"contentHash":"x"}', b'{"articleId":100000000000000000000,"contentHash":"x"}')


def large_snapshot() -> tuple[bytes, bytes]:
    """An articles.jsonl of REBUILD_ARTICLES records, sorted as the crawl writes it, with two lines no journal
    can hold; and the articles.jsonl the rebuilt journal must give: the same without those two lines."""
    lines = [serialise({"articleId": article_id, "url": f"http://en.sass.cn/103002/{article_id}.aspx",
                        "headline": f"Article {article_id}", "datePublished": "2025-03-04T05:06:07+08:00",
                        "articleBody": f"Paragraph {article_id}. " * 40, "images": [],
                        "contentHash": hashlib.sha256(str(article_id).encode()).hexdigest()}).encode("utf-8")
             for article_id in range(1, REBUILD_ARTICLES + 1)]
    valid = b"".join(line + b"\n" for line in lines)
    third = REBUILD_ARTICLES // 3
    lines[third:third] = [BAD_LINES[0]]
    lines[2 * third:2 * third] = [BAD_LINES[1]]
    return b"".join(line + b"\n" for line in lines), valid


@pytest.mark.parametrize("kills", [5, pytest.param(40, marks=pytest.mark.slow)])
def test_kills_during_a_journal_rebuild_lose_no_article(kills, tmp_path):
    """SIGKILL crawls that rebuild the journal from a large articles.jsonl, each after a line it logs.

    A chain: the folder holds articles.jsonl alone (or beside a corrupt state file, every other
    chain); runs are killed one after another until one ends by itself, the journal rebuilt by
    then. A kill after the n-th "Restored article" line lands in the rebuild, one after "Rebuilt"
    in the rename's aftermath and the snapshot that follows. After every kill, every article is
    in articles.jsonl and the file as it was (with its two bad lines) is articles.jsonl or a kept
    copy; at a chain's end, articles.jsonl and the journal hold exactly the good lines.
    """
    rng = random.Random(f"rebuild kill loop {kills}")
    original, expected = large_snapshot()
    valid_lines = set(expected.splitlines())
    data_dir = tmp_path / "data"
    start_url = f"http://127.0.0.1:{free_port()}/103002/default.aspx"  # nobody listens: the run ends at once
    killed, chains, problems, fresh = 0, 0, [], True
    for _ in range(3 * kills):
        if killed == kills:
            break
        if fresh:
            start_chain(data_dir, original, corrupt_state=chains % 2 == 1)
            fresh = False
        marker, moment = ("Rebuilt state.sqlite3", 1) if rng.random() < 0.25 else \
            ("Restored article", rng.randint(1, REBUILD_ARTICLES))
        crawl = subprocess.Popen(crawl_command(start_url, data_dir, settings=REBUILD_SETTINGS), cwd=PROJECT_ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        seen = run_until(crawl, marker, moment)
        if seen == moment:
            killed += 1
            problems += [f"kill {killed} after {moment} x {marker!r}: {problem}"
                         for problem in kept_problems(data_dir, original, valid_lines)]
        else:  # the journal was whole before this run: the chain is over
            chains += 1
            problems += [f"chain {chains}: {problem}" for problem in rebuilt_problems(data_dir, original, expected)]
            fresh = True
    final = run_crawl(start_url, data_dir, settings=REBUILD_SETTINGS)
    problems += [f"last chain: {problem}" for problem in rebuilt_problems(data_dir, original, expected)]

    assert killed == kills
    assert problems == []
    assert final.summary["finishReason"] == "finished"
    assert "Traceback (most recent call last)" not in final.log


def start_chain(data_dir: Path, original: bytes, corrupt_state: bool) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir()
    (data_dir / ARTICLES_FILE).write_bytes(original)
    if corrupt_state:
        (data_dir / STATE_FILE).write_bytes(b"not a database, as after a disk fault " * 100)


def kept_problems(data_dir: Path, original: bytes, valid_lines: set[bytes]) -> list[str]:
    """Articles missing from articles.jsonl, or the file as it was gone from the folder."""
    problems = []
    raw = (data_dir / ARTICLES_FILE).read_bytes() if (data_dir / ARTICLES_FILE).exists() else b""
    if not raw.endswith(b"\n"):
        problems.append("articles.jsonl is missing, empty or ends in a torn line")
    if missing := valid_lines - set(raw.splitlines()):
        problems.append(f"{len(missing)} articles missing from articles.jsonl")
    copies = [path.read_bytes() for path in data_dir.glob(f"{ARTICLES_FILE}.before-rebuild-*")]
    if raw != original and original not in copies:
        problems.append("the original articles.jsonl, with its two bad lines, is nowhere")
    return problems


def rebuilt_problems(data_dir: Path, original: bytes, expected: bytes) -> list[str]:
    """After a run that ended by itself: the good lines exactly, in the snapshot and the journal; one copy."""
    problems = []
    if (data_dir / ARTICLES_FILE).read_bytes() != expected:
        problems.append("articles.jsonl is not exactly the good lines")
    copies = [path.read_bytes() for path in data_dir.glob(f"{ARTICLES_FILE}.before-rebuild-*")]
    if copies != [original]:
        problems.append(f"{len(copies)} copies of the original kept, or not as it was")
    if leftovers := sorted(path.name for path in data_dir.glob(f"{STATE_FILE}.rebuild*")):
        problems.append(f"left behind: {leftovers}")
    store = ArticleStore(data_dir)
    try:
        if store.rebuild_skipped or len(store.journal.known_ids()) != REBUILD_ARTICLES:
            problems.append(f"the journal holds {len(store.journal.known_ids())} articles, rebuilt again: "
                            f"{bool(store.rebuild_skipped)}")
    finally:
        store.close(snapshot=False)
    return problems


# --- kills during a refresh that supersedes versions ---------------------------------------

VERSION_ARTICLES = 60
"""More than the snapshot's 50 changes: a refresh rewrites versions.jsonl mid-run, where kills land too."""


@pytest.mark.parametrize("kills", [3, pytest.param(20, marks=pytest.mark.slow)])
def test_kills_during_a_refresh_lose_no_version(kills, tmp_path):
    """Crawl, then chains: change every article's text and SIGKILL ``-a refresh=all`` runs after their n-th saved
    article until one ends by itself.

    After every kill versions.jsonl is whole, and each article has exactly the records its text
    replaced kept, in order, once; at the end, one version per article and change.
    """
    rng = random.Random(f"versions kill loop {kills}")
    site = build_site(articles=VERSION_ARTICLES, seed=17, quirks=False)
    data_dir = tmp_path / "data"
    settings = {"LOG_LEVEL": "DEBUG"}  # for the "Scraped from" lines
    killed, chains, problems = 0, 0, []
    with ReplicaServer(site) as server:
        first = run_crawl(server.start_url, data_dir, settings=settings)
        texts = {record["articleId"]: [record] for record in first.records}
        """Each article's records, one per text, oldest first: all but the newest saved must be kept as versions."""
        latest_moment = 0
        for _ in range(4 * kills):
            if killed == kills:
                break
            if latest_moment == 0:  # a new chain: every text changes
                for spec in site.articles:
                    site.change_article(spec.id)
                latest_moment = VERSION_ARTICLES
            moment = rng.randint(1, latest_moment)
            crawl = subprocess.Popen(crawl_command(server.start_url, data_dir, "refresh=all", settings=settings),
                                     cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, errors="replace", env={**os.environ, "PYTHONUNBUFFERED": "1"})
            seen = run_until(crawl, "Scraped from", moment)
            # Each "Scraped from" line is a new text saved: the chain is over when the run ended by itself
            # or the kill came after the last of them.
            latest_moment = latest_moment - seen if seen == moment else 0
            if seen == moment:
                killed += 1
                problems += [f"kill {killed} after {moment} articles: {problem}"
                             for problem in versions_problems(data_dir, texts, ended=latest_moment == 0)]
            else:
                chains += 1
                problems += [f"chain {chains}: {problem}"
                             for problem in versions_problems(data_dir, texts, ended=True)]
            if latest_moment == 0:
                for record in read_records(data_dir):
                    texts[record["articleId"]].append(record)
        final = run_crawl(server.start_url, data_dir, "refresh=all", settings=settings)
    # The last run saves the texts of the chain under way, if any; a chain already over is in ``texts``.
    problems += [f"after the last run: {problem}"
                 for problem in versions_problems(data_dir, texts, ended=latest_moment != 0)]

    assert killed == kills
    assert problems == []
    assert final.summary["finishReason"] == "finished"


def read_records(data_dir: Path) -> list[dict]:
    store = ArticleStore(data_dir)
    try:
        return list(store.journal.records())
    finally:
        store.close(snapshot=False)


def versions_problems(data_dir: Path, texts: dict[int, list[dict]], ended: bool) -> list[str]:
    """versions.jsonl torn or repeating a version as a reader finds it; then, the store opened (which catches
    the file up), an article whose kept versions are not the records its text replaced (``texts`` but the
    last, or all of them once the newest text is saved; all of them when the refresh ``ended``), or a
    file unlike the journal."""
    in_file, problems = read_snapshot(data_dir / VERSIONS_FILE)
    if len({(v["articleId"], v["contentHash"]) for v in in_file}) != len(in_file):
        problems.append("a version twice in versions.jsonl")
    store = ArticleStore(data_dir)
    try:
        saved = {record["articleId"]: record for record in store.journal.records()}
        lines = list(store.journal.version_lines())
    finally:
        store.close(snapshot=False)
    kept: dict[int, list[dict]] = {}
    for version in map(json.loads, lines):
        kept.setdefault(version["articleId"], []).append(version["record"])
    for article_id, records in texts.items():
        superseded = saved[article_id]["contentHash"] != records[-1]["contentHash"]
        if ended and not superseded:
            problems.append(f"article {article_id}: its new text is not saved")
        if kept.get(article_id, []) != (records if superseded else records[:-1]):
            problems.append(f"article {article_id}: {len(kept.get(article_id, []))} versions kept of "
                            f"{len(records) - (not superseded)}")
    caught_up = (data_dir / VERSIONS_FILE).read_text("utf-8") if (data_dir / VERSIONS_FILE).exists() else ""
    if caught_up.splitlines() != lines:
        problems.append("versions.jsonl, caught up at the open, is not the journal's versions")
    return problems
