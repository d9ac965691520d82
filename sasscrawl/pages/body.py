"""The CDATA body: Word-style HTML read into paragraphs and classified the way the site's styles mean it.

What the styles mean (see the site's page format): a first paragraph all bold and italic is the
standfirst; a short paragraph all bold, not italic, is a subheading; a centred paragraph holding
only images is a figure, the centred paragraph after it its caption, and a trailing italic part
of the caption the credit. The HTML is rebuilt from what was read, never copied: only ``p``,
``h2``, ``strong``, ``em``, ``a`` (safe http(s) URLs) and ``figure``/``img``/``figcaption``.

Made for speed: the body is most of a page's cost, and every page fetched is read. The walk
touches each element once, runs are plain tuples, a block is made only when text or an image
arrives, and the output is built with lxml's C element factory.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from lxml import etree

from sasscrawl.pages.text import CONTROL_CHARS, int_or_none, normalise_text, squash
from sasscrawl.pages.urls import safe_http_url

_HTML_UTF8 = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, encoding="utf-8")
_SENTENCE_END = re.compile(r"[.!?。:;,]$")

SUBHEADING_MAX_WORDS = 12
"""A bold paragraph longer than this is emphasised prose, not a subheading."""

_SKIPPED_TAGS = frozenset(
    "script style noscript template iframe object embed applet head title select option "
    "button input textarea svg math audio video canvas".split()
)
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li blockquote table tr td th ul ol dl dt dd section article "
    "header footer pre address center form figure figcaption".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_BOLD_TAGS = _HEADING_TAGS | {"b", "strong"}
_ITALIC_TAGS = frozenset(("i", "em", "cite"))


class _Image(NamedTuple):
    src: str
    width: str | None
    height: str | None
    alt: str | None


# A run is a piece of inline text with the emphasis it is shown with: (text, (bold, italic, href)),
# plain tuples because one is made for every text node, and one emphasis is shared by many runs.


class _Block:
    """A paragraph-level piece of the body: its runs, images and alignment; ``text`` and ``words`` once walked."""

    __slots__ = ("centred", "heading", "runs", "images", "is_caption", "text", "words")

    def __init__(self, centred: bool, heading: bool):
        self.centred = centred
        self.heading = heading
        self.runs: list[tuple[str, tuple[bool, bool, str | None]]] = []
        self.images: list[_Image] = []
        self.is_caption = False
        self.text = ""
        self.words = 0

    def visible_runs(self) -> list[tuple[str, tuple[bool, bool, str | None]]]:
        return [run for run in self.runs if not run[0].isspace()]


def _style_flags(style: str) -> tuple[bool | None, bool | None, str | None]:
    """(bold, italic, text-align) that a ``style`` attribute sets, None where it is silent.

    The body repeats a few styles many times, so each distinct one is read once
    (``_cached_style_flags``), unless it is longer than ``STYLE_CACHE_KEY_MAX``: not kept.
    """
    declarations = {}
    for declaration in CONTROL_CHARS.sub("", style).split(";"):
        name, _, value = declaration.partition(":")
        if value:
            declarations[name.strip().lower()] = value.strip().lower()
    weight, slant = declarations.get("font-weight"), declarations.get("font-style")
    return (
        None if weight is None else weight in ("bold", "bolder") or (int_or_none(weight) or 0) >= 600,
        None if slant is None else slant in ("italic", "oblique"),
        declarations.get("text-align"),
    )


_cached_style_flags = lru_cache(maxsize=1024)(_style_flags)
STYLE_CACHE_KEY_MAX = 512


_PLAIN = (False, False, None)
_SILENT_STYLE = (None, None, None)
_EMPHASIS_TAGS = _HEADING_TAGS | {"b", "strong", "a"} | _ITALIC_TAGS

_C0_AND_DEL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_NONCHARACTER_UTF8 = re.compile(rb"\xef\xbf[\xbe\xbf]")


def _holds_control_chars(element) -> bool:
    """Whether the text under ``element`` holds a character ``CONTROL_CHARS`` removes."""
    return _holds_control_bytes(etree.tostring(element, method="text", encoding="utf-8"))


def _holds_control_bytes(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds a character ``CONTROL_CHARS`` removes.

    Checked on bytes, several times quicker than a regular expression over the text; the rare
    text that holds one is then scrubbed with the regular expression.
    """
    return (len(data.translate(None, _C0_AND_DEL)) != len(data) or _C1_UTF8.search(data) is not None
            or _NONCHARACTER_UTF8.search(data) is not None)


class Body:
    """The CDATA body HTML read: ``standfirst``, ``subheadings``, ``figures``, ``word_count``, ``text``, ``html``."""

    def __init__(self, html: str, page_url: str):
        self.page_url = page_url
        self.standfirst: str | None = None
        self.subheadings: list[str] = []
        self.figures: list[dict] = []
        self.word_count = 0
        texts: list[str] = []
        out = etree.Element("div")
        blocks = self._blocks(html)
        for index, block in enumerate(blocks):
            if block.is_caption:
                continue
            text = block.text
            if block.images and not text:
                caption_block = blocks[index + 1] if index + 1 < len(blocks) else None
                caption, credit = self._caption(caption_block)
                for image in block.images:
                    self.figures.append({"url": image.src, "caption": caption, "credit": credit})
                    self._figure_html(out, image, caption, credit)
                if caption or credit:
                    caption_block.is_caption = True  # not body text
                continue
            if not text:
                continue
            visible = block.visible_runs()
            all_bold = bool(visible) and all(emphasis[0] for _, emphasis in visible)
            all_italic = bool(visible) and all(emphasis[1] for _, emphasis in visible)
            if self.standfirst is None and not texts and all_bold and all_italic:
                self.standfirst = text
                _element(_element(_element(out, "p"), "strong"), "em").text = text
            elif block.heading or (all_bold and not all_italic and self._short(block)):
                self.subheadings.append(text)
                _element(out, "h2").text = text
            elif not any(emphasis != _PLAIN for _, emphasis in visible):
                _element(out, "p").text = text  # the usual paragraph: no emphasis, no link
            else:
                self._paragraph_html(out, block.runs)
            texts.append(text)
            self.word_count += block.words
            for image in block.images:
                self.figures.append({"url": image.src, "caption": None, "credit": None})
                self._figure_html(out, image, None, None)
        self.text = "\n\n".join(texts)
        self.html = _serialise(out)

    @staticmethod
    def _short(block: _Block) -> bool:
        return block.words <= SUBHEADING_MAX_WORDS and not _SENTENCE_END.search(block.text)

    def _blocks(self, html: str) -> list[_Block]:
        """Walk the body iteratively (deep nesting must not exhaust the stack) into blocks."""
        if not html or html.isspace():
            return []
        try:
            data = html.encode("utf-8")
            if _holds_control_bytes(data):  # raw ones: XML allows U+007F-U+009F, the markup must not see them
                data = CONTROL_CHARS.sub("", html).encode("utf-8")
            root = etree.fromstring(data, _HTML_UTF8)
        except (etree.LxmlError, ValueError):
            return []
        container = root.find("body") if root is not None else None  # None: markup without one element
        if container is None:
            return []
        # Character references (&#x1b;) make them again: text must not hold control characters.
        scrub = CONTROL_CHARS.sub if _holds_control_chars(container) else None
        page_url = self.page_url
        blocks: list[_Block] = []
        block = None  # the block receiving runs; None: the next run or image opens one as `opening` says
        opening = (False, False)  # (centred, heading)
        state = ((False, False, None), False, False)  # ((bold, italic, href), centred, heading) in force
        stack = [state]  # the state inside each open element
        skip_depth = 0
        for event, element in etree.iterwalk(container, events=("start", "end")):
            if event == "start":
                tag = element.tag
                if skip_depth or tag in _SKIPPED_TAGS or tag.__class__ is not str:
                    skip_depth += 1
                    continue
                emphasis, centred, heading = state
                style = element.get("style")
                if not style:
                    weight, slant, align = _SILENT_STYLE
                elif len(style) <= STYLE_CACHE_KEY_MAX:
                    weight, slant, align = _cached_style_flags(style)
                else:
                    weight, slant, align = _style_flags(style)
                if weight is not None or slant is not None or tag in _EMPHASIS_TAGS:
                    bold, italic, href = emphasis
                    if weight is not None:
                        bold = weight
                    if slant is not None:
                        italic = slant
                    if tag in _BOLD_TAGS:
                        bold = True
                    elif tag in _ITALIC_TAGS:
                        italic = True
                    elif tag == "a":
                        href = safe_http_url(page_url, element.get("href"))
                    emphasis = (bold, italic, href)
                if tag in _BLOCK_TAGS:
                    centred = (align == "center" if align is not None else centred) or (
                        (element.get("align") or "").lower() == "center"
                    )
                    heading = tag in _HEADING_TAGS
                    block = None
                    opening = (centred, heading)
                    state = (emphasis, centred, heading)
                elif emphasis is not state[0]:
                    state = (emphasis, centred, heading)
                stack.append(state)
                if tag == "img":
                    src = safe_http_url(page_url, element.get("src"))
                    if src:
                        if block is None:
                            block = _Block(*opening)
                            blocks.append(block)
                        block.images.append(_Image(src, _dimension(element.get("width")),
                                                   _dimension(element.get("height")),
                                                   normalise_text(element.get("alt")) or None))
                elif tag == "br":
                    if block is None:
                        block = _Block(*opening)
                        blocks.append(block)
                    block.runs.append((" ", emphasis))
                text = element.text
            else:
                if skip_depth:
                    skip_depth -= 1
                    if skip_depth:
                        continue
                else:
                    stack.pop()
                    state = stack[-1]
                    if element.tag in _BLOCK_TAGS:
                        block = None
                        opening = state[1:]
                text = element.tail
            if text:
                if block is None:
                    block = _Block(*opening)
                    blocks.append(block)
                block.runs.append((scrub("", text) if scrub else text, state[0]))
        for block in blocks:
            words = "".join([run[0] for run in block.runs]).split()
            block.text = " ".join(words)
            block.words = len(words)
        return blocks

    @staticmethod
    def _caption(block: _Block | None) -> tuple[str | None, str | None]:
        """The centred paragraph after a figure is its caption; a trailing italic part is the credit."""
        if block is None or not block.centred or block.images or not block.text:
            return None, None
        runs = block.visible_runs()
        split = len(runs)
        while split > 0 and runs[split - 1][1][1]:
            split -= 1
        if split == 0:  # wholly italic: a caption, not a credit
            return block.text, None
        caption = squash("".join(run[0] for run in runs[:split]))
        credit = squash(" ".join(run[0] for run in runs[split:])) or None
        return caption or None, credit

    @staticmethod
    def _figure_html(out, image: _Image, caption: str | None, credit: str | None) -> None:
        figure = _element(out, "figure")
        attributes = {"src": image.src}
        for name in ("width", "height", "alt"):
            if getattr(image, name):
                attributes[name] = getattr(image, name)
        _element(figure, "img", attributes)
        if caption or credit:
            figcaption = _element(figure, "figcaption")
            figcaption.text = caption or ""
            if credit:
                if caption:
                    figcaption.text += " "
                _element(figcaption, "em").text = credit

    @staticmethod
    def _paragraph_html(out, runs: list[tuple[str, tuple[bool, bool, str | None]]]) -> None:
        """A ``p`` with ``strong``/``em``/``a`` where the emphasis or link covers real text."""
        paragraph = _element(out, "p")
        segments: list[list] = []  # [text, bold, italic, href]
        for text, emphasis in runs:
            key = emphasis if not text.isspace() else None
            if segments and (key is None or tuple(segments[-1][1:]) == key):
                segments[-1][0] += text
            else:
                segments.append([text, *(key or (False, False, None))])
        last = None
        for index, (text, bold, italic, href) in enumerate(segments):
            text = (" " if text[:1].isspace() else "") + squash(text) + (" " if text[-1:].isspace() else "")
            if index == 0 or (last is not None and last.endswith(" ")):
                text = text.lstrip()
            if index == len(segments) - 1:
                text = text.rstrip()
            if not text:
                continue
            last = text
            if not (bold or italic or href):
                _append_text(paragraph, text)
                continue
            core = text.strip()
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            if lead:
                _append_text(paragraph, lead)
            node = outer = None
            for tag, applies in (("strong", bold), ("em", italic), ("a", href)):
                if applies:
                    node = _element(node if node is not None else paragraph, tag)
                    outer = node if outer is None else outer
            if href:
                node.set("href", href)
            node.text = core
            outer.tail = trail or None


_element = etree.SubElement


def _append_text(parent, text: str) -> None:
    """Text after ``parent``'s last child, or inside it when it has none."""
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _serialise(wrapper) -> str:
    """The wrapper's children as HTML, one per line, in one serialiser call."""
    if not len(wrapper):
        return ""
    for element in wrapper[:-1]:
        element.tail = "\n"
    html = etree.tostring(wrapper, method="html", encoding="unicode")
    return html[len("<div>"):-len("</div>")]


def _dimension(value: str | None) -> str | None:
    value = CONTROL_CHARS.sub("", value).strip() if value else ""
    return value if value.isdecimal() else None
