"""CPU time of sasscrawl's parser against trafilatura, on the same article pages in the same run.

The pages are the replica's article pages, rendered once into memory, plus the real page 5554
(tests/fixtures). Each extractor runs over all of them once per repeat, the extractors taking
turns, and the least per-page CPU time (``time.process_time``) over the repeats is reported, as
``timeit`` advises for CPU-bound code: other load on the machine only ever adds time, and on the
shared two-core machine it moved single repeats by half. At least ``MIN_REPEATS`` repeats are run.
trafilatura is timed twice: plain ``extract`` (text only, its cheapest call) and with metadata as
JSON (the call that gives it the most fields). Fields are counted where the value is not empty.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from pathlib import Path

import trafilatura

from sasscrawl.pages.article import parse_article
from sasscrawl_replica import build_site

REAL_PAGE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "en.sass.cn_103002_5554.aspx.xml"
REAL_PAGE_URL = "http://en.sass.cn/103002/5554.aspx"
REAL_PAGE_LOOPS = 50
MIN_REPEATS = 5
"""The real page is one page: parse it this many times per repeat for a measurable CPU time."""

EXTRACTORS = {
    "sasscrawl": lambda body, url: parse_article(body, url),
    "trafilatura": lambda body, url: trafilatura.extract(body, url=url),
    "trafilatura_metadata": lambda body, url: trafilatura.extract(body, url=url, output_format="json",
                                                                   with_metadata=True),
}


def replica_pages(count: int, seed: int = 0) -> list[tuple[bytes, str]]:
    """(bytes, URL) of ``count`` article pages of a quirk-free replica, as the server sends them."""
    site = build_site(articles=count, seed=seed, quirks=False)
    return [(site.response("GET", f"/{site.section}/{spec.id}.aspx", "en.sass.cn").body,
             f"http://en.sass.cn/{site.section}/{spec.id}.aspx") for spec in site.articles]


def measure(page_count: int, repeats: int) -> dict:
    pages = replica_pages(page_count)
    real = [(REAL_PAGE.read_bytes(), REAL_PAGE_URL)]
    for extract in EXTRACTORS.values():  # warm-up: lazy imports and caches are not per-page costs
        extract(*real[0])
    timings: dict[str, dict[str, list[float]]] = {name: {"replica": [], "real": []} for name in EXTRACTORS}
    for _ in range(max(repeats, MIN_REPEATS)):
        for name, extract in EXTRACTORS.items():
            timings[name]["replica"].append(_cpu_seconds_per_page(extract, pages))
            timings[name]["real"].append(_cpu_seconds_per_page(extract, real * REAL_PAGE_LOOPS))
    result = {
        "pages": {"replica": len(pages), "real": 1},
        "ms_per_page": {name: {corpus: round(min(seconds) * 1000, 3)
                               for corpus, seconds in by_corpus.items()}
                        for name, by_corpus in timings.items()},
        "fields": {name: _fields(name, pages + real) for name in ("sasscrawl", "trafilatura_metadata")},
    }
    ours = result["ms_per_page"]["sasscrawl"]
    result["times_faster"] = {
        name: {corpus: round(result["ms_per_page"][name][corpus] / ours[corpus], 1) for corpus in ours}
        for name in ("trafilatura", "trafilatura_metadata")
    }
    return result


def _cpu_seconds_per_page(extract, pages: list[tuple[bytes, str]]) -> float:
    gc.collect()  # garbage left by the other extractor is not this one's cost
    started = time.process_time()
    for body, url in pages:
        extract(body, url)
    return (time.process_time() - started) / len(pages)


def _fields(name: str, pages: list[tuple[bytes, str]]) -> dict:
    """Median count of non-empty fields per page, and every field that was non-empty on some page."""
    counts, names = [], {}
    for body, url in pages:
        output = EXTRACTORS[name](body, url)
        record = json.loads(output) if isinstance(output, str) else (output or {})
        filled = [field for field, value in record.items() if value not in (None, "", [], {})]
        counts.append(len(filled))
        names.update(dict.fromkeys(filled))
    return {"median": statistics.median(counts), "names": list(names)}
