"""What a dossier's directory can tell about itself, for `dossier show`: its runs, and
the whole history of one article from the URL ledger, the run records, the edits table
and the archive (where each fetch's response is, so its bytes are one seek away)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dossier_pipeline.tasks.archive import events
from dossier_pipeline.tasks.record import RunRecord
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.urls import fetch_address, identity_url

SHOWN_COUNTS = ("discovered", "fetched", "replayed", "written", "updated", "unchanged", "duplicate", "not_article",
                "blocked", "skipped", "failed")
ROW_COLUMNS = ["article_id", "url", "final_url", "canonical_url", "title", "fetched_at", "http_status", "extractor",
               "run_id", "source_kind", "source_url", "warc_file", "warc_record_id", "warc_offset", "first_seen",
               "last_seen", "last_changed"]


def _when(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _time(value: Any) -> str:
    return f"{_when(value):%Y-%m-%d %H:%M:%S}" if value else "?"


def _kind(run: RunRecord | None) -> str:
    if run is None:
        return "unknown run"
    refresh = " --refresh" if run.parameters.get("refresh") else ""
    return f"{run.kind}{refresh}, trafilatura {run.versions.get('trafilatura', '?')}"


def runs_report(store: Store) -> list[str]:
    lines = []
    for run in store.read_runs():
        counts = run.counts
        seconds = round((datetime.fromisoformat(run.finished_at)
                         - datetime.fromisoformat(run.started_at)).total_seconds())
        lines.append(f"{_time(run.started_at)}  run {run.run_id}  ({_kind(run)}; {seconds} s)")
        lines.append("    " + " · ".join(f"{k} {counts[k]}" for k in SHOWN_COUNTS if counts.get(k)))
        files = run.files
        extra = [f"{len(run.warc_files)} WARC file(s), {run.warc_bytes:,} bytes",
                 f"files added {len(files.get('added', []))}, replaced {len(files.get('replaced', []))}"]
        if run.edits:
            extra.append("edits " + ", ".join(f"{k} {v}" for k, v in run.edits.items()))
        lines.append("    " + "; ".join(extra))
    return lines or ["no runs yet"]


def article_report(store: Store, url: str) -> list[str]:
    """Everything recorded about the article at ``url`` (any of its URLs), oldest first."""
    wanted = {url} | {u for u in (fetch_address(url), identity_url(url)) if u}
    rows = [r for r in store.read_articles(ROW_COLUMNS).to_pylist()
            if wanted & {r["url"], r["final_url"], r["canonical_url"]}]
    ledger = store.read_urls().to_pylist()
    ids = {r["article_id"] for r in rows} | {e["article_id"] for e in ledger
                                             if e["article_id"] and wanted & {e["url"], e["final_url"]}}
    urls = wanted | {r[k] for r in rows for k in ("url", "final_url", "canonical_url") if r[k]}
    urls |= {e["url"] for e in ledger if e["article_id"] in ids}
    runs = {r.run_id: r for r in store.read_runs()}
    timeline: list[tuple[datetime, str]] = []
    for entry in ledger:
        if entry["url"] not in urls:
            continue
        text = f"run {entry['run_id']} ({_kind(runs.get(entry['run_id']))}): {entry['url']} {entry['state']}"
        details = [f"discovered via {entry['source_kind']} {entry['source_url']}"]
        if entry["http_status"] is not None:
            details.append(f"http {entry['http_status']}")
        if entry["final_url"] and entry["final_url"] != entry["url"]:
            details.append(f"final URL {entry['final_url']}")
        if entry["reason"]:
            details.append(f"{entry['stage'] + ': ' if entry['stage'] else ''}{entry['reason']}")
        timeline.append((entry["recorded_at"], f"{text} ({'; '.join(details)})"))
    for event in events(store.root):
        data = event.data
        if data["url"] in urls or data.get("final_url") in urls:
            where = f"{event.response.file} @ {event.response.offset} {event.response.record_id}"
            timeline.append((_when(data["fetched_at"]), f"fetched {data['url']} (run {data['run_id']}): http "
                                                        f"{data.get('http_status', '?')}, response {where}"))
    for edit in store.read_edits().to_pylist():
        if edit["article_id"] in ids:
            fields = ", ".join(edit["fields"]) or "-"
            timeline.append((edit["observed_at"], f"{edit['kind']} observed by run {edit['run_id']} "
                                                         f"(http {edit['http_status']}; changed: {fields}; text "
                                                         f"{edit['old_text_sha256'][:12]} -> "
                                                         f"{(edit['new_text_sha256'] or 'gone')[:12]})"))
    if rows:
        for run in runs.values():
            if run.kind == "reextract":
                timeline.append((_when(run.finished_at), f"reextracted from the archive by run {run.run_id} "
                                                         f"({_kind(run)})"))
    if not rows and not timeline:
        return []
    lines = []
    for row in rows:
        lines += [f"article {row['article_id']}: {row['title']}",
                  f"  canonical {row['canonical_url']}",
                  f"  discovered by {row['source_kind']} {row['source_url']}",
                  f"  fetched {_time(row['fetched_at'])} (http {row['http_status']}); first seen "
                  f"{_time(row['first_seen'])}, last seen {_time(row['last_seen'])}, last changed "
                  f"{_time(row['last_changed']) if row['last_changed'] else 'never'}",
                  f"  written by run {row['run_id']} with {row['extractor']}",
                  f"  raw response: {row['warc_file']} @ {row['warc_offset']} {row['warc_record_id']}"
                  if row["warc_file"] else "  raw response: not archived"]
    return lines + ["history:"] + [f"  {_time(when)}  {text}" for when, text in sorted(timeline)]
