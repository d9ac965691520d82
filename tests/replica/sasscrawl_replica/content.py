"""Plausible article content for the replica: headlines, bylines, sources and Word-style bodies.

Everything is drawn from a caller-seeded ``random.Random``, so the same seed gives the same
site. The body markup copies the real pages' styles (see tests/fixtures/en.sass.cn_103002_5554
.aspx.xml): a parser that understands real bodies must understand these, and the ground truth
(``Block``) says what a correct parser should extract from them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_TOPICS = (
    "rural revitalization", "green finance", "the digital economy", "R&D investment",
    "elderly care", "urban governance", "new quality productive forces", "the Belt and Road Initiative",
    "carbon neutrality", "AI governance", "consumer demand", "high-quality development",
    "the Greater Bay Area", "free trade zones", "common prosperity", "data security",
    "China's five-year plans", "global health", "the semiconductor industry", "cultural heritage",
    "livestream e-commerce", "the ocean economy", "clean energy", "people's livelihoods",
    "the silver economy", "smart cities", "trade & investment", "social security",
    "the low-altitude economy", "university research", "supply chains", "the private sector",
    "household consumption", "ecological protection", "Pudong's opening-up", "foreign trade",
    "the service sector", "AI & employment", "vocational education", "the sharing economy",
    "county economies", "biomedicine", "urban renewal", "the hukou system", "public diplomacy",
    "youth employment", "green shipping", "the platform economy", "cross-border data flows",
    "regional integration",
)

_HEADLINE_PATTERNS = (
    "{Topic} needs a longer-term view", "Why {topic} matters for China's growth", "Rethinking {topic}",
    "{Topic}: lessons from Zhejiang", "How {topic} can reshape Chinese cities",
    "Opportunities & risks in {topic}", "The next stage of {topic}", "Making {topic} work for everyone",
    "{Topic} and the world economy", "A closer look at {topic}", "Beyond GDP: {topic} in focus",
    "Investing in {topic}", '"{Topic}" is more than a slogan', "What {topic} means for young people",
    "Shanghai's experience with {topic}", "{Topic} enters a new phase", "The case for {topic}",
    "Five questions about {topic}", "{Topic} at a crossroads", "Getting {topic} right",
)

_HEADLINE_SUFFIXES = (
    "", " in 2026", " in the Yangtze River Delta", " under the 15th Five-Year Plan", " after the pandemic",
    " in an uncertain world", " for the next decade", " in rural China", " in the Global South",
    " in a time of change", " beyond 2030", " in Asia", " in a digital age", " in global cooperation",
)

_NAMES = (
    "Liu Ting", "Cai Fang", "Wang Zhen", "Zhang Wei", "Li Na", "Chen Xi", "Zhou Min", "Huang Ping",
    "Xu Lin", "Sun Yu", "Zhao Lei", "Yang Fan", "Wu Jing", "Hu Jun", "Guo Hong", "Ma Li", "Lin Hai",
    "He Qing", "Gao Yang", "Luo Xin", "Einar Tangen", "Maria Costa", "Anil Kumar", "John Ross",
)

_AUTHOR_SEPARATORS = (", ", " and ", " & ", "; ")

_SOURCES = (
    ("China Today", "http://www.chinatoday.com.cn/ctenglish/2018/et/{ym}/t{ymd}_{n}.html"),
    ("Chinese Social Sciences Net", "http://english.cssn.cn/skw_opinion/{ym}/t{ymd}_{n}.shtml"),
    ("China Daily", "http://www.chinadaily.com.cn/a/{ym}/{dd}/WS{hex}.html"),
    ("Global Times", "https://www.globaltimes.cn/page/{ym}/{n}.shtml"),
    ("Beijing Review", "http://www.bjreview.com/Opinion/{ym}/t{ymd}_{n}.html"),
)

_SENTENCES = (
    "Since {year}, {place} has worked with neighbouring regions to advance {topic}.",
    "“{Topic} is no longer optional,” said {name}, a researcher at the Shanghai Academy of Social Sciences.",
    "Data show that in {year}, investment in {topic} grew by {pct} percent year on year.",
    "The plan calls for R&D spending of more than RMB {num} billion by {later}.",
    "It's a model that other provinces are watching closely.",
    'Experts describe the approach as "learning by doing."',
    "The approach has its critics — some argue it favours large firms over small ones.",
    "In {place}, more than {num},000 residents now benefit from {topic}.",
    "Local officials say the results have exceeded expectations, although challenges remain.",
    "{Topic} depends on coordination between government, business & communities.",
    "According to {name}, the key lies in people rather than projects.",
    "The next step is to turn pilot programmes into nationwide policy.",
    "China’s experience offers useful lessons for other developing countries.",
    "Over the past {small} years, the share of {topic} in regional GDP has nearly doubled.",
    "Yet the gap between coastal and inland areas is still wide.",
    "Young entrepreneurs have been drawn back to {place} by new opportunities in {topic}.",
    "A report released in {year} found that demand for {topic} will keep rising.",
    "Policymakers must balance growth with stability and fairness.",
    "The {place} pilot zone, launched in {year}, is now home to {small}0 companies.",
    "This is why {topic} features prominently in the new plan’s priorities.",
)

_PLACES = (
    "Shanghai", "Zhejiang Province", "Anji County", "Pudong New Area", "Jiaxing", "Suzhou", "Hefei",
    "the Lingang Special Area", "Chongqing", "Shenzhen", "Guizhou Province", "Hainan",
)

_SUBHEADINGS = (
    "Creating Synergy", "Youth Power", "Village Companies", "A New Engine", "Shared Benefits",
    "Looking Ahead", "Global Implications", "Challenges Remain", "Policy Support", "Lessons Learned",
)

_CAPTIONS = (
    "An aerial view of {place}.", "Visitors at an exhibition on {topic} in {place}.",
    "Researchers discuss {topic} at a forum in {place}.", "A street scene in {place}.",
    "Workers at a factory in {place}.",
)

_CREDITS = (
    "Photo courtesy of the Publicity Department of the CPC Anji County Committee", "Photo by VCG",
    "Xinhua", "Photo courtesy of the Shanghai Academy of Social Sciences", "{name}",
)

_TNR = "font-family:&#39;Times New Roman&#39;; font-size:12pt"
_STANDFIRST_P = "line-height:20pt; margin:0pt; text-align:justify"
_STANDFIRST_SPAN = f"color:#333333; {_TNR}; font-style:italic; font-weight:bold; text-transform:none"
_BODY_P_STYLES = (
    "line-height:20pt; margin:22.6pt 0pt; text-align:justify",
    "line-height:20pt; margin:0pt 0pt 15pt; text-align:justify",
)
_BODY_SPAN_STYLES = (
    f"{_TNR}; font-style:normal; text-transform:none",
    f"color:#121212; {_TNR}; font-style:normal; text-transform:none",
    f"{_TNR}; font-style:normal; font-weight:normal; text-transform:none",
)
_SUBHEADING_SPAN = f"{_TNR}; font-style:normal; font-weight:bold; text-transform:none"
_CENTRED_P = "line-height:12pt; margin:22.6pt 0pt; text-align:center"
_CAPTION_SPAN = "color:#0000ff; font-family:Arial; font-size:12pt; font-style:normal; text-transform:none"
_CREDIT_SPAN = "color:#0000ff; font-family:Arial; font-size:12pt; font-style:italic; text-transform:none"


@dataclass(frozen=True)
class Block:
    """One paragraph of an article body as a correct parser should see it.

    ``kind`` is "standfirst", "paragraph", "subheading" or "figure". ``text`` is whitespace-
    normalised (``&nbsp;`` counts as a space); for a figure it is the caption without the credit,
    and ``image`` is the site-absolute ``src``.
    """

    kind: str
    text: str
    image: str | None = None
    credit: str | None = None


def headline(rng: random.Random, taken: set[str]) -> str:
    """A headline not in ``taken`` (which it updates): titles repeat only where a quirk wants it."""
    topic = rng.choice(_TOPICS)
    text = rng.choice(_HEADLINE_PATTERNS).format(topic=topic, Topic=_capitalise(topic)) + rng.choice(_HEADLINE_SUFFIXES)
    unique, repeat = text, 1
    while unique in taken:
        repeat += 1
        unique = f"{text} ({repeat})"
    taken.add(unique)
    return unique


def authors(rng: random.Random) -> str:
    """The raw ``<h5>`` byline: one name, sometimes ALL CAPS, several joined variously, or none."""
    roll = rng.random()
    if roll < 0.1:
        return ""
    if roll < 0.3:
        return rng.choice(_NAMES).upper()
    if roll < 0.65:
        return rng.choice(_NAMES)
    if roll < 0.95:
        first, second = rng.sample(_NAMES, 2)
        return first + rng.choice(_AUTHOR_SEPARATORS) + second
    first, second, third = rng.sample(_NAMES, 3)
    return f"{first}, {second} and {third}"


def source(rng: random.Random, year: int, month: int, day: int) -> tuple[str, str] | None:
    """(name, url) of the off-site original, or None for articles written for the site."""
    if rng.random() < 0.15:
        return None
    name, pattern = rng.choice(_SOURCES)
    url = pattern.format(
        ym=f"{year}{month:02d}", ymd=f"{year}{month:02d}{day:02d}", dd=f"{day:02d}",
        n=rng.randrange(10**6, 10**9), hex=f"{rng.getrandbits(64):016x}",
    )
    return name, url


def body_blocks(rng: random.Random, image_paths: tuple[str, ...],
                extra_paragraphs: tuple[str, ...] = ()) -> tuple[Block, ...]:
    """Standfirst (sometimes), paragraphs, subheadings (sometimes) and one figure per image.

    ``extra_paragraphs`` go in after the first ordinary paragraph (e.g. Chinese text for the
    GBK pages).
    """
    blocks: list[Block] = []
    if rng.random() < 0.6:
        blocks.append(Block("standfirst", _sentence(rng)))
    paragraphs = [_paragraph(rng) for _ in range(rng.randint(5, 12))]
    paragraphs[1:1] = extra_paragraphs
    subheading_at = set(rng.sample(range(2, len(paragraphs)), 2)) if rng.random() < 0.5 else set()
    subheadings = iter(rng.sample(_SUBHEADINGS, len(subheading_at)))
    figures = dict(zip(sorted(rng.sample(range(len(paragraphs)), len(image_paths))), image_paths))
    for index, text in enumerate(paragraphs):
        if index in subheading_at:
            blocks.append(Block("subheading", next(subheadings)))
        blocks.append(Block("paragraph", text))
        if index in figures:
            caption = _fill(rng, rng.choice(_CAPTIONS))
            blocks.append(Block("figure", caption, image=figures[index], credit=_fill(rng, rng.choice(_CREDITS))))
    return tuple(blocks)


def body_html(rng: random.Random, blocks: tuple[Block, ...], image_sizes: dict[str, tuple[int, int]]) -> str:
    """The Word-style ``<form>...</form>`` markup of ``blocks``, as it sits in the page's CDATA."""
    paragraph_style = rng.choice(_BODY_P_STYLES)
    span_style = rng.choice(_BODY_SPAN_STYLES)
    parts = ["<form>"]
    for block in blocks:
        if block.kind == "standfirst":
            parts.append(_p(_STANDFIRST_P, _spans(rng, block.text, _STANDFIRST_SPAN)))
        elif block.kind == "subheading":
            trailer = _span(span_style, "&nbsp;") if rng.random() < 0.8 else ""
            parts.append(_p(paragraph_style, _span(_SUBHEADING_SPAN, _escape(block.text)) + trailer))
        elif block.kind == "paragraph":
            parts.append(_p(paragraph_style, _spans(rng, block.text, span_style)))
        else:
            width, height = image_sizes[block.image]
            img = f'<img src="{block.image}" width="{width}" height="{height}" alt="" title=""/>'
            parts.append(_p(_CENTRED_P, img))
            caption = _span(_CAPTION_SPAN, _escape(block.text)) + _span(_CAPTION_SPAN, "&nbsp;")
            parts.append(_p(_CENTRED_P, caption + _span(_CREDIT_SPAN, _escape(block.credit))))
    parts.append("</form>")
    return "".join(parts)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(rng: random.Random, pattern: str) -> str:
    topic = rng.choice(_TOPICS)
    year = rng.randint(2003, 2025)
    return pattern.format(
        topic=topic, Topic=_capitalise(topic), place=rng.choice(_PLACES), name=rng.choice(_NAMES),
        year=year, later=year + rng.randint(3, 10), pct=f"{rng.randint(3, 40)}.{rng.randint(0, 9)}",
        num=rng.randint(2, 900), small=rng.randint(2, 9),
    )


def _sentence(rng: random.Random) -> str:
    return _fill(rng, rng.choice(_SENTENCES))


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def _escape(text: str) -> str:
    """HTML-escape as the site's editor does: ``&#39;`` for apostrophes, ``&nbsp;`` kept named."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;").replace("\xa0", "&nbsp;"))


def _p(style: str, inner: str) -> str:
    return f'<p style="{style}">{inner}</p>'


def _span(style: str, inner_html: str) -> str:
    return f'<span style="{style}">{inner_html}</span>'


def _spans(rng: random.Random, text: str, style: str) -> str:
    """Usually one span; sometimes the text is split over several, a space becoming an ``&nbsp;`` span."""
    words = text.split(" ")
    if len(words) < 6 or rng.random() < 0.6:
        return _span(style, _escape(text))
    cuts = sorted(rng.sample(range(1, len(words)), 2))
    chunks = [" ".join(words[:cuts[0]]), " ".join(words[cuts[0]:cuts[1]]), " ".join(words[cuts[1]:])]
    html = _span(style, _escape(chunks[0]))
    for chunk in chunks[1:]:
        if rng.random() < 0.5:
            html += _span(style, "&nbsp;") + _span(style, _escape(chunk))
        else:
            html += _span(style, _escape(" " + chunk))
    return html
