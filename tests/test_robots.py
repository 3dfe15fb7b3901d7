"""robots.txt through a whole `dossier run`: RFC 9309 rules (longest match, ``*``, ``$``)
decide what is requested, and what is not is ledgered skipped/robots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import HTML, PAGES, SITE, TestSite, write_config

from dossier_pipeline.flows.cli import main
from dossier_pipeline.tasks.demo.server import Response
from dossier_pipeline.tasks.urls import identity_url

pytestmark = pytest.mark.usefixtures("prefect_api")
ROBOTS = b"User-agent: *\nDisallow: /r/\nAllow: /r/open/\nDisallow: /*?print=\nDisallow: /*.pdf$\n"


def test_robots_rfc9309_through_a_run(site: TestSite, tmp_path: Path) -> None:
    """`/r/open/N.html` is fetched and written; `?print=1`, `/r/N.html` and `.pdf` are never
    requested and are ledgered skipped/robots."""
    page = (SITE / "pages" / PAGES[1]).read_bytes()
    site.faults["/robots.txt"] = lambda p, h: Response(200, ROBOTS, {"Content-Type": "text/plain"})
    for n in (1, 2):
        site.faults[f"/r/open/{n}.html"] = lambda p, h: Response(200, page, HTML)
        site.faults[f"/r/{n}.html"] = lambda p, h: Response(200, page, HTML)
    site.faults["/files/x.pdf"] = lambda p, h: Response(200, b"%PDF-1.4", {"Content-Type": "application/pdf"})
    allowed = [f"{site.base}/r/open/1.html"]
    forbidden = [f"{site.base}/r/open/2.html?print=1", f"{site.base}/r/2.html", f"{site.base}/files/x.pdf"]
    config = write_config(tmp_path, f'[dossiers.r]\ntitle = "R"\n[[dossiers.r.sources]]\nkind = "urls"\n'
                                     f"urls = {allowed + forbidden!r}\n".replace("'", '"'))
    out = tmp_path / "out"

    assert main(["run", "r", "--config", str(config), "--output", str(out)]) == 0

    requested = [path for _, path, _ in site.log]
    assert "/r/open/1.html" in requested
    for url in forbidden:
        assert url.removeprefix(site.base) not in requested
    assert not [p for p in requested if p.startswith(("/r/2", "/files/")) or "print=" in p]
    articles = pd.read_parquet(out / "r" / "articles")
    assert list(articles["url"]) == allowed
    urls = pd.read_parquet(out / "r" / "urls").set_index("url")
    assert urls.loc[allowed[0], "state"] == "written"
    for url in forbidden:  # the ledger holds each URL's identity; the URL requested was the one discovered
        key = identity_url(url)
        assert (urls.loc[key, "state"], urls.loc[key, "stage"]) == ("skipped", "robots"), url
