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
import random
import signal
import subprocess
from pathlib import Path

import pytest

from harness import signal_after
from sandbox import Sandbox
from sasscrawl.replica import HOSTILE_PAGES, NETWORK_FAULTS, ReplicaServer, build_site
from sasscrawl.store import ArticleStore

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
    fault_tally.crawl(final.seconds, final.max_rss_bytes)
    ids = [record["articleId"] for record in final.records]
    fault_tally.dataset(site.expected_article_ids(), ids)
    stray = sandbox.files_outside_data_dir()
    leaks = sandbox.files_containing(CANARY)
    fault_tally.files_outside_data_dir += len(stray)
    fault_tally.leaks += len(leaks)

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


def data_folder_problems(data_dir: Path, saved_before: set[int]) -> tuple[list[str], set[int], int]:
    """What a kill broke, if anything; the articles saved now; duplicate lines in articles.jsonl.

    articles.jsonl is read first, as a reader would find it; opening the store afterwards may
    rewrite it (a run that starts after a kill does the same).
    """
    problems = []
    raw = (data_dir / "articles.jsonl").read_bytes() if (data_dir / "articles.jsonl").exists() else b""
    if raw and not raw.endswith(b"\n"):
        problems.append("articles.jsonl ends in a torn line")
    try:
        records = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    except ValueError as error:
        problems.append(f"articles.jsonl unreadable: {error}")
        records = []
    ids = [record["articleId"] for record in records]
    duplicates = len(ids) - len(set(ids))
    if duplicates:
        problems.append(f"{duplicates} duplicate lines in articles.jsonl")
    store = ArticleStore(data_dir)
    try:
        saved = store.known_ids()
        journal = list(store.records())
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
