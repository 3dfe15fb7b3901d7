"""Scale-out: extraction on a local Dask cluster of two worker processes, the dataset in a
local S3-compatible server (moto's server mode); the rows must be those of a local run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from conftest import PAGES, TestSite, write_config
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from dossier_pipeline.flows.cli import main
from dossier_pipeline.flows.scrape import scrape_dossier
from dossier_pipeline.tasks.config import ConfigError, load_config
from dossier_pipeline.tasks.store import Store

pytestmark = pytest.mark.usefixtures("prefect_api")
# what differs between two runs of the same pages: when, by which run, where the raw bytes are
RUN_COLUMNS = {"run_id", "fetched_at", "first_seen", "last_seen", "last_changed", "warc_file", "warc_offset",
               "warc_record_id", "year", "month"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with one bucket; AWS_* variables point every client
    (pyarrow here, and the Dask workers started after this) at it."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3").create_bucket(Bucket="research")
    yield "s3://research/datasets"
    server.stop()


@pytest.fixture
def dask_cluster(s3: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    # The workers report their task runs to this test session's Prefect API.
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1") as cluster:
        yield cluster.scheduler_address


def dossier(site: TestSite) -> str:
    return f"""
[dossiers.topic]
[[dossiers.topic.sources]]
kind = "listing"
url = "{site.base}/topic/?page={{page}}"
link_pattern = "/articles/"
"""


def rows(store: Store) -> list[dict]:
    table = store.read_articles()
    return sorted(({k: v for k, v in r.items() if k not in RUN_COLUMNS} for r in table.to_pylist()),
                  key=lambda r: r["article_id"])


def test_dask_workers_writing_to_s3_give_the_rows_of_a_local_run(site: TestSite, tmp_path: Path, s3: str,
                                                                  dask_cluster: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    local_config = write_config(tmp_path, dossier(site), "local.toml")
    local = scrape_dossier("topic", config_path=str(local_config), output=str(tmp_path / "out"))

    config = write_config(tmp_path, f'[execution]\ntask_runner = "dask"\naddress = "{dask_cluster}"\n'
                          + dossier(site), "dask.toml")
    record = scrape_dossier("topic", config_path=str(config), output=s3, batch_size=3)

    assert record["dataset"] == f"{s3}/topic/articles"
    assert record["counts"]["written"] == local["counts"]["written"] >= len(PAGES) - 1
    remote = Store(s3, "topic", "")
    assert rows(remote) == rows(Store(tmp_path / "out", "topic", ""))
    # every batch was extracted on the cluster (a Prefect task run each), staged, then committed by the flow
    with get_client(sync_client=True) as client:
        names = [t.name for t in client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[UUID(record["run_id"])])))]
    assert sum(n.startswith("extract-batch-dask") for n in names) == -(-record["counts"]["fetched"] // 3)
    assert not any(n.startswith("extract-batch-") and not n.startswith("extract-batch-dask") for n in names)
    assert not remote._files(remote.path / "_staging")
    assert [r.run_id for r in remote.read_runs()] == [record["run_id"]]
    assert remote._files(remote.path / "raw", ".warc.gz") and record["warc_files"]
    # The CLI reads the dataset where it is.
    assert main(["list", "--config", str(config), "--output", s3]) == 0
    assert f"{len(rows(remote))} articles" in capsys.readouterr().out
    assert main(["show", "topic", "--config", str(config), "--output", s3]) == 0
    assert record["run_id"] in capsys.readouterr().out
    # A rerun writes nothing: the dataset in S3 is what incrementality reads.
    again = scrape_dossier("topic", config_path=str(config), output=s3)
    assert again["counts"]["written"] == 0 and again["counts"]["fetched"] == 0


def test_execution_config_errors_name_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[execution]\ntask_runner = "dask"\n[dossiers.a]\n'
                          'sources = [{ kind = "urls", urls = ["https://news.example/a"] }]\n')
    with pytest.raises(ConfigError, match=r"dossiers.toml: \[execution\]: key 'address'"):
        load_config(config)
    config.write_text(config.read_text().replace('task_runner = "dask"', 'task_runner = "spark"'))
    with pytest.raises(ConfigError, match=r"\[execution\]: key 'task_runner'"):
        load_config(config)
