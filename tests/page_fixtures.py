"""Page object fixtures in web-poet's testing layout: the inputs of one page and what it must give.

``tests/fixtures/pages/<page class, fully qualified>/<case>/`` holds, as ``web_poet.testing`` writes it:

- ``inputs/HttpResponse-body.html``: the bytes as served (whatever they are: XML, GBK, UTF-16, cut off);
  for the real pages, a link to the one copy in ``tests/fixtures/`` that other tests and the bench read;
- ``inputs/HttpResponse-info.json``: the URL, status and headers (web-poet's ``HttpResponse`` serialisation);
- ``inputs/PageParams.json``: for a listing page, the crawl's start URL, which defines the section;
- ``output.json``: the expected item, one key per field (web-poet's format: keys sorted, UTF-8, indent 2);
- ``exception.json`` instead, when the page must raise: the exception's class, message and ``reason``;
- ``meta.json``: ``frozen_time``, the time an article page is read at (its ``dateDownloaded``).

``tests/test_pages.py`` runs every case, one test per field. After a change that is meant to change
the output (a new field, say): ``python tests/page_fixtures.py rerun [CASE_DIR ...]`` (every case by
default) rewrites ``output.json`` from the page objects as they are now; read the diff before
committing it. A new case is a new directory with its two input files (and ``meta.json`` or
``PageParams.json``), then ``rerun``, then the expected fields checked by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

if __name__ == "__main__":  # run as a script: this checkout's sasscrawl, not an installed one
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sasscrawl.pages.article import ArticlePage, NotAnArticle
from sasscrawl.pages.document import Document
from sasscrawl.pages.listing import ListingPage
from sasscrawl.section import Section

ROOT = Path(__file__).parent / "fixtures" / "pages"
PAGE_CLASSES = {f"{cls.__module__}.{cls.__qualname__}": cls for cls in (ArticlePage, ListingPage)}


def as_json(value) -> str:
    """JSON as web-poet writes fixtures (``web_poet.serialization.utils._format_json``)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


@dataclass(frozen=True)
class PageFixture:
    path: Path

    @property
    def page_class(self) -> type:
        return PAGE_CLASSES[self.path.parent.name]

    @property
    def name(self) -> str:
        """``ArticlePage/real-5554``: the test id prefix."""
        return f"{self.page_class.__name__}/{self.path.name}"

    def _read_json(self, relative: str) -> dict:
        path = self.path / relative
        return json.loads(path.read_bytes()) if path.exists() else {}

    def page(self):
        """The page object made from the saved inputs."""
        info = self._read_json("inputs/HttpResponse-info.json")
        document = Document((self.path / "inputs/HttpResponse-body.html").read_bytes(), info["url"])
        if self.page_class is ListingPage:
            return ListingPage(document, Section.from_start_url(self._read_json("inputs/PageParams.json")["start_url"]))
        return ArticlePage(document, downloaded_at=datetime.fromisoformat(self._read_json("meta.json")["frozen_time"]))

    @property
    def raises(self) -> bool:
        return (self.path / "exception.json").exists()

    @cached_property
    def output(self) -> dict:
        """What the page gives now, as it would read back from ``output.json``."""
        return json.loads(as_json(self.page().to_item()))

    @cached_property
    def expected_output(self) -> dict:
        return self._read_json("output.json")

    @property
    def expected_exception(self) -> dict:
        return self._read_json("exception.json")

    def rerun(self) -> None:
        """Write ``output.json`` (or ``exception.json``) from the page objects as they are now."""
        try:
            item = self.page().to_item()
        except NotAnArticle as error:
            (self.path / "output.json").unlink(missing_ok=True)
            exception = {"import_path": f"{type(error).__module__}.{type(error).__qualname__}", "msg": str(error),
                         "reason": error.reason}
            (self.path / "exception.json").write_text(as_json(exception), encoding="utf-8")
            return
        (self.path / "exception.json").unlink(missing_ok=True)
        (self.path / "output.json").write_text(as_json(item), encoding="utf-8")


def article_xml(headline="A headline", h5="Cai Fang", body="<p>Text.</p>",
                declaration='<?xml version="1.0" encoding="utf-8"?>', doctype="", extra="") -> str:
    """A small article page in the site's format, each part replaceable: for tests of one detail."""
    return (
        f"{declaration}\n{doctype}<html RelativePath=\"/\" class=\"103002\" site=\"103002\"><head><meta id=\"7\" /></head>"
        f"<body><span><a href=\"../103002/default.aspx\">Commentary</a></span><div><h1>{headline}</h1><h2 />"
        f"<h4>2026-01-30 12:00</h4><h5>{h5}</h5><p><![CDATA[<form>{body}</form>]]></p>{extra}</div></body></html>"
    )


def all_fixtures() -> list[PageFixture]:
    return [PageFixture(case) for page_dir in sorted(ROOT.iterdir()) if page_dir.name in PAGE_CLASSES
            for case in sorted(page_dir.iterdir()) if (case / "inputs").is_dir()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python tests/page_fixtures.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rerun = commands.add_parser("rerun", help="rewrite the expected output from the page objects as they are now")
    rerun.add_argument("cases", nargs="*", type=Path, help="case directories (default: every case)")
    options = parser.parse_args(argv)
    for fixture in [PageFixture(case.resolve()) for case in options.cases] or all_fixtures():
        fixture.rerun()
        print(f"{fixture.name}: {'exception.json' if fixture.raises else 'output.json'}")


if __name__ == "__main__":
    main()
