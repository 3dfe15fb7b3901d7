"""The versions a run records: the pipeline's own, and those of the packages its rows depend on."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


PIPELINE_VERSION = package_version("dossier-pipeline")
VERSIONED_PACKAGES = ("dossier-pipeline", "prefect", "httpx", "trafilatura", "pyarrow", "lxml", "courlan",
                      "htmldate", "warcio")
