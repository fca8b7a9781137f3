"""A production-shaped Dagster instance on this machine, for the end-to-end tests and
`bench/batch.py --instance`: run, event-log and schedule storage on PostgreSQL as
deploy/dagster.yaml sets it, in a scratch database, with `dagster-webserver` and
`dagster-daemon` as real processes. Runs from a checkout (it needs deploy/ and workspace.yaml).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from enrichment_pipelines.runs import DagsterGraphQL

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL answers at 127.0.0.1:5432 as user postgres."""


@contextmanager
def scratch_database() -> Iterator[str]:
    """A database of its own on the local PostgreSQL (127.0.0.1:5432, user postgres, trust),
    dropped afterwards; yields its SQLAlchemy URL."""
    import psycopg2  # installed with dagster-postgres

    try:
        admin = psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3
        )
    except psycopg2.OperationalError as error:
        raise PostgresUnavailable(
            f"PostgreSQL at 127.0.0.1:5432 (user postgres) does not answer: {error}"
        ) from error
    admin.autocommit = True
    name = f"enrich_scratch_{uuid.uuid4().hex[:10]}"
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningInstance:
    client: DagsterGraphQL
    log: Path
    processes: list[subprocess.Popen[bytes]]

    def process_ids(self) -> list[int]:
        """The webserver, the daemon and every process they started (code servers, runs)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue  # ended meanwhile
                children.setdefault(parent, []).append(int(entry.name))
        found, pending = [], [process.pid for process in self.processes]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending.extend(children.get(pid, []))
        return found


@contextmanager
def production_instance(
    folder: Path, postgres_url: str | None, environment: Mapping[str, str]
) -> Iterator[RunningInstance]:
    """Webserver and daemon with DAGSTER_HOME under `folder`: on deploy/dagster.yaml with its
    storage at `postgres_url` (initialised by deploy/init-instance.sh), or, without one, on
    Dagster's default instance (SQLite files in DAGSTER_HOME, no limits). `environment` adds to
    the processes' own (ENRICH_HOME, say). Waits until the webserver answers."""
    dagster_home = folder / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        **environment,
        "DAGSTER_HOME": str(dagster_home),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    if postgres_url is not None:
        shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
        environment["DAGSTER_PG_URL"] = postgres_url
        subprocess.run(
            ["bash", str(PROJECT_ROOT / "deploy" / "init-instance.sh")],
            env=environment, check=True, capture_output=True,
        )  # fmt: skip
    port = free_port()
    log = folder / "dagster.log"
    with log.open("w") as output:
        processes = [
            subprocess.Popen(
                [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
                 "-p", str(port)],
                cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
            ),
            subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
            ),
        ]  # fmt: skip
    client = DagsterGraphQL(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 180
        while not client.available():
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(
                    f"the Dagster instance did not start:\n{log.read_text()[-3000:]}"
                )
            time.sleep(1)
        yield RunningInstance(client, log, processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
