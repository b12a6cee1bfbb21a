"""QR codes from uploaded photos (app.services.qr): decoding, making, refusing bad files.

No app and no database. The "photos" are simulated: a QR printed on a page with text, turned
a few degrees, blurred, greyscale, grainy, saved as JPEG.
"""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from app.domain.errors import DomainError
from app.services import qr
from app.services.qr import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    ImageRejected,
    decode_qr,
    make_qr_png,
    read_image,
)

URL = "http://127.0.0.1:5000/badges/Fu0aVDlUL4f0dIlf9m-_Cw"
UNREADABLE = "Ce fichier n'est pas une image lisible. Envoyez une photo en JPEG, PNG ou WebP."
TOO_BIG = (
    "Cette image est trop grande (trop de pixels). Envoyez une photo plus petite, "
    "de 25 millions de pixels au plus."
)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _qr_image(text: str = URL, **options: int) -> Image.Image:
    return Image.open(io.BytesIO(make_qr_png(text, **options))).convert("L")


def _page(qr_image: Image.Image | None, size: tuple[int, int] = (1240, 1754)) -> Image.Image:
    """A light grey A4-like page with lines of text and, if given, the QR in the middle."""
    page = Image.new("L", size, 232)
    draw = ImageDraw.Draw(page)
    for line in range(14):
        y = 90 + line * 42
        draw.text((90, y), f"Badge numérique Jalon, ligne {line} : savoir-être", fill=35)
        draw.line((90, y + 24, size[0] - 90, y + 24), fill=180, width=2)
    if qr_image is not None:
        page.paste(qr_image, ((size[0] - qr_image.width) // 2, size[1] // 2))
    return page


def _photograph(
    page: Image.Image, *, angle: float, blur: float, noise: float, seed: int
) -> Image.Image:
    """What a phone makes of ``page``: turned, soft, greyscale, grainy."""
    turned = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=110)
    soft = turned.filter(ImageFilter.GaussianBlur(blur)).convert("L")
    grain = Image.frombytes("L", soft.size, random.Random(seed).randbytes(soft.width * soft.height))
    return Image.blend(soft, grain, noise)


def _photo_jpeg(
    angle: float = 5.5, blur: float = 1.3, noise: float = 0.12, seed: int = 11
) -> bytes:
    photo = _photograph(_page(_qr_image()), angle=angle, blur=blur, noise=noise, seed=seed)
    return _encode(photo, "JPEG", quality=70)


def _chunks(png: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, data length) of each chunk of ``png``."""
    found, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        found.append((kind, pos, length))
        pos += 12 + length
    return found


def _with_chunk_data(png: bytes, kind: bytes, data: bytes) -> bytes:
    """``png`` with the data of its first ``kind`` chunk replaced, CRC made right again."""
    for chunk, pos, length in _chunks(png):
        if chunk == kind:
            body = kind + data
            new = struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
            return png[:pos] + new + png[pos + 12 + length :]
    raise AssertionError(f"no {kind!r} chunk")


def _declaring(width: int, height: int) -> bytes:
    """A tiny valid PNG whose IHDR is rewritten to declare ``width`` x ``height`` pixels."""
    png = _encode(Image.new("L", (8, 8), 255), "PNG")
    ihdr = png[16:29]  # the 13 data bytes of IHDR: width, height, depth, colour, ...
    return _with_chunk_data(png, b"IHDR", struct.pack(">II", width, height) + ihdr[8:])


def _refusal(data: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        read_image(data)
    with pytest.raises(ImageRejected):
        decode_qr(data)
    return caught.value


# ---- making QR codes ------------------------------------------------------------------------


def test_make_qr_png_is_a_deterministic_black_and_white_png_with_high_correction() -> None:
    png = make_qr_png(URL)
    assert png == make_qr_png(URL)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert sorted(colour for _, colour in image.convert("L").getcolors()) == [0, 255]
    assert image.convert("L").getpixel((0, 0)) == 255  # the quiet zone is white

    found = zxingcpp.read_barcodes(image)
    assert [(b.text, b.format, b.ec_level) for b in found] == [
        (URL, zxingcpp.BarcodeFormat.QRCode, "Q")
    ]
    modules = (image.width // 8) - 2 * 4
    assert image.size == ((modules + 8) * 8,) * 2
    assert 21 <= modules <= 177 and (modules - 17) % 4 == 0  # a real QR version


def test_make_qr_png_box_size_and_border() -> None:
    default = Image.open(io.BytesIO(make_qr_png(URL)))
    small = Image.open(io.BytesIO(make_qr_png(URL, box_size=3, border=2)))
    modules = default.width // 8 - 8
    assert small.size == ((modules + 4) * 3,) * 2
    assert decode_qr(make_qr_png(URL, box_size=3, border=2)) == URL


# ---- decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [URL, "https://jalon.example.org/badges/abc?variante=signee", "Léa ✓ 2025"]
)
def test_round_trip(text: str) -> None:
    assert decode_qr(make_qr_png(text)) == text


@pytest.mark.parametrize(
    ("angle", "blur", "noise", "seed"),
    [(5.5, 1.3, 0.12, 11), (-4.0, 1.0, 0.1, 12), (7.0, 1.5, 0.15, 13)],
)
def test_decodes_a_photo_of_a_printed_badge(
    angle: float, blur: float, noise: float, seed: int
) -> None:
    data = _photo_jpeg(angle, blur, noise, seed)
    photo = Image.open(io.BytesIO(data))
    assert photo.format == "JPEG" and photo.mode == "L"
    assert decode_qr(data) == URL


@pytest.mark.parametrize(
    ("box_size", "blur", "noise", "seed"),
    [(6, 2.25, 0.4, 7), (5, 1.5625, 0.35, 5), (5, 1.5625, 0.4, 7), (6, 1.875, 0.3, 5)],
    ids=["read-downscaled", "read-denoised", "read-sharpened", "read-by-several"],
)
def test_decodes_grainy_photos_through_the_fallback_attempts(
    box_size: int, blur: float, noise: float, seed: int
) -> None:
    """Grain and blur the plain attempt cannot read; a cleaned-up attempt does."""
    page = _page(_qr_image(box_size=box_size))
    photo = _photograph(page, angle=5, blur=blur, noise=noise, seed=seed)
    data = _encode(photo, "JPEG", quality=60)
    (first, binarizer), *_ = qr._attempts(read_image(data))
    assert not zxingcpp.read_barcodes(first, binarizer=binarizer), (
        "the first attempt reads this photo now: make it harder so the fallbacks stay tested"
    )
    assert decode_qr(data) == URL


def test_decodes_a_big_phone_photo() -> None:
    """12 Mpx, the QR small in the frame: decoded from a downscaled image."""
    page = _page(_qr_image(box_size=14), size=(3000, 4000))
    photo = _photograph(page, angle=-5, blur=2.0, noise=0.08, seed=3).convert("RGB")
    data = _encode(photo, "JPEG", quality=80)
    assert len(data) <= MAX_UPLOAD_BYTES
    assert decode_qr(data) == URL


def test_exif_orientation_is_applied() -> None:
    """A phone stores the photo sideways with an Orientation tag; we read it upright."""
    upright = _page(_qr_image(), size=(900, 1300))
    ImageDraw.Draw(upright).rectangle((0, 0, 60, 60), fill=0)  # a mark in the top left corner
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as the sensor wrote it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    data = _encode(stored, "JPEG", quality=85, exif=exif.tobytes())

    image = read_image(data)
    assert stored.size == (1300, 900)
    assert image.size == (900, 1300)
    assert image.convert("L").getpixel((20, 20)) < 60
    assert image.convert("L").getpixel((880, 20)) > 150
    assert decode_qr(data) == URL


def test_mirrored_exif_orientation() -> None:
    """Orientation 2 (mirrored, some front cameras) is flipped back."""
    upright = _page(_qr_image(), size=(900, 1300))
    ImageDraw.Draw(upright).rectangle((0, 0, 60, 60), fill=0)
    stored = upright.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    exif = Image.Exif()
    exif[0x0112] = 2
    data = _encode(stored, "JPEG", quality=90, exif=exif.tobytes())

    image = read_image(data)
    assert image.size == (900, 1300)
    assert image.convert("L").getpixel((20, 20)) < 60
    assert image.convert("L").getpixel((880, 20)) > 150
    assert decode_qr(data) == URL


def test_a_corrupt_exif_block_is_a_warning_or_a_refusal() -> None:
    """Pillow only warns about a corrupt EXIF block: the photo is read as stored; where
    warnings are errors (as in these tests) it is refused, never a crash."""
    exif = Image.Exif()
    exif[0x0112] = 6
    data = bytearray(_encode(_page(_qr_image(), size=(900, 1300)), "JPEG", exif=exif.tobytes()))
    tiff = data.index(b"Exif\0\0") + 6
    data[tiff + 8 : tiff + 10] = b"\xff\xff"  # 65535 IFD entries in a few bytes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_image(bytes(data)).size in ((900, 1300), (1300, 900))
        assert decode_qr(bytes(data)) == URL
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _refusal(bytes(data)).message == UNREADABLE


def test_a_png_with_a_corrupt_exif_chunk_is_still_read() -> None:
    """EXIF in a PNG is only parsed to turn the image: when it is broken, pixels as stored."""
    exif = Image.Exif()
    exif[0x0112] = 6
    png = _encode(_page(_qr_image(), size=(900, 1300)), "PNG", exif=exif.tobytes())
    block = bytearray(exif.tobytes())
    assert block.startswith(b"Exif\0\0MM")
    block[14:16] = b"\xff\xff"  # 65535 IFD entries in a few bytes
    data = _with_chunk_data(png, b"eXIf", bytes(block))
    assert read_image(data).size == (900, 1300)  # warnings are errors here: not turned
    assert decode_qr(data) == URL


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "BMP"])
def test_other_accepted_formats(fmt: str) -> None:
    page = _page(_qr_image(), size=(700, 1100))
    assert decode_qr(_encode(page, fmt)) == URL


def test_qr_on_a_transparent_background_and_16_bit_png() -> None:
    qr_image = _qr_image()
    transparent = Image.new("RGBA", qr_image.size, (0, 0, 0, 0))
    transparent.putalpha(qr_image.point(lambda value: 255 - value))  # black modules only
    assert decode_qr(_encode(transparent, "PNG")) == URL

    deep = qr_image.convert("I").point(lambda value: value * 200 + 3000).convert("I;16")
    data = _encode(deep, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    assert decode_qr(data) == URL


def test_a_photo_without_a_qr_code() -> None:
    photo = _photograph(_page(None), angle=5, blur=1.2, noise=0.1, seed=7)
    assert decode_qr(_encode(photo, "JPEG", quality=70)) is None
    assert decode_qr(_encode(Image.new("RGB", (640, 480), "white"), "PNG")) is None


# ---- refusals -------------------------------------------------------------------------------


def test_image_rejected_is_a_domain_error() -> None:
    error = ImageRejected()
    assert isinstance(error, DomainError)
    assert (error.code, error.status, error.message) == ("image_rejected", 400, UNREADABLE)


@pytest.mark.parametrize(
    "data",
    [
        b"Ceci n'est pas une image.\n" * 20,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"\x89PNG\r\n\x1a\n",  # the signature alone
        b"\xff\xd8\xff\xe0",  # the start of a JPEG
    ],
    ids=["text", "pdf", "png-signature", "jpeg-start"],
)
def test_refuses_what_is_not_an_image(data: bytes) -> None:
    error = _refusal(data)
    assert (error.status, error.message) == (400, UNREADABLE)


def test_refuses_empty_bytes() -> None:
    error = _refusal(b"")
    assert error.status == 400
    assert error.message == "Le fichier est vide. Choisissez une photo du code QR."


def test_refuses_too_many_bytes_before_reading_them() -> None:
    png = make_qr_png(URL)
    error = _refusal(png + b"\0" * (MAX_UPLOAD_BYTES + 1 - len(png)))
    assert error.status == 413
    assert "trop lourd" in error.message and "5 Mo" in error.message
    # exactly at the cap is allowed (bytes after IEND are ignored)
    assert decode_qr(png + b"\0" * (MAX_UPLOAD_BYTES - len(png))) == URL


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (5001, 5000),  # just over our cap, under Pillow's own limit
        (10_000, 10_000),  # over Pillow's warning limit (a warning, an error under pytest)
        (30_000, 30_000),  # over Pillow's error limit: 900 Mpx from a 70-byte file
    ],
)
def test_refuses_decompression_bombs_from_the_header(width: int, height: int) -> None:
    assert width * height > MAX_PIXELS
    before = Image.MAX_IMAGE_PIXELS
    data = _declaring(width, height)
    assert len(data) < 100
    error = _refusal(data)
    assert (error.status, error.message) == (400, TOO_BIG)
    assert Image.MAX_IMAGE_PIXELS == before  # Pillow's global limit untouched


def test_refuses_a_jpeg_declaring_too_many_pixels() -> None:
    data = bytearray(_encode(Image.new("L", (16, 16), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    data[sof + 5 : sof + 9] = struct.pack(">HH", 6000, 6000)
    assert _refusal(bytes(data)).message == TOO_BIG


def test_accepts_exactly_max_pixels_in_the_header() -> None:
    """The cap is inclusive; such a header passes the size check (then fails on its data)."""
    error = _refusal(_declaring(5000, 5000))
    assert error.message == UNREADABLE  # 8x8 worth of data for 25 Mpx: truncated, not "too big"


def test_refuses_a_truncated_png_and_jpeg() -> None:
    png = make_qr_png(URL)
    assert _refusal(png[: len(png) // 2]).message == UNREADABLE
    jpeg = _photo_jpeg()
    assert _refusal(jpeg[: len(jpeg) * 2 // 3]).message == UNREADABLE


def test_refuses_a_png_with_a_bad_crc() -> None:
    png = make_qr_png(URL)
    kind, pos, length = next(chunk for chunk in _chunks(png) if chunk[0] == b"IDAT")
    bad = bytearray(png)
    bad[pos + 8 + length] ^= 0xFF  # the first byte of the IDAT CRC
    assert Image.open(io.BytesIO(bytes(bad))).getbbox() is not None  # Pillow alone reads it
    assert _refusal(bytes(bad)).message == UNREADABLE


def test_refuses_a_png_with_a_corrupt_compressed_stream() -> None:
    png = make_qr_png(URL)
    kind, pos, length = next(chunk for chunk in _chunks(png) if chunk[0] == b"IDAT")
    idat = bytearray(png[pos + 8 : pos + 8 + length])
    idat[length // 2 :] = bytes(len(idat) - length // 2)  # CRC valid, zlib data broken
    error = _refusal(_with_chunk_data(png, b"IDAT", bytes(idat)))
    assert error.message == UNREADABLE


def test_refuses_formats_outside_the_list() -> None:
    """TIFF, PSD, EPS, … can be opened by Pillow, but are not read from uploads."""
    page = _page(_qr_image(), size=(700, 1100))
    for fmt in ("TIFF", "PPM", "ICO"):
        data = _encode(page.resize((256, 256)) if fmt == "ICO" else page, fmt)
        assert Image.open(io.BytesIO(data)).format == fmt
        assert _refusal(data).message == UNREADABLE


_SEEDS = {
    "png": make_qr_png(URL, box_size=2),
    "jpeg": _encode(_qr_image(box_size=2), "JPEG", quality=80),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(sorted(_SEEDS)),
    cut=st.integers(min_value=0, max_value=5000),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=6),
)
def test_damaged_files_give_an_image_or_a_refusal(
    seed: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(_SEEDS[seed][: max(1, len(_SEEDS[seed]) - cut)])
    for where, mask in flips:
        data[where % len(data)] ^= mask
    try:
        text = decode_qr(bytes(data))
    except ImageRejected as error:
        assert error.status == 400 and error.message in (UNREADABLE, TOO_BIG)
    else:
        assert text is None or isinstance(text, str)
