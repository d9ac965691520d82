"""The offline HTML mirror: every archived page as the site's own XSL showed it, as plain files.

Browsers are dropping XSLT, and replay tools' URLs already keep Chromium from applying it, so
an archive that keeps only the XML shows nothing. :func:`render_site` reads the WARC archive
(the newest good capture of each URL), applies each page's captured stylesheet with lxml
(:mod:`.transform`: imports and ``document()`` served from the archive only) and writes plain
HTML that any browser opens from the disk, offline, with no XSLT, JavaScript or server:

- every archived article and listing page (an XML page with an ``xml-stylesheet``, or an
  article) becomes ``<scheme>/<host>/<path>.html`` (:mod:`.names`); ``index.html`` is the
  section's first listing page (its folder's ``default.aspx``, or the lowest ``page=``);
- links between archived pages become relative links between those files; images point into
  the image mirror (``DATA_DIR/images``, relative paths); other files the page uses that the
  archive holds (the stylesheet's CSS and logo) are copied into ``assets/``, a CSS file's own
  ``url()`` references rewritten the same way; everything else stays absolute, as
  ``wget --convert-links`` leaves it: a link to a page not archived, or an image never mirrored;
- scripts are removed (``<script>``, ``on*`` attributes, ``javascript:`` links): the site's
  pages need none to read, and a script could only reach the network;
- each page starts with a banner (:mod:`.layout`) saying when it was captured, linking the
  original URL; an article whose stylesheet is not in the archive (or fails) is shown in a
  plain built-in layout, from the record the parser makes of that same capture (the one
  ``scrapy reextract`` gives), marked so in a visible note, ``<body class>`` and
  ``<meta name="generator">``.

Files are written whole through :mod:`sasscrawl.files`. ``manifest.json`` in the folder says
what each file was made from (the capture's payload digest and date, the stylesheets' digests,
where each URL it refers to led); a page whose inputs are all unchanged is neither transformed
nor written again, so a refresh after a run costs reading the archive and writes what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import lxml.html
from lxml import etree

from sasscrawl import files
from sasscrawl.archive import Capture, iter_captures, read_payload
from sasscrawl.mirror import mirror_path
from sasscrawl.pages.article import ArticlePage, NotAnArticle
from sasscrawl.pages.document import Document
from sasscrawl.pages.urls import safe_http_url
from sasscrawl.render.layout import add_banner, builtin_article
from sasscrawl.render.names import ASSETS_FOLDER, SCHEMES, asset_file, page_file
from sasscrawl.render.transform import ArchiveStylesheets
from sasscrawl.section import normal_url

logger = logging.getLogger(__name__)

RENDERER_VERSION = 1
"""Raised when the output for the same inputs changes: every page is then made again."""
MANIFEST_FILE = "manifest.json"
INDEX_FILE = "index.html"
_PAGE_TYPES = re.compile(r"xml|xsl|html", re.IGNORECASE)
_URL_ATTRIBUTES = ("href", "src", "poster", "background", "action", "data")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE)


@dataclass
class RenderReport:
    """What one rendering did; the ``sasscrawl/render/*`` stats of a crawl that refreshes the folder."""

    pages: int = 0
    """Pages the mirror holds (articles and listings, ``index.html`` not counted)."""
    written: int = 0
    """Pages and ``index.html`` made and written this time."""
    unchanged: int = 0
    """Pages whose inputs had not changed since the last rendering: left as they were."""
    builtin_layout: int = 0
    """Articles shown in the built-in layout: their stylesheet is not in the archive (or failed)."""
    failed: int = 0
    """Pages that could not be rendered at all (each logged)."""
    assets: int = 0
    """Files copied from the archive (the stylesheet's CSS and images) this time."""

    def stats(self) -> dict[str, int]:
        return {f"sasscrawl/render/{name}": value for name, value in vars(self).items()}


def render_site(warc_folder: Path, data_dir: Path, out_dir: Path) -> RenderReport:
    """Write (or refresh) the offline mirror of the archive in ``warc_folder`` into ``out_dir``.

    ``data_dir`` is where the image mirror is. Raises OSError (or :class:`files.WriteRefused`)
    when the folder cannot be written; a page that cannot be rendered is logged and counted.
    """
    site = _Site(warc_folder, data_dir, out_dir)
    site.render()
    return site.report


def _key(url: str) -> str | None:
    try:
        return normal_url(url.split("#", 1)[0])
    except ValueError:
        return None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Site:
    def __init__(self, warc_folder: Path, data_dir: Path, out_dir: Path):
        self.data_dir = Path(os.path.abspath(data_dir))
        self.out_dir = Path(os.path.abspath(out_dir))
        self.report = RenderReport()
        self.captures: dict[str, Capture] = {}
        for capture in iter_captures(warc_folder):
            key = _key(capture.url)
            if capture.status == 200 and key and (key not in self.captures or capture.date >= self.captures[key].date):
                self.captures[key] = capture
        self.stylesheets = ArchiveStylesheets(self._payload)
        self.pages: dict[str, bool] = {}
        """Each page's key, and whether it is an article."""
        self.assets: dict[str, str] = {}
        """The archived files the pages use, by key: their file in the folder."""
        self._mirrored: dict[str, str | None] = {}
        self._stylesheet_digests: dict[str, str | None] = {}
        self.manifest = self._read_manifest()
        self.new_manifest: dict[str, dict] = {}

    def _payload(self, url: str) -> bytes | None:
        capture = self.captures.get(_key(url) or "")
        return None if capture is None else read_payload(capture)

    def render(self) -> None:
        self._remove_leftovers()
        digests: dict[str, str] = {}
        for key, capture in sorted(self.captures.items()):
            if capture.content_type is not None and not _PAGE_TYPES.search(capture.content_type):
                continue
            payload = read_payload(capture)
            document = Document(payload, capture.url)
            if document.root is None or document.root.tag != "html":
                continue
            if document.is_article or document.stylesheet_url:
                self.pages[key] = document.is_article
                digests[key] = _digest(payload)
        self.report.pages = len(self.pages)
        first = _first_listing([key for key, article in self.pages.items() if not article],
                               [key for key, article in self.pages.items() if article])
        for key in sorted(self.pages):
            self._page(key, page_file(key), digests[key])
            if key == first:
                self._page(key, INDEX_FILE, digests[key])
        self._copy_assets()
        files.replace_file(self.out_dir, MANIFEST_FILE, json.dumps(
            {"renderer": RENDERER_VERSION, "files": self.new_manifest}, indent=0, sort_keys=True).encode("utf-8"))
        logger.info("Offline mirror in %s: %d pages, %d written, %d unchanged, %d in the built-in layout, "
                    "%d files copied from the archive, %d failed", self.out_dir, self.report.pages,
                    self.report.written, self.report.unchanged, self.report.builtin_layout, self.report.assets,
                    self.report.failed)

    def _remove_leftovers(self) -> None:
        """What a kill left of a write: in the page and asset trees, whose every name is sasscrawl's, and
        at the top only the temporaries of ``index.html`` and the manifest (``-o`` may name a folder of
        the user's, whose own files may look like temporaries)."""
        files.remove_leftovers(self.out_dir, targets=(INDEX_FILE, MANIFEST_FILE))
        for tree in (*SCHEMES, ASSETS_FOLDER):
            for folder, _, _ in os.walk(self.out_dir / tree):
                files.remove_leftovers(self.out_dir, os.path.relpath(folder, self.out_dir))

    # --- the manifest: what each file was made from ---------------------------------------------

    def _read_manifest(self) -> dict[str, dict]:
        try:
            manifest = json.loads((self.out_dir / MANIFEST_FILE).read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(manifest, dict) or manifest.get("renderer") != RENDERER_VERSION:
            return {}
        return manifest.get("files") if isinstance(manifest.get("files"), dict) else {}

    def _unchanged(self, name: str, source: str) -> bool:
        """The file is there and everything it was made from is as it was: the capture, the
        stylesheets, and where each URL it refers to leads."""
        entry = self.manifest.get(name)
        if not isinstance(entry, dict) or entry.get("source") != source or not (self.out_dir / name).is_file():
            return False
        try:
            return (all(self._stylesheet_digest(url) == digest for url, digest in entry["stylesheets"].items())
                    and all(self._target(url) == target for url, target in entry["links"].items()))
        except (KeyError, AttributeError, TypeError):
            return False

    def _stylesheet_digest(self, url: str) -> str | None:
        if url not in self._stylesheet_digests:
            payload = self._payload(url)
            self._stylesheet_digests[url] = None if payload is None else _digest(payload)
        return self._stylesheet_digests[url]

    def _keep(self, name: str, entry: dict) -> None:
        self.new_manifest[name] = entry
        for url, target in entry.get("links", {}).items():
            if target and target.startswith("asset:"):
                self.assets.setdefault(_key(url), target[len("asset:"):])

    # --- pages ---------------------------------------------------------------------------------

    def _page(self, key: str, name: str, digest: str) -> None:
        capture = self.captures[key]
        source = f"{digest} {capture.date}"
        if self._unchanged(name, source):
            self._keep(name, self.manifest[name])
            self.report.unchanged += name != INDEX_FILE
            return
        try:
            document = Document(read_payload(capture), capture.url)
            used: dict[str, str | None] = {}
            root = self.stylesheets.apply(document, used)
            builtin = root is None
            if builtin:
                if not self.pages[key]:
                    logger.warning("Not rendered: listing page %s, its stylesheet %s is not in the archive or failed",
                                   capture.url, document.stylesheet_url)
                    self.report.failed += 1
                    return
                captured = datetime.fromisoformat(capture.date.replace("Z", "+00:00"))
                root = builtin_article(ArticlePage(document, downloaded_at=captured).to_item())
            links: dict[str, str | None] = {}
            _strip_scripts(root)
            self._rewrite(root, capture.url, name, links)
            add_banner(root, capture.url, capture.date, builtin=builtin)
            html = lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="utf-8", method="html")
            files.replace_file(self.out_dir, name, html)
        except OSError:
            raise  # the folder cannot be written: the whole rendering stops
        except NotAnArticle as error:
            logger.warning("Not rendered: %s: %s", capture.url, error)
            self.report.failed += 1
            return
        except Exception as error:  # a capture that breaks the parser or the transform costs that page, not the mirror
            logger.warning("Not rendered: %s: %s: %s", capture.url, type(error).__name__, str(error)[:300])
            self.report.failed += 1
            return
        self.report.written += 1
        self.report.builtin_layout += builtin and name != INDEX_FILE
        self._keep(name, {"source": source, "stylesheets": used, "links": links})

    def _rewrite(self, root, page_url: str, name: str, links: dict[str, str | None]) -> None:
        """Every URL the page refers to, made relative to ``name`` where the folder or the mirror holds it."""
        for element in root.iter(etree.Element):
            for attribute in _URL_ATTRIBUTES:
                value = element.get(attribute)
                if value is not None and not value.startswith("#"):
                    element.set(attribute, self._link(page_url, value, name, links))
            if srcset := element.get("srcset"):
                element.set("srcset", ", ".join(
                    " ".join([self._link(page_url, url, name, links), *rest])
                    for url, *rest in (candidate.split() for candidate in srcset.split(",") if candidate.strip())))
            if style := element.get("style"):
                element.set("style", self._css(page_url, style, name, links))
            if element.tag == "style" and element.text:
                element.text = self._css(page_url, element.text, name, links)

    def _css(self, base: str, css: str, name: str, links: dict[str, str | None]) -> str:
        def rewritten(match: re.Match) -> str:
            if match[2] is not None:
                return f"url({self._link(base, match[2], name, links)})"
            return f'@import "{self._link(base, match[4], name, links)}"'
        return _CSS_URL.sub(rewritten, css)

    def _link(self, base: str, value: str, name: str, links: dict[str, str | None]) -> str:
        """``value`` as the file at ``name`` should refer to it (see the module docstring)."""
        url = safe_http_url(base, value)
        if url is None:
            return value
        key = _key(url)
        target = self._target(url)
        links[url] = target
        if target is None:
            return url
        kind, _, path = target.partition(":")
        if kind == "asset":
            self.assets.setdefault(key, path)
        fragment = urlsplit(url).fragment
        folder = self.data_dir if kind == "image" else self.out_dir
        relative = os.path.relpath(folder / path, (self.out_dir / name).parent)
        return quote(relative.replace(os.sep, "/"), safe="/@=~") + (f"#{fragment}" if fragment else "")

    def _target(self, url: str) -> str | None:
        """Where a URL leads: ``page:<file>``, ``image:<mirror path>``, ``asset:<file>``; None: the web."""
        key = _key(url)
        if key is None:
            return None
        if key in self.pages:
            return f"page:{page_file(key)}"
        if (path := self._mirror(key)) is not None:
            return f"image:{path}"
        if key in self.captures:
            return f"asset:{asset_file(key)}"
        return None

    def _mirror(self, key: str) -> str | None:
        if key not in self._mirrored:
            try:
                path = mirror_path(key)
            except ValueError:
                path = None
            self._mirrored[key] = path if path and (self.data_dir / path).is_file() else None
        return self._mirrored[key]

    # --- files copied from the archive -----------------------------------------------------------

    def _copy_assets(self) -> None:
        done: set[str] = set()
        while pending := [key for key in self.assets if key not in done]:
            for key in pending:
                done.add(key)
                self._asset(key, self.assets[key])

    def _asset(self, key: str, name: str) -> None:
        capture = self.captures[key]
        payload = read_payload(capture)
        source = _digest(payload)
        if self._unchanged(name, source):
            self._keep(name, self.manifest[name])
            return
        links: dict[str, str | None] = {}
        if "css" in (capture.content_type or "").lower() or name.endswith(".css"):
            payload = self._css(capture.url, payload.decode("utf-8", "replace"), name, links).encode("utf-8")
        files.replace_file(self.out_dir, name, payload)
        self.report.assets += 1
        self._keep(name, {"source": source, "stylesheets": {}, "links": links})


def _strip_scripts(root) -> None:
    """No script runs in the mirror: ``<script>`` elements, ``on*`` attributes and ``javascript:`` links go.

    So do ``<base>`` and ``<meta http-equiv="refresh">``, which would send the reader's browser back to the site.
    """
    for element in root.xpath("//script | //base | //meta[translate(@http-equiv, 'REFSH', 'refsh') = 'refresh']"):
        element.drop_tree()
    for element in root.iter(etree.Element):
        for attribute in list(element.attrib):
            value = element.get(attribute).strip().lower()
            if attribute.lower().startswith("on") or value.startswith("javascript:"):
                del element.attrib[attribute]


def _first_listing(listings: list[str], articles: list[str]) -> str | None:
    """The section's first listing page: in the folder of most articles, without a query, else the lowest ``page=``."""
    if not listings:
        return None
    folders = Counter(posixpath.dirname(urlsplit(url).path) for url in articles)
    folder = folders.most_common(1)[0][0] if folders else None

    def order(url: str):
        parts = urlsplit(url)
        pages = parse_qs(parts.query).get("page", [])
        number = int(pages[0]) if pages and pages[0].isdigit() else float("inf")
        return posixpath.dirname(parts.path) != folder, bool(parts.query), number, url

    return min(listings, key=order)
