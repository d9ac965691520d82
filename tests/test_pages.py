"""The page objects against their saved pages (tests/fixtures/pages, web-poet's layout), field by field.

Each case of ``tests/fixtures/pages`` (see ``page_fixtures``) gives three kinds of test, as
web-poet's pytest plugin does: the page gives an item or raises the expected exception, the item has
exactly the expected fields, and one test per field, named ``<PageClass>/<case>/<field>``.
"""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import sasscrawl.pages
from page_fixtures import PageFixture, all_fixtures
from sasscrawl.pages.article import FIELD_METHODS, ArticlePage, NotAnArticle
from sasscrawl.schemas import ARTICLE_FIELDS

FIXTURES = all_fixtures()
WITH_OUTPUT = [fixture for fixture in FIXTURES if not fixture.raises]


def test_no_module_of_the_pages_package_imports_scrapy():
    """Pages are read without Scrapy (re-extraction, the fuzzer, the bench): importing every module must not load it."""
    modules = [module.name for module in pkgutil.walk_packages(sasscrawl.pages.__path__, "sasscrawl.pages.")]
    assert {"sasscrawl.pages.article", "sasscrawl.pages.listing"} <= set(modules)
    code = "".join(f"import {name}\n" for name in modules) + "import json, sys\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent,
                                       check=True, capture_output=True, text=True).stdout)
    assert "sasscrawl.pages.article" in loaded
    assert [name for name in loaded if name == "scrapy" or name.startswith("scrapy.")] == []


def test_every_record_field_has_its_method_and_the_record_keeps_the_schema_order():
    assert [field for field, _ in FIELD_METHODS] == list(ARTICLE_FIELDS)
    assert all(callable(getattr(ArticlePage, method, None)) for _, method in FIELD_METHODS)
    real = next(fixture for fixture in FIXTURES if fixture.name == "ArticlePage/real-5554")
    assert tuple(real.page().to_item()) == ARTICLE_FIELDS


def test_the_fixtures_cover_both_page_classes_and_an_exception():
    assert {fixture.page_class.__name__ for fixture in FIXTURES} == {"ArticlePage", "ListingPage"}
    assert any(fixture.raises for fixture in FIXTURES)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.name)
def test_the_page_gives_an_item_or_the_expected_exception(fixture: PageFixture):
    if not fixture.raises:
        fixture.page().to_item()
        return
    expected = fixture.expected_exception
    with pytest.raises(NotAnArticle) as raised:
        fixture.page().to_item()
    assert f"{type(raised.value).__module__}.{type(raised.value).__qualname__}" == expected["import_path"]
    assert (str(raised.value), raised.value.reason) == (expected["msg"], expected["reason"])


@pytest.mark.parametrize("fixture", WITH_OUTPUT, ids=lambda fixture: fixture.name)
def test_the_item_has_exactly_the_expected_fields(fixture: PageFixture):
    assert sorted(fixture.output) == sorted(fixture.expected_output)


@pytest.mark.parametrize("fixture, field", [pytest.param(fixture, field, id=f"{fixture.name}/{field}")
                                             for fixture in WITH_OUTPUT for field in fixture.expected_output])
def test_field(fixture: PageFixture, field: str):
    assert fixture.output.get(field) == fixture.expected_output[field]
