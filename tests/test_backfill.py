"""Backfills: a period split into windows, one child flow run of scrape_dossier per window,
each writing exactly the articles published in it; completed windows are recorded and
skipped, failed ones retried alone. Against the offline demo site (articles from January to
July 2024, a dated listing, a news sitemap index, a feed) and Prefect's real API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pandas as pd
import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import FlowRun

from dossier_pipeline.flows.backfill import backfill_dossier
from dossier_pipeline.flows.cli import main
from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.config import Dossier, Settings
from dossier_pipeline.tasks.demo.server import LocalServer, Response
from dossier_pipeline.tasks.demo.site import DemoSite, demo_config
from dossier_pipeline.tasks.discover import discover
from dossier_pipeline.tasks.fetch import Politeness
from dossier_pipeline.tasks.windows import Window, outside_by_date, outside_by_hints, outside_too, split_period

HTML = {"Content-Type": "text/html; charset=utf-8"}

# ------------------------------------------------------------------------- windows


def test_split_period_clips_the_first_and_last_windows() -> None:
    windows = split_period(date(2015, 9, 30), date(2016, 3, 31), "month")
    assert [w.key for w in windows] == ["2015-09-30", "2015-10", "2015-11", "2015-12", "2016-01", "2016-02", "2016-03"]
    assert (windows[0].since, windows[0].until) == (date(2015, 9, 30), date(2015, 9, 30))
    assert (windows[5].since, windows[5].until) == (date(2016, 2, 1), date(2016, 2, 29))  # a leap year
    clipped = split_period(date(2016, 1, 10), date(2016, 2, 15), "month")
    assert [w.key for w in clipped] == ["2016-01-10..2016-01-31", "2016-02-01..2016-02-15"]


def test_split_period_by_day_week_and_year() -> None:
    days = split_period(date(2015, 12, 30), date(2016, 1, 2), "day")
    assert [w.key for w in days] == ["2015-12-30", "2015-12-31", "2016-01-01", "2016-01-02"]
    # ISO weeks run Monday to Sunday; 2015-12-28 is the Monday of 2015's week 53
    weeks = split_period(date(2015, 12, 24), date(2016, 1, 12), "week")
    assert [w.key for w in weeks] == ["2015-12-24..2015-12-27", "2015-W53", "2016-W01", "2016-01-11..2016-01-12"]
    years = split_period(date(2014, 7, 1), date(2016, 12, 31), "year")
    assert [w.key for w in years] == ["2014-07-01..2014-12-31", "2015", "2016"]
    assert split_period(date(2016, 5, 5), date(2016, 5, 5), "year")[0].key == "2016-05-05"


def test_split_period_refuses_a_reversed_period_or_an_unknown_unit() -> None:
    with pytest.raises(ValueError, match="after it ends"):
        split_period(date(2016, 1, 2), date(2016, 1, 1), "day")
    with pytest.raises(ValueError, match="unknown window 'fortnight'"):
        split_period(date(2016, 1, 1), date(2016, 1, 2), "fortnight")


def test_what_belongs_to_a_window() -> None:
    """The article's publisher's day decides (the UTC day when the page gave no local
    value); discovery dates only leave out what surely lies outside (a day of slack); no
    date is no reason to leave a URL out."""
    october = Window(date(2015, 10, 1), date(2015, 10, 31))

    def row(utc: str, local: str | None = None) -> dict:
        return {"published_at": pd.Timestamp(utc).to_pydatetime(), "published_at_local": local}

    assert outside_by_date(row("2015-10-31T23:59:59Z"), october) is None
    assert outside_by_date(row("2015-11-01T00:30:00Z"), october) == "outside_window: published 2015-11-01"
    # 31 October 21:30 in Buenos Aires is 1 November in UTC: an October article for its publisher
    assert outside_by_date(row("2015-11-01T00:30:00Z", "2015-10-31T21:30:00-03:00"), october) is None
    # 1 October 01:30 in Paris is 30 September in UTC: an October article too
    assert outside_by_date(row("2015-09-30T23:30:00Z", "2015-10-01T01:30:00+02:00"), october) is None
    assert outside_by_date(row("2015-10-31T22:30:00Z", "2015-11-01T00:30:00+02:00"), october) == (
        "outside_window: published 2015-11-01")
    assert outside_by_date({"published_at": None}, october) == "outside_window: no date"
    assert outside_by_hints({}, october) is None
    assert outside_by_hints({"news_sitemap_date": "2015-11-01T01:00:00+01:00"}, october) is None  # slack
    assert outside_by_hints({"news_sitemap_date": "2015-11-05"}, october) == (
        "outside_window: published 2015-11-05 (news_sitemap_date)"
    )
    assert outside_by_hints({"feed_date": "Wed, 30 Sep 2015 10:00:00 GMT"}, october) is None
    assert outside_by_hints({"feed_date": "Sun, 27 Sep 2015 10:00:00 GMT"}, october) is not None
    # lastmod is never before publication: modified before the window means published before it
    assert outside_by_hints({"sitemap_lastmod": "2015-09-20"}, october) == (
        "outside_window: last modified 2015-09-20 (sitemap_lastmod)"
    )
    assert outside_by_hints({"sitemap_lastmod": "2016-02-01"}, october) is None
    # a publication date wins over lastmod
    assert outside_by_hints({"listing_date": "2015-10-03", "sitemap_lastmod": "2015-09-20"}, october) is None



def test_a_window_runs_reason_read_back_says_which_other_windows_hold_the_article() -> None:
    """What a backfill's later windows take from the ledger (tasks/warcfiles.py
    settled_records): the day outside_by_date recorded; nothing from other reasons."""
    october, november = Window(date(2015, 10, 1), date(2015, 10, 31)), Window(date(2015, 11, 1), date(2015, 11, 30))
    reason = outside_by_date({"published_at": pd.Timestamp("2015-11-01T00:30:00Z").to_pydatetime()}, october)
    assert outside_too(reason, Window(date(2015, 12, 1), date(2015, 12, 31)))
    assert not outside_too(reason, november)  # November's: read there
    assert outside_too(outside_by_date({"published_at": None}, october), november)  # undated: no window's
    assert not outside_too("outside_window: published 2015-11-05 (news_sitemap_date)", october)  # a discovery date
    assert not outside_too("outside_period: published 2015-12-05", november)  # a source's period, not a window
    assert not outside_too(None, november)


# ---------------------------------------------------------------- discovery depth


def dated_listing(path: str, headers: dict[str, str]) -> Response:
    """An endless topic listing, newest first: page n shows two articles, dated 2024-06-30
    minus 2(n-1) and 2(n-1)+1 days."""
    n = int(parse_qs(urlsplit(path).query).get("page", ["1"])[0])
    items = "".join(
        f'<li><a href="/articles/p{n}-{i}">Article {n}-{i}</a> '
        f'<time datetime="{pd.Timestamp("2024-06-30") - pd.Timedelta(days=2 * (n - 1) + i):%Y-%m-%d}">x</time></li>'
        for i in (0, 1)
    )
    return Response(200, f"<html><body><h1>Topic</h1><ul>{items}</ul></body></html>".encode(), HTML)


@pytest.fixture(scope="module")
def listing_site() -> Iterator[LocalServer]:
    server = LocalServer(dated_listing)
    yield server
    server.close()


def walk(server: LocalServer, max_pages: int, window: Window | None) -> tuple[int, list[str]]:
    settings = Settings(allow_private_addresses=True, requests_per_second=1000, max_retries=0)
    dossier = Dossier.model_validate(
        {
            "slug": "t",
            "settings": settings,
            "sources": [
                {
                    "kind": "listing",
                    "url": f"{server.base_url}/topic/?page={{page}}",
                    "max_pages": max_pages,
                    "link_pattern": "/articles/",
                }
            ],
        }
    )
    out = discover(dossier, Politeness(settings), window)
    return out.pages_fetched, [u.url.rsplit("/", 1)[-1] for u in out.urls]


def test_listing_goes_past_max_pages_for_a_deep_window_and_stops_past_it(listing_site: LocalServer) -> None:
    assert walk(listing_site, 3, None)[0] == 3
    # 7-12 June is on pages 10 to 12; page 13 (5-6 June) is within the day of slack, page 14 is past it
    pages, found = walk(listing_site, 3, Window(date(2024, 6, 7), date(2024, 6, 12)))
    assert pages == 14
    assert {"p10-0", "p11-1", "p12-1"} <= set(found)
    # a recent window stops early, well before max_pages
    assert walk(listing_site, 10, Window(date(2024, 6, 27), date(2024, 6, 30)))[0] == 4


def test_undated_listing_stops_at_max_pages_for_a_window() -> None:
    with LocalServer(
        lambda p, h: Response(
            200,
            (f'<html><body><a href="/articles/{parse_qs(urlsplit(p).query)["page"][0]}">a</a></body></html>').encode(),
            HTML,
        )
    ) as server:
        assert walk(server, 4, Window(date(2020, 1, 1), date(2020, 1, 31)))[0] == 4


def test_sitemap_index_children_modified_before_the_window_are_not_read() -> None:
    def app(path: str, headers: dict[str, str]) -> Response:
        if path == "/sitemap.xml":
            children = "".join(
                f"<sitemap><loc>{server.base_url}/sitemaps/{m}.xml</loc><lastmod>{m}-28</lastmod></sitemap>"
                for m in ("2024-01", "2024-02", "2024-03")
            )
            return Response(200, f"<sitemapindex>{children}</sitemapindex>".encode(), {})
        if path.startswith("/sitemaps/"):
            month = path.removeprefix("/sitemaps/").removesuffix(".xml")
            return Response(200, f"<urlset><url><loc>{server.base_url}/articles/{month}</loc></url></urlset>".encode())
        return Response(404)

    with LocalServer(app) as server:
        settings = Settings(allow_private_addresses=True, requests_per_second=1000, max_retries=0)
        dossier = Dossier.model_validate(
            {
                "slug": "t",
                "settings": settings,
                "sources": [{"kind": "sitemap", "url": f"{server.base_url}/sitemap.xml"}],
            }
        )
        out = discover(dossier, Politeness(settings), Window(date(2024, 2, 1), date(2024, 2, 29)))
        assert sorted(u.url.rsplit("/", 1)[-1] for u in out.urls) == ["2024-02", "2024-03"]
        assert [p for _, p, _ in server.log if p.startswith("/sitemap")] == [
            "/sitemap.xml",
            "/sitemaps/2024-02.xml",
            "/sitemaps/2024-03.xml",
        ]


# ------------------------------------------------------------ the backfill flow


class DemoWithFaults:
    """The demo site, whose pages can be made to answer 500 a given number of times."""

    def __init__(self) -> None:
        self.site = DemoSite()
        self.server = LocalServer(self.app)
        self.site.base = self.server.base_url
        self.failing: dict[str, int] = {}

    def app(self, path: str, headers: dict[str, str]) -> Response:
        if self.failing.get(path):
            self.failing[path] -= 1
            return Response(500, b"down", HTML)
        return self.site(path, headers)

    def article_requests(self) -> int:
        return sum(1 for _, path, _ in self.server.log if path.endswith(".html"))

    def by_month(self) -> dict[str, set[str]]:
        """Article URLs by the month of their publication, as their publisher dates them (Paris time)."""
        months: dict[str, set[str]] = {}
        for a in self.site.articles:
            months.setdefault(f"{a.published:%Y-%m}", set()).add(self.site.base + a.path)
        return months


@pytest.fixture
def demo() -> Iterator[DemoWithFaults]:
    site = DemoWithFaults()
    yield site
    site.server.close()


def child_runs(parent: UUID | str) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[UUID(str(parent))]))
        )


def backfill(config: Path, out: Path, force: bool = False) -> tuple[str, list[dict]]:
    state = backfill_dossier(
        "demo",
        date(2024, 1, 1),
        date(2024, 3, 31),
        window="month",
        force=force,
        config_path=str(config),
        output=str(out),
        return_state=True,
    )
    assert state.is_completed(), state.message
    return str(state.state_details.flow_run_id), state.result()


@pytest.mark.usefixtures("prefect_api")
def test_backfill_by_month_writes_each_window_and_retries_only_the_failed_one(
    demo: DemoWithFaults, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dossiers.toml"
    config.write_text(demo_config(demo.site.base).replace("[defaults]\n", "[defaults]\nmax_retries = 0\n"))
    out = tmp_path / "out"
    months = demo.by_month()
    # 29 February, 17:05 in Paris: February's, and within a day of March. It fails once, for
    # February's run; March's run then fetches it and leaves it out: it is not March's.
    leap_day = next(a.path for a in demo.site.articles if a.published.date() == date(2024, 2, 29))
    demo.failing[leap_day] = 1

    args = [
        "backfill",
        "demo",
        "--since",
        "2024-01-01",
        "--until",
        "2024-03-31",
        "--window",
        "month",
        "--config",
        str(config),
        "--output",
        str(out),
    ]
    assert main(args) == 1
    printed = capsys.readouterr()
    assert "2024-02  FAILED (1 URL(s) failed)" in printed.out and "1 window(s) failed: 2024-02" in printed.err
    done = {p.stem: json.loads(p.read_text()) for p in (out / "demo" / "backfills").glob("*.json")}
    assert sorted(done) == ["2024-01", "2024-03"]
    [first_backfill] = {d["backfill_run_id"] for d in done.values()}
    children = child_runs(first_backfill)
    assert sorted(r.name for r in children) == ["demo 2024-01", "demo 2024-02", "demo 2024-03"]
    assert all(r.parent_task_run_id is not None and r.state.is_completed() for r in children)

    runs = {r["window"]["key"]: r for r in (json.loads(p.read_text()) for p in (out / "demo" / "runs").glob("*"))}
    assert runs["2024-01"]["counts"]["written"] == len(months["2024-01"])
    assert runs["2024-02"]["counts"]["written"] == len(months["2024-02"]) - 1
    assert runs["2024-03"]["counts"]["written"] == len(months["2024-03"])
    assert runs["2024-03"]["window"] == {"key": "2024-03", "since": "2024-03-01", "until": "2024-03-31"}
    ledger = pd.read_parquet(out / "demo" / "urls")
    leap = ledger[ledger.url == demo.site.base + leap_day].set_index("run_id")
    assert leap.loc[runs["2024-02"]["run_id"], "state"] == "failed"
    assert leap.loc[runs["2024-03"]["run_id"], ["state", "stage", "reason"]].tolist() == [
        "skipped",
        "extract",
        "outside_window: published 2024-02-29",
    ]
    by_hint = ledger[(ledger.run_id == runs["2024-01"]["run_id"]) & (ledger.stage == "discover")]
    assert by_hint.reason.str.startswith("outside_window: published 2024-").all() and len(by_hint) > 30

    # the next backfill runs February alone, which fetches and writes what March left out
    before = demo.article_requests()
    parent, outcomes = backfill(config, out)
    assert [(o["key"], o["status"]) for o in outcomes] == [
        ("2024-01", "already done"),
        ("2024-02", "done"),
        ("2024-03", "already done"),
    ]
    assert [r.name for r in child_runs(parent)] == ["demo 2024-02"]
    assert outcomes[1]["counts"]["written"] == 1 and demo.article_requests() == before + 1

    articles = pd.read_parquet(out / "demo" / "articles")
    run_window = {
        r["run_id"]: r["window"]["key"] for r in (json.loads(p.read_text()) for p in (out / "demo" / "runs").glob("*"))
    }
    written = articles.groupby(articles.run_id.map(run_window)).url.agg(set).to_dict()
    assert written == {m: months[m] for m in ("2024-01", "2024-02", "2024-03")}
    assert (articles.published_at_local.str[:7] == articles.run_id.map(run_window)).all()
    # an article of a month's first hour in Paris is that month's, though the previous one's in UTC
    assert (articles.published_at.dt.strftime("%Y-%m") != articles.run_id.map(run_window)).sum() >= 1

    # then a backfill does nothing at all; with --force it runs every window again, fetching no article
    requests = len(demo.server.log)
    assert main(args) == 0
    assert capsys.readouterr().out.count("already done") == 3 and len(demo.server.log) == requests
    parent, outcomes = backfill(config, out, force=True)
    assert len(child_runs(parent)) == 3 and demo.article_requests() == before + 1
    assert [(o["status"], o["counts"]["written"]) for o in outcomes] == [("done", 0)] * 3
    assert len(pd.read_parquet(out / "demo" / "articles")) == len(articles)

    # what the windows left out by their discovery dates is not settled: a normal run writes it
    record = scrape_dossier("demo", config_path=str(config), output=str(out))
    assert record["window"] is None and record["counts"]["written"] == len(demo.site.articles) - len(articles)


@pytest.mark.usefixtures("prefect_api")
def test_a_window_whose_run_fails_does_not_stop_the_others(demo: DemoWithFaults, tmp_path: Path) -> None:
    """A child run that raises (here: no such dossier) is a failed window; the backfill goes
    on, ends Failed and records nothing."""
    config = tmp_path / "dossiers.toml"
    config.write_text(demo_config(demo.site.base, slug="other"))
    state = backfill_dossier(
        "demo",
        date(2024, 1, 30),
        date(2024, 2, 2),
        window="month",
        config_path=str(config),
        output=str(tmp_path / "out"),
        return_state=True,
    )
    assert (
        state.is_failed() and state.message == "2 of 2 window(s) failed: 2024-01-30..2024-01-31, 2024-02-01..2024-02-02"
    )
    outcomes = state.result(raise_on_failure=False)
    assert [o["status"] for o in outcomes] == ["failed", "failed"]
    assert all("no dossier 'demo'" in o["problem"] and o["run_id"] for o in outcomes)
    assert len(child_runs(state.state_details.flow_run_id)) == 2
    assert not (tmp_path / "out" / "demo" / "backfills").exists()
