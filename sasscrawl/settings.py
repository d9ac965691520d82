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
# Every request that gives up has a line of its own, with its cause: a page's "Failed to fetch",
# robots.txt's middleware, an image's "Image not mirrored". Scrapy's ERROR line would say it twice.
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
RETRY_AFTER_MAX = 60
"""The longest wait, in seconds, that a Retry-After header on a 429 or 503 answer is honoured for."""
# The site's pages are XML rendered by XSLT: a meta refresh in an article body is data, not a redirect to follow.
METAREFRESH_ENABLED = False
# Unattended runs need no live control ports; turn them on with -s when debugging.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# --- scope -------------------------------------------------------------------
IMAGE_HOSTS = []
"""Hosts besides the start URL's that images may be fetched from: ``host`` (http and https on their default
ports) or ``host:port`` (that port, either scheme), comma-separated with -s. Every other request is refused
before it is sent (see sasscrawl/middlewares.py)."""

# --- output ------------------------------------------------------------------
DATA_DIR = "data"
"""Where articles.jsonl, the state journal, the image mirror and run summaries live."""

SNAPSHOT_SHARE = 0.1
"""Rewrite articles.jsonl during a run once this share of the dataset has changed since the last rewrite."""

FAILED_PAGES_MAX_SHARE = 0.2
"""A run exits non-zero when more than this share of the section's article pages fail now (see sasscrawl.health)."""

STALE_AFTER_DAYS = 30
"""A run exits non-zero when the newest article is older than this and no run found a new one for as long (0: off)."""

EXPORTS = []
"""Formats (parquet, sqlite, csv; comma-separated with -s) written to DATA_DIR/exports/ at the end of a run,
as ``scrapy export --format`` writes them, with the dataset card DATA_DIR/README.md and the Parquet file it
names (whatever EXPORTS says). A run that changed no article leaves them all as they are, unless one of them
is missing (see sasscrawl/extensions/dataset.py)."""

# --- archive (see sasscrawl/archive.py) ---------------------------------------
ARCHIVE = ""
"""'warc' writes every response to DATA_DIR/warc/ (the spider argument -a archive=warc does the same)."""
WARC_MAX_FILE_SIZE = 1024 * 1024 * 1024
"""A WARC file rolls over to the next once it is this large."""
WARC_MAX_RECORD_SIZE = DOWNLOAD_MAXSIZE
"""A longer response is archived cut to this size and marked WARC-Truncated: length."""
RENDER_SITE = True
"""A run that archives refreshes the offline HTML mirror, DATA_DIR/site/, at its end (see sasscrawl/render/)."""
WARC_OPERATOR = ""
"""Who runs the crawl (a name and a way to reach them), for each WARC file's warcinfo record (left out when empty)."""
WARC_IS_PART_OF = ""
"""The collection the WARC files belong to, for their warcinfo ``isPartOf`` (default: the section's id and URL)."""

DOWNLOADER_MIDDLEWARES = {
    "sasscrawl.middlewares.SectionScopeMiddleware": 50,
    # Responses pass them just before Scrapy's RetryMiddleware (550) and RedirectMiddleware (600).
    "sasscrawl.network.RetryAfterMiddleware": 560,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "sasscrawl.network.RetryingHttpCompressionMiddleware": 590,
    "sasscrawl.network.RedirectLoopMiddleware": 610,
    # Next to the downloader: sees responses before decompression, redirects and retries.
    "sasscrawl.middlewares.WarcCaptureMiddleware": 950,
}

# --- snapshots through Splash: off unless SPLASH_URL is set -----------------------------------
SPLASH_URL = ""
"""Splash's address (e.g. http://127.0.0.1:8050): each new article is also rendered there. Needs the splash extra
(``pip install 'sasscrawl[splash]'``); sasscrawl.addons.Splash adds its components to runs that set it."""
SPLASH_WAIT = 0.5
"""Seconds Splash lets a page settle before it renders it."""
SPLASH_TIMEOUT = 60
"""Seconds Splash may spend on one rendering."""

ITEM_PIPELINES = {
    "sasscrawl.pipelines.deduplicate.DeduplicatePipeline": 100,
    "sasscrawl.pipelines.images.ImageMirrorPipeline": 200,
    # After the image mirror: the record validated is the one saved, with its image facts.
    "sasscrawl.pipelines.validate.ValidatePipeline": 300,
    "sasscrawl.pipelines.write.WritePipeline": 400,
}

PROGRESS_INTERVAL = 60
"""Seconds between progress lines in the log when not on a terminal (0: none). On a terminal a live bar is shown."""

ADDONS = {
    "sasscrawl.addons.Splash": 0,
    "sasscrawl.addons.SwitchedOffExtensions": 0,
}

EXTENSIONS = {
    "sasscrawl.extensions.garbage_collection.GarbageCollectionTuning": 0,
    "sasscrawl.extensions.quiet_tracebacks.QuietTracebacks": 0,
    "sasscrawl.extensions.error_count.UnexpectedErrorCount": 0,
    # The dataset card and EXPORTS at the end of the run: connected before the data folder, it writes while the run holds it.
    "sasscrawl.extensions.dataset.DatasetExport": 40,
    # Closes the WARC archive and refreshes the offline mirror while the run holds the data folder, before the monitors.
    "sasscrawl.extensions.close_archive.CloseArchive": 45,
    # Opens the data folder for the spider and the pipelines; closes it before the monitors judge the run.
    "sasscrawl.extensions.data_folder.RunDataFolder": 50,
    # The monitors judge the run before the summary reports it: lower numbers are connected first.
    "spidermon.contrib.scrapy.extensions.Spidermon": 100,
    "sasscrawl.extensions.summary.RunSummary": 900,
    "sasscrawl.extensions.progress.Progress": 900,
    # Last: the exit status it writes is the verdict the monitors and the summary reached.
    "sasscrawl.extensions.metrics.RunMetrics": 950,
}

METRICS_FILE = ""
"""Every run writes its Prometheus metrics to this file, for node_exporter's textfile collector (none when empty)."""

# --- monitoring (see sasscrawl/monitors.py) ----------------------------------
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["sasscrawl.monitors.SpiderCloseMonitorSuite"]
SPIDERMON_ADD_FIELD_COVERAGE = True
SPIDERMON_FIELD_COVERAGE_SKIP_NONE = True  # null, "" and [] all count as missing
SPIDERMON_FIELD_COVERAGE_RULES = {
    # Fields every article has, and a byline on most.
    "Article/headline": 1.0,
    "Article/datePublished": 1.0,
    "Article/articleBody": 1.0,
    "Article/authors": 0.8,
}
FIELD_COVERAGE_MIN_ITEMS = 10
"""Rules below 1.0 are judged only in runs that scraped at least this many articles."""
SPIDERMON_MAX_ITEM_VALIDATION_ERRORS = 0

MAX_UNEXPECTED_ERRORS = 0
"""ERROR log lines no counter explains (a spider or pipeline exception, say) that a run may have."""

ALERT_ACTIONS = []
"""Spidermon actions run when a monitor fails (sasscrawl.alerts: SendEmailAlert, SendDiscordAlert, SendSlackAlert).
None by default. One that lacks a required setting refuses the run before anything is fetched (exit status 2)."""
