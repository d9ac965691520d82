"""A fetched page parsed once, as XML if it can be read as XML, for the page objects to read.

The well-formed page costs one strict parse of its bytes. Anything else is repaired
(:func:`sasscrawl.pages.repair.repair`) and parsed in recovery mode, and a page that is not XML
at all (an HTML listing, say) is read as HTML. What happened is kept for the caller to count.
"""

from __future__ import annotations

from lxml import etree

from sasscrawl.pages.doctype import without_doctypes
from sasscrawl.pages.repair import is_truncated, repair
from sasscrawl.pages.urls import safe_http_url

_XML_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)
STRICT_XML = etree.XMLParser(**_XML_PARSER_OPTIONS)
RECOVERING_XML = etree.XMLParser(recover=True, **_XML_PARSER_OPTIONS)
"""Neither loads a DTD, resolves an entity or touches the network."""
# lxml.etree's HTML parser, not lxml.html's: plain elements, without a Python class lookup per element.
_HTML = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
# Compiled once: the crawl evaluates these on every page.
_LOOKS_LIKE_ARTICLE = etree.XPath("boolean(body/div/h1 | head/meta[@id])")
_ALL_LINKS = etree.XPath("//*[local-name()='a']/@href", smart_strings=False)


class Document:
    """A fetched page, parsed once as XML; recovers what it can from damaged bytes.

    ``root`` is None when the bytes are neither XML nor HTML.
    """

    FLAGS = ("recovered", "truncated", "doctype_removed", "encoding_refused")
    """What the caller may count: recovered in recovery mode, cut off before ``</html>``, a DOCTYPE cut
    out, the declared encoding refused (see :func:`sasscrawl.pages.encoding.decode`)."""

    def __init__(self, body: bytes, url: str):
        self.url = url
        self.recovered = False
        self.truncated = False
        self.encoding_refused = False
        body, self.doctype_removed = without_doctypes(body)
        self.root = self._parse(body)

    def _parse(self, body: bytes):
        try:
            return etree.fromstring(body, STRICT_XML)
        except (etree.XMLSyntaxError, ValueError):
            pass
        self.recovered = True
        self.truncated = is_truncated(body)
        text, self.encoding_refused = repair(body)
        try:
            root = etree.fromstring(text, RECOVERING_XML)
        except (etree.XMLSyntaxError, ValueError):
            root = None
        if root is None:
            # Not XML at all (an HTML listing, say): read it as HTML.
            try:
                root = etree.fromstring(text, _HTML)
            except (etree.LxmlError, ValueError):
                root = None
        return root

    @property
    def relative_path(self) -> str:
        """The site root the ``ul`` image paths are relative to (``html/@RelativePath``)."""
        if self.root is None:
            return "/"
        return self.root.get("RelativePath") or "/"

    @property
    def is_article(self) -> bool:
        """Looks like an article page: it has the article ``div`` with an ``h1`` slot or a ``meta/@id``."""
        if self.root is None:
            return False
        return _LOOKS_LIKE_ARTICLE(self.root)

    @property
    def stylesheet_url(self) -> str | None:
        """The absolute URL of the page's ``xml-stylesheet`` (the XSLT a browser renders it with)."""
        if self.root is None:
            return None
        for node in self.root.itersiblings(preceding=True):
            if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-stylesheet":
                return safe_http_url(self.url, node.get("href"))
        return None

    def links(self) -> list[str]:
        """Every ``a/@href`` of the page as an absolute URL, in document order, each once."""
        if self.root is None:
            return []
        seen: dict[str, None] = {}
        for href in _ALL_LINKS(self.root):
            url = safe_http_url(self.url, href)
            if url is not None:
                seen.setdefault(url, None)
        return list(seen)
