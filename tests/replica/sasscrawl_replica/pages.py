"""Render replica pages in the exact XML layout en.sass.cn serves.

The real site writes its pages with an indenting XML writer: one tab per level, empty elements
self-closed as ``<h2 />``, text-only elements on one line, no newline after ``</html>``. A tiny
element tree plus a serializer that follows those rules reproduces the real article page 5554
byte for byte (tests/test_replica.py checks it), so generated pages differ from real ones only
in their data.
"""

from __future__ import annotations

from dataclasses import dataclass

ARTICLE_STYLESHEET = "/ui/templates/normal/view.xsl"
PRINT_STYLESHEET = "/ui/templates/normal/print.xsl"
COMMON_STYLESHEET = "/ui/templates/normal/common.xsl"
LISTING_STYLESHEET = "/ui/templates/normal/list.xsl"
SITE_TITLE = "Sass English Web"
IMAGE_LIST_SLOTS = 3


@dataclass(frozen=True)
class CData:
    text: str


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: tuple[tuple[str, str], ...] = ()
    content: str | CData | tuple[Element, ...] = ""


def el(tag: str, content: str | CData | tuple[Element, ...] | list[Element] = "", /, **attrs: str) -> Element:
    """Build an element; attribute order is keyword order, as the real writer keeps it."""
    if isinstance(content, list):
        content = tuple(content)
    return Element(tag, tuple(attrs.items()), content)


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    return escape_text(text).replace('"', "&quot;")


def _serialize(element: Element, depth: int, lines: list[str]) -> None:
    indent = "\t" * depth
    start = "<" + element.tag + "".join(f' {name}="{escape_attr(value)}"' for name, value in element.attrs)
    content = element.content
    if isinstance(content, CData):
        lines.append(f"{indent}{start}><![CDATA[{content.text}]]></{element.tag}>")
    elif isinstance(content, str):
        if content:
            lines.append(f"{indent}{start}>{escape_text(content)}</{element.tag}>")
        else:
            lines.append(f"{indent}{start} />")
    elif not content:
        lines.append(f"{indent}{start} />")
    else:
        lines.append(f"{indent}{start}>")
        for child in content:
            _serialize(child, depth + 1, lines)
        lines.append(f"{indent}</{element.tag}>")


def document(root: Element, stylesheet: str) -> str:
    """The whole page: XML declaration, stylesheet PI, the tree; no trailing newline."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<?xml-stylesheet type='text/xsl' href='{stylesheet}'?>",
    ]
    _serialize(root, 0, lines)
    return "\n".join(lines)


@dataclass(frozen=True)
class Link:
    href: str
    text: str


@dataclass(frozen=True)
class HotLink:
    views: int
    link: Link


@dataclass(frozen=True)
class Section:
    """Where a page sits: its own section and the parent shown second in the breadcrumb.

    A top-level section (RESEARCH itself) has no parent: empty ``parent_id``.
    """

    id: str
    name: str
    parent_id: str = ""
    parent_name: str = ""

    def breadcrumb(self) -> Element:
        links = [el("a", self.name, href=f"../{self.id}/default.aspx")]
        if self.parent_id:
            links.append(el("a", self.parent_name, href=f"../{self.parent_id}/default.aspx"))
        return el("span", links)

    def title(self, prefix: str) -> str:
        """``{prefix} _Sass English Web-RESEARCH-Commentary``: site, parent, section."""
        trail = [self.parent_name, self.name] if self.parent_id else [self.name]
        return f"{prefix} _{SITE_TITLE}-" + "-".join(trail)

    def html(self, children: list[Element]) -> Element:
        return el("html", children, RelativePath="/", **{"class": self.id, "site": self.id})


@dataclass(frozen=True)
class Sidebars:
    """The "new" (10 newest) and "hot" (10 most read) lists every page carries."""

    newest: tuple[Link, ...]
    most_viewed: tuple[HotLink, ...]

    def elements(self) -> list[Element]:
        return [
            el("ul", [el("li", [el("a", link.text, href=link.href)]) for link in self.newest], id="new"),
            el("ul", [
                el("li", [el("a", hot.link.text, id=str(hot.views), href=hot.link.href)])
                for hot in self.most_viewed
            ], id="hot"),
        ]


@dataclass(frozen=True)
class ArticlePage:
    section: Section
    article_id: int
    headline: str
    date_published: str
    authors: str
    source: Link | None
    body_html: str
    posted: str
    views: int
    image_list: tuple[str, ...]
    previous: Link | None
    next: Link | None
    sidebars: Sidebars
    related: tuple[Link, ...] = ()
    """A ``<ul id="related">`` after the sidebars, as listing pages have: the long-links site's (see ``site``)."""


def render_article(page: ArticlePage, stylesheet: str = ARTICLE_STYLESHEET) -> str:
    section = page.section
    padded_images = page.image_list + ("",) * (IMAGE_LIST_SLOTS - len(page.image_list))
    article = [
        el("h1", page.headline),
        el("h2"),
        el("h3", "Aria"),
        el("h4", page.date_published),
        el("h5", page.authors),
    ]
    if page.source:
        article.append(el("a", page.source.text, href=page.source.href))
    article += [
        el("p", CData(page.body_html)),
        el("b", page.posted),
        el("dd", str(page.views)),
        el("ul", [el("li", path) for path in padded_images]),
    ]
    body = [section.breadcrumb(), el("div", article)]
    if page.previous:
        body.append(el("a", page.previous.text, id="perv", href=page.previous.href))
    if page.next:
        body.append(el("a", page.next.text, id="next", href=page.next.href))
    body += page.sidebars.elements()
    if page.related:
        body.append(el("ul", [el("li", [el("a", link.text, href=link.href)]) for link in page.related], id="related"))
    root = section.html([
        el("head", [
            el("title", section.title(page.headline)),
            el("meta", id=str(page.article_id), name="description", content=f"{page.headline} "),
        ]),
        el("body", body),
    ])
    return document(root, stylesheet)


@dataclass(frozen=True)
class ListingEntry:
    link: Link
    date: str = ""
    print_href: str | None = None


@dataclass(frozen=True)
class ListingPage:
    """A section listing. The real layout is unknown; this one is invented in the article style."""

    section: Section
    entries: tuple[ListingEntry, ...]
    pager: tuple[Element, ...]
    related: tuple[Link, ...]
    sidebars: Sidebars | None


def render_listing(page: ListingPage) -> str:
    section = page.section
    entries = []
    for entry in page.entries:
        children = [el("a", entry.link.text, href=entry.link.href)]
        if entry.date:
            children.append(el("span", entry.date))
        if entry.print_href:
            children.append(el("a", "Print", href=entry.print_href))
        entries.append(el("li", children))
    body = [
        section.breadcrumb(),
        el("ul", entries, id="list"),
        el("div", list(page.pager), id="pager"),
    ]
    if page.related:
        body.append(el("ul", [el("li", [el("a", link.text, href=link.href)]) for link in page.related], id="related"))
    if page.sidebars:
        body += page.sidebars.elements()
    root = section.html([
        el("head", [el("title", section.title(section.name))]),
        el("body", body),
    ])
    return document(root, LISTING_STYLESHEET)
