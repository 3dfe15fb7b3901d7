"""The real flow, end to end, against a local site serving real pages."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import EXPECTATIONS, PAGES, TestSite, write_config

from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.demo.server import Response
from dossier_pipeline.tasks.schema import ARTICLE_SCHEMA, SCHEMA_VERSION

pytestmark = pytest.mark.usefixtures("prefect_api")
PAYWALLED = "0a12df42d1764095989ab078ee0f940b.html"
ARTICLES = PAGES  # the paywalled one too, with its teaser


def four_sources(site: TestSite, tmp_path: Path) -> Path:
    (tmp_path / "extra.txt").write_text(f"# extra\n{site.base}/broken/500\n{site.base}/broken/pdf\n"
                                        f"{site.base}/private/secret.html\n", encoding="utf-8")
    return write_config(tmp_path, f"""
[dossiers.topic]
title = "Topic"
[[dossiers.topic.sources]]
kind = "listing"
url = "{site.base}/topic/?page={{page}}"
link_pattern = "/articles/"
[[dossiers.topic.sources]]
kind = "feed"
url = "{site.base}/feed.xml"
[[dossiers.topic.sources]]
kind = "feed"
url = "{site.base}/atom.xml"
[[dossiers.topic.sources]]
kind = "sitemap"
url = "{site.base}/sitemap.xml"
[[dossiers.topic.sources]]
kind = "urls"
urls = ["{site.base}/broken/empty"]
file = "extra.txt"
""")


def test_four_source_kinds_rerun_and_failures(site: TestSite, tmp_path: Path) -> None:
    site.faults["/broken/500"] = lambda p, h: Response(500, b"oops")
    site.faults["/broken/pdf"] = lambda p, h: Response(200, b"%PDF-1.4", {"Content-Type": "application/pdf"})
    site.faults["/broken/empty"] = lambda p, h: Response(200, b"", {"Content-Type": "text/html"})
    config = four_sources(site, tmp_path)
    out = tmp_path / "out"

    record = scrape_dossier("topic", config_path=str(config), output=str(out))

    counts = record["counts"]
    assert counts["expected"] == len(PAGES)
    assert counts["discovered"] == len(PAGES) + 4
    # zeit.de's page is a paywall stub (isAccessibleForFree: false, a teaser of ~120 words): kept
    assert counts["written"] == len(ARTICLES) and counts["blocked"] == 0
    assert record["blocked_by_host"] == {}
    assert counts["failed"] == 3 and counts["skipped"] == 1  # 500, pdf, empty; robots
    articles = out / "topic" / "articles"
    df = pd.read_parquet(articles)
    assert len(df) == len(ARTICLES) and df["article_id"].is_unique
    assert set(df["source_kind"]) <= {"listing", "feed", "sitemap", "urls"}
    assert (df["source_kind"] == "listing").all()  # the listing came first in the config and found them all
    # every expectation snippet of the real pages
    for _, row in df.iterrows():
        name = row["url"].rsplit("/", 1)[-1]
        exp = EXPECTATIONS[name]
        assert row["access"] == ("paywall" if name == PAYWALLED else "free")
        for snippet in exp["with"] if name != PAYWALLED else []:  # (the teaser holds part of the text)
            assert snippet in row["text"], (name, snippet)
        assert row["title"] and row["run_id"] == record["run_id"]
        assert row["extractor"].startswith("trafilatura ")
        if exp.get("date"):
            assert row["published_at"] is not pd.NaT

    # one row per discovered URL in the ledger, each in one state, failures with stage and reason
    urls = pd.read_parquet(out / "topic" / "urls")
    assert len(urls) == counts["discovered"] and urls["url"].is_unique
    failed = urls[urls.state == "failed"].set_index("url")
    assert failed.loc[f"{site.base}/broken/500", "reason"] == "http_500"
    assert failed.loc[f"{site.base}/broken/500", "stage"] == "fetch"
    assert failed.loc[f"{site.base}/broken/pdf", "reason"].startswith("not_html")
    assert urls.set_index("url").loc[f"{site.base}/private/secret.html", "state"] == "skipped"
    run_file = json.loads((out / "topic" / "runs" / f"{record['run_id']}.json").read_text())
    assert {f["url"] for f in run_file["failures"]} == set(failed.index)
    assert run_file["versions"]["trafilatura"] and run_file["config_sha256"]

    # the run summary is published as a Prefect artifact
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        key = ArtifactFilterKey(any_=["topic-run-summary"])
        [artifact] = client.read_artifacts(artifact_filter=ArtifactFilter(key=key))
    assert {"measure": "written", "value": len(ARTICLES)} in json.loads(artifact.data)

    # the schema and its version travel with the files
    files = sorted(articles.rglob("*.parquet"))
    assert all(f.parent.name.startswith("month=") and f.parent.parent.name.startswith("year=") for f in files)
    schema = pq.read_schema(files[0])
    assert schema.metadata[b"schema_version"].decode() == SCHEMA_VERSION
    for field in ARTICLE_SCHEMA:
        assert schema.field(field.name).type == field.type

    # polars and DuckDB read it as it is
    glob = str(articles / "**" / "*.parquet")
    assert pl.read_parquet(glob, hive_partitioning=True).height == len(ARTICLES)
    sql = f"select count(*), count(distinct year) from read_parquet('{glob}', hive_partitioning=true)"
    assert duckdb.sql(sql).fetchall()[0][0] == len(ARTICLES)

    # a rerun downloads no article body again and adds no row
    before = site.requests_to("/articles/")
    again = scrape_dossier("topic", config_path=str(config), output=str(out))
    assert site.requests_to("/articles/") == before
    assert again["counts"]["written"] == 0 and again["counts"]["unchanged"] == len(ARTICLES)
    assert len(pd.read_parquet(articles)) == len(ARTICLES)
    assert again["counts"]["failed"] == 3  # failures are retried on the next run
