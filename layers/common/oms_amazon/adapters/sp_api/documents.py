"""Feed and report documents: decompression, text decoding and Amazon's tab-separated flat files.

Pure functions; the client fetches the bytes from the document's pre-signed URL and calls these. A report
(the listings report runs to hundreds of megabytes for a large catalogue) is read as it arrives: `inflate`
and `text_lines` hold about one network chunk and one line at a time, never the document.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import zlib
from collections.abc import Iterable, Iterator

_GZIP_MAGIC = b"\x1f\x8b"
# Inflated bytes produced per step: a small, highly compressed chunk cannot blow up into a large buffer.
INFLATE_STEP = 1 << 20
# No report row comes near this (a listing's description is at most a few thousand characters); a
# "line" this long is not a flat file, and reading on would hold it whole.
MAX_LINE_BYTES = 4 << 20


class DocumentError(ValueError):
    """The document's bytes are not what Amazon declared: corrupt gzip, an unknown compression, no lines."""


def decompress(content: bytes, compression_algorithm: str | None) -> bytes:
    """The document's bytes with Amazon's `compressionAlgorithm` undone.

    httpx already inflates a body sent with `Content-Encoding: gzip`, so a document declared GZIP that no
    longer starts with the gzip magic number is taken as already decoded.
    """
    if compression_algorithm is None:
        return content
    _check_algorithm(compression_algorithm)
    if not content.startswith(_GZIP_MAGIC):
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as exc:
        raise DocumentError("the document is not valid gzip") from exc


def _check_algorithm(compression_algorithm: str) -> None:
    if compression_algorithm.upper() != "GZIP":
        raise DocumentError(f"unsupported compression algorithm {compression_algorithm}")


def inflate(chunks: Iterable[bytes], compression_algorithm: str | None) -> Iterator[bytes]:
    """`decompress` for a document read in chunks: the inflated bytes, at most `INFLATE_STEP` at a time.
    Concatenated gzip members are read one after the other, as `gzip.decompress` reads them."""
    if compression_algorithm is None:
        yield from chunks
        return
    _check_algorithm(compression_algorithm)
    stream = iter(chunks)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= len(_GZIP_MAGIC):
            break
    if not head.startswith(_GZIP_MAGIC):
        # Already inflated by httpx (`Content-Encoding: gzip`), as `decompress` allows.
        if head:
            yield head
        yield from stream
        return
    yield from _gunzip(itertools.chain([head], stream))


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    member = _gzip_member()
    fed = False
    for chunk in chunks:
        data, full = chunk, False
        # A step that fills its output may leave more inside zlib with no input left: drain it too.
        while data or full:
            fed = fed or bool(data)
            try:
                out = member.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                raise DocumentError("the document is not valid gzip") from exc
            full = len(out) == INFLATE_STEP
            if out:
                yield out
            if member.eof:
                # Another member may follow: concatenated gzip files are one gzip document.
                data, member, fed, full = member.unused_data, _gzip_member(), False, False
            else:
                data = member.unconsumed_tail
    if fed and not member.eof:
        raise DocumentError("the document is not valid gzip: it ends inside a member")


def _gzip_member() -> zlib._Decompress:
    return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)


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


def text_lines(chunks: Iterable[bytes], content_type: str | None = None) -> Iterator[str]:
    """The lines of a report arriving in chunks (inflated), each without its line end, decoded as
    `decode_text` decodes a whole document but line by line: the declared charset, else UTF-8 (a BOM
    dropped), else Windows-1252. A line is one listing, so a stray byte costs that row its accents, not the
    whole report. A charset in which a newline is not the byte `\\n` (UTF-16, UTF-32) is decoded as a
    stream instead, undecodable bytes replaced."""
    charset = _known_charset(content_type)
    if charset is not None and "\n".encode(charset) != b"\n":
        yield from _stream_lines(chunks, charset)
        return
    first = True
    for line in _byte_lines(chunks):
        yield _decode_line(line, charset, first)
        first = False


def _known_charset(content_type: str | None) -> str | None:
    charset = _charset(content_type)
    if charset is None:
        return None
    try:
        name = codecs.lookup(charset).name
        "\n".encode(name)  # a text encoding, not one of Python's bytes-to-bytes codecs
    except LookupError:
        return None
    return name


def _decode_line(line: bytes, charset: str | None, first: bool) -> str:
    if charset is not None:
        try:
            return line.decode(charset)
        except UnicodeDecodeError:
            pass
    try:
        return line.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _byte_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines split at `\\n` (a `\\r` before it dropped), which no ASCII-compatible charset uses inside a
    character: Amazon's flat files are UTF-8, Windows-1252 or Shift_JIS."""
    partial = bytearray()
    for chunk in chunks:
        lines = chunk.split(b"\n")
        if len(lines) > 1:
            partial += lines[0]
            lines[0] = bytes(partial)
            partial.clear()
            for line in lines[:-1]:
                yield line[:-1] if line.endswith(b"\r") else line
        partial += lines[-1]
        if len(partial) > MAX_LINE_BYTES:
            raise DocumentError(f"a line of the document is longer than {MAX_LINE_BYTES} bytes")
    if partial:
        yield bytes(partial[:-1] if partial.endswith(b"\r") else partial)


def _stream_lines(chunks: Iterable[bytes], charset: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(charset)(errors="replace")
    partial = ""
    for chunk in chunks:
        lines = (partial + decoder.decode(chunk)).split("\n")
        partial = lines.pop()
        if len(partial) > MAX_LINE_BYTES:
            raise DocumentError(f"a line of the document is longer than {MAX_LINE_BYTES} characters")
        yield from (line.removesuffix("\r") for line in lines)
    partial += decoder.decode(b"", final=True)
    if partial:
        yield partial.removesuffix("\r")


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
