"""The site's client-side XSLT and what it uses, so archived pages can be rendered.

The real pages name ``/ui/templates/normal/view.xsl`` (articles) in their
``xml-stylesheet`` instruction; the replica's listing and print pages name
``list.xsl`` and ``print.xsl`` beside it. These stand-ins render the page the way
a reader sees it: headline, byline, date, the CDATA body, the perv/next links, the
listing's pager and the sidebars. They
import a shared ``common.xsl`` and link a CSS file and a logo, as real site
templates do, so an archiver has to follow references to keep them working.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from .pages import ARTICLE_STYLESHEET, COMMON_STYLESHEET, LISTING_STYLESHEET, PRINT_STYLESHEET

_COMMON = """<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
	<xsl:template name="head">
		<head>
			<title><xsl:value-of select="/html/head/title"/></title>
			<link rel="stylesheet" type="text/css" href="/ui/css/site.css"/>
		</head>
	</xsl:template>
	<xsl:template name="masthead">
		<div class="masthead"><img src="/ui/images/logo.png" alt="Shanghai Academy of Social Sciences"/></div>
		<div class="crumbs"><xsl:for-each select="/html/body/span/a">
			<a href="{@href}"><xsl:value-of select="."/></a><xsl:text> </xsl:text>
		</xsl:for-each></div>
	</xsl:template>
	<xsl:template name="sidebars">
		<div class="sidebar">
			<h3>New</h3><ul><xsl:for-each select="/html/body/ul[@id='new']/li/a"><li><a href="{@href}"><xsl:value-of select="."/></a></li></xsl:for-each></ul>
			<h3>Hot</h3><ul><xsl:for-each select="/html/body/ul[@id='hot']/li/a"><li><a href="{@href}"><xsl:value-of select="."/></a></li></xsl:for-each></ul>
		</div>
	</xsl:template>
</xsl:stylesheet>
"""


def _page_stylesheet(content: str) -> str:
    """A page stylesheet: the site's head, masthead and sidebars (from common.xsl) around ``content``."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
	<xsl:import href="common.xsl"/>
	<xsl:output method="html" encoding="utf-8"/>
	<xsl:template match="/">
		<html>
			<xsl:call-template name="head"/>
			<body>
				<xsl:call-template name="masthead"/>
{content}
				<xsl:call-template name="sidebars"/>
			</body>
		</html>
	</xsl:template>
</xsl:stylesheet>
"""


_VIEW = _page_stylesheet("""\
				<div class="article">
					<h1><xsl:value-of select="/html/body/div/h1"/></h1>
					<p class="meta"><xsl:value-of select="/html/body/div/h5"/> | <xsl:value-of select="/html/body/div/h4"/></p>
					<div class="body"><xsl:value-of select="/html/body/div/p" disable-output-escaping="yes"/></div>
					<p class="source">Source: <xsl:value-of select="/html/body/div/a"/></p>
					<p class="neighbours"><xsl:for-each select="/html/body/a[@id='perv' or @id='next']">
						<a class="{@id}" href="{@href}"><xsl:value-of select="."/></a><xsl:text> </xsl:text>
					</xsl:for-each></p>
				</div>""")

_LIST = _page_stylesheet("""\
				<ul class="list"><xsl:for-each select="/html/body/ul[@id='list']/li">
					<li><a href="{a/@href}"><xsl:value-of select="a"/></a> <xsl:value-of select="span"/></li>
				</xsl:for-each></ul>
				<p class="pager"><xsl:for-each select="/html/body/div[@id='pager']/*">
					<xsl:choose>
						<xsl:when test="@href"><a href="{@href}"><xsl:value-of select="."/></a></xsl:when>
						<xsl:otherwise><b><xsl:value-of select="."/></b></xsl:otherwise>
					</xsl:choose><xsl:text> </xsl:text>
				</xsl:for-each></p>""")

_CSS = """body { font-family: Georgia, serif; margin: 2em auto; max-width: 60em; }
.masthead img { height: 48px; }
.article { float: left; width: 70%; }
.sidebar { float: right; width: 25%; font-size: 90%; }
h1 { font-size: 1.6em; }
"""


def _logo() -> bytes:
    """A small PNG logo, made once."""
    image = Image.new("RGB", (160, 48), (153, 0, 0))
    ImageDraw.Draw(image).text((10, 16), "SASS", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_XSL = "text/xsl; charset=utf-8"
ASSETS: dict[str, tuple[str, bytes]] = {
    ARTICLE_STYLESHEET: (_XSL, _VIEW.encode()),
    PRINT_STYLESHEET: (_XSL, _VIEW.encode()),
    LISTING_STYLESHEET: (_XSL, _LIST.encode()),
    COMMON_STYLESHEET: (_XSL, _COMMON.encode()),
    "/ui/css/site.css": ("text/css; charset=utf-8", _CSS.encode()),
    "/ui/images/logo.png": ("image/png", _logo()),
}
