"""The commentary spider's arguments as one typed model: ``-a NAME=VALUE``, or a Scrapyd job's parameters.

One definition gives the validation (with the messages a user sees after ``Not crawling:``),
the help text of each argument, the JSON Schema that Scrapyd front ends and Scrapy Cloud read,
and the README's table of arguments. ``python -m sasscrawl.arguments`` writes the schema to
``sasscrawl/schemas/spider-arguments.json`` (shipped in the package) and the table into
README.md between its ``<!-- spider-arguments -->`` marks; tests/test_arguments.py fails
when either is out of step with the model.

Values come as text (Scrapy and Scrapyd pass strings): each is read the forgiving way a
person types it (spaces around it, ``ALL``), and an empty value is the default. Scrapyd's
``_job`` is tolerated and left to Scrapy, which makes it the spider's ``_job`` attribute.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError, field_validator

from sasscrawl.files import replace_file
from sasscrawl.section import OutOfScopeStartURL, Section, normal_url

DEFAULT_START_URL = "http://en.sass.cn/103002/default.aspx"
TOLERATED = ("_job",)
"""Arguments taken and not checked: Scrapyd passes its job id as one."""
ARCHIVE_FORMATS = ("warc",)
RETRY_CHOICES = ("failed",)
SCHEMA_FILE = Path(__file__).parent / "schemas" / "spider-arguments.json"
README_FILE = Path(__file__).parent.parent / "README.md"
TABLE_MARKS = ("<!-- spider-arguments -->", "<!-- /spider-arguments -->")
"""The README's table of arguments lies between these lines, written by ``python -m sasscrawl.arguments``."""


class SpiderArgumentError(ValueError):
    """A spider argument the run cannot go on with; the message says which and why."""


def parse_archive(value: str | None) -> str | None:
    """An archive format (the ``archive`` argument or the ARCHIVE setting); None when empty."""
    if not value:
        return None
    if value.strip().lower() in ARCHIVE_FORMATS:
        return value.strip().lower()
    raise SpiderArgumentError(f"archive must be one of {', '.join(ARCHIVE_FORMATS)}, got {value!r}")


class SpiderArguments(BaseModel):
    """Arguments of the commentary spider (scrapy crawl commentary -a NAME=VALUE)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="commentary spider arguments")

    start_url: str = Field(
        DEFAULT_START_URL, json_schema_extra={"format": "uri"},
        description="Where to start. Scope follows from it: the same scheme, host and port (pages and images), "
                    "and the same folder (`/103002/`) for pages. Point it at another section's default page, "
                    "or at a mirror or replica.")
    refresh: Literal["all"] | NonNegativeInt | None = Field(
        None,
        description="`all` re-fetches every saved article (and no longer skips links to articles that answered "
                    "404/410 earlier); `N` re-fetches the newest N. A re-fetched article whose text changed "
                    "replaces its record. Chronic pages are retried too.")
    archive: Literal["warc"] | None = Field(
        None, description='`warc` keeps every response in a WARC archive (see "Archiving").')
    retry: Literal["failed"] | None = Field(
        None, description="`failed` retries every page known to fail now, whether or not its back-off makes it "
                          'due (see "Incremental runs").')

    @field_validator("start_url", mode="before")
    @classmethod
    def _start_url(cls, value):
        """The start URL in the crawl's normal form; one that cannot define a section is refused (section.py)."""
        url = (value or DEFAULT_START_URL).strip()
        Section.from_start_url(url)
        return normal_url(url)

    @field_validator("refresh", mode="before")
    @classmethod
    def _refresh(cls, value):
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        if value.strip().lower() == "all":
            return "all"
        if value.strip().isdecimal():
            return int(value)
        raise SpiderArgumentError(f"refresh must be 'all' or a whole number of articles, got {value!r}")

    @field_validator("archive", mode="before")
    @classmethod
    def _archive(cls, value):
        return parse_archive(value) if isinstance(value, str) else value

    @field_validator("retry", mode="before")
    @classmethod
    def _retry(cls, value):
        if not isinstance(value, str):
            return value
        if not value:
            return None
        if value.strip().lower() in RETRY_CHOICES:
            return value.strip().lower()
        raise SpiderArgumentError(f"retry must be one of {', '.join(RETRY_CHOICES)}, got {value!r}")

    @classmethod
    def from_arguments(cls, arguments: dict) -> SpiderArguments:
        """The model of what a run was given (``_job`` left out); :class:`SpiderArgumentError` with one message.

        Unknown names are reported first, then the first bad value in the order of the fields.
        """
        given = {name: value for name, value in arguments.items() if name not in TOLERATED}
        try:
            return cls(**given)
        except ValidationError as error:
            raise SpiderArgumentError(_first_message(error.errors())) from None

    @property
    def section(self) -> Section:
        return Section.from_start_url(self.start_url)


def _first_message(errors: list[dict]) -> str:
    unknown = sorted(str(error["loc"][0]) for error in errors if error["type"] == "extra_forbidden")
    if unknown:
        return f"unknown spider argument(s) {', '.join(unknown)}; known: {', '.join(SpiderArguments.model_fields)}"
    error = errors[0]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, (SpiderArgumentError, OutOfScopeStartURL)):
        return str(cause)
    return f"{error['loc'][0]} {error['msg'][:1].lower()}{error['msg'][1:]}, got {error['input']!r}"


def json_schema() -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **SpiderArguments.model_json_schema()}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def table() -> str:
    """The README's table of spider arguments, from the model."""
    rows = ["| argument | default | meaning |", "|---|---|---|"]
    for name, field in SpiderArguments.model_fields.items():
        default = "none" if field.default is None else f"`{field.default}`"
        rows.append(f"| `{name}` | {default} | {field.description} |")
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    """``readme`` with the text between :data:`TABLE_MARKS` replaced by :func:`table`."""
    start, end = TABLE_MARKS
    before, found, rest = readme.partition(start + "\n")
    _, found_end, after = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"README.md has no {start} ... {end} block")
    return f"{before}{start}\n{table()}\n{end}{after}"


def main() -> None:
    """Write the schema file and the README's table from the model."""
    replace_file(SCHEMA_FILE.parent, SCHEMA_FILE.name, schema_text().encode("utf-8"))
    print(f"wrote {SCHEMA_FILE}")
    if README_FILE.exists():
        replace_file(README_FILE.parent, README_FILE.name,
                     readme_with_table(README_FILE.read_text("utf-8")).encode("utf-8"))
        print(f"wrote the table of arguments in {README_FILE}")


if __name__ == "__main__":
    main()
