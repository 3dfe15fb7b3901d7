"""A reextract's staging copy of a dataset: the rebuilt articles/ and edits/ are written
beside the old ones and swapped in by renames at the end, so a failed or killed reextract
leaves the dataset as it was (its leftovers are cleaned by the next one)."""

from __future__ import annotations

import os
import shutil

import pyarrow as pa
import pyarrow.compute as pc

from dossier_pipeline.tasks.archive import RAW_DIR
from dossier_pipeline.tasks.store import OutputError, Store
from dossier_pipeline.tasks.version import PIPELINE_VERSION

REBUILT = ("articles", "edits")
STAGING = ".reextract-"
REPLACED = "-replaced-"


class Staging:
    """A reextract's new articles/ and edits/, built in a hidden directory of the dataset
    and put in place of the old ones at the end (each by one rename)."""

    def __init__(self, target: Store, run_id: str) -> None:
        if not target.local:
            raise OutputError(f"{target.location}: reextract needs a local dataset (copy it from object storage)")
        self.target = target
        self.run_id = run_id
        self.store: Store | None = None  # the staging copy, until the swap
        self.kept = 0  # rows the archive cannot rebuild, kept as they are

    def clean(self) -> None:
        """Undo what a killed reextract left: a half-done swap, a staging directory."""
        root = self.target.root
        for backup in root.glob(f".*{REPLACED}*"):  # a reextract killed during its swap
            original = root / backup.name[1:].split(REPLACED)[0]
            if original.exists():
                shutil.rmtree(backup, ignore_errors=True)
            else:
                os.replace(backup, original)
        for stale in root.glob(f"{STAGING}*"):  # a reextract killed before its swap
            shutil.rmtree(stale, ignore_errors=True)

    def open(self) -> Store:
        """The staging copy, holding already the rows the archive cannot rebuild (no WARC
        pointer, or its file is gone)."""
        store = self.store = Store(self.target.root / f"{STAGING}{self.run_id}", "", PIPELINE_VERSION)
        store.prepare()
        table = self.target.read_articles()
        # (a row read from someone else's WARC file, a warc source, is not in the archive: kept)
        present = [bool(f) and f.startswith(f"{RAW_DIR}/") and (self.target.root / f).exists()
                   for f in table["warc_file"].to_pylist()]
        kept = table.filter(pc.invert(pa.array(present, type=pa.bool_()))) if table.num_rows else table
        self.kept = kept.num_rows
        if self.kept:
            store.commit_articles(kept.to_pylist())
        return store

    def swap(self) -> None:
        """Put the rebuilt tables in place of the old ones (each by one rename)."""
        if self.store is None:
            return
        for name in REBUILT:
            new, old = self.store.root / name, self.target.root / name
            backup = self.target.root / f".{name}{REPLACED}{self.run_id}"
            if old.exists():
                os.replace(old, backup)
            new.mkdir(parents=True, exist_ok=True)
            os.replace(new, old)
            shutil.rmtree(backup, ignore_errors=True)
        shutil.rmtree(self.store.root, ignore_errors=True)
        self.store = None

    def discard(self) -> None:
        """A failed reextract: drop the staging copy, leave the dataset as it was."""
        if self.store is not None:
            shutil.rmtree(self.store.root, ignore_errors=True)
            self.store = None
