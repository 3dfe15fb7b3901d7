"""Dossier configuration: a TOML file read and validated once, into typed objects.

Every error names the file, the dossier and the key, so a user can fix a config without
reading code. Unknown keys are errors too: a typo such as ``max_page`` must not be
silently ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tomllib
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_USER_AGENT = "dossier-pipeline/0.1 (+https://github.com/dossier-pipeline/dossier-pipeline)"
# URLs a batch: Prefect sees batches (a task run costs milliseconds), and two batches of
# page bodies are in memory at a time (about 20 MB each for 128 large news pages).
BATCH_SIZE = 128


class ConfigError(Exception):
    """A configuration the pipeline cannot run with; the message is meant for the user."""


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Strict):
    """Fetch and normalisation settings; set in [defaults], overridable per dossier."""

    user_agent: str = DEFAULT_USER_AGENT
    requests_per_second: float = Field(2.0, gt=0)
    max_connections_per_host: int = Field(4, ge=1, le=64)
    allow_private_addresses: bool = False
    timeout_seconds: float = Field(20.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)
    max_retry_after_seconds: float = Field(120.0, ge=0)
    max_body_bytes: int = Field(10_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=30)
    respect_robots_txt: bool = True
    extract_timeout_seconds: float = Field(30.0, gt=0)  # per page; a page over it is recorded as failed
    extract_memory_mb: int = Field(1024, ge=256)  # per extraction worker (address-space limit)
    # applied to dates a page gives without an offset, on sites whose country-code domain does
    # not name a clock (normalise.page_zone); the default UTC defers to the page's language
    timezone: str = "UTC"
    archive: bool = True  # keep every HTTP exchange in WARC files under raw/ (re-extraction, audit)
    commit_seconds: float = Field(20.0, ge=0)  # batches written together at most this often (0: every batch)
    keep_paywalled: bool = True  # keep rows of paywalled/registration articles (their teaser); false: skip them

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


SETTING_KEYS = frozenset(Settings.model_fields)


class _UrlSource(_Strict):
    url: str

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return _check_http_url(value.replace("{page}", "1")) and value


class ListingSource(_UrlSource):
    kind: Literal["listing"]
    first_page: int = Field(1, ge=0)
    max_pages: int = Field(50, ge=1)
    link_pattern: str | None = None

    @field_validator("link_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _check_regex(value)


class FeedSource(_UrlSource):
    kind: Literal["feed"]


class SitemapSource(_UrlSource):
    kind: Literal["sitemap"]
    max_sitemaps: int = Field(100, ge=1)


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
    return value


class _Period(_Strict):
    """An optional period of days (UTC, both included)."""

    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Period:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"'since' ({self.since}) is after 'until' ({self.until})")
        return self


class WaybackSource(_UrlSource, _Period):
    """A listing, feed or sitemap as a web archive holds it: its captures in the period
    (``since``/``until``: capture days) are read raw and their links discovered with the
    rules of the live kind named by ``format`` (tasks/wayback.py)."""

    kind: Literal["wayback"]  # url: the listing/feed/sitemap URL as the site served it ("{page}": paginated)
    format: Literal["listing", "feed", "sitemap"] = "listing"
    # a Wayback-compatible archive's base URL: CDX API at /cdx/search/cdx, raw captures at /web/<ts>id_/<url>
    wayback_url: str = "https://web.archive.org"
    archive_requests_per_second: float = Field(1.0, gt=0)  # politeness towards the archive itself
    max_captures: int = Field(100, ge=1)  # captures read per listing page, spread evenly over the period
    first_page: int = Field(1, ge=0)
    max_pages: int = Field(50, ge=1)  # listing pages ({page} or rel=next), or sitemaps, per capture series
    link_pattern: str | None = None

    @field_validator("link_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _check_regex(value)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        # One spelling, one meaning: "archive" is the setting that keeps the run's own WARC files.
        if isinstance(data, dict) and "archive" in data:
            raise ValueError("'archive' is not a wayback source's key: the archive's base URL is 'wayback_url' "
                             f"(wayback_url = {json.dumps(data['archive'])})")
        return data

    @field_validator("wayback_url")
    @classmethod
    def _wayback_url(cls, value: str) -> str:
        return _check_http_url(value).rstrip("/")


class WarcSource(_Period):
    """Records of WARC files (your crawls, CC-NEWS, anyone's): those of the dossier's hosts
    whose article was published in the period (``since``/``until``: publication days, not
    the files' dates) (tasks/warcfiles.py)."""

    kind: Literal["warc"]
    paths: list[str] = Field(min_length=1)  # local paths, s3://… or http(s)://…; glob patterns allowed
    hosts: list[str] = []  # default: the dossier's allowed domains
    url_pattern: str | None = None  # a regular expression the record's URL must match
    keywords: list[str] = []  # at least one in the extracted title or text (case-insensitive), when given

    @field_validator("url_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _check_regex(value)


class UrlsSource(_Strict):
    kind: Literal["urls"]
    urls: list[str] = []
    file: str | None = None

    @field_validator("urls")
    @classmethod
    def _http(cls, values: list[str]) -> list[str]:
        return [_check_http_url(v) for v in values]

    @model_validator(mode="after")
    def _something(self) -> UrlsSource:
        if not self.urls and not self.file:
            raise ValueError("give 'urls', 'file' or both")
        return self


class Schedule(_Strict):
    """When the dossier's deployment runs (`dossier serve`, prefect.yaml): a cron expression
    in a time zone. Not ``Settings.timezone``, which is about the dates pages give."""

    cron: str
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _prefect_accepts(self) -> Schedule:
        # Prefect's own schedule model (croniter underneath) decides, so a config that loads
        # is one the Prefect server will schedule.
        from prefect.client.schemas.schedules import CronSchedule  # local import: prefect only when scheduled

        try:
            CronSchedule(cron=self.cron, timezone=self.timezone)
        except ValidationError as exc:
            field = exc.errors()[0]["loc"][0]
            if field == "timezone":
                raise ValueError(f"unknown time zone {self.timezone!r} (an IANA name, e.g. 'Europe/Paris')") from None
            raise ValueError(f"invalid cron expression {self.cron!r} (minute hour day-of-month month day-of-week, "
                             "e.g. '0 */6 * * *')") from None
        return self


SOURCE_KINDS = ("listing", "feed", "sitemap", "urls", "wayback", "warc")
Source = Annotated[ListingSource | FeedSource | SitemapSource | UrlsSource | WaybackSource | WarcSource,
                   Field(discriminator="kind")]


class Dossier(_Strict):
    slug: str
    title: str | None = None
    language: str | None = None
    allowed_domains: list[str] = []
    sources: list[Source] = Field(min_length=1)
    settings: Settings
    furniture: dict[str, list[str]] = {}  # per-site furniture rules, keys as in tasks.furniture.Rules
    schedule: Schedule | None = None  # `schedule = "CRON"` or `schedule = { cron = "CRON", timezone = "ZONE" }`

    @field_validator("schedule", mode="before")
    @classmethod
    def _cron_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"cron": value}
        if not isinstance(value, dict):
            raise ValueError('a cron string, or a table { cron = "…", timezone = "…" }')
        return value

    @field_validator("furniture")
    @classmethod
    def _furniture(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from dossier_pipeline.tasks.furniture import site_rules  # local import: keeps config free of lxml at import

        site_rules(value)
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError(f"slug {value!r} must match [a-z0-9-]+ (it is used in paths)")
        return value

    @cached_property
    def domains(self) -> list[str]:
        """Allowed domains: the configured ones, else the hosts of the sources (and of the
        URLs in a ``urls`` source's file). Computed once per config object: every page's
        context names them, and a urls source may list 100,000 addresses."""
        if self.allowed_domains:
            return [d.lower().lstrip(".") for d in self.allowed_domains]
        from dossier_pipeline.tasks.urls import host_of  # local import: urls imports nothing from here

        hosts: list[str] = []
        for source in self.sources:
            urls = [getattr(source, "url", None), *getattr(source, "urls", [])]
            if isinstance(source, WarcSource):
                hosts += [h.lower().lstrip(".") for h in source.hosts if h.lower().lstrip(".") not in hosts]
            if isinstance(source, UrlsSource) and source.file:
                with contextlib.suppress(OSError):  # discovery records an unreadable file
                    urls += Path(source.file).read_text(encoding="utf-8").split()
            for url in urls:
                if url and (host := host_of(url.replace("{page}", "1"))) and host not in hosts:
                    hosts.append(host)
        return hosts


class Execution(_Strict):
    """Where the work runs ([execution]): the default local task runner (extraction on a
    process pool, one worker per core), or an existing Dask cluster (prefect-dask), whose
    workers extract the pages; fetching stays in the flow run's process, so per-host
    politeness holds however many workers there are."""

    task_runner: Literal["local", "dask"] = "local"
    address: str | None = None  # the Dask scheduler, e.g. "tcp://10.0.0.5:8786"

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(tcp|tls|inproc|ucx)://\S+$", value):
            raise ValueError(f"not a Dask scheduler address: {value!r} (e.g. 'tcp://host:8786')")
        return value


class Config(_Strict):
    path: Path
    digest: str
    dossiers: dict[str, Dossier]
    execution: Execution = Execution()

    def get(self, slug: str) -> Dossier:
        try:
            return self.dossiers[slug]
        except KeyError:
            known = ", ".join(sorted(self.dossiers)) or "none"
            raise ConfigError(f"{self.path}: no dossier {slug!r} (known: {known})") from None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (isinstance(previous, int) and (part in SOURCE_KINDS or str(part).startswith("function-"))):
            out += ("." if out else "") + str(part)  # (else: the tag pydantic inserts after a source's index)
        previous = part
    return out or "(dossier)"


def _format(path: Path, slug: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = _loc(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            got = err["input"].get("kind") if isinstance(err["input"], dict) else None
            msg = f"'kind' must be one of {', '.join(SOURCE_KINDS)}" + (f" (got {got!r})" if got else "")
        lines.append(f"{path}: dossier {slug!r}: key {key!r}: {msg}")
    return "\n".join(lines)


def parse_config(text: str, path: Path) -> Config:
    """Validate the TOML text of a config file; ``path`` is used in messages and for relative files."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = set(raw) - {"defaults", "dossiers", "execution"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level table(s): {', '.join(sorted(unknown))}")
    execution = raw.get("execution", {})
    if not isinstance(execution, dict):
        raise ConfigError(f"{path}: [execution] must be a table")
    try:
        run_on = Execution(**execution)
    except ValidationError as exc:
        raise ConfigError(_format(path, "[execution]", exc).replace("dossier '[execution]'", "[execution]")) from None
    if run_on.task_runner == "dask" and not run_on.address:
        raise ConfigError(f"{path}: [execution]: key 'address': task_runner 'dask' needs the cluster's scheduler "
                          "address (e.g. 'tcp://host:8786')")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: [defaults] must be a table")
    try:
        Settings(**defaults)
    except ValidationError as exc:
        raise ConfigError(_format(path, "[defaults]", exc).replace("dossier '[defaults]'", "[defaults]")) from None
    dossiers_raw = raw.get("dossiers", {})
    if not isinstance(dossiers_raw, dict) or not dossiers_raw:
        raise ConfigError(f"{path}: no [dossiers.<slug>] table defined")
    dossiers: dict[str, Dossier] = {}
    errors: list[str] = []
    for slug, body in dossiers_raw.items():
        if not isinstance(body, dict):
            errors.append(f"{path}: dossier {slug!r}: must be a table")
            continue
        reserved = sorted(k for k in body if k in ("slug", "settings"))
        if reserved:
            errors.append(f"{path}: dossier {slug!r}: key {reserved[0]!r}: unknown key (the slug is the table "
                          "name; settings go directly in the dossier table)")
            continue
        own = {k: v for k, v in body.items() if k in SETTING_KEYS}
        rest = {k: v for k, v in body.items() if k not in SETTING_KEYS}
        sources = rest.pop("sources", [])
        if not isinstance(sources, list):
            errors.append(f"{path}: dossier {slug!r}: key 'sources': must be an array of tables "
                          f"([[dossiers.{slug}.sources]])")
            continue
        sources = [_resolve_file(s, path) for s in sources]
        try:
            dossiers[slug] = Dossier(slug=slug, sources=sources, settings={**defaults, **own}, **rest)
        except ValidationError as exc:
            errors.append(_format(path, slug, exc).replace("key 'settings.", "key '"))
    if errors:
        raise ConfigError("\n".join(errors))
    return Config(path=path, digest=hashlib.sha256(text.encode()).hexdigest(), dossiers=dossiers,
                  execution=run_on)


def _resolve_file(source: Any, path: Path) -> Any:
    """Make a ``urls`` source's ``file``, and a ``warc`` source's local ``paths``, relative
    to the config file, as users expect."""
    if isinstance(source, dict) and isinstance(source.get("file"), str):
        source = {**source, "file": str((path.parent / source["file"]).resolve())}
    if isinstance(source, dict) and source.get("kind") == "warc" and isinstance(source.get("paths"), list):
        source = {**source, "paths": [str((path.parent / p).resolve()) if isinstance(p, str) and "://" not in p
                                      else p for p in source["paths"]]}
    return source


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises ConfigError with a user-facing message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (use --config to choose another)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse_config(text, path)
