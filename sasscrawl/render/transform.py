"""The site's XSL stylesheets, applied with lxml from the archive alone.

Every stylesheet, ``xsl:import``/``xsl:include`` and ``document()`` is served by
:class:`_ArchiveResolver` from the archive's captures; a URL the archive does not hold gets an
empty ``<missing/>`` document, never the network or the disk. ``read_file`` is denied as well
(``XSLTAccessControl``), and so is every write: a ``file:`` URL or a path is not even asked for.
Network reads must stay allowed in the access control, because libxslt checks it for every
``http:`` URL before any resolver is asked; the resolver then answers them all.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import lxml.html
from lxml import etree

from sasscrawl.pages.doctype import without_doctypes
from sasscrawl.pages.document import Document

logger = logging.getLogger(__name__)

MISSING = b"<missing/>"
ACCESS = etree.XSLTAccessControl(read_file=False, write_file=False, create_dir=False, read_network=True,
                                 write_network=False)


class _ArchiveResolver(etree.Resolver):
    def __init__(self, payload: Callable[[str], bytes | None]):
        super().__init__()
        self.payload = payload
        self.used: dict[str, str | None] | None = None
        """The URLs asked for while one stylesheet is compiled or applied, and their payloads' digests."""

    def resolve(self, url, pubid, context):
        payload = self.payload(url) if url.startswith(("http://", "https://")) else None
        if self.used is not None:
            self.used[url] = None if payload is None else hashlib.sha256(payload).hexdigest()
        if payload is None:
            return self.resolve_string(MISSING, context)
        return self.resolve_string(without_doctypes(payload)[0], context, base_url=url)


class ArchiveStylesheets:
    """Each stylesheet compiled once; :meth:`apply` renders a page with its own."""

    def __init__(self, payload: Callable[[str], bytes | None]):
        self.resolver = _ArchiveResolver(payload)
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        self.parser.resolvers.add(self.resolver)
        self.payload = payload
        self.compiled: dict[str, tuple[etree.XSLT | None, dict[str, str | None]]] = {}

    def _compile(self, url: str) -> tuple[etree.XSLT | None, dict[str, str | None]]:
        if url not in self.compiled:
            used: dict[str, str | None] = {}
            self.resolver.used = used
            try:
                payload = self.payload(url)
                used[url] = None if payload is None else hashlib.sha256(payload).hexdigest()
                transform = None
                if payload is not None:
                    tree = etree.fromstring(without_doctypes(payload)[0], self.parser, base_url=url)
                    transform = etree.XSLT(tree, access_control=ACCESS)
            except (etree.XMLSyntaxError, etree.XSLTParseError, ValueError) as error:
                logger.warning("Stylesheet %s from the archive cannot be used: %s", url, error)
                transform = None
            finally:
                self.resolver.used = None
            if payload is None:
                logger.warning("Stylesheet %s is not in the archive: its pages get the built-in layout", url)
            self.compiled[url] = transform, used
        return self.compiled[url]

    def apply(self, document: Document, used: dict[str, str | None]):
        """The page as its stylesheet shows it (an ``lxml.html`` root); None when it has none or it fails.

        ``used`` gets the URLs the stylesheet read and their digests, for the manifest.
        """
        url = document.stylesheet_url
        if url is None:
            return None
        transform, compiled_with = self._compile(url)
        used.update(compiled_with)
        if transform is None:
            return None
        self.resolver.used = used
        try:
            result = transform(document.root.getroottree())
        except etree.XSLTApplyError as error:
            logger.warning("Stylesheet %s failed on %s: %s", url, document.url, error)
            return None
        finally:
            self.resolver.used = None
        text = str(result)  # serialised as the stylesheet says, disable-output-escaping honoured
        if not text.strip():
            return None
        return lxml.html.document_fromstring(text)
