"""Resized copies of a photo, in its own format and in WebP, cached between builds.

A variant is made once: its file in the cache is named by a hash of everything it
depends on (the source's bytes, the width, the format, the encoder settings, the
Pillow version and ``RECIPE``), so an unchanged photo is never decoded or encoded
again, and any change gives a new name instead of a stale file. What a source
holds (its size, whether it decodes at all) is cached in the same way.
"""

import hashlib
import io
import json
import os
from dataclasses import dataclass

import PIL
from PIL import Image, ImageOps

from adviesblog_common.files import write_atomically

# Raise when the way a variant is made changes (resampling, metadata kept...).
RECIPE = 1
# Pillow's format name -> the extension of a variant in that format.
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
RASTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


class UnreadableImage(ValueError):
    """The file is not an image Pillow can decode whole (corrupt, truncated, too large)."""


@dataclass(frozen=True)
class SourceImage:
    """A photo under content/: its bytes' digest, upright size and format."""

    path: str
    digest: str
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    format: str
    cache_file: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def file_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def open_upright(path: str) -> tuple[Image.Image, str]:
    """The photo decoded whole and turned as its EXIF orientation says, and its format.

    ``load()`` decodes every pixel, so a truncated or damaged file fails here and
    not halfway through writing a variant.
    """
    try:
        with Image.open(path) as image:
            image.load()
            if image.format not in EXTENSIONS:
                raise UnreadableImage(f"it is {image.format}, not JPEG, PNG or WebP")
            return ImageOps.exif_transpose(image), image.format
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImage(str(error) or type(error).__name__) from error


def variant_widths(width: int, wanted: list[int]) -> list[int]:
    """The widths to make of a photo ``width`` pixels wide: never wider than it is."""
    return sorted({min(width, candidate) for candidate in wanted if candidate > 0})


class VariantCache:
    """The variants of this build's photos, in ``folder`` (``cache/images`` by default)."""

    def __init__(self, folder: str, jpeg_quality: int, webp_quality: int):
        self.folder = folder
        self.qualities = {"JPEG": jpeg_quality, "WEBP": webp_quality, "PNG": None}
        self.encoded = 0  # variants encoded by this build (the rest came from the cache)

    def _path(self, key: str, suffix: str) -> str:
        return os.path.join(self.folder, key[:2], key + suffix)

    def inspect(self, path: str) -> SourceImage:
        """Size and format of the photo in ``path``; UnreadableImage if it does not decode."""
        digest = file_digest(path)
        record_path = self._path(_hash("source", digest, PIL.__version__, RECIPE), ".json")
        try:
            with open(record_path, encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            record = None
        if record is None:
            image, image_format = open_upright(path)
            record = {"width": image.width, "height": image.height, "format": image_format}
            write_atomically(record_path, json.dumps(record))
        return SourceImage(path, digest, record["width"], record["height"], record["format"])

    def plan(self, source: SourceImage, widths: list[int]) -> list[Variant]:
        """Every variant of ``source``: each width in its own format, then in WebP."""
        formats = [source.format] if source.format == "WEBP" else [source.format, "WEBP"]
        variants = []
        for width in variant_widths(source.width, widths):
            height = max(1, round(source.height * width / source.width))
            for image_format in formats:
                key = _hash("variant", source.digest, width, image_format,
                            self.qualities[image_format], PIL.__version__, RECIPE)
                variants.append(Variant(width, height, image_format,
                                        self._path(key, EXTENSIONS[image_format])))
        return variants

    def make(self, source: SourceImage, variants: list[Variant]) -> None:
        """Encode the variants the cache does not hold yet; decode the source at most once."""
        missing = [variant for variant in variants if not os.path.exists(variant.cache_file)]
        if not missing:
            return
        image, _format = open_upright(source.path)
        for variant in missing:
            resized = image if variant.width == image.width else image.resize(
                (variant.width, variant.height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            write_atomically(variant.cache_file, self.encode(resized, variant.format))
            self.encoded += 1

    def encode(self, image: Image.Image, image_format: str) -> bytes:
        """``image`` as a file, without its metadata (EXIF can hold where a photo was taken)."""
        buffer = io.BytesIO()
        icc_profile = image.info.get("icc_profile")
        extra = {"icc_profile": icc_profile} if icc_profile else {}
        if image_format == "JPEG":
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            image.save(buffer, "JPEG", quality=self.qualities["JPEG"],
                       progressive=True, **extra)
        elif image_format == "WEBP":
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() or
                                      "transparency" in image.info else "RGB")
            image.save(buffer, "WEBP", quality=self.qualities["WEBP"], method=4, **extra)
        else:
            image.save(buffer, "PNG", optimize=True, **extra)
        return buffer.getvalue()
