"""tasks.config: a valid config becomes typed objects; a bad one fails with a message that
names the file, the dossier and the key, so a user can fix it without reading code."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dossier_pipeline.tasks.config import (
    DEFAULT_USER_AGENT,
    ConfigError,
    FeedSource,
    ListingSource,
    SitemapSource,
    UrlsSource,
    WarcSource,
    load_config,
    parse_config,
)

VALID = """
[defaults]
requests_per_second = 0.5
max_retries = 1
timezone = "Europe/Paris"

[dossiers.alpha]
title = "Alpha"
language = "fr"
requests_per_second = 4

[[dossiers.alpha.sources]]
kind = "listing"
url = "https://www.example.fr/topic/?page={page}"
link_pattern = "/articles/"
max_pages = 3

[[dossiers.alpha.sources]]
kind = "feed"
url = "https://feeds.example.org/rss.xml"

[[dossiers.alpha.sources]]
kind = "feed"
url = "https://www.example.fr/other.xml"

[dossiers.beta]
allowed_domains = ["Example.COM", ".news.example.net"]
max_redirects = 0

[[dossiers.beta.sources]]
kind = "sitemap"
url = "https://example.com/sitemap.xml"

[[dossiers.beta.sources]]
kind = "urls"
urls = ["https://example.com/a"]
file = "lists/beta.txt"
"""

FEED = '[[dossiers.{slug}.sources]]\nkind = "feed"\nurl = "https://example.com/feed.xml"\n'


def write(tmp_path: Path, text: str, name: str = "dossiers.toml") -> Path:
    path = tmp_path / "conf" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_valid_config_types_sources_and_keeps_digest(tmp_path: Path) -> None:
    """Each source table becomes its typed model and the digest identifies the exact text."""
    path = write(tmp_path, VALID)
    config = load_config(path)

    assert config.path == path
    assert config.digest == hashlib.sha256(VALID.encode()).hexdigest()
    assert sorted(config.dossiers) == ["alpha", "beta"]
    alpha = config.get("alpha")
    assert alpha.title == "Alpha"
    assert alpha.language == "fr"
    listing, feed, _ = alpha.sources
    assert isinstance(listing, ListingSource)
    assert (listing.max_pages, listing.first_page, listing.link_pattern) == (3, 1, "/articles/")
    assert isinstance(feed, FeedSource)
    beta = config.get("beta")
    assert isinstance(beta.sources[0], SitemapSource)
    assert beta.sources[0].max_sitemaps == 100
    assert isinstance(beta.sources[1], UrlsSource)


def test_dossier_settings_override_defaults_and_do_not_leak(tmp_path: Path) -> None:
    """A per-dossier setting wins over [defaults]; other dossiers keep the default; keys set
    nowhere keep the built-in value."""
    config = load_config(write(tmp_path, VALID))
    alpha, beta = config.get("alpha").settings, config.get("beta").settings

    assert alpha.requests_per_second == 4
    assert beta.requests_per_second == 0.5
    assert alpha.max_retries == beta.max_retries == 1
    assert alpha.timezone == beta.timezone == "Europe/Paris"
    assert alpha.max_redirects == 5
    assert beta.max_redirects == 0
    assert alpha.user_agent == DEFAULT_USER_AGENT
    assert alpha.allow_private_addresses is False
    assert alpha.respect_robots_txt is True


def test_no_defaults_table_uses_builtin_settings(tmp_path: Path) -> None:
    """[defaults] is optional."""
    config = load_config(write(tmp_path, "[dossiers.solo]\n" + FEED.format(slug="solo")))
    assert config.get("solo").settings.requests_per_second == 2.0
    assert config.get("solo").settings.timezone == "UTC"


def test_allowed_domains_default_to_source_hosts(tmp_path: Path) -> None:
    """Without allowed_domains the scope is the hosts of the sources, in order, without
    duplicates and with {page} templates resolved."""
    config = load_config(write(tmp_path, VALID))
    assert config.get("alpha").domains == ["www.example.fr", "feeds.example.org"]


def test_allowed_domains_given_are_normalised(tmp_path: Path) -> None:
    """Configured domains are lower-cased and a leading dot is dropped."""
    config = load_config(write(tmp_path, VALID))
    assert config.get("beta").domains == ["example.com", "news.example.net"]


def test_urls_file_resolved_relative_to_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A urls source's `file` is relative to the config file, not to the working directory."""
    path = write(tmp_path, VALID)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    source = load_config(path).get("beta").sources[1]
    assert isinstance(source, UrlsSource)
    assert source.file == str((tmp_path / "conf" / "lists" / "beta.txt").resolve())
    assert source.urls == ["https://example.com/a"]


def test_warc_local_paths_resolved_relative_to_config_file(tmp_path: Path) -> None:
    """A warc source's local paths (glob patterns too) are relative to the config file; URLs are kept."""
    text = ('[dossiers.d]\n[[dossiers.d.sources]]\nkind = "warc"\nhosts = ["e.com"]\n'
            'paths = ["crawls/*.warc.gz", "/data/a.warc.gz", "s3://bucket/CC-NEWS-*.warc.gz", "https://e.org/a.warc"]\n')
    [source] = load_config(write(tmp_path, text)).get("d").sources
    assert isinstance(source, WarcSource)
    assert source.paths == [str((tmp_path / "conf" / "crawls").resolve() / "*.warc.gz"), "/data/a.warc.gz",
                            "s3://bucket/CC-NEWS-*.warc.gz", "https://e.org/a.warc"]


def test_urls_file_parent_directory_and_absolute(tmp_path: Path) -> None:
    """`../x.txt` climbs from the config's folder; an absolute path is kept."""
    absolute = tmp_path / "abs.txt"
    text = ('[dossiers.d]\n[[dossiers.d.sources]]\nkind = "urls"\nfile = "../up.txt"\n'
            f'[[dossiers.d.sources]]\nkind = "urls"\nfile = "{absolute.as_posix()}"\n')
    sources = load_config(write(tmp_path, text)).get("d").sources
    assert [s.file for s in sources if isinstance(s, UrlsSource)] == [
        str((tmp_path / "up.txt").resolve()), str(absolute.resolve())]


def test_unknown_dossier_slug_names_known_ones(tmp_path: Path) -> None:
    """Config.get on a missing slug lists the slugs that exist."""
    path = write(tmp_path, VALID)
    with pytest.raises(ConfigError) as info:
        load_config(path).get("gamma")
    assert str(path) in str(info.value)
    assert "'gamma'" in str(info.value)
    assert "alpha, beta" in str(info.value)


def dossier(body: str, slug: str = "news") -> str:
    return f'[dossiers."{slug}"]\n' + body


BAD_DOSSIERS = {
    "typo_in_listing": (
        dossier('[[dossiers.news.sources]]\nkind = "listing"\nurl = "https://e.com/?p={page}"\nmax_page = 3\n'),
        "news", "sources[0].max_page", "unknown key"),
    "typo_in_second_source": (
        dossier(FEED.format(slug="news")
                + '[[dossiers.news.sources]]\nkind = "sitemap"\nurl = "https://e.com/s.xml"\nmax_sitemap = 2\n'),
        "news", "sources[1].max_sitemap", "unknown key"),
    "typo_in_dossier": (
        dossier('titel = "x"\n' + FEED.format(slug="news")), "news", "titel", "unknown key"),
    "missing_url": (
        dossier('[[dossiers.news.sources]]\nkind = "feed"\n'), "news", "sources[0].url", "required"),
    "bad_kind": (
        dossier('[[dossiers.news.sources]]\nkind = "rss"\nurl = "https://e.com/feed"\n'),
        "news", "sources[0]", "'rss'"),
    "missing_kind": (
        dossier('[[dossiers.news.sources]]\nurl = "https://e.com/feed"\n'), "news", "sources[0]", "kind"),
    "empty_urls_source": (
        dossier('[[dossiers.news.sources]]\nkind = "urls"\n'), "news", "sources[0]", "give 'urls', 'file'"),
    "no_sources": (dossier('title = "x"\n'), "news", "sources", "at least 1"),
    "bad_slug": (
        dossier(FEED.format(slug='"Bad Slug"'), slug="Bad Slug"), "Bad Slug", "slug", "[a-z0-9-]+"),
    "bad_link_pattern": (
        dossier('[[dossiers.news.sources]]\nkind = "listing"\nurl = "https://e.com/"\nlink_pattern = "(["\n'),
        "news", "sources[0].link_pattern", "invalid regular expression"),
    "non_http_url": (
        dossier('[[dossiers.news.sources]]\nkind = "feed"\nurl = "ftp://e.com/feed.xml"\n'),
        "news", "sources[0].url", "not an http(s) URL: 'ftp://e.com/feed.xml'"),
    "non_http_in_url_list": (
        dossier('[[dossiers.news.sources]]\nkind = "urls"\nurls = ["https://e.com/a", "file:///etc/passwd"]\n'),
        "news", "sources[0].urls", "'file:///etc/passwd'"),
    "negative_rate_in_dossier": (
        dossier("requests_per_second = -1\n" + FEED.format(slug="news")),
        "news", "requests_per_second", "greater than 0"),
    "unknown_zone_in_dossier": (
        dossier('timezone = "Mars/Olympus_Mons"\n' + FEED.format(slug="news")),
        "news", "timezone", "unknown time zone 'Mars/Olympus_Mons'"),
    "wayback_archive_spelling": (
        dossier('[[dossiers.news.sources]]\nkind = "wayback"\nurl = "https://e.com/"\narchive = "http://a.example"\n'),
        "news", "sources[0]", "the archive's base URL is 'wayback_url' (wayback_url = \"http://a.example\")"),
    "warc_without_paths": (
        dossier('[[dossiers.news.sources]]\nkind = "warc"\nhosts = ["e.com"]\n'), "news", "sources[0].paths",
        "required"),
    "warc_bad_url_pattern": (
        dossier('[[dossiers.news.sources]]\nkind = "warc"\npaths = ["/data/*.warc.gz"]\nurl_pattern = "(["\n'),
        "news", "sources[0].url_pattern", "invalid regular expression"),
    "wrong_type_setting": (
        dossier('max_retries = "many"\n' + FEED.format(slug="news")), "news", "max_retries", "integer"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOSSIERS))
def test_bad_dossier_names_file_dossier_and_key(tmp_path: Path, case: str) -> None:
    """Each dossier mistake is a ConfigError naming the file, the dossier slug and the key."""
    text, slug, key, detail = BAD_DOSSIERS[case]
    path = write(tmp_path, text)
    message = config_error(path)
    assert str(path) in message
    assert f"dossier {slug!r}" in message
    assert f"key {key!r}" in message
    assert detail in message


def test_errors_of_several_dossiers_are_all_reported(tmp_path: Path) -> None:
    """One run of the validator reports every broken dossier, not just the first."""
    text = (dossier("max_retries = -1\n" + FEED.format(slug="one"), slug="one")
            + dossier('[[dossiers.two.sources]]\nkind = "feed"\n', slug="two"))
    message = config_error(write(tmp_path, text))
    assert "dossier 'one': key 'max_retries'" in message
    assert "dossier 'two': key 'sources[0].url'" in message


@pytest.mark.parametrize(
    ("defaults", "key", "detail"),
    [
        ("requests_per_second = -2", "requests_per_second", "greater than 0"),
        ('timezone = "Europe/Atlantis"', "timezone", "unknown time zone 'Europe/Atlantis'"),
        ("request_per_second = 3", "request_per_second", "unknown key"),
    ],
)
def test_bad_defaults_name_defaults_table_and_key(tmp_path: Path, defaults: str, key: str, detail: str) -> None:
    """A mistake in [defaults] names the file, the [defaults] table (not a dossier) and the key."""
    path = write(tmp_path, f"[defaults]\n{defaults}\n" + dossier(FEED.format(slug="news")))
    message = config_error(path)
    assert str(path) in message
    assert "[defaults]" in message
    assert "dossier '[defaults]'" not in message
    assert f"key {key!r}" in message
    assert detail in message


def test_invalid_toml_names_file_and_position(tmp_path: Path) -> None:
    """A TOML syntax error names the file and where the parser stopped."""
    path = write(tmp_path, '[dossiers.news\nkind = "feed"\n')
    message = config_error(path)
    assert str(path) in message
    assert "invalid TOML" in message
    assert "line 1" in message


def test_missing_file(tmp_path: Path) -> None:
    """A missing config file is a ConfigError naming the path, not a FileNotFoundError."""
    path = tmp_path / "nowhere" / "dossiers.toml"
    message = config_error(path)
    assert str(path) in message
    assert "not found" in message


@pytest.mark.parametrize("text", ["", "[defaults]\nmax_retries = 1\n", "[dossiers]\n"])
def test_no_dossiers(tmp_path: Path, text: str) -> None:
    """A config without any [dossiers.<slug>] table is refused."""
    path = write(tmp_path, text)
    message = config_error(path)
    assert str(path) in message
    assert "no [dossiers.<slug>] table" in message


def test_unknown_top_level_table(tmp_path: Path) -> None:
    """A typo in a top-level table name ([default]) is an error, not silently ignored."""
    path = write(tmp_path, "[default]\nmax_retries = 1\n" + dossier(FEED.format(slug="news")))
    message = config_error(path)
    assert str(path) in message
    assert "default" in message


def test_parse_config_uses_given_path_in_messages() -> None:
    """parse_config names the path it is given, so callers holding text still get located errors."""
    with pytest.raises(ConfigError, match=r"^/some/where/d\.toml: dossier 'news': key 'sources\[0\]\.url'"):
        parse_config(dossier('[[dossiers.news.sources]]\nkind = "feed"\n'), Path("/some/where/d.toml"))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('defaults = 3\n' + dossier(FEED.format(slug="news")), "defaults"),
        (dossier('slug = "news"\n' + FEED.format(slug="news")), "slug"),
        (dossier("[dossiers.news.settings]\nmax_retries = 1\n" + FEED.format(slug="news")), "settings"),
    ],
    ids=["defaults_not_a_table", "slug_key_in_dossier", "settings_subtable"],
)
def test_structural_mistakes_are_config_errors(tmp_path: Path, text: str, key: str) -> None:
    """Plausible structural mistakes must give a ConfigError naming the file and the key,
    never a raw TypeError traceback."""
    path = write(tmp_path, text)
    message = config_error(path)
    assert str(path) in message
    assert key in message


def test_per_site_furniture_rules(tmp_path: Path) -> None:
    """[dossiers.X.furniture] holds per-site rules as data; a bad key or pattern names itself."""
    good = ('[dossiers.news]\n' + FEED.format(slug="news")
            + '[dossiers.news.furniture]\ndrop_paragraphs = ["suivez-nous .*"]\n')
    assert load_config(write(tmp_path, good)).get("news").furniture == {"drop_paragraphs": ["suivez-nous .*"]}
    bad = '[dossiers.news]\n' + FEED.format(slug="news") + '[dossiers.news.furniture]\nprune = ["//div"]\n'
    with pytest.raises(ConfigError, match=r"dossier 'news': key 'furniture'.*unknown furniture key 'prune'"):
        load_config(write(tmp_path, bad))
