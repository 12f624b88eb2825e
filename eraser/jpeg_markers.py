"""A JPEG's markers, read from its bytes without decoding: the segments of its first picture,
its scans, where its metadata sits, and what a block-by-block save must know about it."""

from __future__ import annotations

import io
import re
import struct

from PIL import Image

# Real photos have 1 (baseline) to a few dozen (progressive) scans. A crafted file with tens of
# thousands of empty scans decodes for minutes: refuse it from its markers.
MAX_SCANS = 100
# Segments walked at most: a photo has a few dozen; a crafted file could hold millions of
# empty ones between its scans, and a walk in Python would take seconds.
MAX_SEGMENTS = 4096

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
SOS, DQT, DHT = 0xDA, 0xDB, 0xC4
# Start-of-frame markers of arithmetic-coded pictures (sequential, progressive, lossless,
# and their hierarchical forms).
ARITHMETIC_FRAMES = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Inside entropy-coded data a 0xFF byte is followed only by 0x00 (stuffing) or a restart
# marker, so the first 0xFF followed by anything else starts the next segment.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _is_metadata(marker: int) -> bool:
    return 0xE0 <= marker <= 0xEF or marker == 0xFE  # APPn (EXIF, ICC, XMP...) and COM


def markers(data: bytes):
    """(marker, start, end) of each segment of a JPEG's first picture after SOI, in file order:
    its header, each scan's header and what sits between scans, up to its EOI (entropy-coded
    data is skipped). Stops early at bytes that are not a marker, or after MAX_SEGMENTS."""
    pos = 2
    for _ in range(MAX_SEGMENTS):
        while data[pos : pos + 2] == b"\xff\xff":  # fill bytes
            pos += 1
        if pos + 2 > len(data) or data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == EOI[1]:
            yield marker, pos, pos + 2
            return
        if pos + 4 > len(data):
            return
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos, end
        pos = end
        if marker == SOS:
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return
            pos = found.start()


def segments(data: bytes):
    """(marker, start, end) of each header segment after SOI, up to and including the first SOS."""
    for marker, start, end in markers(data):
        yield marker, start, end
        if marker == SOS:
            return


def count_scans(data: bytes) -> int:
    """How many scans (SOS markers) the first picture of a JPEG holds.

    Counted in C rather than walked, as a scan bomb has tens of thousands: inside entropy-coded
    data a 0xFF byte is always followed by 0x00 or a restart marker, so every FF DA after the
    first scan starts another one; an EXIF thumbnail's scans sit in the header and are skipped
    with it.
    """
    first = next((start for marker, start, _ in segments(data) if marker == SOS), None)
    if first is None:
        return 0
    end = data.find(EOI, first)
    return data.count(b"\xff\xda", first, end if end >= 0 else len(data))


def is_arithmetic(data: bytes) -> bool:
    """Whether a JPEG's first picture is arithmetic-coded (not Huffman)."""
    return any(marker in ARITHMETIC_FRAMES for marker, _, _ in segments(data))


def scan_ends(data: bytes) -> list[int]:
    """Offsets just past the marker code that closes each scan's entropy-coded data: where a
    decoder that cannot pause inside a scan (libjpeg's arithmetic decoder) may be paused."""
    ends, in_scan = [], False
    for marker, start, _ in markers(data):
        if in_scan:
            ends.append(start + 2)
        in_scan = marker == SOS
    return ends


def tables_fixed(data: bytes) -> bool:
    """Whether every quantisation table is defined before the first scan and the file can be
    walked to its EOI. A DQT between scans is legal, but the decoder then uses, for each
    component, the tables in force at its first scan, while a coefficient reader reports the
    last ones."""
    found = [marker for marker, _, _ in markers(data)]
    if not found or found[-1] != EOI[1] or SOS not in found:
        return False
    return DQT not in found[found.index(SOS) :]


def header(data: bytes) -> bytes:
    """The APPn (EXIF, ICC, XMP...) and COM segments before a JPEG's first scan, verbatim and
    wherever they sit among its tables, minus MPO's index (it points at pictures that are not
    saved again) and the EXIF thumbnail."""
    kept = []
    for marker, start, end in segments(data):
        if not _is_metadata(marker):
            continue
        if marker == 0xE1 and data[start + 4 : start + 10] == b"Exif\x00\x00":
            kept.append(_without_thumbnail(data[start:end]))
        elif not (marker == 0xE2 and data[start + 4 : start + 8] == b"MPF\x00"):
            kept.append(data[start:end])
    return b"".join(kept)


def body(data: bytes) -> bytes:
    """A JPEG's first picture without SOI and without the APPn/COM segments before its first
    scan: its tables and frame, then its scans up to EOI (pictures appended after it, as in
    an MPO, are left out)."""
    kept, first_scan, end = [], None, len(data)
    for marker, start, stop in markers(data):
        if first_scan is None and marker == SOS:
            first_scan = start
        if first_scan is None and not _is_metadata(marker):
            kept.append(data[start:stop])
        if marker == EOI[1]:
            end = stop
    if first_scan is None:
        raise ValueError("no scan in the JPEG")
    return b"".join(kept) + data[first_scan:end]


def first_picture(data: bytes) -> bytes:
    """The JPEG as is, without pictures appended after it (MPO), their index or its thumbnail."""
    return SOI + header(data) + body(data)


def _without_thumbnail(segment: bytes) -> bytes:
    """An EXIF segment without its thumbnail (IFD1), which still shows what was erased: the
    thumbnail's bytes are blanked and IFD0's link to it cut, so every offset stays valid."""
    tiff = bytearray(segment[10:])
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        ifd0 = struct.unpack_from(order + "I", tiff, 4)[0]
        link = ifd0 + 2 + 12 * struct.unpack_from(order + "H", tiff, ifd0)[0]
        ifd1 = struct.unpack_from(order + "I", tiff, link)[0]
        if not ifd1:
            return segment
        fields = {}
        for i in range(struct.unpack_from(order + "H", tiff, ifd1)[0]):
            tag, kind, _, value = struct.unpack_from(order + "HHII", tiff, ifd1 + 2 + 12 * i)
            fields[tag] = value if kind != 3 else (value & 0xFFFF if order == "<" else value >> 16)
        start, length = fields.get(0x0201, 0), fields.get(0x0202, 0)
        if start and 0 < length <= len(tiff) - start:
            tiff[start : start + length] = bytes(length)
        struct.pack_into(order + "I", tiff, link, 0)
    except (KeyError, struct.error):
        return segment
    return segment[:10] + bytes(tiff)


def _huffman_tables(data: bytes) -> set[bytes]:
    """Each Huffman table of a JPEG as its class, code counts and symbols (not its slot)."""
    tables = set()
    for marker, start, end in segments(data):
        if marker != DHT:
            continue
        pos = start + 4
        while pos + 17 <= end:
            size = 17 + sum(data[pos + 1 : pos + 17])
            tables.add(bytes([data[pos] >> 4]) + data[pos + 1 : pos + size])
            pos += size
    return tables


_STANDARD: set[bytes] = set()


def standard_tables(data: bytes) -> bool:
    """Whether a JPEG uses only the standard (JPEG spec, Annex K) Huffman tables."""
    if not _STANDARD:
        sample = io.BytesIO()
        Image.new("RGB", (8, 8)).save(sample, "JPEG", optimize=False)
        _STANDARD.update(_huffman_tables(sample.getvalue()))
    tables = _huffman_tables(data)
    return bool(tables) and tables <= _STANDARD
