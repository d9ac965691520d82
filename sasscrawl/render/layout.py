"""What the mirror adds to a page: the capture banner, and the built-in layout of an article
whose stylesheet the archive lacks. Plain HTML with inline CSS, nothing to load."""

from __future__ import annotations

from lxml.html import builder as E

GENERATOR = "sasscrawl render"
BUILTIN_GENERATOR = f"{GENERATOR} (built-in layout)"
BUILTIN_CLASS = "sasscrawl-builtin-layout"
BANNER_CLASS = "sasscrawl-capture"
_BANNER_STYLE = ("font: 13px/1.4 sans-serif; background: #fff8dc; color: #333; border-bottom: 1px solid #d8c98c;"
                 " padding: 6px 12px; margin: 0 0 12px 0; clear: both")
_BUILTIN_STYLE = """body { font: 17px/1.55 Georgia, serif; max-width: 42em; margin: 0 auto; padding: 0 1em 3em; }
.sasscrawl-note { font: 13px sans-serif; color: #8a5a00; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; }
.byline { color: #555; }"""


def add_banner(root, url: str, captured: str, builtin: bool) -> None:
    """The capture time and the original URL, first in the body; the generator in the head."""
    head = root.find("head")
    if head is None:
        head = E.HEAD()
        root.insert(0, head)
    # The file is written in UTF-8, whatever the page or its stylesheet declared.
    for declared in head.xpath("meta[@charset] | meta[translate(@http-equiv, 'CONTEYP', 'conteyp') = 'content-type']"):
        declared.drop_tree()
    head.insert(0, E.META(charset="utf-8"))
    head.append(E.META(name="generator", content=BUILTIN_GENERATOR if builtin else GENERATOR))
    body = root.find("body")
    if body is None:
        body = E.BODY()
        root.append(body)
    shown = captured.replace("T", " ")[:16] + " UTC"
    body.insert(0, E.DIV(
        {"class": BANNER_CLASS, "style": _BANNER_STYLE},
        "Offline copy from the archive: captured ", E.TIME(shown, datetime=captured), " from ",
        E.A(url, href=url, **{"class": "sasscrawl-original"}), ".",
    ))


def builtin_article(record: dict):
    """An article from its record, in a plain layout marked as sasscrawl's own."""
    byline = "; ".join(author["name"] for author in record.get("authors") or [])
    published = (record.get("datePublished") or "")[:10]
    figures = [E.FIGURE(E.IMG(src=image["url"], alt="")) for image in record.get("images") or []]
    paragraphs = [E.P(paragraph) for paragraph in (record.get("articleBody") or "").split("\n\n") if paragraph]
    source = record.get("source") or {}
    article = E.E.article(
        E.H1(record["headline"]),
        E.P(" · ".join(part for part in (byline, published) if part), E.CLASS("byline")),
        *figures, *paragraphs,
        *([E.P("Source: ", E.A(source.get("name") or source["url"], href=source["url"]))] if source.get("url") else []),
    )
    return E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.TITLE(record["headline"]), E.STYLE(_BUILTIN_STYLE)),
        E.BODY(
            E.P("The site's stylesheet for this page is not in the archive: shown in sasscrawl's plain layout, "
                "made from the captured page.", E.CLASS("sasscrawl-note")),
            article, E.CLASS(BUILTIN_CLASS),
        ),
    )
