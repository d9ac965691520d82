"""Where mirrored images land on disk, and what is recorded about their bytes.

A URL is chosen by a web server, so the mapping must keep every file inside
``images/<host>/`` and give distinct URLs distinct files.
"""

import hashlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from sasscrawl.mirror import MAX_NAME_BYTES, describe_image, image_key, mirror_path
from sasscrawl.pipelines.images import MirrorStore

NAME_MAX = 255
PATH_MAX = 4096
SITE = "http://en.sass.cn"


# --- layout --------------------------------------------------------------------------


def test_mirror_keeps_the_sites_layout():
    """A user finds an image under the same path as on the site."""
    assert (mirror_path("http://en.sass.cn/upload/images/2026/2/2/x.001.jpeg")
            == "images/en.sass.cn/upload/images/2026/2/2/x.001.jpeg")
    assert (mirror_path("http://en.sass.cn/upload/images/2026/2/2/35f89dff-1d5f-4009-ae98-d4ac9fcbad11.001.jpeg")
            == "images/en.sass.cn/upload/images/2026/2/2/35f89dff-1d5f-4009-ae98-d4ac9fcbad11.001.jpeg")


def test_mirror_keeps_the_port():
    """A local replica on 127.0.0.1:8000 does not mix its files with another port's."""
    assert mirror_path("http://127.0.0.1:8000/upload/a.jpg") == "images/127.0.0.1:8000/upload/a.jpg"
    assert mirror_path("http://127.0.0.1:8001/upload/a.jpg") == "images/127.0.0.1:8001/upload/a.jpg"


# --- hostile URLs --------------------------------------------------------------------


HOSTILE = {
    "dot-dot": SITE + "/upload/../../../etc/passwd",
    "dot-dot-only": SITE + "/..",
    "dot": SITE + "/./x.jpg",
    "encoded-dot-dot": SITE + "/upload/%2e%2e/%2E%2E/%2e%2E/etc/passwd",
    "encoded-dot": SITE + "/%2e/x.jpg",
    "encoded-slash": SITE + "/upload/..%2F..%2F..%2Fetc%2Fpasswd",
    "encoded-slash-only": SITE + "/%2F/%2F%2F",
    "double-encoded": SITE + "/%252e%252e/%252F/x.jpg",
    "absolute-looking": SITE + "//etc/passwd",
    "many-slashes": SITE + "////etc//passwd",
    "nul": SITE + "/upload/x%00.jpg",
    "nul-dot-dot": SITE + "/%00../..%00/x",
    "backslashes": SITE + "/upload/..\\..\\..\\etc\\passwd",
    "encoded-backslashes": SITE + "/upload/..%5C..%5Cetc%5Cpasswd",
    "very-long-name": SITE + "/upload/" + "a" * 5000 + ".jpg",
    "very-long-encoded-name": SITE + "/upload/" + "%2F" * 2000 + ".jpg",
    "long-unicode-name": SITE + "/upload/" + "图" * 400 + ".jpg",
    "unicode": SITE + "/上传/图片 照片.jpg",
    "encoded-unicode": SITE + "/%E4%B8%8A%E4%BC%A0/%E5%9B%BE.jpg",
    "query": SITE + "/upload/x.jpg?w=100&h=50",
    "query-traversal": SITE + "/upload/x.jpg?../../../etc/passwd",
    "query-only": SITE + "/?../..",
    "control-chars": SITE + "/a%0Ab%0D%09c.jpg",
    "tilde-and-percent": SITE + "/~/%25/%/x.jpg",
    "empty-host-dots": "http://../x.jpg",
    "no-host": "http:///etc/passwd",
}


def _check_contained(tmp_path: Path, url: str) -> Path:
    relative = mirror_path(url)
    parts = relative.split("/")
    assert parts[0] == "images"
    for part in parts[1:]:
        assert part not in ("", ".", ".."), (url, relative)
        assert "\x00" not in part and "\\" not in part, (url, relative)
        assert len(part.encode()) <= NAME_MAX, (url, len(part.encode()))
    host_root = (tmp_path / "images" / parts[1]).resolve()
    assert host_root.is_relative_to((tmp_path / "images").resolve()) and host_root != (tmp_path / "images").resolve()
    target = (tmp_path / relative).resolve()
    assert target.is_relative_to(host_root) and target != host_root, (url, relative)
    assert len(str(tmp_path / relative).encode()) < PATH_MAX, (url, len(str(tmp_path / relative).encode()))
    return target


@pytest.mark.parametrize("url", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_url_stays_inside_its_host_folder(tmp_path, url):
    """No URL a server can send makes the mirror write outside images/<host>/, and the file can be written."""
    target = _check_contained(tmp_path, url)
    # Only now that the path is known to be safe: written by the image pipeline's own store, as a crawl writes it.
    MirrorStore(str(tmp_path)).persist_file(mirror_path(url), io.BytesIO(b"img"), info=None)
    written = [Path(root) / name for root, _, names in os.walk(tmp_path) for name in names]
    assert written == [target] and target.read_bytes() == b"img"


def test_long_names_are_bounded_and_hashed():
    """An overlong name is cut to MAX_NAME_BYTES, keeps a readable prefix and stays distinct."""
    name = mirror_path(SITE + "/upload/" + "a" * 5000 + ".jpg").split("/")[-1]
    assert len(name) <= MAX_NAME_BYTES
    assert name.startswith("a" * 100)
    assert name != mirror_path(SITE + "/upload/" + "a" * 5000 + ".png").split("/")[-1]


def test_long_query_keeps_the_file_name_within_name_max(tmp_path):
    """A long query (resizer parameters, tracking tokens) must not make a file name the disk refuses."""
    url = SITE + "/upload/x.jpg?token=" + "q" * 600
    _check_contained(tmp_path, url)


def test_deep_url_keeps_the_whole_path_under_path_max(tmp_path):
    """A URL of under 2 KB (any server accepts it) must not map to a path longer than PATH_MAX."""
    url = SITE + "/" + "/".join([":" * 50] * 28) + "/x.jpg"
    assert len(url) < 2048
    _check_contained(tmp_path, url)


# --- injectivity ---------------------------------------------------------------------

U = SITE + "/upload/"
DISTINCT = [
    U + "a/b.jpg", U + "a%2Fb.jpg", U + "a%252Fb.jpg", U + "a%2F%2Fb.jpg",
    U + "x.jpg", U + "x.jpg?s=1", U + "x.jpg%3Fs=1", U + "x.jpg@s=1", U + "x.jpg?s=2", U + "x.jpg?s=1&t=2",
    U + "x.jpg?s=1@t", U + "x.jpg%3Fs=1?t", U + "x.jpg?%3F", U + "x.jpg?@",
    U + "a//b", U + "a/b", U + "a///b", U + "a/b/", U + "a/b//", U + "a/%25/b", U + "a/%2525/b",
    U + "...", U + "%252E%252E", U + ".hidden",
    U + "a" * 150, U + "a" * 151, U + "a" * 200 + "1.jpg", U + "a" * 200 + "2.jpg", U + "a" * 110 + "~",
    U + "X.jpg", U + "a%20b.jpg", U + "a+b.jpg", U + "图.jpg", U + "图片.jpg",
    "http://en.sass.cn:8080/upload/x.jpg", "http://127.0.0.1:8000/upload/x.jpg", "http://www.sass.cn/upload/x.jpg",
    SITE + "/", SITE + "//",
    "https://en.sass.cn/upload/x.jpg", "http://en.sass.cn:443/upload/x.jpg", "https://en.sass.cn:80/upload/x.jpg",
    "http://https/en.sass.cn/upload/x.jpg", "https://https/upload/x.jpg", "http://https/upload/x.jpg",
]


def test_distinct_urls_give_distinct_paths():
    """Two images must never overwrite each other's file, however alike their URLs are."""
    assert len(set(DISTINCT)) == len(DISTINCT) >= 40
    paths = {}
    for url in DISTINCT:
        path = mirror_path(url)
        assert path not in paths, f"{url!r} and {paths[path]!r} both map to {path!r}"
        paths[path] = url


def test_equivalent_spellings_share_one_path():
    """Spellings RFC 3986 (section 6) calls one resource are one image, in one file: %41 and A, dot segments,
    the default port, a host's case, trailing dot and IDNA form; and the path is stable."""
    assert mirror_path(U + "%41.jpg") == mirror_path(U + "A.jpg") == "images/en.sass.cn/upload/A.jpg"
    assert mirror_path(U + "x.jpg") == mirror_path(U + "x.jpg")
    assert mirror_path(U + "./x") == mirror_path(U + "a/../x") == mirror_path(U + "%2E%2E/upload/x") == (
        "images/en.sass.cn/upload/x")
    assert mirror_path(U + "..") == mirror_path(SITE + "/") == "images/en.sass.cn/%"
    assert mirror_path("http://EN.sass.cn.:80/upload/x.jpg") == mirror_path(U + "x.jpg")
    assert mirror_path("http://%68ttps/upload/x.jpg") == mirror_path("http://https/upload/x.jpg")
    assert mirror_path("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:8000/a b.jpg") == mirror_path("http://localhost:8000/a%20b.jpg") == (
        "images/localhost:8000/a%20b.jpg")


def test_http_and_https_twins_get_different_files():
    """One path on one host under http and https can carry different bytes: two files, https one folder down."""
    assert mirror_path("http://en.sass.cn/upload/same.jpg") == "images/en.sass.cn/upload/same.jpg"
    assert mirror_path("https://en.sass.cn/upload/same.jpg") == "images/https/en.sass.cn/upload/same.jpg"
    assert mirror_path("https://en.sass.cn:8443/upload/same.jpg") == "images/https/en.sass.cn:8443/upload/same.jpg"
    assert mirror_path("http://https/en.sass.cn/upload/same.jpg") == "images/%68ttps/en.sass.cn/upload/same.jpg"


def test_overlong_name_marker_cannot_be_forged():
    """'~' marks a hashed overlong name, so a URL that spells such a name literally must not take its file."""
    long_url = U + "a" * 200 + ".jpg"
    hashed_name = mirror_path(long_url).split("/")[-1]
    assert "~" in hashed_name
    forged_url = U + hashed_name
    assert forged_url != long_url
    assert mirror_path(forged_url) != mirror_path(long_url)


def test_query_delimiters_stay_distinct_from_their_escapes():
    """In a query '&', '=' and '+' mean something their %-escapes do not: different images, different files."""
    pairs = [
        ("x.jpg?a=1&b=2", "x.jpg?a=1%26b=2"),
        ("x.jpg?k=v=w", "x.jpg?k=v%3Dw"),
        ("x.jpg?q=a+b", "x.jpg?q=a%2Bb"),
    ]
    for plain, escaped in pairs:
        assert mirror_path(U + plain) != mirror_path(U + escaped), (plain, escaped)


# --- describe_image ------------------------------------------------------------------


def _jpeg_with_orientation(width, height, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def test_describe_jpeg_reports_stored_pixel_size_not_the_rotated_one():
    """width/height are the file's pixels; an EXIF rotation is metadata and nothing is re-encoded."""
    body = _jpeg_with_orientation(40, 20, 6)
    with Image.open(io.BytesIO(body)) as check:
        assert check.getexif()[0x0112] == 6  # the tag really is in the file
    described = describe_image(body, "image/jpeg")
    assert described == {
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
        "contentType": "image/jpeg",
        "width": 40,
        "height": 20,
    }


def test_describe_png_with_transparency_and_sniffed_type():
    """A transparent RGBA PNG is described from its header; with no Content-Type the sniffed type is used."""
    out = io.BytesIO()
    Image.new("RGBA", (7, 3), (0, 0, 0, 0)).save(out, "PNG")
    body = out.getvalue()
    described = describe_image(body, None)
    assert (described["width"], described["height"]) == (7, 3)
    assert described["contentType"] == "image/png"
    assert described["sha256"] == hashlib.sha256(body).hexdigest()
    assert described["size"] == len(body)


def test_describe_uses_the_servers_header_normalised():
    """contentType is what the server said, without parameters and lower-cased."""
    body = _jpeg_with_orientation(5, 4, 1)
    assert describe_image(body, "Image/JPEG; charset=binary")["contentType"] == "image/jpeg"
    assert describe_image(body, "application/octet-stream")["contentType"] == "application/octet-stream"
    assert describe_image(body, "")["contentType"] == "image/jpeg"


def test_describe_non_image_bytes():
    """An error page served instead of an image: no pixel size, but checksum, size and type are still right."""
    body = b"<html><body>404 Not Found</body></html>\n"
    assert describe_image(body, "text/html; charset=utf-8") == {
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
        "contentType": "text/html",
        "width": None,
        "height": None,
    }
    empty = describe_image(b"", None)
    assert empty == {"sha256": hashlib.sha256(b"").hexdigest(), "size": 0, "contentType": None,
                     "width": None, "height": None}


# --- injectivity, as a property --------------------------------------------------------

_HOSTS = st.one_of(
    st.sampled_from(["en.sass.cn", "https", "http", "images", "%68ttps", "a", "127.0.0.1", "[::1]", "[::ffff:7f00:1]",
                     "xn--bcher-kva.de", "bücher.de", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", "EN.sass.cn.", "a" * 200]),
    st.text(alphabet="ahtps.-_~%2F0", min_size=1, max_size=8),
)
_PIECES = st.text(alphabet="aA.~%@:;=&+?#/\\ 2FEe7é图", max_size=8)


@st.composite
def image_urls(draw) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":1"]))
    path = "/".join(draw(st.lists(_PIECES, max_size=4)))
    query = draw(st.one_of(st.none(), _PIECES))
    return f"{scheme}://{draw(_HOSTS)}{port}/{path}" + ("" if query is None else f"?{query}")


@settings(max_examples=600, deadline=None)
@given(st.lists(image_urls(), min_size=2, max_size=6))
def test_distinct_resources_never_share_a_file(urls):
    """Any two URLs whose keys differ (scheme, host, port, path or query) map to different files; the key of a
    key is itself, and every path stays in the mirror."""
    paths: dict[str, str] = {}
    for url in urls:
        key = image_key(url)
        assert image_key(key) == key, url
        path = mirror_path(url)
        assert path == mirror_path(key)
        assert path.startswith("images/") and all(part not in ("", ".", "..") for part in path.split("/")), path
        assert paths.setdefault(path, key) == key, f"{url!r} and {paths[path]!r} both map to {path!r}"
