"""Plain-text values: bylines and the site's dates."""

import pytest

from sasscrawl.pages.text import parse_site_date, split_authors


@pytest.mark.parametrize(
    "raw, names",
    [
        ("LIU TING", ["Liu Ting"]),
        ("Cai Fang", ["Cai Fang"]),
        ("", []),
        ("Wang Li, ZHANG WEI", ["Wang Li", "Zhang Wei"]),
        ("Wang Li; Zhang Wei & Li Na and Chen Jie", ["Wang Li", "Zhang Wei", "Li Na", "Chen Jie"]),
        ("Alexander Andrews", ["Alexander Andrews"]),  # "and" inside a name is not a separator
        ("  Wang\u00a0Li ,", ["Wang Li"]),
    ],
)
def test_split_authors(raw, names):
    assert [author["name"] for author in split_authors(raw)] == names


@pytest.mark.parametrize("raw,parsed", [
    ("2026-01-30 12:00", "2026-01-30T12:00:00+08:00"),
    ("2026-02-02 05:08:09", "2026-02-02T05:08:09+08:00"),
    ("2026/1/3", "2026-01-03T00:00:00+08:00"),
    ("2026-1-3 1:05", "2026-01-03T01:05:00+08:00"),
    ("2026-02-30 12:00", None),
    ("2026-01-30 24:00", None),
    ("30 January 2026", None),
])
def test_site_dates(raw, parsed):
    assert parse_site_date(raw) == parsed
