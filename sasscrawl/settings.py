"""Settings for sasscrawl. Every value here is an ordinary Scrapy setting: override it with ``-s NAME=VALUE``.

The defaults are polite to the real site: robots.txt obeyed, one request at a
time per host with a delay, AutoThrottle on, and a User-Agent that names the
project and where to reach its maintainers.
"""

BOT_NAME = "sasscrawl"
SPIDER_MODULES = ["sasscrawl.spiders"]
NEWSPIDER_MODULE = "sasscrawl.spiders"
COMMANDS_MODULE = "sasscrawl.commands"

# --- politeness --------------------------------------------------------------
USER_AGENT = "sasscrawl/0.1 (+https://github.com/sasscrawl/sasscrawl; research crawler, contact via the issue tracker)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- robustness --------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
# Unattended runs need no live control ports; turn them on with -s when debugging.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# --- output ------------------------------------------------------------------
DATA_DIR = "data"
"""Where articles.jsonl, the state journal, the image mirror and run summaries live."""

SNAPSHOT_SHARE = 0.1
"""Rewrite articles.jsonl during a run once this share of the dataset has changed since the last rewrite."""

FAILED_PAGES_MAX_SHARE = 0.2
"""A run in which more than this share of fetched pages failed (or could not be parsed) exits non-zero."""

DOWNLOADER_MIDDLEWARES = {
    "sasscrawl.middlewares.SectionScopeMiddleware": 50,
}

ITEM_PIPELINES = {
    "sasscrawl.pipelines.validate.ValidatePipeline": 100,
    "sasscrawl.pipelines.deduplicate.DeduplicatePipeline": 200,
    "sasscrawl.pipelines.images.ImageMirrorPipeline": 300,
    "sasscrawl.pipelines.write.WritePipeline": 400,
}

PROGRESS_INTERVAL = 60
"""Seconds between progress lines in the log when not on a terminal (0: none). On a terminal a live bar is shown."""

EXTENSIONS = {
    "sasscrawl.extensions.network_errors.QuietNetworkErrors": 0,
    "sasscrawl.extensions.summary.RunSummary": 500,
    "sasscrawl.extensions.progress.Progress": 500,
}
