"""Our WebSocket frame reader against wsproto's, on generated input.

Hypothesis builds streams of frames, valid and broken (masking right and
wrong, fragmented messages with control frames between the fragments,
reserved bits and opcodes, non-minimal and oversized length fields, close
frames with every kind of payload, UTF-8 split across fragments or made
invalid), and feeds the bytes to our codec (`_FrameReader`, then the text
and close-frame decoding the connection applies) and to wsproto's
``FrameProtocol``: whole, one byte at a time, and in generated pieces.
Both must make the same decisions: the same messages and control frames
in the same order, then the same close or the same failure code.

Run it longer with ``WS_DIFFERENTIAL_EXAMPLES=20000``.  The one known
difference is kept out of the comparison and has its own test: close code
1014 (registered by IANA after RFC 6455) is accepted by us and refused by
wsproto.
"""

import os
import struct
from typing import Any, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tornado.util import _websocket_mask_python
from tornado.websocket import (
    _FrameReader,
    _parse_close,
    _WebSocketProtocolError,
)

wsproto_frames = pytest.importorskip("wsproto.frame_protocol")

# An outcome: the events in order, and the failure code (None if none).
Events = List[Tuple[Any, ...]]
Outcome = Tuple[Events, Optional[int]]

# Big enough that our size limit (which wsproto does not have) never decides.
NO_LIMIT = 1 << 64


def ours(chunks: List[bytes], from_client: bool) -> Outcome:
    """What our connection makes of these bytes: the reader's messages,
    text decoded and close frames parsed as `WebSocketProtocol13` does."""
    reader = _FrameReader(from_client, NO_LIMIT)
    events: Events = []
    try:
        for chunk in chunks:
            reader.feed(chunk)
            while True:
                item = reader.next_message()
                if item is None:
                    break
                opcode, payload, compressed = item
                assert not compressed
                if opcode == 0x1:
                    try:
                        events.append(("text", payload.decode("utf-8")))
                    except UnicodeDecodeError:
                        return events, 1007
                elif opcode == 0x2:
                    events.append(("binary", payload))
                elif opcode == 0x8:
                    code, reason = _parse_close(payload)
                    events.append(("close", 1005 if code is None else code, reason or ""))
                    return events, None  # nothing after a Close is read
                else:
                    events.append(({0x9: "ping", 0xA: "pong"}[opcode], payload))
    except _WebSocketProtocolError as e:
        return events, e.code
    return events, None


def theirs(chunks: List[bytes], from_client: bool) -> Outcome:
    """What wsproto makes of the same bytes."""
    Opcode = wsproto_frames.Opcode
    protocol = wsproto_frames.FrameProtocol(client=not from_client, extensions=[])
    events: Events = []
    parts: List[Any] = []
    try:
        for chunk in chunks:
            protocol.receive_bytes(chunk)
            for frame in protocol.received_frames():
                if frame.opcode is Opcode.CLOSE:
                    code, reason = frame.payload
                    events.append(("close", int(code), reason))
                    return events, None
                if frame.opcode is Opcode.PING:
                    events.append(("ping", bytes(frame.payload)))
                elif frame.opcode is Opcode.PONG:
                    events.append(("pong", bytes(frame.payload)))
                else:
                    parts.append(frame.payload)
                    if frame.message_finished:
                        if frame.opcode is Opcode.TEXT:
                            events.append(("text", "".join(parts)))
                        else:
                            events.append(("binary", b"".join(bytes(p) for p in parts)))
                        parts = []
    except wsproto_frames.ParseFailed as e:
        return events, int(e.code)
    return events, None


# -- generating frames ---------------------------------------------------------

# A frame before encoding: first byte (FIN, RSV, opcode), payload, and how
# to write it on the wire.
class Frame:
    def __init__(self, first: int, payload: bytes) -> None:
        self.first = first
        self.payload = payload
        self.flip_mask = False  # masked when it must not be, or the reverse
        self.length_form = "minimal"  # or "16", "64", "64-top-bit"
        self.key = b"\x00\x00\x00\x00"

    def encode(self, from_client: bool) -> bytes:
        masked = from_client != self.flip_mask
        n = len(self.payload)
        form = self.length_form
        if form == "minimal":
            form = "7" if n < 126 else "16" if n < 65536 else "64"
        if form == "16" and n >= 65536:
            form = "64"
        if form == "7":
            head = bytes([self.first, n | (0x80 if masked else 0)])
        elif form == "16":
            head = bytes([self.first, 126 | (0x80 if masked else 0)]) + struct.pack("!H", n)
        else:
            top = 1 << 63 if form == "64-top-bit" else 0
            head = bytes([self.first, 127 | (0x80 if masked else 0)]) + struct.pack("!Q", n | top)
        if masked:
            return head + self.key + _websocket_mask_python(self.key, self.payload)
        return head + self.payload

    def __repr__(self) -> str:
        return "Frame(%#x, %r, flip_mask=%s, %s)" % (
            self.first, self.payload, self.flip_mask, self.length_form
        )


# Byte sequences that are never valid UTF-8 (RFC 3629): a lone continuation
# byte, bytes that never occur, an overlong encoding, a surrogate, a code
# point past U+10FFFF, and the first byte of a sequence cut short.
BAD_UTF8 = [b"\x80", b"\xff", b"\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]

CLOSE_CODES = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999,
    0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
]


@st.composite
def text_payload(draw: Any) -> bytes:
    data = draw(st.text(max_size=20)).encode("utf-8")
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(BAD_UTF8)) + data[at:]
    return data


@st.composite
def control_frame(draw: Any) -> Frame:
    opcode = draw(st.sampled_from([0x8, 0x9, 0xA]))
    if opcode == 0x8:
        kind = draw(st.integers(0, 5))
        if kind == 0:
            payload = b""
        elif kind == 1:
            payload = draw(st.binary(min_size=1, max_size=1))
        else:
            code = draw(st.sampled_from(CLOSE_CODES))
            payload = struct.pack("!H", code) + draw(text_payload())[:100]
    else:
        payload = draw(st.binary(max_size=20))
    if draw(st.integers(0, 15)) == 0:
        payload = payload.ljust(126, b"x")  # too long for a control frame
    return Frame(0x80 | opcode, payload)


@st.composite
def data_message(draw: Any) -> List[Frame]:
    """A message cut into fragments at arbitrary byte positions (so UTF-8
    sequences may be split between frames), control frames in between."""
    text = draw(st.booleans())
    payload = draw(text_payload()) if text else draw(st.binary(max_size=30))
    cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=3)))
    pieces = [payload[a:b] for a, b in zip([0] + cuts, cuts + [len(payload)], strict=True)]
    frames: List[Frame] = []
    for i, piece in enumerate(pieces):
        opcode = (0x1 if text else 0x2) if i == 0 else 0x0
        fin = 0x80 if i == len(pieces) - 1 else 0
        frames.append(Frame(fin | opcode, piece))
        if fin == 0 and draw(st.integers(0, 2)) == 0:
            frames.append(draw(control_frame()))
    return frames


@st.composite
def raw_frame(draw: Any) -> List[Frame]:
    """A frame with any first byte: reserved opcodes and bits, stray
    continuations, fragmented control frames."""
    return [Frame(draw(st.integers(0, 255)), draw(st.binary(max_size=10)))]


@st.composite
def mutated(draw: Any, frames: List[Frame]) -> List[Frame]:
    for frame in frames:
        mutation = draw(st.integers(0, 40))
        if mutation == 0:
            frame.flip_mask = True
        elif mutation == 1:
            frame.first |= draw(st.sampled_from([0x40, 0x20, 0x10]))
        elif mutation == 2:
            frame.length_form = draw(st.sampled_from(["16", "64", "64-top-bit"]))
        frame.key = draw(st.binary(min_size=4, max_size=4))
    return frames


@st.composite
def stream(draw: Any) -> List[Frame]:
    parts = draw(st.lists(st.one_of(data_message(), control_frame().map(lambda f: [f]), raw_frame()), max_size=6))
    return draw(mutated([frame for part in parts for frame in part]))


def uses_1014(frames: List[Frame]) -> bool:
    return any(f.first & 0x0F == 0x8 and f.payload[:2] == b"\x03\xf6" for f in frames)


@st.composite
def splits(draw: Any, data: bytes) -> List[bytes]:
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=8))))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)], strict=True)]


# A few hundred examples in the default run; WS_DIFFERENTIAL_EXAMPLES=20000
# for a long one.
EXAMPLES = int(os.environ.get("WS_DIFFERENTIAL_EXAMPLES", "300"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=stream(), from_client=st.booleans(), data=st.data())
def test_same_decisions_as_wsproto(frames: List[Frame], from_client: bool, data: Any) -> None:
    if uses_1014(frames):
        return  # see test_close_code_1014
    wire = b"".join(frame.encode(from_client) for frame in frames)
    pieces = data.draw(splits(wire))
    expected = theirs([wire], from_client)
    for chunks in ([wire], [wire[i : i + 1] for i in range(len(wire))], pieces):
        assert ours(chunks, from_client) == expected, (frames, chunks)
        # wsproto's own result does not depend on how the bytes arrive.
        assert theirs(chunks, from_client) == expected


def test_close_code_1014() -> None:
    # 1014 ("bad gateway") is in IANA's registry of close codes; wsproto's
    # list stops at 1013.  A peer may send any registered code.
    frame = Frame(0x88, struct.pack("!H", 1014) + b"upstream broke").encode(True)
    assert ours([frame], True) == ([("close", 1014, "upstream broke")], None)
    assert theirs([frame], True) == ([], 1002)


# -- the cases the generator found, kept as plain tests ------------------------


def wire(*frames: Frame, from_client: bool = True) -> bytes:
    return b"".join(f.encode(from_client) for f in frames)


def long_form(first: int, payload: bytes, form: str) -> Frame:
    frame = Frame(first, payload)
    frame.length_form = form
    return frame


@pytest.mark.parametrize("form", ["16", "64"])
def test_non_minimal_length_is_refused(form: str) -> None:
    # RFC 6455 5.2: "the minimal number of bytes MUST be used to encode
    # the length".
    data = wire(long_form(0x82, b"abc", form))
    for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
        assert ours(chunks, True) == theirs(chunks, True) == ([], 1002)
    # 126 bytes need the 16-bit form, 65536 the 64-bit one: both are fine.
    for size, form in ((126, "16"), (65536, "64")):
        data = wire(long_form(0x82, b"x" * size, form))
        assert ours([data], True) == ([("binary", b"x" * size)], None)


def test_invalid_utf8_in_a_fragment_fails_at_once() -> None:
    # RFC 6455 8.1: an endpoint that receives invalid UTF-8 fails the
    # connection; it need not wait for the end of the message to know.
    data = wire(Frame(0x01, b"ok \xff"))
    assert ours([data], True) == theirs([data], True) == ([], 1007)
    # A sequence split between fragments is not invalid ...
    euro = "\u20ac".encode()
    data = wire(Frame(0x01, euro[:1]), Frame(0x00, euro[1:2]))
    assert ours([data], True) == theirs([data], True) == ([], None)
    data += wire(Frame(0x80, euro[2:]))
    assert ours([data], True) == ([("text", "\u20ac")], None)
    # ... but one that cannot be completed is, as soon as that is known.
    data = wire(Frame(0x01, euro[:1]), Frame(0x00, b"a"))
    assert ours([data], True) == theirs([data], True) == ([], 1007)


def test_invalid_utf8_in_part_of_a_frame_fails_at_once() -> None:
    # The first bytes of a long text frame already show it is not UTF-8.
    data = wire(Frame(0x81, b"abc\xf4\x90" + b"x" * 300))
    for chunks in ([data[:14]], [data[i : i + 1] for i in range(14)]):
        assert ours(chunks, True) == theirs(chunks, True) == ([], 1007)
    # A valid prefix is no reason to fail.
    data = wire(Frame(0x81, "\u00e9".encode() * 200))
    assert ours([data[:9]], True) == theirs([data[:9]], True) == ([], None)
