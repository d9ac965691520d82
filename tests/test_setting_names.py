"""Typos in setting names refuse the run; every other name, known or not, passes."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from sasscrawl import settings as project_settings
from sasscrawl.setting_names import edit_distance, misspelt_settings


def given(**cmdline) -> Settings:
    """Settings as a crawl has them: the project's module, then ``-s NAME=VALUE`` at cmdline priority."""
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.setdict(cmdline, priority="cmdline")
    return settings


@pytest.mark.parametrize("first, second, edits", [
    ("DATA_DIR", "DATA_DIR", 0), ("DATA_DIRR", "DATA_DIR", 1), ("DATA_DRI", "DATA_DIR", 2), ("DATADIR", "DATA_DIR", 1),
    ("ARCHIVE", "", 7), ("KITTEN", "SITTING", 3),
])
def test_edit_distance(first, second, edits):
    assert edit_distance(first, second) == edits == edit_distance(second, first)


@pytest.mark.parametrize("name, meant", [
    ("DATA_DIRR", "DATA_DIR"), ("DATA-DIR", "DATA_DIR"), ("data_dir", "DATA_DIR"), ("ARCHVE", "ARCHIVE"),
    ("ALERT_ACTION", "ALERT_ACTIONS"), ("DOWNLOAD_DELAYS", "DOWNLOAD_DELAY"), ("SNAPSHOT_SHRAE", "SNAPSHOT_SHARE"),
])
def test_a_name_one_or_two_edits_from_a_project_setting_is_refused_naming_it(name, meant):
    assert misspelt_settings(given(**{name: "x"})) == f"unknown setting {name} (did you mean {meant}?)"


@pytest.mark.parametrize("name", [
    "DATA_DIR", "CLOSESPIDER_TIMEOUT", "JOBDIR",                        # sasscrawl's and Scrapy's own
    "SPIDERMON_SMTP_USER", "SPIDERMON_SLACK_RECIPIENTS", "SPLASH_URL",  # other components' settings
    "MY_DEPLOYMENT_NOTE",                                               # like nothing at all
])
def test_known_names_and_unknown_names_unlike_ours_pass(name):
    assert misspelt_settings(given(**{name: "x"})) is None


def test_every_typo_is_named_in_one_line():
    assert misspelt_settings(given(DATA_DIRR="x", ARCHVE="warc")) == \
        "unknown settings ARCHVE (did you mean ARCHIVE?), DATA_DIRR (did you mean DATA_DIR?)"


def test_names_below_project_priority_are_not_the_user_s():
    settings = given()
    settings.set("DATA_DIRR", "x", priority="default")
    assert misspelt_settings(settings) is None
