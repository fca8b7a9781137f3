"""`enrich serve --workers 2` as a user runs it: two server processes behind one port, each
with its own copy of the warehouse, and reads allowed to lag a long time. A user's change reads
back at once whichever process answers, and a form of the staff page is accepted by either
process. Every request opens its own connection, so the kernel hands them to both processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from enrichment_pipelines.api.auth import SESSION_COOKIE
from enrichment_pipelines.core.users import add_user
from enrichment_pipelines.core.warehouse import Warehouse
from tests.support.instance import free_port

REQUESTS = 40  # per check: that all of them land on one process is out of the question


@pytest.fixture
def two_workers(warehouse: Warehouse) -> Iterator[str]:
    port = free_port()
    # Reads may lag a minute: only the server's own writes can make them current.
    environment = {**os.environ, "ENRICH_SERVE_READ_STALENESS_SECONDS": "60"}
    enrich = str(Path(sys.executable).with_name("enrich"))
    server = subprocess.Popen(
        [enrich, "serve", "--port", str(port), "--workers", "2"],
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/status").status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`enrich serve --workers 2` did not start: {server.stderr.read()}")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        assert "2 processes" in errors


def test_a_users_change_reads_back_at_once_from_every_process(
    warehouse: Warehouse, two_workers: str
) -> None:
    with warehouse.transaction() as connection:
        owner = {"Authorization": f"Bearer {add_user(connection, 'olivia', 'owner', by='t')}"}

    def balances() -> set[int]:
        return {
            httpx.get(f"{two_workers}/api/status", headers=owner).json()["credit_balance"]
            for _ in range(REQUESTS)
        }

    (start,) = balances()  # both processes have their copy
    topped = httpx.post(f"{two_workers}/api/credits/top-up", headers=owner, json={"credits": 9})
    assert topped.status_code == 200, topped.text
    assert balances() == {start + 9}


def test_a_page_from_one_process_posts_its_form_to_another(
    warehouse: Warehouse, two_workers: str
) -> None:
    with warehouse.transaction() as connection:
        token = add_user(connection, "sam", "staff", by="t")
    signed_in = httpx.post(f"{two_workers}/sign-in", data={"token": token})
    assert signed_in.status_code == 303, signed_in.text
    session = {SESSION_COOKIE: token}
    page = httpx.get(f"{two_workers}/", cookies=session)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found, page.text
    for _ in range(REQUESTS):
        posted = httpx.post(
            f"{two_workers}/sign-out", cookies=session, data={"csrf_token": found.group(1)}
        )
        assert posted.status_code == 303, posted.text  # 403 if a process did not know the form
