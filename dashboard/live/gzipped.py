"""The live stream gzip-compressed for browsers that ask, with no compressor per stream.

A tablet on plant Wi-Fi pays for every byte of its stream: the overview's first frame is
about 12 KB of HTML and the stream then runs at about 10 KB/s, both compressing several times
over. Two ready-made ways cost too much here:
- a gzip compressor per stream (what Django's GZipMiddleware would keep) holds about 270 KB
  of zlib window and tables, more than an open stream costs in all (docs/live.md);
- Django's streaming gzip does not flush after each chunk, so a value would wait in it.

So each frame is deflated on its own and flushed to a byte boundary (a sync flush), once for
all the streams that send it: the fan-out hands the same frame bytes to each of them, and
equal frames are deflated once (`shared`). Deflate data may be any run of such pieces, as
none refers back past its own start (RFC 1951), so a stream is gzip's header, the pieces,
and at its end an empty last block and gzip's trailer (RFC 1952). A stream keeps only what
the trailer needs: the CRC-32 and the length of what it sent.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from functools import lru_cache

from django.middleware.gzip import re_accepts_gzip

# gzip's header: magic, deflate, no flags, no time, no extra flags, operating system unknown.
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# An empty last block (fixed Huffman codes, the end-of-block code alone).
LAST_BLOCK = b"\x03\x00"
LEVEL = 6
# A 4 KB window and small tables: a frame is a few KB at most, and a compressor set up per
# frame costs a third of one with zlib's defaults.
WINDOW_BITS = 12
MEM_LEVEL = 4
# Distinct frames kept deflated: a few seconds of a busy plant's changes.
SHARED_FRAMES = 2048


def deflate(data: bytes) -> bytes:
    """`data` as raw deflate blocks ending on a byte boundary, never the last block."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -WINDOW_BITS, MEM_LEVEL)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


@lru_cache(maxsize=SHARED_FRAMES)
def shared(frame: bytes) -> bytes:
    """A frame the fan-out sends to many streams, deflated once for all of them."""
    return deflate(frame)


def accepts_gzip(accept_encoding: str) -> bool:
    """The same test as the pages' compression (Django's GZipMiddleware)."""
    return bool(re_accepts_gzip.search(accept_encoding))


class GzipStream:
    """One stream's gzip framing: its header once, then frames; the trailer at its end."""

    __slots__ = ("crc", "size", "started")

    def __init__(self) -> None:
        self.crc = 0
        self.size = 0
        self.started = False

    def encode(self, frames: Sequence[bytes], *, own: Sequence[bytes] = ()) -> bytes:
        """`own` (this stream's alone: its retry, a keepalive) and then the shared `frames`."""
        parts = [] if self.started else [HEADER]
        self.started = True
        for frame in own:
            parts.append(deflate(frame))
            self._count(frame)
        for frame in frames:
            parts.append(shared(frame))
            self._count(frame)
        return b"".join(parts)

    def _count(self, frame: bytes) -> None:
        self.crc = zlib.crc32(frame, self.crc)
        self.size += len(frame)

    def end(self) -> bytes:
        head = b"" if self.started else HEADER
        self.started = True
        return head + LAST_BLOCK + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF)
