"""The staff page at / (api/page.py), through the real app on a real warehouse: sign-in and its
cookie, search, a customer's values with evidence, what admins see beyond staff, the forms'
CSRF protection, sign-out, and "Enrich now" running the real pipeline."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from enrichment_pipelines.api import build_app
from enrichment_pipelines.core.credits import balance
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.users import add_user, audit_entries, revoke_user
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.demo import DemoSites
from tests.support.config import server_config
from tests.support.records import enriched


@pytest.fixture
def customers(warehouse: Warehouse, tmp_path: Path) -> list[str]:
    """Customers import:1..3 ("Company 1".."Company 3"), enriched: `is_saas` true, quoted."""
    return enriched(warehouse, tmp_path, 3)


def new_user(warehouse: Warehouse, name: str, role: str) -> str:
    with warehouse.transaction() as connection:
        return add_user(connection, name, role, by="test")


@pytest.fixture
def client(warehouse: Warehouse) -> TestClient:
    return TestClient(build_app(server_config()))


def signed_in(client: TestClient, token: str) -> TestClient:
    response = client.post("/sign-in", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def test_signed_out_the_page_is_the_sign_in_form(client: TestClient, customers: list[str]) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'action="/sign-in"' in response.text and 'name="token"' in response.text
    assert "Company 1" not in response.text
    # Every other page sends a signed-out browser to the form.
    away = client.get("/customers/import:1", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/"


def test_an_unknown_token_is_refused(client: TestClient, warehouse: Warehouse) -> None:
    token = new_user(warehouse, "sam", "staff")
    for wrong in ("not-a-token", token[:-1] + ("A" if token[-1] != "A" else "B"), ""):
        response = client.post("/sign-in", data={"token": wrong}, follow_redirects=False)
        assert response.status_code == 401
        assert "token not recognised" in response.text
        assert "set-cookie" not in response.headers


def test_sign_in_sets_an_http_only_strict_session_cookie(warehouse: Warehouse) -> None:
    token = new_user(warehouse, "sam", "staff")
    app = build_app(server_config())
    response = TestClient(app).post("/sign-in", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    flags = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert flags[0] == f"enrich_session={token}".lower()
    assert {"httponly", "samesite=strict", "path=/"} <= set(flags)
    assert "secure" not in flags  # plain http (loopback): a Secure cookie would never return
    over_https = TestClient(app, base_url="https://staff.example")
    secure = over_https.post("/sign-in", data={"token": token}, follow_redirects=False)
    assert "secure" in [part.strip().lower() for part in secure.headers["set-cookie"].split(";")]
    cross_site = TestClient(app).post(
        "/sign-in",
        data={"token": token},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403 and "set-cookie" not in cross_site.headers


def test_search_lists_matching_customers_with_their_last_outcome(
    client: TestClient, warehouse: Warehouse, customers: list[str]
) -> None:
    signed_in(client, new_user(warehouse, "sam", "staff"))
    everyone = client.get("/")
    assert everyone.status_code == 200
    assert all(f"Company {n}" in everyone.text for n in (1, 2, 3))
    found = client.get("/", params={"query": "company 2"})
    assert "Company 2" in found.text and "Company 1" not in found.text
    assert 'href="/customers/import%3A2"' in found.text
    assert "https://site002.example" in found.text and "enriched" in found.text
    by_website = client.get("/", params={"query": "SITE003"})
    assert "Company 3" in by_website.text and "Company 2" not in by_website.text
    nothing = client.get("/", params={"query": "no such company"})
    assert "No customer matches" in nothing.text


def test_customer_page_shows_values_with_evidence_and_the_cost(
    client: TestClient, warehouse: Warehouse, customers: list[str]
) -> None:
    signed_in(client, new_user(warehouse, "sam", "staff"))
    response = client.get("/customers/import%3A1")
    assert response.status_code == 200
    page = response.text
    assert "Company 1" in page and "https://site001.example" in page
    # is_saas: its value, the page it was read on, the verbatim quote, the confidence.
    row = re.search(r"<tr>\s*<td>is_saas<br>.*?</tr>", page, re.DOTALL)
    assert row, page
    assert "true" in row.group() and "0.90" in row.group()
    assert 'href="https://site001.example/"' in row.group()
    assert "<blockquote>quote for is_saas</blockquote>" in row.group()
    assert "Last enriched</dt><dd>20" in page  # a date, not "never"
    assert 'action="/customers/import%3A1/enrich"' in page
    assert "1 credit; balance 97" in page
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    missing = client.get("/customers/import:404")
    assert missing.status_code == 404 and "no customer with id" in missing.text


def test_what_customers_say_is_escaped(
    client: TestClient, warehouse: Warehouse, customers: list[str]
) -> None:
    with warehouse.transaction() as connection:
        connection.execute(
            "UPDATE customers SET name = '<script>alert(1)</script>', "
            "website_url = 'javascript:alert(2)' WHERE customer_id = 'import:1'"
        )
    signed_in(client, new_user(warehouse, "sam", "staff"))
    for path in ("/", "/customers/import:1"):
        page = client.get(path).text
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert 'href="javascript:' not in page


def test_staff_do_not_see_settings_admins_and_owners_do(
    warehouse: Warehouse, customers: list[str]
) -> None:
    app = build_app(server_config())
    pages = {
        role: signed_in(TestClient(app), new_user(warehouse, f"{role}-user", role)).get("/").text
        for role in ("staff", "admin", "owner")
    }
    assert "Settings" not in pages["staff"] and "is_saas_enriched" not in pages["staff"]
    assert "Live enrichment" not in pages["staff"]
    assert "Signed in as staff-user (staff)" in pages["staff"]
    for role in ("admin", "owner"):
        page = pages[role]
        assert "<h2>Settings</h2>" in page and "<code>is_saas_enriched</code>" in page
        assert "Live enrichment</dt>" in page and "<dd>off</dd>" in page
        assert "Credit balance</dt><dd>97</dd>" in page


def test_posts_without_the_right_csrf_token_are_refused(
    client: TestClient, warehouse: Warehouse, customers: list[str]
) -> None:
    signed_in(client, new_user(warehouse, "sam", "staff"))
    good = csrf_of(client.get("/customers/import:1").text)
    refused = [
        client.post("/customers/import:1/enrich", follow_redirects=False),
        client.post("/customers/import:1/enrich", data={"csrf_token": "0" * 64},
                    follow_redirects=False),
        client.post("/customers/import:1/enrich", data={"csrf_token": "é"},
                    follow_redirects=False),
        # The right token, but the browser says the form was on another site.
        client.post("/customers/import:1/enrich", data={"csrf_token": good},
                    headers={"origin": "https://evil.example"}, follow_redirects=False),
        client.post("/customers/import:1/enrich", data={"csrf_token": good},
                    headers={"referer": "https://evil.example/page"}, follow_redirects=False),
        client.post("/customers/import:1/enrich", data={"csrf_token": good},
                    headers={"origin": "null"}, follow_redirects=False),
        client.post("/sign-out", follow_redirects=False),
    ]  # fmt: skip
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert "CSRF token is missing or wrong" in refused[0].text
    assert "sent from another site" in refused[3].text
    # Nothing happened: no run, no charge, no audit row, and still signed in.
    with warehouse.connect(read_only=True) as connection:
        assert balance(connection) == 97
        assert connection.execute("SELECT count(*) FROM enrichments").fetchone() == (3,)
        assert [entry[2] for entry in audit_entries(connection)] == ["user.add"]
    assert "Signed in as sam (staff)" in client.get("/").text


def test_a_token_of_another_session_is_no_csrf_token(
    warehouse: Warehouse, customers: list[str]
) -> None:
    app = build_app(server_config())
    alice = signed_in(TestClient(app), new_user(warehouse, "alice", "staff"))
    bob = signed_in(TestClient(app), new_user(warehouse, "bob", "staff"))
    bobs = csrf_of(bob.get("/").text)
    response = alice.post("/sign-out", data={"csrf_token": bobs}, follow_redirects=False)
    assert response.status_code == 403


def test_sign_out_ends_the_session(
    client: TestClient, warehouse: Warehouse, customers: list[str]
) -> None:
    signed_in(client, new_user(warehouse, "sam", "staff"))
    token = csrf_of(client.get("/").text)
    response = client.post(
        "/sign-out",
        data={"csrf_token": token},
        headers={"origin": "http://testserver"},  # as a browser sends it: the same site
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    cleared = response.headers["set-cookie"].lower()
    assert cleared.startswith("enrich_session=") and "max-age=0" in cleared
    assert 'action="/sign-in"' in client.get("/").text


def test_a_revoked_token_ends_the_session_at_once(
    client: TestClient, warehouse: Warehouse, customers: list[str]
) -> None:
    signed_in(client, new_user(warehouse, "sam", "staff"))
    with warehouse.transaction() as connection:
        revoke_user(connection, "sam", by="test")
    response = client.get("/")
    assert 'action="/sign-in"' in response.text and "Your session has ended" in response.text
    assert "max-age=0" in response.headers["set-cookie"].lower()
    gone = client.get("/customers/import:1", follow_redirects=False)
    assert gone.status_code == 303


@pytest.mark.e2e
def test_enrich_now_runs_the_pipeline_for_one_credit_and_is_audited(
    home: Path,
    warehouse: Warehouse,
    demo_sites: DemoSites,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # runs on an ephemeral instance
    report = import_customers(warehouse, demo_sites.write_customers(home / "customers.csv"))
    assert report.rejected == 0
    client = signed_in(TestClient(build_app(server_config())), new_user(warehouse, "sam", "staff"))
    healthy = next(company for company in demo_sites.companies if company.fault is None)
    customer = f"import:cus_{healthy.index:04d}"
    page = client.get(f"/customers/{customer}").text
    assert "never enriched" in page and "1 credit; balance 100" in page
    response = client.post(
        f"/customers/{customer}/enrich", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/customers/{quote(customer, safe='')}?enriched=now"
    after = client.get(response.headers["location"]).text
    assert "Enrichment finished" in after
    assert '<span class="status-enriched">enriched</span>' in after
    assert "1 credit; balance 99" in after and "<blockquote>" in after
    with warehouse.connect(read_only=True) as connection:
        assert balance(connection) == 99
        enrichments = connection.execute(
            "SELECT customer_id, status FROM enrichments ORDER BY 1"
        ).fetchall()
        [(_, actor, _, target, detail)] = [
            entry for entry in audit_entries(connection) if entry[2] == "customer.enrich"
        ]
    assert enrichments == [(customer, "enriched")]  # that customer only
    assert (actor, target) == ("sam (staff)", customer)
    assert '"status": "enriched"' in (detail or "")
