"""What an audio file really is, read from its bytes (never its name): format and duration.

A pure core: bytes in, `AudioInfo` or a typed `AudioError` out. Each reader walks the whole
container (RIFF chunks, FLAC metadata and its last frame's CRC, Ogg pages, MPEG frames, MP4
boxes), so a file cut short anywhere is refused rather than stored as if it were whole.
Specifications: RIFF/WAVE (Microsoft/IBM 1991), FLAC (RFC 9639), Ogg (RFC 3533) with Vorbis I
and Opus (RFC 7845), MPEG-1/2 Layer III (ISO/IEC 11172-3, 13818-3), ISO BMFF (ISO/IEC 14496-12).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


class AudioError(ValueError):
    """The file cannot be kept as a recording; the message says why."""


class EmptyAudio(AudioError):
    """The file has no bytes."""


class NotAudio(AudioError):
    """The bytes are not one of the accepted audio formats."""


class TruncatedAudio(AudioError):
    """The file is a known format but ends before its content does (cut short, half-copied)."""


@dataclass(frozen=True)
class AudioInfo:
    """What a recording is: `format` (wav, mp3, flac, ogg, m4a), its codec and its length."""

    format: str
    codec: str
    duration_seconds: float
    sample_rate: int
    channels: int

    @property
    def mime_type(self) -> str:
        return MIME[self.format]


MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
        "m4a": "audio/mp4"}  # fmt: skip
# File name endings a recorder might use for each format (used only to note a lying name).
SUFFIXES = {"wav": {".wav", ".wave"}, "mp3": {".mp3"}, "flac": {".flac"},
            "ogg": {".ogg", ".oga", ".opus"}, "m4a": {".m4a", ".mp4", ".aac"}}  # fmt: skip
ACCEPTED = "WAV, MP3, FLAC, Ogg (Vorbis or Opus) or M4A (AAC)"


def sniff(data: bytes) -> AudioInfo:
    """Return the format and duration of `data`, or raise an `AudioError` saying what is wrong."""
    if not data:
        raise EmptyAudio("the file is empty (0 bytes)")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav(data)
    if data[:4] == b"fLaC":
        return _flac(data, 0)
    if data[:4] == b"OggS":
        return _ogg(data)
    if data[4:8] == b"ftyp":
        return _mp4(data)
    start = _id3_end(data)
    if data[start : start + 4] == b"fLaC":
        return _flac(data, start)
    if _mpeg_header(data, start) is not None:
        return _mp3(data, start)
    if len(data) < 12:
        raise TruncatedAudio(f"the file has only {len(data)} bytes: too short for any audio")
    raise NotAudio(f"not a recognised audio file: the content is not {ACCEPTED}")


def _need(data: bytes, end: int, what: str) -> None:
    if end > len(data):
        raise TruncatedAudio(f"the file ends at byte {len(data)} inside {what} "
                             f"(which needs {end} bytes): it was cut short")  # fmt: skip


# --- WAV -------------------------------------------------------------------------------------


def _wav(data: bytes) -> AudioInfo:
    _need(data, int.from_bytes(data[4:8], "little") + 8, "the RIFF container")
    pos, fmt, data_size = 12, None, None
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        _need(data, body + size, f"the {kind.decode('latin-1')!r} chunk")
        if kind == b"fmt ":
            if size < 16:
                raise NotAudio("the WAV format chunk is too short")
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif kind == b"data":
            data_size = size
        pos = body + size + (size & 1)
    if fmt is None or data_size is None:
        raise TruncatedAudio("the WAV file has no " + ("format" if fmt is None else "data")
                             + " chunk: it was cut short or is not a recording")  # fmt: skip
    _, channels, rate, byte_rate, _, _ = fmt
    if not channels or not rate or not byte_rate:
        raise NotAudio("the WAV format chunk declares no channels, rate or byte rate")
    return AudioInfo("wav", _WAV_CODECS.get(fmt[0], f"wav-0x{fmt[0]:04x}"),
                     data_size / byte_rate, rate, channels)  # fmt: skip


_WAV_CODECS = {1: "pcm", 3: "pcm-float", 6: "alaw", 7: "mulaw", 0x11: "ima-adpcm",
               0x31: "gsm610", 0xFFFE: "pcm"}  # fmt: skip


# --- FLAC ------------------------------------------------------------------------------------


def _flac(data: bytes, start: int) -> AudioInfo:
    pos, info, max_frame = start + 4, None, 0
    while True:
        _need(data, pos + 4, "a FLAC metadata block header")
        header = data[pos]
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        _need(data, pos + 4 + size, "a FLAC metadata block")
        if header & 0x7F == 0:
            block = data[pos + 4 : pos + 4 + size]
            max_frame = int.from_bytes(block[7:10], "big")
            bits = int.from_bytes(block[10:18], "big")
            rate, channels = bits >> 44, ((bits >> 41) & 0x7) + 1
            samples = bits & 0xFFFFFFFFF
            info = (rate, channels, samples)
        pos += 4 + size
        if header & 0x80:
            break
    if info is None or not info[0]:
        raise NotAudio("the FLAC file has no valid STREAMINFO block")
    if pos >= len(data):
        raise TruncatedAudio("the FLAC file holds no audio frames: it was cut short")
    if not _flac_last_frame_whole(data, pos, max_frame):
        raise TruncatedAudio("the last FLAC frame is incomplete (its checksum fails): "
                             "the file was cut short")  # fmt: skip
    rate, channels, samples = info
    return AudioInfo("flac", "flac", samples / rate, rate, channels)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def _table(poly: int, width: int) -> list[int]:
    top, mask, table = 1 << (width - 1), (1 << width) - 1, []
    for n in range(256):
        crc = n << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else (crc << 1)
        table.append(crc & mask)
    return table


_CRC8, _CRC16 = _table(0x07, 8), _table(0x8005, 16)


def _flac_header_length(data: bytes, pos: int) -> int | None:
    """Return the length of a FLAC frame header at `pos` whose CRC-8 checks, else None."""
    if pos + 6 > len(data) or data[pos] != 0xFF or data[pos + 1] not in (0xF8, 0xF9):
        return None
    size_code, rate_code = data[pos + 2] >> 4, data[pos + 2] & 0xF
    if size_code == 0 or rate_code == 0xF:
        return None
    first, n = data[pos + 4], pos + 5
    extra = next((k for k in range(7) if not first & (0x80 >> k)), 7)  # UTF-8-like number
    n += max(extra - 1, 0)
    n += {6: 1, 7: 2}.get(size_code, 0) + {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if n >= len(data) or _crc8(data[pos:n]) != data[n]:
        return None
    return n + 1 - pos


def _flac_last_frame_whole(data: bytes, first_frame: int, max_frame: int) -> bool:
    # Look back from the end for the last frame header, then check its CRC-16 to the end.
    window = max_frame + 16 if max_frame else 1 << 20
    pos = len(data) - 2
    low = max(first_frame, len(data) - window)
    while pos >= low:
        pos = data.rfind(b"\xff", low, pos)
        if pos < 0:
            return False
        if _flac_header_length(data, pos) is not None:
            return _crc16(data[pos:-2]) == int.from_bytes(data[-2:], "big")
    return False


# --- Ogg (Vorbis, Opus) ----------------------------------------------------------------------


def _ogg(data: bytes) -> AudioInfo:
    pos, first_packet, last_granule, last_flags = 0, b"", 0, 0
    serial = None
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS":
            raise NotAudio(f"not a valid Ogg stream: no page starts at byte {pos}")
        _need(data, pos + 27, "an Ogg page header")
        flags, granule, page_serial = data[pos + 5], *struct.unpack_from("<qI", data, pos + 6)
        segments = data[pos + 26]
        _need(data, pos + 27 + segments, "an Ogg segment table")
        body = pos + 27 + segments
        end = body + sum(data[pos + 27 : body])
        _need(data, end, "an Ogg page")
        if serial is None:
            serial, first_packet = page_serial, data[body:end]
        if page_serial == serial:
            last_granule, last_flags = (granule if granule >= 0 else last_granule), flags
        pos = end
    if not last_flags & 0x04:
        raise TruncatedAudio("the Ogg stream has no end-of-stream page: it was cut short")
    if first_packet.startswith(b"\x01vorbis") and len(first_packet) >= 16:
        channels, rate = first_packet[11], int.from_bytes(first_packet[12:16], "little")
        if rate:
            return AudioInfo("ogg", "vorbis", last_granule / rate, rate, channels)
    if first_packet.startswith(b"OpusHead") and len(first_packet) >= 19:
        channels, pre_skip = first_packet[9], int.from_bytes(first_packet[10:12], "little")
        rate = int.from_bytes(first_packet[12:16], "little") or 48_000
        return AudioInfo("ogg", "opus", max(last_granule - pre_skip, 0) / 48_000, rate, channels)
    raise NotAudio("an Ogg file, but not Vorbis or Opus audio (the only Ogg codecs accepted)")


# --- MP3 -------------------------------------------------------------------------------------

_BITRATES = {  # kbit/s by bitrate index: MPEG-1 Layer III, MPEG-2/2.5 Layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _id3_end(data: bytes) -> int:
    """Return where the audio starts after any ID3v2 tag (0 if there is none)."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def _mpeg_header(data: bytes, pos: int) -> tuple[int, int, int, int] | None:
    """Return (frame length, samples, rate, channels) of a Layer III frame at `pos`, else None."""
    if pos + 4 > len(data):
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    if data[pos] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 0x3, (b1 >> 1) & 0x3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 0x3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    rate = _RATES[version][rate_index]
    bitrate = _BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
    samples = 1152 if version == 3 else 576
    length = samples // 8 * bitrate // rate + ((b2 >> 1) & 1)
    return length, samples, rate, 1 if b3 >> 6 == 3 else 2


def _mp3(data: bytes, start: int) -> AudioInfo:
    first = _mpeg_header(data, start)
    assert first is not None
    pos, frames, samples_total = start, 0, 0
    rate, channels = first[2], first[3]
    declared = _xing_frames(data, start, first[0])
    while pos < len(data):
        header = _mpeg_header(data, pos)
        if header is None:
            if data[pos : pos + 3] == b"TAG" or data[pos : pos + 8] == b"APETAGEX":
                break  # tags after the audio
            if frames < 2:
                raise NotAudio(f"not an MPEG audio file: no frame follows the one at {start}")
            raise NotAudio(f"not valid MPEG audio: byte {pos} is not the start of a frame")
        length, samples, _, _ = header
        _need(data, pos + length, f"the MPEG audio frame at byte {pos}")
        # A Xing/Info frame describes the stream and holds no audio.
        if frames or (b"Xing" not in data[pos : pos + 64] and b"Info" not in data[pos : pos + 64]):
            samples_total += samples
        frames, pos = frames + 1, pos + length
    if declared is not None and frames - 1 < declared:
        raise TruncatedAudio(f"the MP3 declares {declared} frames but holds {frames - 1}: "
                             "it was cut short")  # fmt: skip
    return AudioInfo("mp3", "mp3", samples_total / rate, rate, channels)


def _xing_frames(data: bytes, start: int, length: int) -> int | None:
    """Return the frame count a Xing/Info header in the first frame declares, if any."""
    frame = data[start : start + length]
    at = max(frame.find(b"Xing"), frame.find(b"Info"))
    if at < 0 or at + 12 > len(frame) or not frame[at + 7] & 1:
        return None
    return int.from_bytes(frame[at + 8 : at + 12], "big")


# --- M4A (MP4 audio) -------------------------------------------------------------------------


def _boxes(data: bytes, start: int, end: int, where: str) -> dict[bytes, list[tuple[int, int]]]:
    """Return the boxes between `start` and `end` by type: [(payload start, payload end)]."""
    found: dict[bytes, list[tuple[int, int]]] = {}
    pos = start
    while pos < end:
        _need(data, pos + 8, f"a box header in {where}")
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        head = 8
        if size == 1:
            _need(data, pos + 16, f"a box header in {where}")
            size, head = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < head:
            raise NotAudio(f"a malformed MP4 box at byte {pos}")
        _need(data, pos + size, f"the {kind.decode('latin-1')!r} box at byte {pos}")
        if pos + size > end:
            raise NotAudio(f"the {kind.decode('latin-1')!r} box overruns {where}")
        found.setdefault(kind, []).append((pos + head, pos + size))
        pos += size
    return found


def _mp4(data: bytes) -> AudioInfo:
    top = _boxes(data, 0, len(data), "the file")
    if b"moov" not in top:
        raise TruncatedAudio("the MP4 file has no 'moov' box (its index): it was cut short")
    if b"mdat" not in top:
        raise TruncatedAudio("the MP4 file has no 'mdat' box (its audio): it was cut short")
    sound: tuple[float, str, int, int] | None = None
    for start, end in _boxes(data, *top[b"moov"][0], "moov").get(b"trak", []):
        mdia = _boxes(data, start, end, "trak").get(b"mdia")
        if not mdia:
            continue
        inner = _boxes(data, *mdia[0], "mdia")
        if b"hdlr" not in inner or b"mdhd" not in inner:
            continue
        handler = data[inner[b"hdlr"][0][0] + 8 : inner[b"hdlr"][0][0] + 12]
        if handler == b"vide":
            raise NotAudio("an MP4 video, not an audio recording")
        if handler != b"soun" or sound is not None:
            continue
        m = inner[b"mdhd"][0][0]
        if data[m] == 1:
            timescale, duration = struct.unpack_from(">IQ", data, m + 20)
        else:
            timescale, duration = struct.unpack_from(">II", data, m + 12)
        codec, rate, channels = _mp4_sample_entry(data, inner)
        if not timescale:
            raise NotAudio("the MP4 sound track declares no time scale")
        sound = (duration / timescale, codec, rate, channels)
    if sound is None:
        raise NotAudio("an MP4 file with no sound track")
    return AudioInfo("m4a", sound[1], sound[0], sound[2], sound[3])


def _mp4_sample_entry(data: bytes, mdia: dict[bytes, list[tuple[int, int]]]) -> tuple[
        str, int, int]:  # fmt: skip
    minf = _boxes(data, *mdia.get(b"minf", [(0, 0)])[0], "minf")
    stbl = _boxes(data, *minf.get(b"stbl", [(0, 0)])[0], "stbl")
    if b"stsd" not in stbl:
        raise NotAudio("the MP4 sound track has no sample description")
    entry = stbl[b"stsd"][0][0] + 8  # version/flags, entry count
    _need(data, entry + 36, "the MP4 sample description")
    kind = data[entry + 4 : entry + 8]
    channels = int.from_bytes(data[entry + 24 : entry + 26], "big")
    rate = int.from_bytes(data[entry + 32 : entry + 34], "big")
    codec = {b"mp4a": "aac", b"alac": "alac"}.get(kind, kind.decode("latin-1").strip())
    return codec, rate, channels
