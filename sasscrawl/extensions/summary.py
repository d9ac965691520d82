"""The run summary: what a run did, in the log and as ``DATA_DIR/runs/<run id>.json``.

One JSON file per run lets a scheduler or a person see at a glance what changed
and whether the run was healthy, without reading logs. The run id (start time and
Scrapyd job id or process id) is decided when the spider opens and kept in the
``sasscrawl/run_id`` stat, so alerts sent before the summary is written name it too.
``refusedHosts`` maps each origin the run refused to send requests to (``http://host:port``)
to how many. ``verdict`` is the exit status in a word (``healthy``, ``broken``,
``interrupted``, ...); ``chronicPages`` lists the pages known to fail, with their failures
and when they are retried (in ``nextRetryInRuns`` runs or by ``nextRetryBy``, whichever
comes first). ``articleIds`` names the articles behind three of ``articles``' counts, as
sorted lists of ids: ``added`` (saved for the first time), ``changed`` (their text changed:
the version replaced is in ``versions.jsonl``) and ``gone`` (answered 404/410 and were not
known gone before: an article still gone on a later refresh is counted in ``articles.gone``
again but not listed again), so that a run on an unchanged site lists nothing. ``mirror`` counts
the offline mirror's refresh at the end of an archiving run (all 0 when there was none): its pages,
those written and unchanged, in the built-in layout, the files copied from the archive, and
``failed``, the pages that could not be rendered (each logged as a warning; a mirror that could
not be written at all is a run problem instead, see :func:`sasscrawl.health.mirror_problem`).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

from scrapy import signals

from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.files import replace_file
from sasscrawl.health import ARTICLE_OUTCOMES, VERDICTS, exit_status, run_problems
from sasscrawl.middlewares import OFF_SITE
from sasscrawl.store import RUNS_FOLDER

logger = logging.getLogger(__name__)

RUN_ID = "sasscrawl/run_id"
LOGGED_CHRONIC_PAGES = 5
"""The log names this many chronic pages; the summary file lists them all."""
MIRROR_COUNTS = {"pages": "pages", "written": "written", "unchanged": "unchanged", "builtinLayout": "builtin_layout",
                 "assets": "assets", "failed": "failed"}
"""The summary's ``mirror`` keys, each with the ``sasscrawl/render/*`` count it reports (see RenderReport)."""


def summarise(stats: dict, finish_reason: str, failed_pages_max_share: float, now: datetime,
              stale_after_days: float = 0, chronic_pages: list[dict] = ()) -> dict:
    started = stats.get("start_time") or now
    articles = {name: stats.get(f"sasscrawl/articles/{name}", 0) for name in ARTICLE_OUTCOMES}
    images = {name: stats.get(f"sasscrawl/images/{name}", 0) for name in ("downloaded", "cached", "failed", "bytes")}
    snapshots = {name: stats.get(f"sasscrawl/snapshots/{name}", 0) for name in ("rendered", "failed")}
    mirror = {key: stats.get(f"sasscrawl/render/{name}", 0) for key, name in MIRROR_COUNTS.items()}
    problems = run_problems(stats, failed_pages_max_share, stale_after_days)
    status = exit_status(stats, failed_pages_max_share, stale_after_days)
    alerts = {"sent": stats.get("sasscrawl/alerts/sent", 0), "failed": stats.get("sasscrawl/alerts/failed", 0),
              "failures": stats.get("sasscrawl/alerts/failures", [])}
    return {
        "startedAt": started.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "finishedAt": now.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "durationSeconds": round((now - started).total_seconds(), 3),
        "finishReason": finish_reason,
        "articles": articles,
        "images": images,
        "snapshots": snapshots,
        "mirror": mirror,
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "pagesFailed": stats.get("sasscrawl/pages/failed", 0),
        "refusedHosts": {name[len(OFF_SITE) + 1:]: count for name, count in sorted(stats.items())
                         if name.startswith(OFF_SITE + "/")},
        "chronicPages": list(chronic_pages),
        "problems": problems,
        "exitStatus": status,
        "verdict": VERDICTS[status],
        "alerts": alerts,
    }


def chronic_pages_line(chronic: list[dict]) -> str:
    named = "; ".join(f"{page['url']} failed in {page['failures']} runs in a row, next retry in run "
                      f"+{page['nextRetryInRuns']} or at {page['nextRetryBy']}, whichever comes first"
                      for page in chronic[:LOGGED_CHRONIC_PAGES])
    more = len(chronic) - LOGGED_CHRONIC_PAGES
    return f"Chronic pages, known to fail: {len(chronic)}: {named}" + (f"; {more} more in the run summary" if more > 0 else "")


class RunSummary:
    def __init__(self, crawler):
        self.crawler = crawler
        self.data_dir = crawler.settings["DATA_DIR"]
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        started = self.crawler.stats.get_value("start_time") or datetime.now(timezone.utc)
        run_id = started.strftime("%Y%m%dT%H%M%SZ") + f"-{getattr(spider, '_job', None) or os.getpid()}"
        self.crawler.stats.set_value(RUN_ID, run_id)

    def spider_closed(self, spider, reason):
        now = datetime.now(timezone.utc)
        stats = self.crawler.stats.get_stats()
        run_id = stats[RUN_ID]
        settings = self.crawler.settings
        summary = {"runId": run_id, **summarise(stats, reason, settings.getfloat("FAILED_PAGES_MAX_SHARE"), now,
                                                 settings.getfloat("STALE_AFTER_DAYS"),
                                                 getattr(spider, "chronic_pages", ())),
                   "articleIds": RunDataFolder.of(self.crawler).changes.as_lists()}
        a, i = summary["articles"], summary["images"]
        logger.info(
            "Run summary %s: articles new %d, changed %d, unchanged %d, failed %d, gone %d; "
            "images downloaded %d, cached %d, failed %d, %d bytes; snapshots rendered %d, failed %d; "
            "%d requests in %.1f s, %d refused as off-site; %s%s",
            run_id, a["new"], a["changed"], a["unchanged"], a["failed"], a["gone"],
            i["downloaded"], i["cached"], i["failed"], i["bytes"], summary["snapshots"]["rendered"],
            summary["snapshots"]["failed"], summary["requests"], summary["durationSeconds"],
            sum(summary["refusedHosts"].values()), summary["verdict"],
            "; problems: " + "; ".join(summary["problems"]) if summary["problems"] else "",
        )
        if summary["chronicPages"]:
            logger.info("%s", chronic_pages_line(summary["chronicPages"]))
        for problem in summary["problems"]:
            logger.error("Run problem: %s", problem)
        if not RunDataFolder.of(self.crawler).held:
            return  # the run never held the data folder (bad arguments, locked, unwritable): leave it alone
        try:
            replace_file(self.data_dir, f"{RUNS_FOLDER}/{run_id}.json", (json.dumps(summary, indent=2) + "\n").encode())
        except OSError as error:
            self.crawler.stats.inc_value("sasscrawl/summary/failed")
            logger.error("Could not write the run summary to %s/%s: %s", self.data_dir, RUNS_FOLDER,
                         error.strerror or error)
