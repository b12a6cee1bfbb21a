"""QR codes: read one from an uploaded photo (server side, no JavaScript) and make one as PNG.

Uploaded bytes are untrusted: ``read_image`` caps their size, accepts a few common image
formats only, refuses images whose header declares too many pixels before decoding any of
them, turns every decoding failure into ``ImageRejected`` and applies the EXIF orientation.
Pillow's global limits (``Image.MAX_IMAGE_PIXELS``, warning filters) are left untouched.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import qrcode
import zxingcpp
from PIL import Image, ImageFilter, ImageOps
from qrcode.image.pil import PilImage

from app.domain.errors import DomainError

MAX_UPLOAD_BYTES = 5_000_000
MAX_PIXELS = 25_000_000
# Formats a phone, a scanner or a screenshot gives; the other Pillow plugins (EPS calls
# Ghostscript, TIFF, PSD, …) are more attack surface for no use here.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
# Longest side of an image handed to the decoder: bounds the work of each attempt.
MAX_SIDE = 2000
SMALL_SIDE = 1000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

UNREADABLE = "Ce fichier n'est pas une image lisible. Envoyez une photo en JPEG, PNG ou WebP."


class ImageRejected(DomainError):
    """An uploaded file that is not an image we agree to read."""

    code = "image_rejected"
    message = UNREADABLE

    def __init__(self, message: str | None = None, *, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


def _too_many_pixels() -> ImageRejected:
    return ImageRejected(
        "Cette image est trop grande (trop de pixels). Envoyez une photo plus petite, "
        "de 25 millions de pixels au plus."
    )


def _png_chunks_intact(data: bytes) -> bool:
    """Every chunk up to IEND is complete and has the right CRC (Pillow skips IDAT CRCs)."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return False
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(memoryview(data)[pos + 4 : end - 4]) != crc:
            return False
        if kind == b"IEND":
            return True
        pos = end
    return False


def read_image(data: bytes, *, max_side: int | None = None) -> Image.Image:
    """Decode untrusted image bytes, upright (EXIF orientation applied).

    ``max_side`` lets JPEG decoding skip detail (DCT scaling) when a smaller image is enough;
    the result is then at least ``max_side`` on its longest side or the full image.
    Raises ``ImageRejected`` (status 413 when the bytes exceed ``MAX_UPLOAD_BYTES``).
    """
    if not data:
        raise ImageRejected("Le fichier est vide. Choisissez une photo du code QR.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(
            "Ce fichier est trop lourd : 5 Mo au plus. Envoyez une photo plus légère.",
            status=413,
        )
    if data.startswith(PNG_SIGNATURE) and not _png_chunks_intact(data):
        raise ImageRejected()
    try:
        # Pillow's own bomb check may warn (or, under ``-W error``, raise) at open time.
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageRejected()
        if width * height > MAX_PIXELS:
            raise _too_many_pixels()
        if max_side is not None and image.format == "JPEG" and max(width, height) > max_side:
            scale = max_side / max(width, height)
            image.draft(image.mode, (round(width * scale), round(height * scale)))
        image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError):
        # UnidentifiedImageError is an OSError; truncated or corrupt data raise OSError,
        # SyntaxError or, from some plugins, the others.
        raise ImageRejected() from None
    except Warning:
        # Pillow only warns about some corrupt data (EXIF, …); where warnings are errors
        # (``-W error``, the tests), the file is refused like any other unreadable one.
        raise ImageRejected() from None
    try:
        ImageOps.exif_transpose(image, in_place=True)  # no copy of a big upright photo
    except Exception:  # a broken EXIF block (Pillow warns): keep the pixels as stored
        pass
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Greyscale; transparent areas white (a QR on a transparent PNG stays readable)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    elif image.mode.startswith("I"):  # 16-bit PNG: scale, do not clip, to 8 bits
        image = image.convert("I").point(lambda value: value * (1 / 256))
    return image.convert("L")


def _fit(image: Image.Image, side: int) -> Image.Image:
    """``image`` if its longest side is at most ``side``, else a downscaled copy."""
    if max(image.size) <= side:
        return image
    smaller = image.copy()
    smaller.thumbnail((side, side), Image.Resampling.LANCZOS)
    return smaller


def _attempts(image: Image.Image) -> Iterator[tuple[Image.Image, zxingcpp.Binarizer]]:
    """At most four decoder runs on images of at most ``MAX_SIDE`` px, likeliest first.

    The decoder works on luminance anyway, so "as is" and "greyscale" are one attempt. The
    later ones were kept because each read simulated photos (blur, grain, low contrast,
    JPEG) that the earlier ones missed.
    """
    grey = _fit(_flatten(image), MAX_SIDE)
    yield grey, zxingcpp.Binarizer.LocalAverage
    small = _fit(grey, SMALL_SIDE)
    if small is not grey:
        # Big phone photos: noise and moiré shrink with the image, modules stay wide enough.
        yield small, zxingcpp.Binarizer.LocalAverage
    # Grainy or dim photos: smooth the grain out, then stretch the contrast.
    denoised = ImageOps.autocontrast(grey.filter(ImageFilter.GaussianBlur(1)), cutoff=2)
    yield denoised, zxingcpp.Binarizer.LocalAverage
    # Soft and grainy photos: despeckle, sharpen the edges, binarise with one threshold.
    sharpened = (
        ImageOps.autocontrast(small, cutoff=1)
        .filter(ImageFilter.MedianFilter(3))
        .filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2))
    )
    yield sharpened, zxingcpp.Binarizer.GlobalHistogram


def decode_qr(data: bytes) -> str | None:
    """The text of the first QR code found in the photo ``data``, or None if none is found.

    Raises ``ImageRejected`` when ``data`` is not an acceptable image (see ``read_image``).
    """
    image = read_image(data, max_side=MAX_SIDE)
    for variant, binarizer in _attempts(image):
        found = zxingcpp.read_barcodes(
            variant,
            formats=zxingcpp.BarcodeFormat.QRCode,
            binarizer=binarizer,
        )
        for barcode in found:
            if barcode.valid and barcode.text:
                return barcode.text
    return None


def make_qr_png(text: str, *, box_size: int = 8, border: int = 4) -> bytes:
    """A QR code of ``text`` as PNG bytes: black on white, error correction Q, deterministic."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_Q,
        box_size=box_size,
        border=border,
        image_factory=PilImage,
    )
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
