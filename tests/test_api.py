"""The JSON API of `enrich serve` (api/routes.py): every route for every kind of caller, bodies
refused naming the field, unknown customers, the audit trail of every write, a staff member's
one-off enrichment for exactly one credit, and batches only on a Dagster webserver.

The real app (`build_app`) on a real warehouse in the test's ENRICH_HOME, through Starlette's
TestClient; users are made with `core.users.add_user`, as `enrich users add` makes them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from enrichment_pipelines.api import build_app
from enrichment_pipelines.cli import main
from enrichment_pipelines.core.credits import top_up
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.segments.compiler import parse_segment
from enrichment_pipelines.core.segments.store import save_segment
from enrichment_pipelines.core.users import (
    add_user,
    allows,
    audit_entries,
    revoke_user,
    rotate_token,
)
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo import DemoSites, start_demo_sites
from tests.support.config import LOOPBACK, server_config
from tests.support.instance import (
    free_port,
    production_instance,
)
from tests.support.records import enriched, import_csv

# One user per role; the actor the audit trail names each by.
USERS = {"staff": "sam", "admin": "ada", "owner": "olivia"}
ACTORS = {role: f"{name} ({role})" for role, name in USERS.items()}


@dataclass
class Api:
    client: TestClient
    warehouse: Warehouse
    tokens: dict[str, str]  # caller -> token: a role, or one that must not work

    def call(self, method: str, path: str, caller: str | None, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[caller]}"} if caller else {}
        if isinstance(body, str):  # sent as it is: not JSON, say
            return self.client.request(method, path, headers=headers, content=body)
        return self.client.request(method, path, headers=headers, json=body)

    def audit(self) -> list[tuple[str, str, str | None, Any]]:
        """(actor, action, target, detail) of the changes made through the API, oldest first
        (the test users' own creation left out)."""
        with self.warehouse.connect(read_only=True) as connection:
            entries = audit_entries(connection, limit=1000)
        return [
            (actor, action, target, json.loads(detail) if detail else None)
            for _, actor, action, target, detail in reversed(entries)
            if not action.startswith("user.")
        ]

    def balance(self) -> int:
        with self.warehouse.connect(read_only=True) as connection:
            row = connection.execute("SELECT sum(delta) FROM credit_ledger").fetchone()
        assert row is not None
        return int(row[0])


def make_users(warehouse: Warehouse) -> dict[str, str]:
    """A token per role, and tokens that must not work: a revoked user's, a rotated user's old
    one, a real user's with a wrong secret, and one of no known shape."""
    with warehouse.transaction() as connection:
        tokens = {role: add_user(connection, name, role, by="test") for role, name in USERS.items()}
        revoked = add_user(connection, "rex", "owner", by="test")
        revoke_user(connection, "rex", by="test")
        rotated = add_user(connection, "rota", "owner", by="test")
        rotate_token(connection, "rota", by="test")
    owner = tokens["owner"]
    forged = owner[:-4] + ("AAAA" if owner[-4:] != "AAAA" else "BBBB")
    return {**tokens, "revoked": revoked, "rotated": rotated, "forged": forged,
            "malformed": "let-me-in"}  # fmt: skip


def api_for(warehouse: Warehouse, **overrides: Any) -> Api:
    # Batches need a Dagster webserver: by default none answers (a port just found free).
    overrides.setdefault("dagster_webserver_url", f"http://127.0.0.1:{free_port()}")
    client = TestClient(build_app(server_config(**overrides)))
    return Api(client, warehouse, make_users(warehouse))


@pytest.fixture
def api(warehouse: Warehouse, tmp_path: Path) -> Api:
    """Customers import:1..3 enriched (is_saas, with evidence), import:4 never enriched,
    import:5 without a website (skipped, free), and a segment `firsts` of 1 and 2."""
    enriched(warehouse, tmp_path, 3)
    import_csv(warehouse, tmp_path, [("4", "https://site004.example"), ("5", "")])
    firsts = {"match": {"field": "external_id", "op": "in", "value": ["1", "2"]}}
    with warehouse.transaction() as connection:
        save_segment(connection, parse_segment("firsts", json.dumps(firsts)), by="test",
                     create=True)  # fmt: skip
    return api_for(warehouse)


# Every route for every caller ---------------------------------------------------------------


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    role: str  # the lowest role allowed
    allowed: int  # the status an allowed caller gets in the `api` workspace
    body: Any = None
    action: str | None = None  # what an allowed call adds to the audit trail

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    RouteCase("GET", "/api/status", "staff", 200),
    RouteCase("GET", "/api/customers?query=site", "staff", 200),
    RouteCase("GET", "/api/customers/import:1", "staff", 200),
    # import:5 has no website: skipped at no cost, so every allowed caller may ask
    RouteCase("POST", "/api/customers/import:5/enrich", "staff", 200, action="customer.enrich"),
    RouteCase("GET", "/api/settings", "admin", 200),
    RouteCase("PUT", "/api/settings/is_saas", "admin", 200, {"in_notes": True}, "settings.update"),
    RouteCase("POST", "/api/live", "admin", 200, {"enabled": True, "target": "all"}, "live.update"),
    # No Dagster webserver answers: batches are refused, not run here
    RouteCase("POST", "/api/batches", "admin", 503, {}),
    RouteCase("GET", "/api/batches/abcdefgh", "admin", 503),
    RouteCase("POST", "/api/batches/abcdefgh/stop", "admin", 503),
    RouteCase("POST", "/api/credits/top-up", "owner", 200, {"credits": 5}, "credits.top_up"),
]
CALLERS = [None, "malformed", "forged", "revoked", "rotated", "staff", "admin", "owner"]


@pytest.mark.parametrize("caller", CALLERS, ids=lambda caller: caller or "no-token")
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_for_every_caller(api: Api, route: RouteCase, caller: str | None) -> None:
    response = api.call(route.method, route.path, caller, route.body)
    if caller not in USERS:
        expected = 401
    elif not allows(caller, route.role):
        expected = 403
    else:
        expected = route.allowed
    assert response.status_code == expected, response.text
    body = response.json()
    if expected == 401:
        assert body == {"error": "a valid token is required (Authorization: Bearer <token>)"}
        assert response.headers["www-authenticate"] == "Bearer"
    elif expected == 403:
        assert body["error"] == f"{caller} may not do this: it needs {route.role} or above"
    elif expected == 503:
        assert "no Dagster webserver answers at http://127.0.0.1:" in body["error"]
        assert "make dev" in body["error"]
    audited = [(actor, action) for actor, action, *_ in api.audit()]
    if expected == 200 and route.action:
        assert audited == [(ACTORS[caller], route.action)]
    else:
        assert audited == []  # refused, or only read


# Bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/api/settings/is_saas", "{not json", "body"),
        ("PUT", "/api/settings/is_saas", "[true]", "body"),
        ("PUT", "/api/settings/is_saas", {}, "body"),
        ("PUT", "/api/settings/is_saas", {"enabled": "yes"}, "enabled"),
        ("PUT", "/api/settings/is_saas", {"in_notes": 1}, "in_notes"),
        ("PUT", "/api/settings/is_saas", {"attribute": 7}, "attribute"),
        ("PUT", "/api/settings/is_saas", {"enable": False}, "enable"),
        ("PUT", "/api/settings/is_saas", {"attribute": "Not A Name"}, "attribute"),
        ("PUT", "/api/settings/is_saas", {"attribute": "has_free_trial"}, "attribute"),
        ("PUT", "/api/settings/is_saas", {"min_confidence": "high"}, "min_confidence"),
        ("PUT", "/api/settings/is_saas", {"min_confidence": True}, "min_confidence"),
        ("PUT", "/api/settings/is_saas", {"min_confidence": 1.5}, "min_confidence"),
        ("POST", "/api/live", {}, "enabled"),
        ("POST", "/api/live", {"enabled": "on"}, "enabled"),
        ("POST", "/api/live", {"enabled": True, "target": "nobody"}, "target"),
        ("POST", "/api/live", {"enabled": True, "target": ["all"]}, "target"),
        ("POST", "/api/batches", {"reenrich_before": "last tuesday"}, "reenrich_before"),
        ("POST", "/api/batches", {"segment": "nobody"}, "segment"),
        ("POST", "/api/batches", {"segment": 3}, "segment"),
        ("POST", "/api/batches", {"all": True}, "all"),
        ("POST", "/api/credits/top-up", "", "credits"),
        ("POST", "/api/credits/top-up", {"credits": 0}, "credits"),
        ("POST", "/api/credits/top-up", {"credits": -5}, "credits"),
        ("POST", "/api/credits/top-up", {"credits": "10"}, "credits"),
        ("POST", "/api/credits/top-up", {"credits": 2.5}, "credits"),
        ("POST", "/api/credits/top-up", {"credits": True}, "credits"),
        ("POST", "/api/credits/top-up", {"credits": 2**31}, "credits"),
        ("POST", "/api/credits/top-up", {"credits": 5, "note": 5}, "note"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field_and_changes_nothing(
    api: Api, method: str, path: str, body: Any, field: str
) -> None:
    before = api.balance()
    response = api.call(method, path, "owner", body)
    assert response.status_code == 422, response.text
    refusal = response.json()
    assert refusal["field"] == field
    if field != "body":
        assert field in refusal["error"]
    assert api.audit() == [] and api.balance() == before


def test_refusals_say_what_is_wrong(api: Api) -> None:
    def error(method: str, path: str, body: Any) -> str:
        return str(api.call(method, path, "owner", body).json()["error"])

    assert error("PUT", "/api/settings/is_saas", {"enable": False}) == (
        "unknown field 'enable' (known: enabled, attribute, in_notes, min_confidence)"
    )
    assert error("PUT", "/api/settings/is_saas", {"attribute": "has_free_trial"}) == (
        "is_saas: attribute name 'has_free_trial' is already used by has_free_trial"
    )
    assert error("PUT", "/api/settings/is_saas", {"attribute": "Not A Name"}) == (
        "is_saas: attribute name 'Not A Name' must be lower case letters, digits and _"
    )
    assert error("PUT", "/api/settings/is_saas", {"min_confidence": -0.1}) == (
        "is_saas: min_confidence must be between 0 and 1, not -0.1"
    )
    assert error("POST", "/api/live", {"enabled": True, "target": "nobody"}) == (
        "target: no segment named 'nobody' (saved: firsts)"
    )
    assert error("POST", "/api/batches", {"segment": "nobody"}) == (
        "segment: no segment named 'nobody' (saved: firsts)"
    )
    assert error("POST", "/api/live", {"enabled": "on"}) == "enabled must be true or false"
    assert error("POST", "/api/credits/top-up", {"credits": 0}) == (
        "credits must be a positive whole number up to 2147483647, not 0"
    )
    assert error("POST", "/api/credits/top-up", {}) == "credits is required (a whole number)"
    assert error("POST", "/api/batches", {"reenrich_before": "last tuesday"}) == (
        "reenrich_before 'last tuesday': expected an ISO date or date-time, e.g. 2026-11-01"
    )


# Customers ------------------------------------------------------------------------------------


def test_unknown_customers_and_data_points_are_404_naming_them(api: Api) -> None:
    for method, path in [
        ("GET", "/api/customers/import:nobody"),
        ("POST", "/api/customers/import:nobody/enrich"),
    ]:
        response = api.call(method, path, "staff")
        assert response.status_code == 404
        assert response.json() == {"error": "no customer with id 'import:nobody'"}
    response = api.call("PUT", "/api/settings/colour", "admin", {"enabled": True})
    assert response.status_code == 404
    assert response.json()["error"].startswith("no data point named 'colour' (known: ")
    assert api.audit() == []


def test_status_has_the_figures_of_enrich_status_json(api: Api) -> None:
    response = api.call("GET", "/api/status", "staff")
    cli = CliRunner().invoke(main, ["status", "--json"])
    assert cli.exit_code == 0, cli.output
    assert response.json() == json.loads(cli.stdout)
    assert response.json()["customers"] == 5 and response.json()["enriched_total"] == 3


def test_customer_search_by_id_name_and_website_in_any_case(api: Api) -> None:
    def found(query: str) -> list[str]:
        response = api.client.get(
            "/api/customers", params={"query": query},
            headers={"Authorization": f"Bearer {api.tokens['staff']}"},
        )  # fmt: skip
        assert response.status_code == 200
        return [match["customer_id"] for match in response.json()["customers"]]

    assert found("COMPANY 2") == ["import:2"]  # the name, in any case
    assert found("site004.EXAMPLE") == ["import:4"]  # the website's domain
    assert found("import:3") == ["import:3"]
    assert found("") == ["import:1", "import:2", "import:3", "import:4", "import:5"]
    assert found("nothing like it") == []
    assert found("%") == [] and found("_") == []  # what people type is no pattern
    response = api.call("GET", "/api/customers?query=company 1", "staff").json()
    [match] = response["customers"]
    assert match["name"] == "Company 1" and match["website"] == "https://site001.example"
    assert match["last_outcome"]["status"] == "enriched" and match["last_outcome"]["at"]
    assert response["more"] is False


def test_a_search_lists_at_most_50(warehouse: Warehouse, tmp_path: Path) -> None:
    import_csv(warehouse, tmp_path, [(f"{n:02d}", f"https://s{n}.example") for n in range(60)])
    api = api_for(warehouse)
    response = api.call("GET", "/api/customers?query=.example", "staff").json()
    assert len(response["customers"]) == 50 and response["more"] is True


def test_a_customer_with_its_values_evidence_and_last_enrichment(api: Api) -> None:
    # The id as stored, and as its source has it (one source has "2")
    response = api.call("GET", "/api/customers/import:2", "staff")
    assert response.status_code == 200
    assert api.call("GET", "/api/customers/2", "staff").json() == response.json()
    customer = response.json()
    assert customer["customer_id"] == "import:2" and customer["name"] == "Company 2"
    assert customer["website"] == "https://site002.example"
    assert customer["last_outcome"]["status"] == "enriched"
    assert customer["last_enriched_at"] == customer["last_outcome"]["at"]
    values = {value["data_point"]: value for value in customer["values"]}
    assert values["is_saas"] == {
        "data_point": "is_saas",
        "attribute_name": "is_saas_enriched",
        "value": True,  # of the data point's type
        "confidence": 0.9,
        "evidence_url": "https://site002.example/",
        "evidence_quote": "quote for is_saas",
        "held_value": None,
        "reason": None,
    }
    assert values["industry_category"]["value"] is None  # unknown, not guessed
    never = api.call("GET", "/api/customers/import:4", "staff").json()
    assert never["values"] == [] and never["last_outcome"] is None
    assert never["last_enriched_at"] is None


# Writes and their audit trail -----------------------------------------------------------------


def test_settings_change_as_enrich_settings_set_does_audited(api: Api) -> None:
    before = api.call("GET", "/api/settings", "admin").json()
    assert before["saved_at"] is None  # the defaults, not saved yet
    assert before["data_points"]["is_saas"] == {
        "enabled": True, "attribute": "is_saas_enriched", "type": "Boolean", "in_notes": False,
        "min_confidence": 0.0,
    }  # fmt: skip
    body = {"attribute": "saas", "in_notes": True, "min_confidence": 0.8}
    changed = api.call("PUT", "/api/settings/is_saas", "admin", body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["attribute"] == "saas" and changed.json()["in_notes"] is True
    assert changed.json()["min_confidence"] == 0.8
    after = api.call("GET", "/api/settings", "owner").json()
    assert after["data_points"]["is_saas"]["attribute"] == "saas"
    assert after["saved_by"] == ACTORS["admin"]
    assert api.audit() == [(ACTORS["admin"], "settings.update", "is_saas", body)]
    history = CliRunner().invoke(main, ["settings", "history"]).stdout
    change = (
        "is_saas.attribute: is_saas_enriched -> saas; is_saas.note: false -> true; "
        "is_saas.min_confidence: 0.0 -> 0.8"
    )
    assert f"enrichment  by ada (admin)\n    {change}\n" in history


def test_live_enrichment_on_for_a_segment_and_off_audited(api: Api) -> None:
    on = api.call("POST", "/api/live", "admin", {"enabled": True, "target": "firsts"})
    assert on.status_code == 200, on.text
    assert on.json()["target"] == "firsts" and on.json()["in_target"] == 2
    assert on.json()["not_enriched"] == 0
    status = api.call("GET", "/api/status", "staff").json()
    assert status["live_enabled"] is True and status["live_target"] == "firsts"
    off = api.call("POST", "/api/live", "owner", {"enabled": False})
    assert off.json() == {"enabled": False, "target": "firsts"}
    assert api.audit() == [
        (ACTORS["admin"], "live.update", "firsts", {"enabled": True, "target": "firsts"}),
        (ACTORS["owner"], "live.update", "firsts", {"enabled": False}),
    ]


def test_the_owner_tops_up_credits_audited(api: Api) -> None:
    before = api.balance()
    response = api.call("POST", "/api/credits/top-up", "owner", {"credits": 25, "note": "PO 7"})
    assert response.json() == {"credits": 25, "balance": before + 25}
    assert api.balance() == before + 25
    assert api.audit() == [
        (ACTORS["owner"], "credits.top_up", None, {"credits": 25, "note": "PO 7"})
    ]


def test_batches_need_a_dagster_webserver(api: Api) -> None:
    response = api.call("POST", "/api/batches", "admin", {"segment": "firsts"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error.startswith("no Dagster webserver answers at http://127.0.0.1:")
    assert "start it (`make dev`" in error and "not in the API" in error
    with api.warehouse.connect(read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM enrichments").fetchone() == (3,)
    assert api.audit() == []


# One record now, for one credit ---------------------------------------------------------------


@dataclass
class DemoApi:
    api: Api
    external_id: str  # a healthy demo company's customer, in its source
    customer_id: str  # ... and as stored


@pytest.fixture
def demo_api(
    warehouse: Warehouse, tmp_path: Path, demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> DemoApi:
    """The demo companies' customers (source `demo`), their sites on loopback, allowed."""
    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", LOOPBACK)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    customers = demo_sites.write_customers(tmp_path / "customers.csv")
    import_customers(warehouse, customers, source="demo", allowed_networks=parse_networks(LOOPBACK))
    company = next(company for company in demo_sites.companies if company.fault is None)
    external_id = f"cus_{company.index:04d}"
    return DemoApi(api_for(warehouse), external_id, f"demo:{external_id}")


@pytest.mark.e2e
def test_staff_enrich_one_customer_for_exactly_one_credit(demo_api: DemoApi) -> None:
    api, customer_id = demo_api.api, demo_api.customer_id
    before = api.balance()

    response = api.call("POST", f"/api/customers/{customer_id}/enrich", "staff")

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["customer_id"] == customer_id and result["status"] == "enriched"
    assert result["credits_charged"] == 1 and result["balance"] == before - 1
    assert result["previous"] is None
    assert api.balance() == before - 1
    with api.warehouse.connect(read_only=True) as connection:
        charges = connection.execute(
            "SELECT customer_id, delta FROM credit_ledger WHERE kind = 'enrichment'"
        ).fetchall()
        enrichments = connection.execute("SELECT customer_id, status FROM enrichments").fetchall()
    assert charges == [(customer_id, -1)] and enrichments == [(customer_id, "enriched")]
    [(actor, action, target, detail)] = api.audit()
    assert (actor, action, target) == (ACTORS["staff"], "customer.enrich", customer_id)
    assert detail["status"] == "enriched" and detail["run_id"]
    shown = api.call("GET", f"/api/customers/{customer_id}", "staff").json()
    assert shown["last_outcome"]["status"] == "enriched"
    assert any(value["value"] is not None and value["evidence_quote"] for value in shown["values"])

    # Again, by its id in its source: enriched again whatever its last enrichment, one credit
    again = api.call("POST", f"/api/customers/{demo_api.external_id}/enrich", "staff").json()
    assert again["status"] == "enriched" and again["credits_charged"] == 1
    assert again["balance"] == before - 2 and again["previous"]["status"] == "enriched"


@pytest.mark.e2e
def test_reads_are_served_while_a_one_off_enrichment_writes(demo_api: DemoApi) -> None:
    """In one process DuckDB will not open a file read-only while it is open read-write (and
    the other way round): the warehouse's mode gate makes the server's threads take turns."""
    api = demo_api.api
    failures: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                response = api.call("GET", "/api/status", "staff")
            except Exception as error:  # the app's own exception, raised by the test client
                failures.append(repr(error))
            else:
                if response.status_code != 200:
                    failures.append(response.text)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        response = api.call("POST", f"/api/customers/{demo_api.customer_id}/enrich", "staff")
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert response.status_code == 200 and response.json()["status"] == "enriched"
    assert failures == []


# Batches on a Dagster instance ----------------------------------------------------------------


@pytest.mark.daemon  # a real webserver, daemon and PostgreSQL
def test_an_admin_starts_follows_and_stops_a_batch_on_the_instance(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "enrich"
    monkeypatch.setenv("ENRICH_HOME", str(home))
    warehouse = Warehouse(home / "warehouse.duckdb")
    warehouse.migrate()
    with warehouse.transaction() as connection:
        top_up(connection, 100, note="tests")
    # Slow sites, so that the batch is still running when it is stopped.
    sites = start_demo_sites(24, seed=5, latency_seconds=1.0)
    try:
        customers = sites.write_customers(tmp_path / "customers.csv")
        import_customers(warehouse, customers, source="demo",
                         allowed_networks=parse_networks(LOOPBACK))  # fmt: skip
        environment = {"ENRICH_HOME": str(home), "ENRICH_ALLOW_PRIVATE_NETWORKS": LOOPBACK}
        with production_instance(tmp_path, postgres_url, environment) as running:
            api = api_for(warehouse, dagster_webserver_url=running.client.url)
            started = api.call("POST", "/api/batches", "admin", {"reenrich_before": "2020-01-01"})
            assert started.status_code == 202, started.text
            batch_id = started.json()["id"]
            assert started.json()["url"] == f"{running.client.url}/runs/b/{batch_id}"
            assert (
                "all customers; re-enrich records enriched before 2020-01-01"
                in (started.json()["policy"])
            )
            progress = api.call("GET", f"/api/batches/{batch_id}", "admin").json()
            assert progress["id"] == batch_id and progress["shards_total"] > 0
            deadline = time.monotonic() + 120
            while not api.call("GET", f"/api/batches/{batch_id}", "admin").json()["shards_running"]:
                assert time.monotonic() < deadline, "no shard of the batch started"
                time.sleep(1)
            stopped = api.call("POST", f"/api/batches/{batch_id}/stop", "owner")
            assert stopped.status_code == 200, stopped.text
            while not (progress := api.call("GET", f"/api/batches/{batch_id}", "admin").json())[
                "finished"
            ]:
                assert time.monotonic() < deadline + 120, f"batch still {progress['status']}"
                time.sleep(1)
            assert progress["status"] == "CANCELED"
            again = api.call("POST", f"/api/batches/{batch_id}/stop", "admin")
            assert again.status_code == 409
            assert again.json() == {"error": f"batch {batch_id} has finished already (canceled)"}
            for method, path in [("GET", "/api/batches/nosuchid"),
                                 ("POST", "/api/batches/nosuchid/stop")]:  # fmt: skip
                unknown = api.call(method, path, "admin")
                assert unknown.status_code == 404
                assert unknown.json() == {"error": "no batch with id 'nosuchid'"}
            staff = api.call("POST", "/api/batches", "staff", {})
            assert staff.status_code == 403
    finally:
        sites.server.stop()
    assert api.audit() == [
        (ACTORS["admin"], "batch.start", batch_id, {"reenrich_before": "2020-01-01"}),
        (ACTORS["owner"], "batch.stop", batch_id, None),
    ]
