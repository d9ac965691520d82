"""The offline HTML mirror, from an archiving crawl of the replica: what it holds, where its links lead, refreshes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from harness import PROJECT_ROOT, command_in_process, run_crawl
from render_helpers import absolute_links, local_targets, normalised, shows_body, visible_text
from sasscrawl.archive import iter_captures
from sasscrawl.commands.render import Command as RenderCommand
from sasscrawl.render import INDEX_FILE, MANIFEST_FILE, render_site
from sasscrawl.render.layout import BUILTIN_CLASS, BUILTIN_GENERATOR
from sasscrawl.render.names import page_file
from sasscrawl_replica import build_site

VIEW_XSL = "/ui/templates/normal/view.xsl"


def site_of(crawl) -> Path:
    return crawl.result.data_dir / "site"


def render_command(data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "render", "-s", f"DATA_DIR={data_dir}", *options],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def archived_pages(data_dir: Path) -> tuple[set[str], set[str]]:
    """The URLs of the archived articles and listing pages (200, XML)."""
    urls = {capture.url for capture in iter_captures(data_dir / "warc")
            if capture.status == 200 and "xml" in (capture.content_type or "") and ".xsl" not in capture.url}
    articles = {url for url in urls if urlsplit(url).path.rsplit("/", 1)[-1][0].isdigit()}
    return articles, urls - articles


def copy_archive_without(source: Path, destination: Path, path: str) -> None:
    """The data folder's archive and image mirror, less every record of ``path``: as if never captured."""
    (destination / "warc").mkdir(parents=True)
    shutil.copytree(source / "images", destination / "images")
    for warc in sorted((source / "warc").glob("*.warc.gz")):
        with warc.open("rb") as stream, (destination / "warc" / warc.name).open("wb") as out:
            writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if urlsplit(uri).path != path:
                    writer.write_record(record)


def write_pages(folder: Path, pages: dict[str, tuple[str, bytes]]) -> None:
    """A WARC file of 200 responses (URL → content type, body), as a hand-made archive."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "hand-made.warc.gz").open("wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        for url, (content_type, body) in pages.items():
            headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          length=len(body), http_headers=headers))


# --- the mirror a crawl leaves --------------------------------------------------------------------


def test_the_crawl_renders_a_page_for_every_archived_article_with_its_whole_text(archived_crawl):
    result = archived_crawl.result
    assert result.returncode == 0, result.log[-3000:]
    records = result.records
    articles, _ = archived_pages(result.data_dir)
    assert len(records) >= 60 and {record["url"] for record in records} == articles
    for record in records:
        page = site_of(archived_crawl) / page_file(record["url"])
        text = visible_text(page)
        assert shows_body(text, record["articleBody"]), record["url"]
        assert normalised(record["headline"]) in text
        assert BUILTIN_CLASS not in page.read_text("utf-8")


def test_every_listing_page_is_rendered_and_the_index_is_the_first(archived_crawl):
    site = site_of(archived_crawl)
    _, listings = archived_pages(archived_crawl.result.data_dir)
    assert len(listings) > 5
    for url in listings:
        assert (site / page_file(url)).is_file(), url
    first = site / page_file(archived_crawl.server.start_url)
    assert visible_text(site / INDEX_FILE) == visible_text(first)
    assert {target for _, target in local_targets(site / INDEX_FILE)} == {target for _, target in local_targets(first)}
    index_links = [value for value, _ in local_targets(site / INDEX_FILE)]
    assert sum(".aspx.html" in value for value in index_links) >= 10


def test_relative_links_lead_to_files_that_exist_and_pages_not_archived_stay_absolute(archived_crawl):
    site = site_of(archived_crawl)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 60
    for page in pages:
        for value, target in local_targets(page):
            assert target.is_file(), f"{page}: {value}"
        for url in absolute_links(page):
            assert not urlsplit(url).path.endswith((".css", ".png", ".jpeg", ".xsl")), (page, url)
    article = next(site.rglob("1*.aspx.html"))
    assert f"http://127.0.0.1:{archived_crawl.server.port}/103/default.aspx" in absolute_links(article)


def test_images_lead_into_the_image_mirror_and_the_stylesheets_files_are_copied(archived_crawl):
    data_dir = archived_crawl.result.data_dir
    with_images = [record for record in archived_crawl.result.records if record["images"]]
    assert with_images
    for record in with_images:
        targets = {target for _, target in local_targets(site_of(archived_crawl) / page_file(record["url"]))}
        for image in record["images"]:
            assert (data_dir / image["path"]).resolve() in targets
    copied = {path.name for path in (site_of(archived_crawl) / "assets").rglob("*") if path.is_file()}
    assert copied == {"site.css", "logo.png"}


def test_file_names_are_portable(archived_crawl):
    names = [str(path.relative_to(site_of(archived_crawl))) for path in site_of(archived_crawl).rglob("*")]
    assert names and not [name for name in names if set(name) & set(':?%*"<>|\\')]


def test_each_page_says_when_it_was_captured_and_links_the_original(archived_crawl):
    record = archived_crawl.result.records[0]
    root = lxml.html.parse(str(site_of(archived_crawl) / page_file(record["url"]))).getroot()
    banner = root.body[0]
    assert banner.get("class") == "sasscrawl-capture"
    assert banner.xpath("time/@datetime")[0][:10] == record["dateDownloaded"][:10]
    assert banner.xpath("a/@href") == [record["url"]]
    assert not root.xpath("//script")


def test_a_rerun_renders_again_only_the_pages_it_captured_again(archived_crawl, tmp_path):
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    before = {path: path.stat().st_mtime_ns for path in (data_dir / "site").rglob("*.aspx.html")}
    again = run_crawl(archived_crawl.server.start_url, data_dir, "archive=warc")
    assert again.returncode == 0, again.log[-3000:]
    _, listings = archived_pages(data_dir)
    assert again.stat("sasscrawl/render/unchanged") >= len(archived_crawl.result.records)
    assert 0 < again.stat("sasscrawl/render/written") <= len(listings) + 1  # the refetched listings and the index
    changed = {path for path, mtime in before.items() if path.stat().st_mtime_ns != mtime}
    assert changed and all("default" in path.name for path in changed)


def test_an_archive_whose_newest_captures_are_revisits_renders_every_article_from_the_originals(archived_twice,
                                                                                                tmp_path):
    """The rerun's captures are all revisit records (no payload): each page is rendered from the one it refers to."""
    assert archived_twice.second.stat("sasscrawl/warc/revisits") > 0
    site = tmp_path / "site"
    report = render_site(archived_twice.warc_dir, archived_twice.first.data_dir, site)
    assert report.stats()["sasscrawl/render/failed"] == 0
    for record in archived_twice.second.records:
        page = site / page_file(record["url"])
        assert shows_body(visible_text(page), record["articleBody"]), record["url"]
        assert BUILTIN_CLASS not in page.read_text("utf-8")


def test_the_run_summary_counts_the_mirror(archived_crawl):
    result = archived_crawl.result
    mirror = result.summary["mirror"]
    assert mirror["pages"] == result.stat("sasscrawl/render/pages") > len(result.records)
    assert mirror["written"] == mirror["pages"] + 1 and mirror["failed"] == 0  # the pages and the index


def test_a_mirror_that_cannot_be_written_makes_the_run_broken(serve, tmp_path):
    """A file where the mirror's folder goes: the monitors, the summary and the exit status all say so."""
    server = serve(build_site(articles=3, seed=2, quirks=False))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "site").write_text("not a folder")
    result = run_crawl(server.start_url, data_dir, "archive=warc")
    assert result.returncode == 1, result.log[-3000:]
    assert "Traceback (most recent call last)" not in result.log and len(result.records) == 3
    assert f"Offline mirror not refreshed in {data_dir / 'site'}: Not a directory" in result.log
    summary = result.summary
    assert summary["verdict"] == "broken" and summary["exitStatus"] == 1
    assert summary["problems"] == ["monitor failed: Crawl results/Offline mirror refreshed (RENDER_SITE): the offline "
                                   f"mirror could not be refreshed: cannot write {data_dir / 'site'}: Not a directory"]
    assert (data_dir / "site").read_text() == "not a folder"


def test_render_site_off_leaves_no_mirror(archive_settings_crawl):
    result = archive_settings_crawl.result
    assert result.returncode == 0 and list((result.data_dir / "warc").glob("*.warc.gz"))
    assert not (result.data_dir / "site").exists()


# --- scrapy render --------------------------------------------------------------------------------


def test_an_article_whose_stylesheet_is_not_archived_gets_the_built_in_layout(archived_crawl, tmp_path):
    data_dir = tmp_path / "data"
    copy_archive_without(archived_crawl.result.data_dir, data_dir, VIEW_XSL)
    out = tmp_path / "elsewhere" / "mirror"
    completed = render_command(data_dir, "-o", str(out))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr
    for record in archived_crawl.result.records:
        page = out / page_file(record["url"])
        root = lxml.html.parse(str(page)).getroot()
        assert root.body.get("class") == BUILTIN_CLASS
        assert root.xpath("//meta[@name='generator']/@content") == [BUILTIN_GENERATOR]
        text = visible_text(page)
        assert "stylesheet for this page is not in the archive" in text
        assert shows_body(text, record["articleBody"]) and normalised(record["headline"]) in text
        for _, target in local_targets(page):
            assert target.is_file()
    listing = out / page_file(archived_crawl.server.start_url)
    assert BUILTIN_CLASS not in listing.read_text("utf-8")


def test_render_is_written_again_only_for_what_changed(archived_crawl, tmp_path):
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    assert render_site(data_dir / "warc", data_dir, data_dir / "site").written == 0
    record = archived_crawl.result.records[5]
    body = next(capture for capture in iter_captures(data_dir / "warc") if capture.url == record["url"])
    from sasscrawl.archive import read_payload

    changed = read_payload(body).replace(record["headline"].encode(), b"A headline changed since")
    write_pages(data_dir / "warc", {record["url"]: ("text/xml", changed)})
    report = render_site(data_dir / "warc", data_dir, data_dir / "site")
    assert report.written == 1 and report.unchanged == report.pages - 1
    assert "A headline changed since" in visible_text(data_dir / "site" / page_file(record["url"]))
    manifest = json.loads((data_dir / "site" / MANIFEST_FILE).read_text())
    assert page_file(record["url"]) in manifest["files"]


def test_render_reads_nothing_from_the_network_or_the_disk(serve, tmp_path):
    """Each stylesheet reaches out once: an include and a document() on a live server, a file on the disk."""
    foreign = serve(build_site(articles=1, seed=1, quirks=False))
    secret = tmp_path / "secret.xml"
    secret.write_text("<secret>DISK-CANARY</secret>")
    reaches = {"include": f'<xsl:include href="{foreign.url("/ui/included.xsl")}"/>',
               "feed": f"<xsl:value-of select=\"document('{foreign.url('/feed.xml')}')\"/>",
               "disk": f"<xsl:value-of select=\"document('file://{secret}')\"/>"}
    pages = {}
    for number, (name, reach) in enumerate(reaches.items(), 1):
        pages[f"http://en.sass.cn/ui/{name}.xsl"] = ("text/xsl", f"""<xsl:stylesheet version="1.0"
            xmlns:xsl="http://www.w3.org/1999/XSL/Transform">{reach if name == "include" else ""}
            <xsl:template match="/"><html><body><h1><xsl:value-of select="//h1"/></h1>
            <p>{reach if name != "include" else ""}</p></body></html></xsl:template></xsl:stylesheet>""".encode())
        pages[f"http://en.sass.cn/103002/{number}.aspx"] = ("text/xml", (
            f"<?xml version='1.0'?><?xml-stylesheet type='text/xsl' href='/ui/{name}.xsl'?>"
            f"<html><head><meta id='{number}'/></head><body><div><h1>Kept offline {name}</h1>"
            "<h4>2025-01-01 12:00</h4><p><![CDATA[<p>Body text.</p>]]></p></div></body></html>").encode())
    write_pages(tmp_path / "data" / "warc", pages)
    report = render_site(tmp_path / "data" / "warc", tmp_path / "data", tmp_path / "site")
    assert report.pages == 3 and report.failed == 0
    assert foreign.requests == []
    shown = {name: (tmp_path / "site" / page_file(f"http://en.sass.cn/103002/{number}.aspx")).read_text("utf-8")
             for number, name in enumerate(reaches, 1)}
    assert all(f"Kept offline {name}" in html and "DISK-CANARY" not in html for name, html in shown.items())
    # An include the archive lacks, or a read of the disk, costs the stylesheet; a missing document() is empty.
    assert [BUILTIN_CLASS in shown[name] for name in reaches] == [True, False, True]


def test_render_without_an_archive_says_so(tmp_path):
    completed = render_command(tmp_path / "data")
    assert completed.returncode == 2
    assert "no WARC files" in completed.stderr and "Traceback" not in completed.stderr


def test_render_into_a_folder_it_cannot_write_fails_cleanly(archived_crawl, tmp_path):
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    completed = render_command(data_dir, "-o", str(blocker / "site"))
    assert completed.returncode == 3, completed.stderr[-2000:]
    assert "Not rendered" in completed.stderr and "Traceback" not in completed.stderr


def test_a_linked_site_folder_is_refused(archived_crawl, tmp_path):
    data_dir = archived_crawl.copy_data_dir(tmp_path / "data")
    shutil.rmtree(data_dir / "site")
    (tmp_path / "elsewhere").mkdir()
    (data_dir / "site").symlink_to(tmp_path / "elsewhere")
    done = command_in_process(RenderCommand, data_dir)
    assert done.returncode == 3 and "symbolic link" in done.stderr
    assert not any((tmp_path / "elsewhere").iterdir())


def test_render_clears_what_a_kill_left_only_in_the_files_it_writes(tmp_path):
    """-o may name a folder of the user's: a file of theirs named like a temporary one stays."""
    url = "http://en.sass.cn/103002/1.aspx"
    page = (b"<?xml version='1.0'?><html><head><meta id='1'/></head><body><div><h1>Kept</h1>"
            b"<h4>2025-01-01 12:00</h4><p><![CDATA[<p>Body.</p>]]></p></div></body></html>")
    write_pages(tmp_path / "data" / "warc", {url: ("text/xml", page)})
    out = tmp_path / "home"
    page_folder = (out / page_file(url)).parent
    page_folder.mkdir(parents=True)
    (out / "notes").mkdir()
    left = [out / ".index.html.0123456789abcdef.tmp", out / ".manifest.json.0123456789abcdef.tmp",
            page_folder / ".1.aspx.html.0123456789abcdef.tmp"]
    users = [out / ".bashrc.0123456789abcdef.tmp", out / "notes" / ".draft.0123456789abcdef.tmp"]
    for path in left + users:
        path.write_text("")
    report = render_site(tmp_path / "data" / "warc", tmp_path / "data", out)
    assert report.written == 1
    assert [path for path in left if path.exists()] == []
    assert [path for path in users if path.exists()] == users


def test_a_page_keeps_nothing_that_runs_or_leads_back_to_the_site(tmp_path):
    """Scripts, handlers, javascript: links, <base> and a refresh go; one charset, UTF-8, as the file is written."""
    stylesheet = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
        <xsl:output method="xml" encoding="iso-8859-1"/>
        <xsl:template match="/"><html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
        <base href="http://en.sass.cn/"/><meta http-equiv="Refresh" content="0; url=http://en.sass.cn/"/>
        <script src="/ui/site.js"/></head>
        <body onload="track()"><h1><xsl:value-of select="//h1"/></h1><a href="javascript:go()">go</a>
        <a href="/103002/1.aspx" onclick="track()">self</a></body></html></xsl:template></xsl:stylesheet>"""
    page = (b"<?xml version='1.0'?><?xml-stylesheet type='text/xsl' href='/ui/view.xsl'?>"
            b"<html><head><meta id='1'/></head><body><div><h1>Caf\xc3\xa9 culture</h1></div></body></html>")
    write_pages(tmp_path / "data" / "warc", {"http://en.sass.cn/103002/1.aspx": ("text/xml", page),
                                             "http://en.sass.cn/ui/view.xsl": ("text/xsl", stylesheet)})
    report = render_site(tmp_path / "data" / "warc", tmp_path / "data", tmp_path / "site")
    assert report.written == 1 and report.builtin_layout == 0
    root = lxml.html.parse(str(tmp_path / "site" / page_file("http://en.sass.cn/103002/1.aspx"))).getroot()
    assert root.xpath("string(//h1)") == "Café culture"
    assert not root.xpath("//script | //base | //meta[@http-equiv] | //@onload | //@onclick")
    assert root.xpath("//meta/@charset") == ["utf-8"]
    assert "javascript" not in lxml.html.tostring(root, encoding="unicode")
    assert root.xpath("//a[.='self']/@href") == ["1.aspx.html"]


def test_a_page_that_cannot_be_rendered_costs_that_page_and_the_exit_status(tmp_path):
    data_dir = tmp_path / "data"
    article = ("<?xml version='1.0'?><?xml-stylesheet type='text/xsl' href='/ui/gone.xsl'?><html><head>"
               "<meta id='{id}'/></head><body><div>{headline}<h4>2025-01-01 12:00</h4>"
               "<p><![CDATA[<p>Body text of {id}.</p>]]></p></div></body></html>")
    write_pages(data_dir / "warc", {
        "http://en.sass.cn/103002/1.aspx": ("text/xml", article.format(id=1, headline="<h1>Kept</h1>").encode()),
        "http://en.sass.cn/103002/2.aspx": ("text/xml", article.format(id=2, headline="<h1></h1>").encode()),
    })
    completed = render_command(data_dir)
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "Not rendered: http://en.sass.cn/103002/2.aspx: no headline" in completed.stderr
    assert "Traceback" not in completed.stderr
    kept = data_dir / "site" / page_file("http://en.sass.cn/103002/1.aspx")
    assert "Body text of 1." in visible_text(kept) and BUILTIN_CLASS in kept.read_text("utf-8")
    assert not (data_dir / "site" / page_file("http://en.sass.cn/103002/2.aspx")).exists()
