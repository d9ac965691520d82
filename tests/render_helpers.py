"""Reading the offline mirror as a reader would: visible text, and where its links lead on the disk."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html

BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "figure", "ul", "form", "article")
LINKING = "//a/@href | //img/@src | //link/@href"


def normalised(text: str) -> str:
    return " ".join(text.split())


def visible_text(path: Path) -> str:
    """The body's text as a browser lays it out: block elements apart, whitespace normalised."""
    body = lxml.html.parse(str(path)).getroot().body
    for element in body.iter(*BLOCKS):
        element.tail = "\n" + (element.tail or "")
    return normalised(body.text_content())


def local_targets(path: Path) -> list[tuple[str, Path]]:
    """Each relative link of the page and the file it leads to."""
    found = []
    for value in lxml.html.parse(str(path)).getroot().xpath(LINKING):
        parts = urlsplit(value)
        if parts.scheme or not parts.path:
            continue
        found.append((value, (path.parent / unquote(parts.path)).resolve()))
    return found


def absolute_links(path: Path) -> list[str]:
    return [value for value in lxml.html.parse(str(path)).getroot().xpath(LINKING) if re.match(r"https?:", value)]


def shows_body(text: str, article_body: str) -> bool:
    """Every paragraph of ``article_body`` is in ``text`` word for word, in order (captions may come between)."""
    position = 0
    for paragraph in filter(None, (normalised(part) for part in article_body.split("\n\n"))):
        position = text.find(paragraph, position)
        if position < 0:
            return False
        position += len(paragraph)
    return True


CHROMIUM_OFFLINE = (
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
    # Nothing may leave file://: every host name resolves to nothing, and Chromium's own traffic is off.
    "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
    "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck",
)
"""How the tests and scripts/mirror-screenshot run Debian's Chromium on the offline mirror (as root: no sandbox)."""
