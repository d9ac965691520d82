"""The fault suite's figures: gathered by its tests, printed at the end of the session.

Each test of the fault suite records what it tried and how the crawl came through, before it
asserts; ``pytest_terminal_summary`` (conftest) prints the table and writes it as JSON beside
the session's temporary files. Under pytest-xdist each worker keeps its own tally and the
controller adds them up (:meth:`FaultTally.merge`). The README's reliability section quotes
these figures.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FaultTally:
    json_path: Path
    faults: dict[str, bool] = field(default_factory=dict)
    """Fault name → survived every time it was tried."""
    hostile_inputs: dict[str, int] = field(default_factory=dict)
    """Hostile fault name → payloads it served."""
    fuzz_inputs: int = 0
    """Inputs the fuzz tests (test_fuzz.py) gave the parser and the URL helpers."""
    kills: int = 0
    kills_survived: int = 0
    crawls: int = 0
    articles_expected: int = 0
    articles_lost: int = 0
    articles_duplicated: int = 0
    hangs: int = 0
    """Crawls killed for outliving their timeout, and fuzz inputs over their time budget (1 s per MB)."""
    crashes: int = 0
    """Unhandled exceptions: fuzz inputs that raised anything but NotAnArticle, and in the siege's crawls ERROR
    lines no counter explains (an unhandled spider error) and pages whose handling raised (counted page failures,
    but crashes of the parser all the same)."""
    off_host_requests: int = 0
    """Requests the foreign server (test_off_site.py) received, and requests sent to another host name."""
    identity_overwrites: int = 0
    """Pages at one id's URL claiming another id that were saved under another id, or took the other's record."""
    files_outside_data_dir: int = 0
    leaks: int = 0
    longest_crawl_seconds: float = 0.0
    max_rss_mib: float = 0.0

    def figures(self) -> dict:
        """Every figure, as plain data: the JSON file's content, and what an xdist worker sends the controller."""
        return {key: value for key, value in asdict(self).items() if key != "json_path"}

    def merge(self, figures: dict) -> None:
        """Add another tally's :meth:`figures` (an xdist worker's) to this one.

        Counts add up; a fault survived only if it survived wherever it was tried; the hostile inputs
        are counted per fault; the longest crawl and the peak memory are the largest of the two.
        """
        for name, value in figures.items():
            if name == "faults":
                for fault, survived in value.items():
                    self.fault(fault, survived)
            elif name == "hostile_inputs":
                self.hostile_inputs.update(value)
            elif name in ("longest_crawl_seconds", "max_rss_mib"):
                setattr(self, name, max(getattr(self, name), value))
            else:
                setattr(self, name, getattr(self, name) + value)

    def fault(self, name: str, survived: bool) -> None:
        self.faults[name] = self.faults.get(name, True) and survived

    def crawl(self, seconds: float, max_rss_bytes: int = 0, hung: bool = False) -> None:
        self.crawls += 1
        self.hangs += hung
        self.longest_crawl_seconds = max(self.longest_crawl_seconds, round(seconds, 1))
        self.max_rss_mib = max(self.max_rss_mib, round(max_rss_bytes / 2**20, 1))

    def dataset(self, expected: set[int], ids: list[int]) -> None:
        """Count a finished dataset against its ground truth: lost and duplicated articles."""
        self.articles_expected += len(expected)
        self.articles_lost += len(expected - set(ids))
        self.articles_duplicated += len(ids) - len(set(ids))

    def rows(self) -> list[tuple[str, str]]:
        survived = sum(self.faults.values())
        return [
            ("faults tried / survived", f"{len(self.faults)} / {survived}"),
            ("hostile inputs tried", str(sum(self.hostile_inputs.values()))),
            ("fuzz inputs tried", str(self.fuzz_inputs)),
            ("SIGKILLs / survived", f"{self.kills} / {self.kills_survived}"),
            ("crawls run", str(self.crawls)),
            ("articles expected", str(self.articles_expected)),
            ("articles lost", str(self.articles_lost)),
            ("articles duplicated", str(self.articles_duplicated)),
            ("hangs", str(self.hangs)),
            ("crashes", str(self.crashes)),
            ("off-host requests", str(self.off_host_requests)),
            ("identity overwrites", str(self.identity_overwrites)),
            ("files written outside DATA_DIR", str(self.files_outside_data_dir)),
            ("local-file leaks", str(self.leaks)),
            ("longest crawl (s)", str(self.longest_crawl_seconds)),
            ("peak crawl memory (MiB RSS)", str(self.max_rss_mib)),
        ]

    def render(self) -> str:
        width = max(len(name) for name, _ in self.rows())
        lines = [f"{name:<{width}}  {value}" for name, value in self.rows()]
        failed = sorted(name for name, survived in self.faults.items() if not survived)
        if failed:
            lines.append(f"{'faults not survived':<{width}}  {', '.join(failed)}")
        return "\n".join(lines)

    def write_json(self) -> None:
        self.json_path.write_text(json.dumps(self.figures(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
