"""Setting names a run was given, checked before anything is crawled.

Scrapy accepts any name with ``-s NAME=VALUE`` (and Scrapyd's ``-d setting=NAME=VALUE``) and
ignores one nothing reads, so ``-s DATA_DIRR=/x`` used to crawl into ``./data`` and report a
healthy run. A name given at project priority or above that is neither a Scrapy setting nor one
of sasscrawl's (``sasscrawl/settings.py``), and that is one or two edits (a letter changed,
added or removed; case ignored) from one of sasscrawl's, is taken for a typo and refuses the run.
Any other unknown name passes: extensions and Spidermon's actions read settings of their own.
"""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, default_settings

from sasscrawl import settings as project_settings

MAX_TYPO_EDITS = 2


def _names(module) -> frozenset[str]:
    return frozenset(name for name in dir(module) if name.isupper())


OWN_SETTINGS = _names(project_settings)
KNOWN_SETTINGS = OWN_SETTINGS | _names(default_settings)


def misspelt_settings(settings: BaseSettings) -> str | None:
    """``unknown setting DATA_DIRR (did you mean DATA_DIR?)`` for the typos among the names given; None if none."""
    typos = []
    for name in sorted(settings):
        if name in KNOWN_SETTINGS or (settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["project"]:
            continue
        edits, nearest = min((edit_distance(name.upper(), own), own) for own in OWN_SETTINGS)
        if edits <= MAX_TYPO_EDITS:
            typos.append(f"{name} (did you mean {nearest}?)")
    if not typos:
        return None
    return f"unknown setting{'s' if len(typos) > 1 else ''} {', '.join(typos)}"


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance: the fewest letters changed, added or removed to turn one into the other."""
    previous = list(range(len(second) + 1))
    for i, letter in enumerate(first, 1):
        current = [i]
        for j, other in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other)))
        previous = current
    return previous[-1]
