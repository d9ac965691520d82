"""Real, deterministic image bytes for the replica's ``/upload/...`` paths.

Pages declare the real site's display sizes (600 px wide); the files are drawn at a quarter of
that so a 5,000-article benchmark does not spend its time encoding pictures. Pixels come from a
``random.Random`` seeded by (site seed, path), so bytes depend only on those two.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

DECLARED_WIDTH = 600
PIXEL_SCALE = 4
EXIF_ORIENTATION_TAG = 0x0112
EXIF_ORIENTATION_ROTATE_90 = 6


def declared_size(seed: int, path: str) -> tuple[int, int]:
    """The ``width``/``height`` the article body declares for the image at ``path``."""
    return DECLARED_WIDTH, random.Random(f"{seed}:size:{path}").randrange(300, 452, 2)


def render_image(seed: int, path: str, *, exif_orientation: bool = False) -> tuple[str, bytes]:
    """(content type, bytes) for ``path``: a PNG with transparency for ``.png``, else a JPEG.

    ``exif_orientation`` makes a quality-95 JPEG carrying an EXIF Orientation tag, the kind of
    file an image pipeline must rotate or at least survive.
    """
    rng = random.Random(f"{seed}:pixels:{path}")
    width, height = (side // PIXEL_SCALE for side in declared_size(seed, path))
    transparent = path.endswith(".png")
    image = Image.new("RGBA" if transparent else "RGB", (width, height), (0, 0, 0, 0) if transparent else _colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randint(8, width // 2), y + rng.randint(8, height // 2))
        draw.rectangle(box, fill=_colour(rng) + ((rng.randint(96, 255),) if transparent else ()))
    output = io.BytesIO()
    if transparent:
        image.save(output, "PNG")
        return "image/png", output.getvalue()
    if exif_orientation:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION_TAG] = EXIF_ORIENTATION_ROTATE_90
        image.save(output, "JPEG", quality=95, exif=exif.tobytes())
    else:
        image.save(output, "JPEG")
    return "image/jpeg", output.getvalue()


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)
