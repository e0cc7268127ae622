"""Tell what an input file is before DuckDB reads it: format, compression, encoding, delimiter.

DuckDB reads UTF-8 only and guesses dialects silently; an audit must say what it assumed. So
the first MiB of each file (decompressed) is examined here, the result is stated in the scan's
summary, and a Windows-1252 file is re-encoded to a temporary UTF-8 copy, streaming.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assistgate.audit.errors import ReadError

SAMPLE_BYTES = 1 << 20
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ENCODINGS = ("auto", "utf-8", "cp1252")
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What a file turned out to be."""

    format: str  # "csv", "jsonl" or "parquet"
    compressed: bool
    encoding: str  # "utf-8", "cp1252" or "" (Parquet)
    bom: bool
    delimiter: str  # "" unless CSV
    header: tuple[str, ...]  # CSV only

    def describe(self) -> str:
        """Say in a few words what was assumed about the file."""
        kind = {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet"}[self.format]
        parts = [f"gzip {kind}" if self.compressed else kind]
        if self.encoding:
            name = "Windows-1252" if self.encoding == "cp1252" else "UTF-8"
            parts.append(name + (" with BOM" if self.bom else ""))
        if self.delimiter:
            parts.append(f"{DELIMITERS[self.delimiter]}-delimited")
        return ", ".join(parts)


def sniff(path: Path, encoding: str = "auto") -> Sniffed:
    """Examine `path` and return its format, encoding and delimiter, or raise `ReadError`."""
    name = str(path)
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ReadError(name, f"cannot open: {exc.strerror or exc}") from None
    if not magic:
        raise ReadError(name, "the file is empty")
    if magic == b"PAR1":
        return Sniffed("parquet", False, "", False, "", ())
    compressed = magic[:2] == b"\x1f\x8b"
    sample = _sample(path, compressed)
    if not sample.strip(b"\r\n\t "):
        raise ReadError(
            name, "the file holds no data" + (" once decompressed" if compressed else "")
        )
    if sample.startswith(_UTF16_BOMS):
        raise ReadError(name, "the file is UTF-16; save it as UTF-8 or Windows-1252")
    nul = sample.find(b"\x00")
    if nul >= 0:
        raise ReadError(name, "binary data, not text", line=sample.count(b"\n", 0, nul) + 1)
    bom = sample.startswith(_UTF8_BOM)
    chosen = _encoding(sample, encoding, name)
    text = sample.decode(chosen, errors="replace").removeprefix("\ufeff")
    suffixes = [s.lower() for s in path.suffixes]
    if any(s in (".jsonl", ".ndjson", ".json") for s in suffixes) or text.lstrip().startswith("{"):
        return Sniffed("jsonl", compressed, chosen, bom, "", ())
    delimiter, header = _dialect(text, name)
    return Sniffed("csv", compressed, chosen, bom, delimiter, header)


def _sample(path: Path, compressed: bool) -> bytes:
    try:
        if compressed:
            with gzip.open(path, "rb") as gz:
                return gz.read(SAMPLE_BYTES)
        with path.open("rb") as f:
            return f.read(SAMPLE_BYTES)
    except EOFError:
        raise ReadError(str(path), "the gzip stream ends early: the file is truncated") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ReadError(str(path), f"not a valid gzip file: {exc}") from None


def _encoding(sample: bytes, wanted: str, name: str) -> str:
    """Return "utf-8" or "cp1252": UTF-8 if the sample decodes as UTF-8, else Windows-1252."""
    if wanted not in ENCODINGS:
        raise ReadError(name, f"unknown encoding {wanted!r}; use one of {', '.join(ENCODINGS)}")
    order = ("utf-8", "cp1252") if wanted == "auto" else (wanted,)
    first_error: UnicodeDecodeError | None = None
    for enc in order:
        try:
            # final=False: the sample may end inside a multi-byte character.
            codecs.getincrementaldecoder(enc)().decode(sample, final=False)
            return enc
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    assert first_error is not None
    line = sample.count(b"\n", 0, first_error.start) + 1
    tried = " nor ".join("UTF-8" if e == "utf-8" else "Windows-1252" for e in order)
    raise ReadError(
        name,
        f"byte 0x{sample[first_error.start]:02x} cannot be read as {tried}",
        line=line,
    )


def _dialect(text: str, name: str) -> tuple[str, tuple[str, ...]]:
    """Pick the delimiter that splits the header and the first lines into equal field counts."""
    lines = text.splitlines()[:201]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short (sample's end, or a truncated file)
    best: tuple[int, int, str] | None = None
    for delim in DELIMITERS:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        agree = sum(1 for r in rows if len(r) == width)
        if agree * 10 < len(rows) * 9:
            continue
        score = (agree, width, delim)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None:
        raise ReadError(
            name,
            "cannot tell the delimiter: no comma, semicolon, tab or pipe splits the header "
            "and the lines after it into the same number of fields",
            line=1,
        )
    delim = best[2]
    header = next(csv.reader(io.StringIO(lines[0]), delimiter=delim))
    return delim, tuple(h.strip() for h in header)


def transcode_to_utf8(path: Path, compressed: bool, out: BinaryIO) -> None:
    """Copy a Windows-1252 file to `out` as UTF-8, streaming; name the line of a bad byte."""
    decoder = codecs.getincrementaldecoder("cp1252")()
    line = 1
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as src:
            while chunk := src.read(SAMPLE_BYTES):
                try:
                    out.write(decoder.decode(chunk).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    at = line + chunk.count(b"\n", 0, exc.start)
                    raise ReadError(
                        str(path), f"byte 0x{chunk[exc.start]:02x} is not Windows-1252", line=at
                    ) from None
                line += chunk.count(b"\n")
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except EOFError:
        raise ReadError(str(path), "the gzip stream ends early: the file is truncated") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ReadError(str(path), f"not a valid gzip file: {exc}") from None
