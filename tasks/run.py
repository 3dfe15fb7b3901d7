"""A run of one dossier: its identity, and the pieces its steps work with.

The pieces have one job each: the ledger (tasks/ledger.py) settles every discovered URL
in one state, a source (tasks/sources.py) yields pages, the extraction pool
(tasks/workers.py) extracts them, the committer (tasks/commit.py) turns them into rows,
and the run record (tasks/record.py) reports it all. ``Run`` holds them for the length
of the run and opens and closes what they share: the dataset, the WARC archive, the Dask
runner.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prefect.task_runners import TaskRunner

from dossier_pipeline.tasks import memory
from dossier_pipeline.tasks.archive import ArchiveWriter, recover
from dossier_pipeline.tasks.card import write_card
from dossier_pipeline.tasks.commit import Committer
from dossier_pipeline.tasks.config import Config, Dossier, WarcSource, WaybackSource
from dossier_pipeline.tasks.contracts import Extraction
from dossier_pipeline.tasks.diskfull import DiskFull
from dossier_pipeline.tasks.distributed import dask_runner
from dossier_pipeline.tasks.history import History, file_changes, gone_articles
from dossier_pipeline.tasks.ledger import Ledger
from dossier_pipeline.tasks.progress import for_run
from dossier_pipeline.tasks.record import COUNTED_STATES, RunRecord
from dossier_pipeline.tasks.sources import Fetched, LiveSource, PageSource
from dossier_pipeline.tasks.staging import Staging
from dossier_pipeline.tasks.store import Store
from dossier_pipeline.tasks.version import PIPELINE_VERSION, VERSIONED_PACKAGES, package_version
from dossier_pipeline.tasks.warcfiles import WarcFiles, live_versions, settled_records
from dossier_pipeline.tasks.wayback import Archives
from dossier_pipeline.tasks.windows import Window, backfill_runs, window_of
from dossier_pipeline.tasks.workers import ExtractorPool

DATA_DIRS = ("articles", "urls", "edits", "raw")  # what a run may add files to (its lineage lists them)


@dataclass(frozen=True)
class RunSpec:
    """What a run is asked to do (its flow's parameters, the config it read)."""

    run_id: str
    config: Config
    dossier: Dossier
    parameters: dict[str, Any]
    kind: str = "scrape"  # or "reextract"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def refresh(self) -> bool:
        return bool(self.parameters.get("refresh"))


class Run:
    """The pieces of one run (kept out of Prefect's parameter handling on purpose: it is
    passed to tasks as an opaque object). With ``staging`` (a reextract), rows go to a
    staging copy swapped in at the end, and the ledger keeps its counts only."""

    def __init__(self, spec: RunSpec, pool: ExtractorPool, staging: Staging | None = None) -> None:
        memory.configure()
        self.spec = spec
        dossier = spec.dossier
        self.store = staging.target if staging else Store(spec.parameters["output"], dossier.slug, PIPELINE_VERSION)
        self.pool = pool
        self.staging = staging
        self.ledger = Ledger(spec.run_id, self.store if staging is None else None, for_run(dossier.slug))
        self.committer = Committer(self.store, self.ledger, History(set()), dossier.settings,
                                   window=window_of(spec.parameters), observes=spec.refresh or staging is not None)
        self.durations: defaultdict[str, float] = defaultdict(float)
        self.archive: ArchiveWriter | None = None
        self.runner: TaskRunner[Any] | None = None  # Dask's, extracting the batches, while the run lasts
        self.files_before: dict[str, tuple[int, int, int]] = {}
        self.recovered_warcs: list[str] = []
        self.batches = 0
        self.interrupted = False  # stopped early on request (tasks/interrupt.py): the rest is left for the next run
        self.disk_full: DiskFull | None = None  # stopped by a full disk: the rest is left for the next run

    @contextlib.contextmanager
    def stops_when_full(self) -> Iterator[None]:
        """Run the block; a full disk stops the run (the first one is kept) instead of
        failing it: what was committed stays, and the run record says why it stopped."""
        try:
            yield
        except DiskFull as exc:
            self.disk_full = self.disk_full or exc

    @property
    def window(self) -> Window | None:
        return self.committer.window

    @property
    def distributed(self) -> bool:
        """Extraction on Dask workers (a reextract reads a local archive: local pool)."""
        return self.staging is None and self.spec.config.execution.task_runner == "dask"

    def prepare(self) -> None:
        """Open the dataset (and the staging copy of a reextract), finish the WARC files a
        killed run left, and open this run's."""
        if self.staging is not None:
            self.staging.clean()  # what a killed reextract left, before the files are listed
        self.files_before = self.store.snapshot(DATA_DIRS)
        self.store.prepare()
        if self.distributed:
            self.runner = dask_runner(self.spec.config.execution)
        if self.staging is None:
            self.committer.history = History(gone_articles(
                self.store.read_edits().select(["article_id", "kind"]).to_pylist()))
        self.recovered_warcs = recover(self.store.root)
        if self.staging is not None:
            self.committer.store = self.staging.open()
        elif self.spec.dossier.settings.archive:
            spec, settings = self.spec, self.spec.dossier.settings
            self.archive = ArchiveWriter(self.store.root, spec.run_id, {
                "pipeline_version": PIPELINE_VERSION, "run_id": spec.run_id, "dossier": spec.dossier.slug,
                "isPartOf": spec.dossier.slug, "config_sha256": spec.config.digest,
                "http-header-user-agent": settings.user_agent,
                "robots": "obey" if settings.respect_robots_txt else "ignore"}, spec.started_at)

    def live_source(self) -> LiveSource:
        """Pages fetched now, with the dataset's validators (call after ``prepare``)."""
        dossier = self.spec.dossier
        archives = (Archives(self.store, dossier, self.archive)
                    if any(isinstance(source, WaybackSource) for source in dossier.sources) else None)
        return LiveSource(self.spec.run_id, dossier, self.ledger, self.ledger.progress, self.durations,
                          known=self.store.known_urls(dossier.settings.keep_paywalled), refresh=self.spec.refresh,
                          archive=self.archive, archives=archives,
                          defer_gone=any(isinstance(source, WarcSource) for source in dossier.sources))

    def warc_source(self, live: LiveSource, backfill_run_id: str | None = None) -> WarcFiles | None:
        """The files of the dossier's ``warc`` sources (None without any), read after the
        ``live`` source's pages: the URLs the dataset holds are not read again, and those
        that answered 404/410 are taken down (a copy in a file is their row);
        ``backfill_run_id``: the backfill whose window this run is (its completed windows'
        findings are used: warcfiles.settled_records). The live pages held are written
        first: the files' copies of them compare with them."""
        dossier = self.spec.dossier
        if not any(isinstance(source, WarcSource) for source in dossier.sources):
            return None
        self.committer.write()
        window_runs = backfill_runs(self.store, backfill_run_id) if self.window and backfill_run_id else set()
        return WarcFiles(self.spec.run_id, dossier, self.ledger, self.durations, known=live.known,
                         refresh=self.spec.refresh, live=live_versions(self.store),
                         settled=settled_records(self.store, self.window, window_runs),
                         gone={url: result for url, (_, result) in live.gone.items()})

    def settle_gone(self, live: LiveSource) -> None:
        """After the warc sources: the rows of the files' copies written (their URLs settled),
        the live 404/410s left are failures (LiveSource.settle_gone)."""
        if live.gone:
            self.committer.write()
            live.settle_gone()

    def close(self) -> None:
        """Finish the run's WARC files (also when the run fails: what they hold is valid)
        and, for a dataset in object storage, upload them from the local spool; stop the
        Dask runner."""
        if self.archive is not None:
            self.archive.close()
        self.store.publish_raw()
        if self.runner is not None:
            self.runner.__exit__(None, None, None)
            self.runner = None

    def next_stage(self) -> int:
        """A new batch number (its staging file, when extracted on Dask workers)."""
        self.batches += 1
        return self.batches

    def extract(self, fetched: Fetched) -> tuple[Fetched, list[Extraction]]:
        started = time.monotonic()
        results = self.pool.extract(fetched.pages, on_chunk=self.ledger.progress.extracted)
        fetched.pages = []  # the bodies are not needed after extraction: free them before the commit
        self.durations["extract"] += time.monotonic() - started
        return fetched, results

    def commit(self, extracted: tuple[Fetched, list[Extraction]]) -> None:
        started = time.monotonic()
        self.committer.commit(*extracted)
        memory.release()
        self.durations["write"] += time.monotonic() - started

    def summary(self, source: PageSource[Any] | None) -> RunRecord:
        """The run record written to runs/<run_id>.json; the dataset card is rewritten with it.
        Writes the rows still held, compacts the partitions the run wrote (a reextract's
        staging copy, then swapped in), and closes the source and the WARC files first, so
        that the record lists the files as they stay. Without ``source``: the disk was
        full before the run could read any page."""
        started = time.monotonic()
        if self.disk_full is None:  # (once full, nothing more is written but the record)
            with self.stops_when_full():
                self.committer.write()
                if self.staging is not None:
                    self.committer.store.compact()  # the staging copy's partitions, before they are swapped in
                    self.staging.swap()
                    self.committer.store = self.store
                self.store.compact()
        self.durations["write"] += time.monotonic() - started
        if source is not None:
            source.close()
        self.close()
        if self.archive is not None:
            self.durations["archive"] = self.archive.seconds  # spent in the fetch step, included in it
        record = self.record(source)
        if self.disk_full is None:
            with self.stops_when_full():
                write_card(self.store, self.spec.dossier, record)
        return record

    def record(self, source: PageSource[Any] | None) -> RunRecord:
        spec, ledger, committer = self.spec, self.ledger, self.committer
        counts, discovery = ledger.counts, ledger.discovery
        published = committer.published
        return RunRecord(
            run_id=spec.run_id,
            dossier=spec.dossier.slug,
            title=spec.dossier.title,
            started_at=spec.started_at.isoformat(),
            finished_at=datetime.now(UTC).isoformat(),
            parameters=spec.parameters,
            config_path=str(spec.config.path),
            config_sha256=spec.config.digest,
            versions={name: package_version(name) for name in VERSIONED_PACKAGES},
            python=platform.python_version(),
            counts={"expected": discovery.expected, "discovered": counts["discovered"],
                    "fetched": counts["fetched"], "extracted": counts["extracted"],
                    "written": counts["written"] + counts["updated"], **{s: counts[s] for s in COUNTED_STATES},
                    # other articles with the same or nearly the same text, merged into a kept row
                    "merged_duplicates": counts["merged_duplicates"],
                    **({"replayed": counts["replayed"], "kept_without_archive": self.staging.kept}
                       if self.staging is not None else {})},
            # (a window's run reads only the part of a listing its dates need)
            incomplete=self.window is None and discovery.expected is not None
            and counts["discovered"] < discovery.expected,
            window=self.window.as_dict() if self.window else None,
            reasons=dict(ledger.reasons.most_common()),
            blocked_by_host={host: dict(kinds) for host, kinds in ledger.blocked.items()},
            source_failures=discovery.failures,
            failures=ledger.failures[:1000],
            durations_seconds={k: round(v, 3) for k, v in self.durations.items()},
            ledger_files=ledger.files,
            published_range={"min": published[0].isoformat(), "max": published[1].isoformat()}
            if published else None,
            dataset=f"{self.store.location}/articles",
            kind=spec.kind,
            state="disk_full" if self.disk_full else "interrupted" if self.interrupted else "completed",
            disk_full=self.disk_full.as_dict() if self.disk_full else None,
            warc_files=self.archive.files if self.archive else [],
            warc_bytes=self.archive.bytes if self.archive else 0,
            warc_recovered=self.recovered_warcs,
            edits=dict(committer.history.counts),
            archive_requests=source.archive_requests() if source else 0,
            warc_read={"files": counts["warc_files"], "records": counts["warc_records"]},
            edit_files=committer.edit_files,
            files=file_changes(self.files_before, self.store.snapshot(DATA_DIRS)),
            source_runs=source.source_runs() if source else None,
        )
