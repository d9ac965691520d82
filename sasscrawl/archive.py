"""The WARC archive: what the site served, in the format replay tools read. No Scrapy here.

Each exchange becomes a WARC 1.1 ``request`` record and a ``response`` record
(linked by ``WARC-Concurrent-To``), written with warcio, which adds the block
and payload digests. A response whose payload the archive already holds for its
URL (an unchanged page on a later run) becomes a ``revisit`` record instead, with
its HTTP headers and no payload (see :class:`ArchivedPayloads`). Every record is
its own gzip member, so a file cut off by a kill loses only its last record, and each archiving run starts new files
(``sasscrawl-<UTC time>-<pid>-<serial>.warc.gz``) that roll over at a size limit
instead of appending to what an earlier run left. ``index.cdxj`` beside them,
rebuilt at the end of a run, lets pywb or any CDXJ reader find a URL. Both are
written through :mod:`sasscrawl.files`: never through a link, and each WARC file
is on the disk (fsync) once it is closed, at rollover or at the end of the run.

:func:`iter_captures` and :func:`read_payload` read it back (a revisit with its original's
payload), :func:`reextract` into article records and :func:`pages_list` into a WACZ pages list,
with no network.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import logging
import os
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from cdxj_indexer.main import write_cdx_index
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from sasscrawl import files
from sasscrawl.mirror import FAILED_IMAGE, describe_image, image_key, mirror_path
from sasscrawl.pages.article import ArticlePage, NotAnArticle
from sasscrawl.pages.document import Document
from sasscrawl.section import article_id_from_path
from sasscrawl.store.layout import INDEX_FILE, WARC_FOLDER

logger = logging.getLogger(__name__)

NOT_IN_ARCHIVE = "not in the archive"
"""The error of an image the archive holds no response for (a run that found it mirrored already)."""
WARC_FORMAT = "WARC File Format 1.1"
WARC_SPEC = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
PAGE_SUFFIX = ".aspx"
"""What the site's pages end in: an archived one whose URL names no article is a listing page."""
REVISIT_MIME = "warc/revisit"
"""The ``mime`` the CDXJ index gives a revisit record."""
# Scrapy hands over the body with the transfer coding undone; these headers would then lie about it.
TRANSFER_HEADERS = {"transfer-encoding", "content-length"}


def warc_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def payload_digest(payload: bytes) -> str:
    """The ``WARC-Payload-Digest`` warcio writes for a payload: sha1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii")


class ArchivedPayloads:
    """The payload digest of each URL's newest ``response`` record in the archive: what makes a revisit.

    A response is a revisit when its payload is that of the newest response record of its URL, so
    that a revisit always stands for "unchanged since then" (a page that changed and changed back
    is written whole again), and an article re-extracted from it keeps the date of the capture its
    record was first made from, as the crawl keeps the saved record (see :func:`reextract`).

    Read from ``index.cdxj`` when the run starts, and added to as the run writes, rather than
    kept in a table of the store's SQLite state: the index is what replay tools resolve a revisit
    through, so a revisit can only refer to a record they find, never to one a killed run wrote
    a row for but did not finish (the index leaves out cut records). Reading it costs one line per
    archived record, once per run. The index gives a record's date to the second only; the
    ``WARC-Refers-To-Date`` must be the record's own ``WARC-Date``, so that is read from the record's
    header, once per URL revisited.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.newest: dict[str, tuple[str, str | tuple[str, int]]] = {}
        """URL → (payload digest, its WARC-Date or, until read, where its record is)."""
        try:  # a damaged line is skipped below, as replay tools would skip it
            lines = (folder / INDEX_FILE).read_text("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            lines = []
        except OSError as error:  # a folder or an unreadable file in its place: no revisits this run
            logger.warning("The archive's index %s cannot be read (%s): this run archives whole records, "
                           "no revisits", folder / INDEX_FILE, error.strerror or error)
            lines = []
        for line in lines:  # sorted by URL key, then time: a URL's newest record comes last
            try:
                fields = json.loads(line.split(" ", 2)[2])
                if fields.get("mime") != REVISIT_MIME and fields.get("digest"):
                    self.newest[fields["url"]] = (fields["digest"], (fields["filename"], int(fields["offset"])))
            except (IndexError, KeyError, TypeError, ValueError):
                continue  # a line no replay tool could use either

    def date_of(self, url: str, digest: str) -> str | None:
        """The ``WARC-Date`` of the newest response record of ``url`` if its payload digest is this one; else None."""
        newest_digest, date = self.newest.get(url, (None, None))
        if newest_digest != digest:
            return None
        if isinstance(date, tuple):
            date = _record_date(self.folder / date[0], date[1])
            if date is None:
                del self.newest[url]
                return None
            self.newest[url] = (digest, date)
        return date

    def add(self, url: str, digest: str | None, date: str) -> None:
        """A response record just written (``digest`` None: truncated, never revisited)."""
        self.newest[url] = (digest, date)


def _record_date(path: Path, offset: int) -> str | None:
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            return next(iter(ArchiveIterator(stream))).rec_headers.get_header("WARC-Date")
    except (ArchiveLoadFailed, OSError, StopIteration, ValueError, zlib.error):
        return None


class _WarcWriter(WARCWriter):
    """warcio's writer, without a ``WARC-Payload-Digest`` on request records.

    The crawl's requests are GETs without a body: warcio would digest the empty payload, the same
    line on every request record, about 5% of a rerun's archive of revisits.
    """

    NO_PAYLOAD_DIGEST_TYPES = (*WARCWriter.NO_PAYLOAD_DIGEST_TYPES, "request")


class WarcArchive:
    """Appends exchanges to rolling, per-record-gzipped WARC files in ``DATA_DIR/warc``.

    ``info`` is what each file's ``warcinfo`` record says about the crawl (software, user agent,
    robots policy, operator, isPartOf), besides the format and the spec it conforms to.
    """

    def __init__(self, data_dir: str | os.PathLike, max_file_size: int, max_record_size: int, info: dict[str, str]):
        self.data_dir = Path(data_dir)
        self.max_file_size = max_file_size
        self.max_record_size = max_record_size
        self.info = {**info, "format": WARC_FORMAT, "conformsTo": WARC_SPEC}
        self.payloads = ArchivedPayloads(self.data_dir / WARC_FOLDER)
        self.prefix = f"sasscrawl-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{os.getpid()}"
        self.serial = 0
        self.file = None
        self.writer: _WarcWriter | None = None

    def _open_next(self) -> None:
        self.close_file()
        self.serial += 1
        name = f"{self.prefix}-{self.serial:05d}.warc.gz"
        self.file = files.create_file(self.data_dir, f"{WARC_FOLDER}/{name}")
        self.writer = _WarcWriter(self.file, gzip=True, warc_version="WARC/1.1")
        self.writer.write_record(self.writer.create_warcinfo_record(name, self.info))

    def write_exchange(self, *, url: str, method: str, request_headers: list[tuple[str, str]], request_body: bytes,
                       protocol: str, status: int, response_headers: list[tuple[str, str]], body: bytes,
                       ip_address: str | None, moment: datetime) -> bool:
        """Write the exchange; True when the response became a revisit record.

        A truncated response is always written whole as far as it goes (its digest is not the payload's),
        and an empty one too (a revisit would be longer).
        """
        if self.writer is None or self.file.tell() >= self.max_file_size:
            self._open_next()
        date = warc_date(moment)
        truncated = len(body) > self.max_record_size
        payload = body[: self.max_record_size] if truncated else body
        headers = [(name, value) for name, value in response_headers if name.lower() not in TRANSFER_HEADERS]
        headers.append(("Content-Length", str(len(payload))))
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol=protocol or "HTTP/1.1")
        warc_headers = {"WARC-Date": date}
        if ip_address:
            warc_headers["WARC-IP-Address"] = ip_address
        digest = payload_digest(payload)
        original_date = None if truncated or not payload else self.payloads.date_of(url, digest)
        if original_date is not None:
            response = self.writer.create_revisit_record(url, digest, url, original_date, http_headers=http_headers,
                                                         warc_headers_dict=warc_headers)
        else:
            if truncated:
                warc_headers["WARC-Truncated"] = "length"
            warc_headers["WARC-Payload-Digest"] = digest  # taken above for the revisit check: warcio need not again
            response = self.writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                      length=len(payload), http_headers=http_headers,
                                                      warc_headers_dict=warc_headers)
        target = url.split("://", 1)[-1]
        path = "/" + target.split("/", 1)[1] if "/" in target else "/"
        request = self.writer.create_warc_record(
            url, "request", payload=io.BytesIO(request_body), length=len(request_body),
            http_headers=StatusAndHeaders(f"{method} {path} {protocol or 'HTTP/1.1'}", request_headers,
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date,
                               "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
        )
        self.writer.write_record(response)
        self.writer.write_record(request)
        self.file.flush()
        if original_date is None:
            self.payloads.add(url, None if truncated else digest, date)
        return original_date is not None

    def close_file(self) -> None:
        """Close the file being written, on the disk first: a power cut then keeps every record in it."""
        if self.file is not None:
            try:
                files.sync(self.file)
            finally:
                self.file.close()
                self.file = self.writer = None

    def close(self) -> None:
        self.close_file()
        if self.serial:  # this run wrote WARC files
            write_index(self.data_dir)


def write_index(data_dir: Path) -> None:
    """Rebuild ``warc/index.cdxj`` over every WARC file there, whole records only.

    A record cut short by a kill or a power cut is left out: indexed, it would be replayed with the
    Content-Length it promised and stall the reader. (The next archiving run reports it, see
    :func:`damaged_records`, and fetches its URL again.)
    """
    folder = data_dir / WARC_FOLDER
    lines: list[str] = []
    for path in sorted(folder.glob("*.warc.gz")):
        intact = intact_length(path)
        out = io.StringIO()
        with path.open("rb") as stream:  # the indexer reads only the whole records: it fails on a cut one
            write_cdx_index(out, [_Prefix(stream, intact)], {"filename": path.name})
        lines += out.getvalue().splitlines(keepends=True)
    files.replace_file(data_dir, f"{WARC_FOLDER}/{INDEX_FILE}", "".join(sorted(lines)).encode("utf-8"))


class _Prefix(io.RawIOBase):
    """The first ``length`` bytes of a binary stream, as a stream."""

    def __init__(self, stream, length: int):
        self.stream = stream
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(min(len(buffer), self.remaining))
        buffer[:len(data)] = data
        self.remaining -= len(data)
        return len(data)


@dataclass(frozen=True)
class DamagedRecord:
    """A record cut short at the end of a WARC file: where it starts and, when its header survived, its URL."""

    path: Path
    offset: int
    url: str | None


def damaged_records(folder: Path) -> list[DamagedRecord]:
    """The cut records of the WARC files written since the index was last built.

    A kill or a power cut can only cut the end of the files a run was writing, and a run that
    ends writes the index after closing them: files older than the index were checked then.
    """
    damaged = []
    for path in _written_since_index(folder):
        intact = intact_length(path)
        if intact < path.stat().st_size:
            damaged.append(DamagedRecord(path, intact, _target_uri(path, intact)))
    return damaged


def _written_since_index(folder: Path) -> list[Path]:
    try:
        indexed_at = (folder / INDEX_FILE).stat().st_mtime
    except FileNotFoundError:
        indexed_at = float("-inf")
    return [path for path in sorted(folder.glob("*.warc.gz")) if path.stat().st_mtime >= indexed_at]


def _target_uri(path: Path, offset: int) -> str | None:
    """The WARC-Target-URI of the record starting at ``offset``, read from what survived of its header."""
    with path.open("rb") as stream:
        stream.seek(offset)
        head = stream.read(64 * 1024)
    try:
        text = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 64 * 1024)
    except zlib.error:
        return None
    header = text.split(b"\r\n\r\n", 1)[0]
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"warc-target-uri" and value.strip():
            return value.strip().decode("utf-8", "replace")
    return None


@dataclass(frozen=True)
class Capture:
    """Where one response sits in the archive, and what is known about it without reading its body.

    A revisit record's capture has its own URL, date, status and headers, and ``original``, the
    capture of the response record whose payload it shares (what :func:`read_payload` reads).
    """

    url: str
    date: str
    status: int
    content_type: str | None
    path: Path
    offset: int
    original: Capture | None = None


def intact_length(path: Path) -> int:
    """How many bytes from the start of a WARC file are whole gzip members: a kill cuts the last one short.

    Finding out decompresses the whole file, and a run asks for each file more than once (its index, the
    mirror, ``scrapy wacz``'s copy and pages): the answer is kept for the file as long as its size and
    modification time stay the same.
    """
    stat = path.stat()
    return _intact_length(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _intact_length(path: Path, size: int, mtime_ns: int) -> int:
    intact = offset = 0
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            while chunk:
                try:
                    decompressor.decompress(chunk)
                except zlib.error:
                    return intact
                if not decompressor.eof:
                    offset += len(chunk)
                    break
                offset += len(chunk) - len(decompressor.unused_data)
                intact = offset
                chunk = decompressor.unused_data
                decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    return intact


def iter_captures(folder: Path) -> Iterator[Capture]:
    """Every response and revisit record in the folder's WARC files, oldest file first.

    A damaged file is read up to the damage. A revisit comes with the response record it refers to
    (same URL and payload digest, written before it); one whose response is not in the folder any
    more gives no payload and is skipped with a warning.
    """
    responses: dict[tuple[str, str], Capture] = {}
    for path in sorted(folder.glob("*.warc.gz")):
        intact = intact_length(path)
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            try:
                for record in records:
                    offset = records.get_record_offset()
                    if offset >= intact:
                        raise ArchiveLoadFailed(f"record at offset {offset} is cut off")
                    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                        continue
                    headers = record.rec_headers
                    capture = Capture(
                        url=headers.get_header("WARC-Target-URI"),
                        date=headers.get_header("WARC-Date"),
                        status=int(record.http_headers.get_statuscode() or 0),
                        content_type=record.http_headers.get_header("Content-Type"),
                        path=path,
                        offset=offset,
                    )
                    key = (headers.get_header("WARC-Refers-To-Target-URI") or capture.url,
                           headers.get_header("WARC-Payload-Digest"))
                    if record.rec_type == "response":
                        responses[key] = capture
                    elif key in responses:
                        capture = replace(capture, original=responses[key])
                    else:
                        logger.warning("Skipping the revisit of %s in %s: the response it refers to (%s) is not "
                                       "in the archive", capture.url, path.name,
                                       headers.get_header("WARC-Refers-To-Date"))
                        continue
                    yield capture
            except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as error:
                logger.warning("Skipping the rest of damaged WARC file %s: %s", path.name, error)


def read_payload(capture: Capture) -> bytes:
    """The response body as served, with transfer and content codings undone; a revisit's is its original's."""
    source = capture.original or capture
    with source.path.open("rb") as stream:
        stream.seek(source.offset)
        record = next(iter(ArchiveIterator(stream)))
        return record.content_stream().read()


@dataclass
class _Newest:
    """The newest capture of each image key (whatever its status), article and listing page (status 200 only)."""

    by_key: dict[str, Capture] = field(default_factory=dict)
    articles: dict[int, Capture] = field(default_factory=dict)
    listings: dict[str, Capture] = field(default_factory=dict)

    @classmethod
    def of(cls, folder: Path) -> _Newest:
        newest = cls()
        for capture in iter_captures(folder):
            key = image_key(capture.url)
            if key not in newest.by_key or capture.date >= newest.by_key[key].date:
                newest.by_key[key] = capture
            if capture.status != 200:
                continue
            path = urlsplit(capture.url).path
            article_id = article_id_from_path(path)
            pages, page_key = (newest.articles, article_id) if article_id is not None else (newest.listings, capture.url)
            if (article_id is not None or path.lower().endswith(PAGE_SUFFIX)) and (
                    page_key not in pages or capture.date >= pages[page_key].date):
                pages[page_key] = capture
        return newest


def _articles(articles: dict[int, Capture]) -> Iterator[tuple[Capture, dict]]:
    """Each article capture's record, in the dataset's order, one page in memory at a time.

    ``dateDownloaded`` is the capture time; for a revisit (the page unchanged since), that of the
    response it refers to, as the crawl keeps the record saved then. An article is the one its
    capture's URL names (as in the crawl, see ``ArticlePage``); a capture that gives no article, or
    that the parser fails on, is skipped with a warning.
    """
    for article_id in sorted(articles):
        capture = articles[article_id]
        first_made = capture.original or capture
        try:
            document = Document(read_payload(capture), capture.url)
            if not document.is_article:
                continue
            page = ArticlePage(document, downloaded_at=datetime.fromisoformat(first_made.date))
            record = page.to_item()
            conflicts = page.identity_conflicts()
        except NotAnArticle as error:
            logger.warning("Archived page %s gives no article: %s", capture.url, error)
            continue
        except Exception as error:  # a capture that breaks the parser costs that capture, not the rebuild
            logger.warning("Archived page %s could not be read, skipped: %s: %s", capture.url,
                           type(error).__name__, str(error)[:300])
            continue
        if conflicts:
            logger.warning("Archived page %s is article %d, as its URL says, although its %s", capture.url,
                           article_id, " and its ".join(conflicts))
        yield first_made, record


def reextract(folder: Path) -> Iterator[dict]:
    """Article records rebuilt from the archive alone, as the live crawl would have made them (see :func:`_articles`).

    The image facts come from the archived image responses (``failed`` when the archive holds an
    error or nothing for one).
    """
    newest = _Newest.of(folder)
    image_facts: dict[str, dict] = {}
    for _, record in _articles(newest.articles):
        record["images"] = [_image_from_archive(image["url"], newest.by_key, image_facts)
                            for image in record["images"]]
        yield record


def pages_list(folder: Path) -> Iterator[dict]:
    """The archive's pages, as a WACZ ``pages/pages.jsonl`` lists them: every listing page, then every article.

    Each entry is one capture (``url``, ``ts`` its WARC-Date): an article's is the capture its record
    comes from (see :func:`_articles`), titled with its ``headline`` and with its ``articleBody`` as
    ``text``, which ReplayWeb.page searches; a listing page's is its newest (the response a
    revisit refers to), titled as the page is.
    """
    newest = _Newest.of(folder)
    for url in sorted(newest.listings):
        capture = newest.listings[url]
        try:
            root = Document(read_payload(capture), url).root
        except Exception as error:  # as for an article: that capture is skipped, not the list
            logger.warning("Archived page %s could not be read, skipped: %s: %s", url, type(error).__name__,
                           str(error)[:300])
            continue
        if root is None:
            continue
        title = root.findtext("head/title")
        yield _page(capture.original or capture, title.strip() if title and title.strip() else url)
    for capture, record in _articles(newest.articles):
        yield {**_page(capture, record["headline"]), "text": record["articleBody"]}


def _page(capture: Capture, title: str) -> dict:
    return {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"{capture.date} {capture.url}").hex, "url": capture.url,
            "ts": capture.date, "title": title}


def _image_from_archive(url: str, captures: dict[str, Capture], cache: dict[str, dict]) -> dict:
    """The image's facts from its capture, found by its key as the crawl requested it, and the crawl's mirror path."""
    key = image_key(url)
    if key not in cache:
        capture = captures.get(key)
        if capture is None:
            cache[key] = {**FAILED_IMAGE, "error": NOT_IN_ARCHIVE}
        elif capture.status != 200:
            cache[key] = {**FAILED_IMAGE, "error": f"HTTP {capture.status}"}
        else:
            cache[key] = {"path": mirror_path(key), **describe_image(read_payload(capture), capture.content_type),
                          "status": "downloaded", "error": None}
    return {"url": url, **cache[key]}
