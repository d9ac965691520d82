"""What a page's XSL stylesheet needs to render, for the archive to keep it renderable."""

from __future__ import annotations

from lxml import etree

from sasscrawl.pages.doctype import without_doctypes
from sasscrawl.pages.document import RECOVERING_XML
from sasscrawl.pages.urls import safe_http_url

_XSL_NAMESPACE = "http://www.w3.org/1999/XSL/Transform"


def stylesheet_references(body: bytes, url: str) -> list[str]:
    """What an XSL stylesheet needs to render: imported and included stylesheets, and the
    stylesheets, scripts and images its output links to (static URLs only, absolute, each once)."""
    try:
        root = etree.fromstring(without_doctypes(body)[0], RECOVERING_XML)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    hrefs = root.xpath("//xsl:import/@href | //xsl:include/@href", namespaces={"xsl": _XSL_NAMESPACE})
    hrefs += root.xpath("//*[local-name()='link']/@href | //*[local-name()='script']/@src | //*[local-name()='img']/@src")
    urls = (safe_http_url(url, str(href)) for href in hrefs if "{" not in href)
    return list(dict.fromkeys(found for found in urls if found))
