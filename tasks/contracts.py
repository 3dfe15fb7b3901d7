"""The typed shapes handed between stages: an extraction's result, and a row of a table.

Results cross process boundaries (the extraction workers, Dask) as plain dicts; a
TypedDict types them without a conversion on the hot path.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NotRequired, TypedDict

# A row of articles/ as a dict: its columns are declared once, in tasks/schema.py (ARTICLE_SCHEMA).
ArticleRow = dict[str, Any]


class ExtractionStatus(StrEnum):
    """What extraction made of a page (tasks/extract.py, tasks/workers.py)."""

    OK = "ok"  # an article: ``record`` holds its row
    NOT_ARTICLE = "not_article"  # no article text (an index page, an empty page, …)
    BLOCKED = "blocked"  # a bot challenge, a consent wall, a paywall (tasks/blocks.py): ``reason`` says which
    FAILED = "failed"  # the extractor raised or ran out of time


class Extraction(TypedDict):
    """One page's extraction result, by its Page.key."""

    key: int
    status: ExtractionStatus
    reason: NotRequired[str]  # every status but ok
    record: NotRequired[ArticleRow]  # ok
    staged: NotRequired[tuple[str, int]]  # ok, extracted on Dask: (staging file, row in it) instead of record
