"""The `enrich` command, run as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.demo import DemoSites


def test_status_json_on_a_new_workspace(home: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "credit_balance": 100,
        "live_enabled": False,
        "live_target": "all",
        "customers": 0,
        "enriched_last_7_days": 0,
        "enriched_total": 0,
        "last_enriched_at": None,
        "sinks": {"chartmogul": {"pushed": 0, "pending": 0, "failed": 0, "not_linked": 0}},
    }


def test_import_reports_bad_rows_and_exits_non_zero(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,website\n1,a.example.com\n,b.example.com\n")
    result = CliRunner().invoke(main, ["import", "customers", str(path), "--source", "crm"])
    assert result.exit_code == 1
    assert f"{path}: line 3: missing id" in result.output
    assert "1 customers imported" in result.output
    missing = CliRunner().invoke(main, ["import", "customers", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_extract_prints_one_json_object_per_site(
    demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", "1")
    good = next(c for c in demo_sites.companies if c.fault is None and c.template == "jsonld")
    broken = next(c for c in demo_sites.companies if c.fault == "http_error")
    urls = [demo_sites.website(good), demo_sites.website(broken), "ftp://nope.example"]
    result = CliRunner().invoke(main, ["extract", *urls])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["enriched", "failed", "skipped"]
    first = lines[0]
    assert set(first["data"]) == set(DATA_POINT_KEYS)
    assert first["data"]["location_country_code"] == good.country_code
    assert first["evidence"]["location_city"]["url"].startswith(demo_sites.website(good))
    assert 0 < first["confidence"]["location_city"] <= 1
    assert lines[1]["reason"] == "home page: HTTP 503"
    assert "unsupported URL scheme 'ftp'" in lines[2]["reason"]


def test_extract_refuses_loopback_by_default(
    demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENRICH_ALLOW_PRIVATE_NETWORKS", raising=False)
    url = demo_sites.website(demo_sites.companies[0])
    result = CliRunner().invoke(main, ["extract", url])
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["status"] == "failed"
    assert line["reason"].endswith(
        "is a private address; set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it"
    )


def test_extract_with_llm_uses_the_configured_endpoint(
    demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.llm_server import LocalLLMServer

    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    good = [c for c in demo_sites.companies if c.fault is None][:3]
    urls = [demo_sites.website(company) for company in good]
    refused = CliRunner().invoke(main, ["extract", "--llm", urls[0]])
    assert refused.exit_code == 2 and "--llm needs OPENAI_API_KEY" in refused.output

    with LocalLLMServer() as llm:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", llm.url)
        monkeypatch.setenv("ENRICH_LLM_MODEL", "local-model")
        result = CliRunner().invoke(main, ["extract", "--llm", *urls])
        offline = CliRunner().invoke(main, ["extract", urls[0]])
        assert len(llm.requests) == 3  # one call per site; none without --llm
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["enriched"] * 3
    assert {request["model"] for request in llm.requests} == {"local-model"}
    # Progress for many URLs goes to stderr, in whole lines when stderr is not a terminal.
    assert "crawled 3/3\n" in result.stderr and "extracted 3/3\n" in result.stderr
    assert "\r" not in result.stderr
    assert json.loads(offline.stdout)["data"] == lines[0]["data"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["status"], dict),
        (["config", "show"], dict),
        (["settings", "show"], dict),
        (["settings", "history"], list),
        (["credits"], dict),
        (["credits", "show"], dict),
        (["segments", "list"], list),
        (["segments", "show", "eu"], dict),
    ],
)
def test_every_listing_command_prints_json(
    home: Path, tmp_path: Path, command: list[str], expected: type
) -> None:
    runner = CliRunner()
    customers = tmp_path / "c.csv"
    customers.write_text("id,website,country\n1,a.example.com,DE\n2,b.example.com,US\n")
    assert runner.invoke(main, ["import", "customers", str(customers)]).exit_code == 0
    assert runner.invoke(main, ["settings", "set", "is_saas", "--no-note"]).exit_code == 0
    eu = "{field: billing_country_code, op: in, value: [DE, FR]}"
    assert runner.invoke(main, ["segments", "create", "eu", "--match", eu]).exit_code == 0
    result = runner.invoke(main, [*command, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, expected) and document


def test_import_json_names_each_rejected_line(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,website\n1,a.example.com\n,b.example.com\n")
    result = CliRunner().invoke(main, ["import", "customers", str(path), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["imported"], report["rejected"]) == (1, 1)
    assert report["problems"] == [{"line": 3, "problem": "missing id", "rejected": True}]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["segments", "show", "nope"], "error: no segment named 'nope'"),
        (["settings", "set", "no_such_point", "--enable"], "error: no_such_point: not a known"),
        (["credits", "top-up", "0"], "error: "),
        (["forget", "import:nobody", "--yes"], "error: no customer with id 'import:nobody'"),
        # Checked before asking for confirmation (no --yes, nothing typed at the prompt).
        (["forget", "nobody"], "error: no customer with id 'nobody'"),
        (["customer", "nobody"], "error: no customer with id 'nobody'"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(
    home: Path, command: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.e2e
def test_enrich_run_prints_outcomes_and_fails_when_every_record_failed(
    home: Path, tmp_path: Path
) -> None:
    from tests.support.instance import free_port

    dead = f"http://127.0.1.9:{free_port()}"  # nothing listens there: connection refused
    customers = tmp_path / "c.csv"
    customers.write_text(f"id,website\n1,{dead}\n2,{dead}/\n")
    environment = {"ENRICH_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8", "ENRICH_CRAWL_RETRIES": "0"}
    result = CliRunner().invoke(
        main, ["run", "--customers", str(customers), "--json"], env=environment
    )
    assert result.exit_code == 1, result.output
    [outcome] = json.loads(result.stdout.strip().splitlines()[-1])
    assert (outcome["outcome"], outcome["records"], outcome["credits"]) == ("failed", 2, 0)
    assert outcome["reason"] == "unreachable"
    assert outcome["example"] == "home page: connection refused"  # not the library's words
    assert "every record this run tried failed" in result.stderr


@pytest.mark.e2e
def test_the_private_network_allow_list_is_read_when_sites_are_fetched(
    home: Path, tmp_path: Path, demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customers imported before the allow-list is set are enriched once it is set; without
    it, their sites fail with a reason that names the variable."""
    monkeypatch.delenv("ENRICH_ALLOW_PRIVATE_NETWORKS", raising=False)
    healthy = [c for c in demo_sites.companies if c.fault is None][:3]
    customers = tmp_path / "c.csv"
    customers.write_text(
        "id,website\n" + "".join(f"{c.slug},{demo_sites.website(c)}\n" for c in healthy)
    )
    imported = CliRunner().invoke(main, ["import", "customers", str(customers)])
    assert imported.exit_code == 0, imported.output
    assert "set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it" in imported.output  # a warning

    refused = CliRunner().invoke(main, ["run", "--json"])
    [outcome] = json.loads(refused.stdout.strip().splitlines()[-1])
    assert (outcome["outcome"], outcome["reason"], outcome["records"]) == (
        "failed", "private address", 3
    )  # fmt: skip
    assert outcome["example"].endswith("set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it")

    allowed = CliRunner().invoke(
        main, ["run", "--json"], env={"ENRICH_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8"}
    )
    assert allowed.exit_code == 0, allowed.output
    [outcome] = json.loads(allowed.stdout.strip().splitlines()[-1])
    assert (outcome["outcome"], outcome["records"], outcome["credits"]) == ("enriched", 3, 3)


def test_ids_can_be_typed_without_their_source_when_unambiguous(home: Path, tmp_path: Path) -> None:
    """`c1` means `crm:c1` while only one source has a c1; with two, the candidates are
    listed and nothing is done."""
    path = tmp_path / "c.csv"
    path.write_text("id,website\nc1,\nc2,\n")
    for source in ("crm", "billing"):
        imported = CliRunner().invoke(main, ["import", "customers", str(path), "--source", source])
        assert imported.exit_code == 0, imported.output
    forgotten = CliRunner().invoke(main, ["forget", "billing:c2", "--yes"])
    assert forgotten.exit_code == 0, forgotten.output

    ambiguous = CliRunner().invoke(main, ["forget", "c1", "--yes"])
    assert ambiguous.exit_code == 2
    assert ambiguous.stderr.strip() == (
        "error: 'c1' is the id of 2 customers, one per source: billing:c1, crm:c1; "
        "type one of those"
    )
    one_off = CliRunner().invoke(main, ["customer", "c1"])
    assert one_off.exit_code == 2 and "billing:c1, crm:c1" in one_off.stderr

    resolved = CliRunner().invoke(main, ["forget", "c2"], input="y\n")
    assert resolved.exit_code == 0, resolved.output
    assert "of crm:c2?" in resolved.output  # the prompt names the full id
    assert "forgot crm:c2" in resolved.stdout
