"""The record's JSON Schema as the exports read it: every writer follows ``$ref`` and ``anyOf`` the same way."""

from __future__ import annotations

from sasscrawl.schemas import ARTICLE_SCHEMA

LOCAL_DEFINITION = "#/$defs/"


def definition(ref: str) -> dict:
    """The node a local ``$ref`` (``#/$defs/<name>``) points at."""
    if not ref.startswith(LOCAL_DEFINITION):
        raise ValueError(f"only local $defs references are read, not {ref}")
    return ARTICLE_SCHEMA["$defs"][ref[len(LOCAL_DEFINITION):]]


def resolve(node: dict) -> dict:
    """The node itself, or its one non-null ``anyOf`` branch, with a local ``$ref`` followed (to the end)."""
    if "$ref" in node:
        return resolve(definition(node["$ref"]))
    if "anyOf" in node:
        (branch,) = [branch for branch in node["anyOf"] if branch.get("type") != "null"]
        return resolve(branch)
    return node
