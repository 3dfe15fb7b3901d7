"""The bundled offline demo news site: a French dossier served on 127.0.0.1.

Pages are built like a real news article page (subscribe buttons, short URL, view
count, "Dossier:" block, "Lire aussi" links, tag list, comment widgets around the
article), with a paginated topic listing, an RSS feed, a sitemap index of news sitemaps
and a robots.txt. ``copies`` replicates the articles under distinct URLs for benchmarks.
"""

from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dossier_pipeline.tasks.demo.server import LocalServer, Response

DOSSIER_SLUG = "secheresse-occitanie"
DOSSIER_TITLE = "Sécheresse et gestion de l'eau en Occitanie"
SITE_NAME = "Le Courrier du Midi"
PER_PAGE = 10
HTML = "text/html; charset=utf-8"


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split())


@dataclass
class DemoArticle:
    n: int
    data: dict[str, Any]
    path: str

    @property
    def published(self) -> datetime:
        return datetime.fromisoformat(self.data["published"])


class DemoSite:
    """The demo site's pages, generated on request from ``articles.json``."""

    def __init__(self, copies: int = 1) -> None:
        raw = json.loads(resources.files(__package__).joinpath("articles.json").read_text(encoding="utf-8"))
        self.template = Template(resources.files(__package__).joinpath("article.html").read_text(encoding="utf-8"))
        articles: list[DemoArticle] = []
        pool = [p for item in raw for p in item["paragraphs"]]
        for copy in range(copies):
            for i, item in enumerate(raw):
                day = datetime.fromisoformat(item["published"]).strftime("%Y/%m/%d")
                suffix = f"-{copy}" if copy else ""
                if copy:
                    # A copy draws its paragraphs from the whole demo: distinct texts, so that
                    # duplicate detection does not fold a benchmark's copies back into 48 articles.
                    rng = random.Random(copy * len(raw) + i)
                    item = {**item, "paragraphs": rng.sample(pool, len(item["paragraphs"]))}
                articles.append(DemoArticle(len(articles), item, f"/{day}/{item['slug']}{suffix}.html"))
        # newest first, as topic pages list them
        self.articles = sorted(articles, key=lambda a: (a.published, a.n), reverse=True)
        self.by_path = {a.path: a for a in self.articles}
        self.by_short = {f"/s/{a.n:07d}": a for a in self.articles}
        self.base = ""

    # -- routing -----------------------------------------------------------------------
    def __call__(self, path: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(path)
        route = parts.path
        if route in self.by_path:
            return Response(200, self.article_page(self.by_path[route]).encode(), {"Content-Type": HTML})
        if route in self.by_short:
            return Response(301, b"", {"Location": self.base + self.by_short[route].path})
        if route == f"/dossier/{DOSSIER_SLUG}/":
            page = int(parse_qs(parts.query).get("page", ["1"])[0] or 1)
            body = self.listing_page(page)
            return Response(200, body.encode(), {"Content-Type": HTML}) if body else Response(404, b"not found")
        if route == f"/rss/{DOSSIER_SLUG}.xml":
            return Response(200, self.feed().encode(), {"Content-Type": "application/rss+xml; charset=utf-8"})
        if route == "/sitemap.xml":
            return Response(200, self.sitemap_index().encode(), {"Content-Type": "application/xml"})
        if route.startswith("/sitemaps/") and route.endswith(".xml"):
            body = self.sitemap(route.removeprefix("/sitemaps/").removesuffix(".xml"))
            return Response(200, body.encode(), {"Content-Type": "application/xml"}) if body else Response(404)
        if route == "/robots.txt":
            robots = f"User-agent: *\nDisallow: /commentaires/\n\nSitemap: {self.base}/sitemap.xml\n"
            return Response(200, robots.encode(), {"Content-Type": "text/plain"})
        if route == "/":
            home = self.listing_page(1, home=True)
            assert home is not None  # the home page always lists
            return Response(200, home.encode(), {"Content-Type": HTML})
        return Response(404, b"<html><body><h1>Page introuvable</h1></body></html>", {"Content-Type": HTML})

    # -- pages ------------------------------------------------------------------------
    def article_page(self, article: DemoArticle) -> str:
        d = article.data
        url = self.base + article.path
        idx = self.articles.index(article)
        related = [self.articles[(idx + k) % len(self.articles)] for k in (1, 2, 3)]
        popular = self.articles[:4]
        byline = " et ".join(d["authors"])
        jsonld = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": d["title"],
            "datePublished": d["published"], "dateModified": d.get("modified") or d["published"],
            "author": [{"@type": "Organization" if a == "AFP" else "Person", "name": a} for a in d["authors"]],
            "keywords": ", ".join(d["tags"]), "articleSection": d["section"], "inLanguage": "fr",
            "publisher": {"@type": "Organization", "name": SITE_NAME}, "mainEntityOfPage": url,
            "description": d["description"],
        }
        modified = d.get("modified")
        return self.template.substitute(
            title=escape(d["title"]),
            description=escape(d["description"]),
            canonical=url,
            published=d["published"],
            published_human=article.published.strftime("%d.%m.%Y à %H:%M"),
            modified_meta=f'<meta property="article:modified_time" content="{modified}">' if modified else "",
            modified_html=f'<span class="b-article__updated">Mis à jour le {modified[:10]}</span>' if modified else "",
            section=escape(d["section"]),
            section_slug=_slugify(d["section"]),
            tag_meta="\n".join(f'<meta property="article:tag" content="{escape(t)}">' for t in d["tags"]),
            jsonld=json.dumps(jsonld, ensure_ascii=False).replace("</", "<\\/"),
            short_url=f"{self.base}/s/{article.n:07d}",
            dossier_slug=DOSSIER_SLUG,
            dossier_title=escape(DOSSIER_TITLE),
            dossier_count=len(self.articles),
            views=1000 + 37 * article.n,
            byline=escape(byline),
            paragraphs="\n".join(f"        <p>{escape(p)}</p>" for p in d["paragraphs"]),
            related="\n".join(f'          <li><a href="{r.path}">{escape(r.data["title"])}</a></li>' for r in related),
            tags_html="\n".join(
                f'          <li><a href="/tag/{_slugify(t)}/">{escape(t)}</a></li>' for t in d["tags"]
            ),
            popular="\n".join(f'        <li><a href="{p.path}">{escape(p.data["title"])}</a></li>' for p in popular),
        )

    def listing_page(self, page: int, home: bool = False) -> str | None:
        start = (page - 1) * PER_PAGE
        items = self.articles[start : start + PER_PAGE]
        if page < 1 or not items:
            return None
        pages = -(-len(self.articles) // PER_PAGE)
        lis = "\n".join(
            f'<li class="b-list__item"><a href="{a.path}">{escape(a.data["title"])}</a>'
            f' <time datetime="{a.data["published"]}">{a.published:%d.%m.%Y}</time></li>'
            for a in items
        )
        nav = f'<a rel="next" href="?page={page + 1}">Suivant</a>' if page < pages else ""
        title = SITE_NAME if home else f"{escape(DOSSIER_TITLE)} ({len(self.articles)})"
        return (
            f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<header><a href="/">{SITE_NAME}</a> <a href="/abonnement/">S\'abonner</a></header>'
            f'<h1>{title}</h1><ul class="b-list">{lis}</ul><nav class="pager">{nav}</nav></body></html>'
        )

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{escape(a.data['title'])}</title><link>{self.base}{a.path}</link>"
            f"<guid>{self.base}{a.path}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{escape(a.data['description'])}</description></item>"
            for a in self.articles[:20]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(DOSSIER_TITLE)}</title><link>{self.base}/dossier/{DOSSIER_SLUG}/</link>"
            f"<language>fr</language>{items}</channel></rss>"
        )

    def months(self) -> list[str]:
        return sorted({a.published.strftime("%Y-%m") for a in self.articles})

    def sitemap_index(self) -> str:
        entries = "".join(f"<sitemap><loc>{self.base}/sitemaps/{m}.xml</loc></sitemap>" for m in self.months())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
        )

    def sitemap(self, month: str) -> str | None:
        if month not in self.months():
            return None
        urls = "".join(
            f"<url><loc>{self.base}{a.path}</loc><lastmod>{a.data.get('modified') or a.data['published']}</lastmod>"
            f"<news:news><news:publication><news:name>{SITE_NAME}</news:name><news:language>fr</news:language>"
            f"</news:publication><news:publication_date>{a.data['published']}</news:publication_date>"
            f"<news:title>{escape(a.data['title'])}</news:title></news:news></url>"
            for a in self.articles
            if a.published.strftime("%Y-%m") == month
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
        )


DEMO_PORT = 8765


def serve_demo(copies: int = 1, port: int = DEMO_PORT) -> tuple[LocalServer, DemoSite]:
    """Start the demo site on 127.0.0.1:``port`` (0: any free port). A fixed port keeps the
    demo's URLs, hence its article ids, the same from one run to the next, so a second
    `dossier demo` shows an incremental rerun rather than a second copy of every article."""
    site = DemoSite(copies)
    server = LocalServer(site, port=port)
    site.base = server.base_url
    return server, site


def demo_config(base_url: str, slug: str = "demo") -> str:
    """The dossier config that points the pipeline at a running demo site."""
    return f"""\
# Generated by `dossier demo`: the bundled offline demo site on {base_url}
[defaults]
user_agent = "dossier-pipeline-demo (+https://example.org/contact)"
requests_per_second = 500.0
max_connections_per_host = 8
allow_private_addresses = true   # the demo site runs on 127.0.0.1
timezone = "Europe/Paris"

[dossiers.{slug}]
title = "{DOSSIER_TITLE}"
language = "fr"

[[dossiers.{slug}.sources]]
kind = "listing"
url = "{base_url}/dossier/{DOSSIER_SLUG}/?page={{page}}"
max_pages = 1000
link_pattern = '/20\\d\\d/\\d\\d/\\d\\d/'

[[dossiers.{slug}.sources]]
kind = "feed"
url = "{base_url}/rss/{DOSSIER_SLUG}.xml"

[[dossiers.{slug}.sources]]
kind = "sitemap"
url = "{base_url}/sitemap.xml"
"""
