"""Classic `qualityCode`: every one of the 256 byte values, and where each rule comes from.

The byte is QQSSSSLL; QQ decides. Sources:
- OPCDA: OPC-DA quality (00 bad, 01 uncertain, 11 good), as in the WinCC OA OPC driver
  documentation (winccoa.com, opc_c_quality) and ../shared/reference/wincc-api.md 2.7.
- SIEMENS: Siemens' quality code (S7 / PROFINET), where 10 is good (non-cascade) and 11 good
  (cascade); the same four classes are WinCC Unified's MainQuality (BAD, UNCERTAIN,
  GOOD_NON_CASCADE, GOOD_CASCADE) in the published schema, and wincc-api.md 2.7 maps them so.
- SIMTABLE: the named codes of wincc-api.md 2.7's table.
"""

from __future__ import annotations

import pytest

from wincc_bridge.models import Quality, quality_from_opc

# (first code, last code, quality, source)
RULES = [
    (0x00, 0x3F, Quality.BAD, "QQ=00 bad: OPCDA, SIEMENS (MainQuality BAD)"),
    (0x40, 0x7F, Quality.UNCERTAIN, "QQ=01 uncertain: OPCDA, SIEMENS (MainQuality UNCERTAIN)"),
    (0x80, 0xBF, Quality.GOOD, "QQ=10 good non-cascade: SIEMENS (GOOD_NON_CASCADE)"),
    (0xC0, 0xFF, Quality.GOOD, "QQ=11 good cascade: OPCDA good, SIEMENS (GOOD_CASCADE)"),
]
NAMED = {
    0x00: (Quality.BAD, "bad"),
    0x04: (Quality.BAD, "config error"),
    0x08: (Quality.BAD, "not connected"),
    0x0C: (Quality.BAD, "device failure"),
    0x10: (Quality.BAD, "sensor failure"),
    0x14: (Quality.BAD, "last known"),
    0x18: (Quality.BAD, "comm failure"),
    0x1C: (Quality.BAD, "out of service"),
    0x40: (Quality.UNCERTAIN, "uncertain"),
    0x44: (Quality.UNCERTAIN, "last usable"),
    0x48: (Quality.UNCERTAIN, "substitute"),
    0x4C: (Quality.UNCERTAIN, "initial"),
    0x54: (Quality.UNCERTAIN, "EU exceeded"),
    0xC0: (Quality.GOOD, "good"),
    0xD8: (Quality.GOOD, "good, local override"),
}


def _row(code: int) -> tuple[Quality, str]:
    rules = [(quality, source) for low, high, quality, source in RULES if low <= code <= high]
    assert len(rules) == 1, f"code {code:#04x} is covered by {len(rules)} rules"
    quality, source = rules[0]
    if code in NAMED:
        named, meaning = NAMED[code]
        assert named is quality, f"{code:#04x}: the rules and SIMTABLE disagree"
        source += f"; SIMTABLE {meaning}"
    return quality, source


TABLE = [(code, *_row(code)) for code in range(256)]


@pytest.mark.parametrize(
    ("code", "quality", "source"), TABLE, ids=[f"{c:#04x}-{q.value}" for c, q, _ in TABLE]
)
def test_quality_of_every_code(code: int, quality: Quality, source: str) -> None:
    assert quality_from_opc(code) is quality, source


def test_every_code_has_one_rule_and_a_source() -> None:
    assert [code for code, _, source in TABLE if source] == list(range(256))
    assert {q for _, q, _ in TABLE} == set(Quality)


def test_good_non_cascade_is_not_bad() -> None:
    """The mistake this table guards against: 0x80-0xBF read as bad."""
    assert {quality_from_opc(code) for code in range(0x80, 0xC0)} == {Quality.GOOD}
