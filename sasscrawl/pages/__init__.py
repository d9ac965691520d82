"""Page objects for en.sass.cn: bytes and a URL in, plain data out.

No Scrapy here (a test keeps it so), so pages are tested from saved inputs, reused by offline
re-extraction and benchmarked on their own. A page is an XML document (styled by client-side
XSLT) whose article body is Word-style HTML inside a CDATA section: it is parsed once as XML
(:class:`~sasscrawl.pages.document.Document`), and the body a second time with lxml's HTML
parser (:mod:`~sasscrawl.pages.body`). The page objects read fields from the parsed document,
one small method per field: :class:`~sasscrawl.pages.article.ArticlePage` (the Article record)
and :class:`~sasscrawl.pages.listing.ListingPage` (the section's links).

Hostile or damaged input is handled here, once, for every caller:

* any bytes with any URL give a document, and its article a record or ``NotAnArticle``, in time
  linear in the input: no regular expression here can backtrack over page content, no URL
  urllib cannot read raises (:mod:`~sasscrawl.pages.urls`);
* DOCTYPEs are cut out by a single forward scan before parsing (:mod:`~sasscrawl.pages.doctype`),
  and the parser never loads DTDs, resolves entities or touches the network, so XXE and
  entity-expansion bombs are inert;
* malformed XML (a bare ``&``, unclosed tags, invalid bytes, a page cut off inside the CDATA
  body) is repaired (:mod:`~sasscrawl.pages.repair`, :mod:`~sasscrawl.pages.encoding`) and
  parsed in recovery mode, and the document says so (``recovered``, ``truncated``,
  ``encoding_refused``) for the caller to count;
* an article's identity (id, ``url``, section id) comes from its URL alone
  (:func:`sasscrawl.section.article_identity`): what the page says about itself is data,
  compared and reported, never believed;
* the body HTML is rebuilt from what was read, never copied, so only a small set of tags and
  safe ``http(s)`` URLs can reach ``articleBodyHtml``.
"""
