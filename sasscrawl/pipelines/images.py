"""Mirror every image of an article byte for byte, on Scrapy's FilesPipeline.

Not ImagesPipeline: that one re-encodes images. Each image is requested, indexed
and stored by its key (:func:`sasscrawl.mirror.image_key`), whatever spelling the
page used. Files land under ``DATA_DIR/images/<host>[:port]/<url path>``
(``images/https/...`` for https; see :mod:`sasscrawl.mirror`),
written by :class:`MirrorStore` to a temporary file, flushed to disk and renamed, so a kill never
leaves a torn image that a later run would take for a mirrored one. The image index in the store
says what is mirrored; upload paths never change on the site, so a mirrored
image is not downloaded again (``cached``). A failed image leaves the article
saved with ``status: failed`` and its error, and a later run retries it.
Files are written in the reactor's thread pool, so the crawl goes on while the
disk works; the article is saved only once all its images are written.

Failures are results here, not exceptions: an HTTP error becomes a ``failed``
entry in :meth:`media_downloaded`, and a network error is noted by
:meth:`media_failed` (which then returns nothing, as MediaPipeline allows), so
the log gets one warning line per image instead of a traceback. An image refused
before it was sent (off-site, or a path that hides a separator: see
``SectionScopeMiddleware``, which logs it) is ``failed`` with the refusal as its
error and no line of its own; like any failed image it is tried again next run,
so one added to ``IMAGE_HOSTS`` is then fetched.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path, PurePosixPath

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FSFilesStore
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.files import replace_file
from sasscrawl.middlewares import OutOfScope
from sasscrawl.mirror import FAILED_IMAGE, MIRROR_FOLDER, describe_image, image_key, mirror_path
from sasscrawl.network import describe_failure

logger = logging.getLogger(__name__)


class MirrorStore(FSFilesStore):
    """FilesPipeline's file-system store, made safe for a mirror that runs unattended.

    Every image is written by :func:`sasscrawl.files.replace_file`: to a fresh temporary
    file that is flushed to disk and renamed into place, so a kill never leaves a torn
    image, a failed write leaves nothing, and an image is on the disk before its record
    says ``downloaded``. The walk down from DATA_DIR opens each folder without following
    links, so a link anywhere below DATA_DIR (planted before the run or while it runs) is
    refused, never followed; and nothing is written outside the mirror folder. Folders
    are created on first write, not at start-up, so an unusable DATA_DIR is reported once
    by the spider instead of crashing the pipeline's construction. Writes run in worker
    threads.
    """

    def __init__(self, basedir: str):
        self.basedir = str(Path(basedir).resolve())

    def stored_size(self, path: str) -> int | None:
        """The size of a mirrored file, or None when it is not there: one stat, no read."""
        try:
            return (Path(self.basedir) / path).stat().st_size
        except OSError:
            return None

    def persist_file(self, path, buf, info, meta=None, headers=None):
        if PurePosixPath(path).parts[:1] != (MIRROR_FOLDER,):
            raise OSError(f"refusing to write outside the mirror: {path}")
        replace_file(self.basedir, path, buf.getvalue())


class ImageMirrorPipeline(FilesPipeline):
    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": MirrorStore, "file": MirrorStore}

    def __init__(self, store_uri, *, crawler):
        super().__init__(store_uri, crawler=crawler)
        self.data_folder = RunDataFolder.of(crawler)
        self.errors: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings["DATA_DIR"], crawler=crawler)

    @property
    def index(self):
        """The image index of the run's data folder: what is mirrored already."""
        return self.data_folder.store.images

    def get_media_requests(self, item, info):
        """Each image is requested by its key, so ``request.url`` is the key everywhere after (a key is already
        what Scrapy's Request makes of a URL)."""
        return [Request(image_key(image["url"]), callback=NO_CALLBACK) for image in item["images"]]

    def file_path(self, request, response=None, info=None, *, item=None):
        return mirror_path(request.url)

    def media_to_download(self, request, info, *, item=None):
        known = self.index.image(request.url)
        if (known is None or known["path"] != self.file_path(request)
                or self.store.stored_size(known["path"]) != known["size"]):
            # Never mirrored, mirrored where an older layout put it, or the file went missing or changed size.
            return None
        self.crawler.stats.inc_value("sasscrawl/images/cached")
        return {**known, "status": "cached", "error": None}

    async def media_downloaded(self, response, request, info, *, item=None):
        if response.status != 200:
            return self._failed(request.url, f"HTTP {response.status}")
        relative = self.file_path(request)
        body = response.body
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            # In a thread: creating and writing the file waits on the disk, and the crawl need not wait with it.
            described = await maybe_deferred_to_future(deferToThread(self._mirror, relative, body, content_type))
        except OSError as error:
            return self._failed(request.url, f"cannot write {relative}: {error.strerror or error}")
        self.crawler.stats.inc_value("sasscrawl/images/downloaded")
        self.crawler.stats.inc_value("sasscrawl/images/bytes", len(body))
        return {"path": relative, **described, "status": "downloaded", "error": None}

    def _mirror(self, relative: str, body: bytes, content_type: str | None) -> dict:
        described = describe_image(body, content_type)
        self.store.persist_file(relative, io.BytesIO(body), None)
        return described

    def media_failed(self, failure, request, info):
        if failure.check(OutOfScope):  # refused before it was sent: SectionScopeMiddleware has logged it
            self._failed(request.url, str(failure.value), log=False)
        else:
            self._failed(request.url, describe_failure(failure))

    def _failed(self, url: str, error: str, log: bool = True) -> dict:
        self.crawler.stats.inc_value("sasscrawl/images/failed")
        if log:
            logger.warning("Image not mirrored: %s (%s)", url, error)
        self.errors[url] = error
        return {**FAILED_IMAGE, "error": error}

    def item_completed(self, results, item, info):
        adapter = ItemAdapter(item)
        images = []
        for image, (_, result) in zip(adapter["images"], results):
            if not isinstance(result, dict):  # media_failed noted why
                result = {**FAILED_IMAGE, "error": self.errors.get(image_key(image["url"]), "download failed")}
            images.append({"url": image["url"], **result})
        adapter["images"] = images
        return item
