"""Feed and report documents: decompression, text decoding and Amazon's tab-separated flat files.

Pure functions; the client fetches the bytes from the document's pre-signed URL and calls these.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib

_GZIP_MAGIC = b"\x1f\x8b"


def decompress(content: bytes, compression_algorithm: str | None) -> bytes:
    """The document's bytes with Amazon's `compressionAlgorithm` undone.

    httpx already inflates a body sent with `Content-Encoding: gzip`, so a document declared GZIP that no
    longer starts with the gzip magic number is taken as already decoded.
    """
    if compression_algorithm is None:
        return content
    if compression_algorithm.upper() != "GZIP":
        raise ValueError(f"unsupported compression algorithm {compression_algorithm}")
    if not content.startswith(_GZIP_MAGIC):
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError("the document is not valid gzip") from exc


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def decode_text(content: bytes, content_type: str | None = None) -> str:
    """Text of a report document.

    The declared charset wins; otherwise UTF-8 (with or without BOM), falling back to Windows-1252, which
    Amazon uses for flat-file reports in several marketplaces. SKUs keep their exact case either way.
    """
    charset = _charset(content_type)
    if charset:
        try:
            return content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def parse_tab_separated(text: str) -> list[dict[str, str]]:
    """Rows of a tab-separated report with a header row (e.g. GET_MERCHANT_LISTINGS_ALL_DATA's `seller-sku`).

    Amazon's flat files are not quoted: a `"` in an item name is data, not a quote.
    """
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = [row for row in reader if row and any(cell for cell in row)]
    if not rows:
        return []
    header = [name.strip() for name in rows[0]]
    return [{name: (row[i] if i < len(row) else "") for i, name in enumerate(header)} for row in rows[1:]]
