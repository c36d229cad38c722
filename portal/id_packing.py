"""Long lists of ascending ids in little space: the gaps between them as varints, compressed.

An export job keeps the ids of the customers its file names, so that the download's audit
event can list them (breach reports read them there). As JSON, a million ids would put 7 MB
into the job's row; packed, a whole base takes a few kilobytes (every gap is 1) and a
scattered selection about a byte per id.
"""

import base64
import zlib


class IdPacker:
    """Collects ascending ids, a byte or two each, and packs them into ASCII text."""

    def __init__(self) -> None:
        self._gaps = bytearray()
        self._last = 0
        self.count = 0

    def add(self, value: int) -> None:
        gap = value - self._last
        if gap <= 0:
            raise ValueError(f"ids must ascend: {value} after {self._last}")
        while gap >= 0x80:
            self._gaps.append(gap & 0x7F | 0x80)
            gap >>= 7
        self._gaps.append(gap)
        self._last = value
        self.count += 1

    def packed(self) -> str:
        return base64.b64encode(zlib.compress(bytes(self._gaps), 9)).decode("ascii")


def pack(ids) -> str:
    packer = IdPacker()
    for value in ids:
        packer.add(value)
    return packer.packed()


def unpack(text: str) -> list[int]:
    """The ids packed into this text, in ascending order."""
    ids: list[int] = []
    last = value = shift = 0
    for byte in zlib.decompress(base64.b64decode(text)):
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        last += value
        ids.append(last)
        value = shift = 0
    return ids
