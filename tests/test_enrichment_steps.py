"""Direct tests of the enrichment steps: choosing records, storing pages, extracting, applying.

They run on a real DuckDB warehouse with pages built in memory and a fake extractor (an object
with the `Extractor` protocol's name, concurrency and extract), so the steps' contracts are
checked in well under a second each: no HTTP, no LLM, no Dagster.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from enrichment_pipelines.core.crawl import Page, SiteCrawl
from enrichment_pipelines.core.credits import balance, charge_enrichments, top_up
from enrichment_pipelines.core.datapoints import DATA_POINTS_BY_KEY
from enrichment_pipelines.core.enrichment import stream as stream_module
from enrichment_pipelines.core.enrichment.extract import (
    EXTRACT_BATCH_SIZE,
    extraction_row,
    save_extractions,
)
from enrichment_pipelines.core.enrichment.pages import load_pages, websites_to_crawl
from enrichment_pipelines.core.enrichment.policy import (
    EnrichmentPolicy,
    count_in_scope,
    select_customers,
)
from enrichment_pipelines.core.extractors import Extraction
from enrichment_pipelines.core.segments.compiler import SegmentError, parse_segment
from enrichment_pipelines.core.segments.store import save_segment
from enrichment_pipelines.core.settings import (
    EnrichmentSettings,
    change_data_point,
    ensure_settings,
)
from enrichment_pipelines.core.shards import customer_shard
from enrichment_pipelines.core.warehouse import Warehouse, insert_rows
from tests.support.records import (
    FakeExtractor,
    apply_enrichments,
    crawl_of,
    extract_sites,
    extraction_of,
    import_csv,
    import_sites,
    prepared,
    site,
    store_crawls,
)

SETTINGS = EnrichmentSettings.defaults()
KEYS = SETTINGS.enabled_keys
ALL = EnrichmentPolicy()


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated warehouse file, made once for the module."""
    path = tmp_path_factory.mktemp("migrated") / "warehouse.duckdb"
    Warehouse(path).migrate()
    return path


@pytest.fixture
def warehouse(home: Path, migrated_file: Path) -> Warehouse:
    """A fresh migrated warehouse in ENRICH_HOME, like conftest's, but copied from one migrated
    file: migrating costs a tenth of a second a test, copying a millisecond."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_file, home / "warehouse.duckdb")
    return Warehouse(home / "warehouse.duckdb")


def selected(warehouse: Warehouse, policy: EnrichmentPolicy) -> list[str]:
    with warehouse.connect() as connection:
        return [c.customer_id for c in select_customers(connection, policy)]


def record_enrichments(warehouse: Warehouse, enriched_at: dict[str, datetime]) -> None:
    """An enriched outcome for each customer at the given time, as earlier runs leave them."""
    with warehouse.transaction() as connection:
        insert_rows(
            connection,
            "enrichments",
            ("enrichment_id", "customer_id", "status", "credits_charged", "created_at"),
            [[f"earlier-{cid}", cid, "enriched", 1, at] for cid, at in enriched_at.items()],
        )


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return connection.execute(sql).fetchall()


@dataclass
class Outcomes:
    """What `apply_enrichments` reported through `on_done`."""

    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __call__(self, customer_id: str, status: str, reason: str | None) -> None:
        self.seen.append((customer_id, status, reason))


# select_customers ----------------------------------------------------------------------------


def test_select_takes_never_enriched_records_unless_asked_for_all(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    import_sites(warehouse, tmp_path, 3)
    record_enrichments(warehouse, {"import:2": datetime.now(UTC)})

    assert selected(warehouse, ALL) == ["import:1", "import:3"]
    with warehouse.connect() as connection:
        assert count_in_scope(connection, ALL) == 3


def test_select_reenriches_records_enriched_before_the_cutoff(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    import_sites(warehouse, tmp_path, 3)
    now = datetime.now(UTC)
    record_enrichments(
        warehouse, {"import:1": now - timedelta(days=2), "import:2": now - timedelta(hours=1)}
    )

    policy = EnrichmentPolicy(reenrich_before=now - timedelta(days=1))

    assert selected(warehouse, policy) == ["import:1", "import:3"]


def test_select_restricts_to_customer_ids(warehouse: Warehouse, tmp_path: Path) -> None:
    import_sites(warehouse, tmp_path, 3)

    policy = EnrichmentPolicy(customer_ids=("import:3", "import:2", "import:unknown"))

    assert selected(warehouse, policy) == ["import:2", "import:3"]


def test_select_restricts_to_shards(warehouse: Warehouse, tmp_path: Path) -> None:
    import_sites(warehouse, tmp_path, 40)
    ids = [f"import:{n}" for n in range(1, 41)]
    shard = customer_shard("import:1")
    in_shard = sorted(cid for cid in ids if customer_shard(cid) == shard)
    assert 0 < len(in_shard) < len(ids)  # the test means something

    assert selected(warehouse, EnrichmentPolicy(shards=(shard,))) == in_shard


def test_select_restricts_to_a_saved_segment(warehouse: Warehouse, tmp_path: Path) -> None:
    import_sites(warehouse, tmp_path, 3)
    definition = json.dumps(
        {"match": {"field": "website_url", "op": "in", "value": [site(1), site(3)]}}
    )
    with warehouse.transaction() as connection:
        save_segment(connection, parse_segment("odd", definition), by="test", create=True)

    assert selected(warehouse, EnrichmentPolicy(segment="odd")) == ["import:1", "import:3"]
    with pytest.raises(SegmentError, match="no segment named 'missing'"):
        selected(warehouse, EnrichmentPolicy(segment="missing"))


# websites_to_crawl, save_crawls, load_pages --------------------------------------------------


def test_websites_to_crawl_skips_freshly_crawled_sites(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sites = import_sites(warehouse, tmp_path, 3)
    import_csv(warehouse, tmp_path, [("4", "")])  # no website: nothing to crawl
    now = datetime.now(UTC)
    failed = SiteCrawl(sites[2], now, "failed", reason="home page: HTTP 500")
    store_crawls(
        warehouse,
        [crawl_of(sites[0], at=now), crawl_of(sites[1], at=now - timedelta(days=10)), failed],
    )

    with warehouse.connect() as connection:
        due = websites_to_crawl(connection, sites, ALL, timedelta(days=7))
        # A re-enrichment asked for after the crawl wants pages at least that recent.
        later = EnrichmentPolicy(reenrich_before=now + timedelta(seconds=1))
        due_for_reenrichment = websites_to_crawl(connection, sites, later, timedelta(days=7))

    assert due == [sites[1], sites[2]]  # too old, failed; the fresh one is skipped
    assert due_for_reenrichment == sites


def test_pages_round_trip_field_by_field(warehouse: Warehouse, tmp_path: Path) -> None:
    import_sites(warehouse, tmp_path, 2)
    fetched = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    about = Page(
        url=site(1) + "/about",
        fetched_at=fetched,
        final_url=site(1) + "/about-us",
        status_code=200,
        content_type="text/html",
        charset="utf-8",
        etag='"abc"',
        last_modified="Sun, 01 Mar 2026 10:00:00 GMT",
        content_hash="f" * 64,
        title="About Acme",
        meta={"description": "Analytics for shops", "og:title": "Acme"},
        structured_data=[{"@type": "Organization", "name": "Acme", "numberOfEmployees": 42}],
        links=[(site(1) + "/pricing", "Pricing"), (site(1) + "/", "Home")],
        text="# About\nWe build analytics.",
        error=None,
        kind="about",
        unchanged=True,
    )
    broken = Page(url=site(1) + "/careers", fetched_at=fetched, error="HTTP 404", kind="careers")
    store_crawls(warehouse, [SiteCrawl(site(1), fetched, "ok", pages=[about, broken])])

    with warehouse.connect() as connection:
        pages = load_pages(connection, [site(1), site(2)])

    assert pages[site(2)] == {}
    assert list(pages[site(1)]) == [about.url, broken.url]  # by fetch time, then URL
    for original in (about, broken):
        loaded = pages[site(1)][original.url]
        for page_field in fields(Page):
            assert getattr(loaded, page_field.name) == getattr(original, page_field.name), (
                page_field.name
            )
    assert isinstance(pages[site(1)][about.url].links[0], tuple)
    assert pages[site(1)][broken.url].unchanged is False


def test_save_crawls_replaces_a_sites_pages(warehouse: Warehouse, tmp_path: Path) -> None:
    import_sites(warehouse, tmp_path, 2)
    first = crawl_of(site(1), "old")
    first.pages.append(Page(url=site(1) + "/about", fetched_at=first.crawled_at, text="about"))
    store_crawls(warehouse, [first, crawl_of(site(2))], run_id="run-1")
    second = crawl_of(site(1), "new")
    second.pages[0] = Page(url=site(1) + "/pricing", fetched_at=second.crawled_at, text="new")

    store_crawls(warehouse, [second], run_id="run-2")

    with warehouse.connect() as connection:
        pages = load_pages(connection, [site(1), site(2)])
        crawls = rows(connection, "SELECT website_url, page_count, run_id FROM site_crawls")
    assert [(page.url, page.text) for page in pages[site(1)].values()] == [
        (site(1) + "/pricing", "new")
    ]
    assert list(pages[site(2)]) == [site(2) + "/"]  # another site's pages are left alone
    assert sorted(crawls) == [(site(1), 1, "run-2"), (site(2), 1, "run-1")]


# extract_sites -------------------------------------------------------------------------------


def test_extract_skips_unchanged_sites(warehouse: Warehouse, tmp_path: Path) -> None:
    sites = import_sites(warehouse, tmp_path, 2)
    store_crawls(warehouse, [crawl_of(url) for url in sites])
    extractor = FakeExtractor()
    first = extract_sites(warehouse, ALL, extractor, KEYS)

    again = extract_sites(warehouse, ALL, extractor, KEYS)
    store_crawls(warehouse, [crawl_of(sites[1], "We sell software, now cheaper.")])
    after_change = extract_sites(warehouse, ALL, extractor, KEYS)

    assert (first.extracted, first.unchanged, first.values_found) == (2, 0, 2)
    assert (again.extracted, again.unchanged) == (0, 2)
    assert (after_change.extracted, after_change.unchanged) == (1, 1)
    assert sorted(extractor.calls) == sorted([*sites, sites[1]])


def test_extractor_exception_becomes_the_sites_error(warehouse: Warehouse, tmp_path: Path) -> None:
    sites = import_sites(warehouse, tmp_path, 2)
    store_crawls(warehouse, [crawl_of(url) for url in sites])
    extractor = FakeExtractor(failing={sites[0]})

    summary = extract_sites(warehouse, ALL, extractor, KEYS)

    assert (summary.extracted, summary.failed) == (2, 1)
    assert summary.problems["extractor error"] == 1
    with warehouse.connect() as connection:
        errors = rows(connection, "SELECT website_url, error FROM extractions ORDER BY 1")
    assert errors == [
        (sites[0], "extractor error: RuntimeError: bad markup"),
        (sites[1], None),
    ]
    # A failed extraction is not reused: the next run tries that site again.
    extractor.failing.clear()
    retry = extract_sites(warehouse, ALL, extractor, KEYS)
    assert (retry.extracted, retry.failed, retry.unchanged) == (1, 0, 1)


def test_extract_calls_on_done_for_every_site_across_batches(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sites = import_sites(warehouse, tmp_path, 60)
    assert len(sites) > EXTRACT_BATCH_SIZE  # so the sites are extracted in more than one batch
    store_crawls(warehouse, [crawl_of(url) for url in sites])
    done: list[str] = []

    summary = extract_sites(warehouse, ALL, FakeExtractor(), KEYS, done.append)

    assert summary.extracted == 60
    assert sorted(done) == sites


def test_extract_with_nothing_pending_calls_on_done_never(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sites = import_sites(warehouse, tmp_path, 1)
    store_crawls(warehouse, [crawl_of(sites[0])])
    extract_sites(warehouse, ALL, FakeExtractor(), KEYS)
    done: list[str] = []

    summary = extract_sites(warehouse, ALL, FakeExtractor(), KEYS, done.append)

    assert (summary.extracted, summary.unchanged, done) == (0, 1, [])


# apply_enrichments ---------------------------------------------------------------------------


def test_apply_charges_one_credit_per_enriched_record_and_nothing_on_rerun(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    extractor = FakeExtractor()
    sites = prepared(warehouse, tmp_path, 1, extractor)
    outcomes = Outcomes()

    summary = apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-1", outcomes)
    rerun = apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-2", outcomes)

    assert (summary.enriched, summary.credits_spent) == (1, 1)
    assert (rerun.enriched, rerun.credits_spent) == (0, 0)
    assert outcomes.seen == [("import:1", "enriched", None)]  # the rerun found it done
    with warehouse.connect() as connection:
        assert balance(connection) == 99
        assert rows(
            connection,
            "SELECT customer_id, delta, run_id FROM credit_ledger WHERE kind = 'enrichment'",
        ) == [("import:1", -1, "run-1")]
        assert rows(
            connection, "SELECT status, website_url, extractor, credits_charged FROM enrichments"
        ) == [("enriched", sites[0], "fake-1", 1)]
        assert rows(
            connection,
            "SELECT value, evidence_url, evidence_quote, confidence FROM enrichment_values "
            "WHERE data_point = 'is_saas'",
        ) == [("true", sites[0] + "/", "quote for is_saas", 0.9)]
        assert rows(
            connection, "SELECT customer_id, name, value_boolean, source FROM custom_attributes"
        ) == [("import:1", "is_saas_enriched", True, "enrichment")]


def test_a_record_whose_every_value_is_held_back_is_neither_enriched_nor_charged(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    extractor = FakeExtractor()  # is_saas at confidence 0.9, nothing else
    prepared(warehouse, tmp_path, 1, extractor)
    strict = change_data_point(SETTINGS, "is_saas", min_confidence=0.95)
    outcomes = Outcomes()
    summary = apply_enrichments(warehouse, ALL, strict, extractor.name, "run-1", outcomes)
    assert (summary.enriched, summary.credits_spent) == (0, 0)
    assert outcomes.seen == [
        ("import:1", "failed", "no data points found on the site (1 held back: low confidence)")
    ]
    with warehouse.connect() as connection:
        assert balance(connection) == 100
        assert rows(connection, "SELECT count(*) FROM custom_attributes") == [(0,)]


def test_apply_leaves_alone_a_record_enriched_meanwhile(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractor = FakeExtractor()
    prepared(warehouse, tmp_path, 2, extractor)
    monkeypatch.setattr(stream_module, "RECORDS_PER_ROUND", 1)
    outcomes = Outcomes()

    def concurrent_run_enriches_the_next(customer_id: str, status: str, reason: str | None) -> None:
        outcomes(customer_id, status, reason)
        record_enrichments(warehouse, {"import:2": datetime.now(UTC)})

    summary = apply_enrichments(
        warehouse, ALL, SETTINGS, extractor.name, "run-1", concurrent_run_enriches_the_next
    )

    # import:2 was selected, but found done inside its batch's transaction: not charged.
    assert outcomes.seen == [("import:1", "enriched", None)]
    assert (summary.enriched, summary.credits_spent) == (1, 1)
    with warehouse.connect() as connection:
        assert balance(connection) == 99


def test_apply_skips_a_record_without_a_usable_website(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    import_csv(warehouse, tmp_path, [("1", ""), ("2", "ftp://files.example.com")])
    outcomes = Outcomes()

    summary = apply_enrichments(warehouse, ALL, SETTINGS, "fake-1", "run-1", outcomes)

    assert outcomes.seen == [
        ("import:1", "skipped", "no website"),
        ("import:2", "skipped", "unsupported URL scheme 'ftp' (only http and https)"),
    ]
    assert summary.skipped == {"no website": 1, "unusable website address": 1}
    assert summary.credits_spent == 0
    with warehouse.connect() as connection:
        outcomes_stored = rows(connection, "SELECT status, credits_charged FROM enrichments")
    assert outcomes_stored == [("skipped", 0), ("skipped", 0)]


def test_apply_fails_a_record_whose_crawl_failed(warehouse: Warehouse, tmp_path: Path) -> None:
    sites = import_sites(warehouse, tmp_path, 2)
    reason = "home page: HTTP 503 (retried 3 times)"
    store_crawls(warehouse, [SiteCrawl(sites[0], datetime.now(UTC), "failed", reason=reason)])
    outcomes = Outcomes()

    summary = apply_enrichments(warehouse, ALL, SETTINGS, "fake-1", "run-1", outcomes)

    assert outcomes.seen == [
        ("import:1", "failed", reason),
        ("import:2", "failed", "website not crawled yet"),
    ]
    assert summary.failed == {"HTTP error": 1, "waiting for an earlier step": 1}
    assert summary.enriched == summary.credits_spent == 0


def test_apply_skips_records_once_out_of_credits(warehouse: Warehouse, tmp_path: Path) -> None:
    extractor = FakeExtractor()
    prepared(warehouse, tmp_path, 2, extractor)
    with warehouse.transaction() as connection:  # spend all but one of the 100 credits
        spent = [(f"other:{n}", f"other-enrichment-{n}") for n in range(99)]
        charge_enrichments(connection, spent, None, datetime.now(UTC))
        assert balance(connection) == 1
    outcomes = Outcomes()

    summary = apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-1", outcomes)

    assert outcomes.seen == [
        ("import:1", "enriched", None),
        ("import:2", "skipped", "out of credits"),
    ]
    assert (summary.enriched, summary.skipped) == (1, {"out of credits": 1})
    with warehouse.transaction() as connection:
        assert balance(connection) == 0
        top_up(connection, 5)
    # Skipped for want of credits is not done: after a top-up the record is enriched.
    later = apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-2")
    assert (later.enriched, later.credits_spent) == (1, 1)


def test_reenrichment_clears_an_attribute_no_longer_found_and_keeps_history(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    url = site(1) + "/"
    extractor = FakeExtractor(
        results={site(1): extraction_of(url, is_saas=True, value_proposition="Analytics")}
    )
    prepared(warehouse, tmp_path, 1, extractor)
    apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-1")
    # The site changed: is_saas is no longer found, the value proposition is the same.
    store_crawls(warehouse, [crawl_of(site(1), "Analytics, the new site.")])
    extractor.results[site(1)] = extraction_of(url, value_proposition="Analytics")
    again = EnrichmentPolicy(reenrich_before=datetime.now(UTC))
    extract_sites(warehouse, again, extractor, KEYS)

    summary = apply_enrichments(warehouse, again, SETTINGS, extractor.name, "run-2")

    assert summary.enriched == 1
    with warehouse.connect() as connection:
        attributes = rows(
            connection, "SELECT name, value_string, value_boolean FROM custom_attributes"
        )
        history = rows(
            connection,
            "SELECT name, old_value, new_value, reason FROM custom_attribute_history "
            "ORDER BY changed_at, name",
        )
    assert attributes == [("value_proposition_enriched", "Analytics", None)]
    assert history == [
        ("is_saas_enriched", None, "true", "enrichment"),
        ("value_proposition_enriched", None, "Analytics", "enrichment"),
        ("is_saas_enriched", "true", None, "re-enrichment"),
    ]


def test_summary_note_holds_only_data_points_flagged_for_notes(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    extractor = FakeExtractor(
        results={
            site(1): extraction_of(
                site(1) + "/", is_saas=True, value_proposition="Analytics", employee_count="11-50"
            ),
            site(2): extraction_of(site(2) + "/", is_saas=True),  # nothing for the note
        }
    )
    prepared(warehouse, tmp_path, 2, extractor)
    assert not SETTINGS.data_points["is_saas"].in_notes

    apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-1")
    # Flagging is_saas for notes puts it in the notes of the next enrichment.
    flagged = change_data_point(SETTINGS, "is_saas", in_notes=True)
    again = EnrichmentPolicy(reenrich_before=datetime.now(UTC))
    apply_enrichments(warehouse, again, flagged, extractor.name, "run-2")

    with warehouse.connect() as connection:
        notes = rows(
            connection,
            "SELECT n.customer_id, e.run_id, n.body, n.source FROM notes AS n "
            "JOIN enrichments AS e USING (enrichment_id) ORDER BY e.run_id, n.customer_id",
        )
    heading = "Enrichment summary from "
    assert notes == [
        (
            "import:1",
            "run-1",
            f"{heading}{site(1)}\n- Value proposition: Analytics\n- Employee count: 11-50",
            "enrichment",
        ),
        (
            "import:1",
            "run-2",
            f"{heading}{site(1)}\n- Value proposition: Analytics\n- Is saas: yes\n"
            "- Employee count: 11-50",
            "enrichment",
        ),
        ("import:2", "run-2", f"{heading}{site(2)}\n- Is saas: yes", "enrichment"),
    ]


def test_a_customer_forgotten_mid_run_is_not_written_back(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """`enrich forget` while a run crawls and extracts: the run's later writes leave the
    forgotten customer's website, pages, extraction and enrichment out."""
    from enrichment_pipelines.core.forget import forget_customer

    sites = import_sites(warehouse, tmp_path, 2)
    crawls = [crawl_of(url) for url in sites]  # crawled, not saved yet
    with warehouse.transaction() as connection:
        forget_customer(connection, "import:1", by="test")
    warehouse.compact()  # as `enrich forget` does
    store_crawls(warehouse, crawls)
    extractor = FakeExtractor()
    extract_sites(warehouse, ALL, extractor, KEYS)
    summary = apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-1")

    assert summary.enriched == 1
    with warehouse.connect() as connection:
        for table in ("site_crawls", "scraped_pages", "extractions"):
            assert rows(connection, f"SELECT DISTINCT website_url FROM {table}") == [(sites[1],)]
        assert rows(connection, "SELECT DISTINCT customer_id FROM enrichments") == [("import:2",)]
    data = warehouse.path.read_bytes()  # and no byte of it in the file the run wrote
    assert sites[0].encode() not in data and b"import:1" not in data


def test_concurrent_runs_share_the_crawl_through_claims(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """Two runs at once: the second leaves the sites the first claimed (and writes no outcome
    for their customers), until the first saves them or its lease runs out."""
    from enrichment_pipelines.core.enrichment.pages import claim_websites, release_claims

    sites = import_sites(warehouse, tmp_path, 4)
    lease = timedelta(minutes=10)
    with warehouse.transaction() as connection:
        assert claim_websites(connection, sites[:3], "run-a", lease) == sites[:3]
        assert claim_websites(connection, sites, "run-b", lease) == [sites[3]]
    store_crawls(warehouse, [crawl_of(sites[3])], run_id="run-b")
    extractor = FakeExtractor()
    extract_sites(warehouse, ALL, extractor, KEYS)
    summary = apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-b")

    assert (summary.enriched, sum(summary.failed.values())) == (1, 0)
    with warehouse.connect() as connection:
        assert rows(connection, "SELECT customer_id, status FROM enrichments") == [
            ("import:4", "enriched")  # no "website not crawled yet" for run A's customers
        ]
    store_crawls(warehouse, [crawl_of(sites[0])], run_id="run-a")  # saving ends the claim
    with warehouse.transaction() as connection:
        assert claim_websites(connection, sites[:3], "run-b", lease) == [sites[0]]
        assert claim_websites(connection, sites[1:3], "run-c", -lease) == []  # run-a's lease
        connection.execute("UPDATE website_claims SET claimed_until = now() - INTERVAL 1 MINUTE")
        assert claim_websites(connection, sites[1:3], "run-c", lease) == sites[1:3]  # lapsed
        release_claims(connection, "run-c")  # run-c stopped before saving them
        assert claim_websites(connection, sites[1:3], "run-d", lease) == sites[1:3]


def test_the_claims_of_a_killed_process_are_void_at_once(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A run killed mid-crawl (SIGKILL: nothing hands its claims back) must not hold its sites
    for the rest of its lease: the next run on the host sees the claimant is gone."""
    from enrichment_pipelines.core.enrichment.pages import claim_websites

    sites = import_sites(warehouse, tmp_path, 2)
    lease = timedelta(minutes=10)
    killed = subprocess.run(
        [sys.executable, "-c", "from enrichment_pipelines.core.enrichment.pages import "
         "this_process; print(this_process())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    with warehouse.transaction() as connection:
        assert claim_websites(connection, sites, "run-live", lease) == sites
        connection.execute(
            "UPDATE website_claims SET run_id = 'run-killed', claimed_by = ? WHERE website_url = ?",
            [killed, sites[0]],
        )
        # The live run's claim holds; the killed process's is taken over.
        assert claim_websites(connection, sites, "run-next", lease) == [sites[0]]
        # A claimant on another host is taken at its lease.
        connection.execute(
            "UPDATE website_claims SET run_id = 'run-far', claimed_by = 'elsewhere 1 1' "
            "WHERE website_url = ?",
            [sites[0]],
        )
        assert claim_websites(connection, sites, "run-later", lease) == []


def test_a_whole_number_is_stored_typed_and_reads_as_a_number_in_customer_360(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    extractor = FakeExtractor(results={site(1): extraction_of(site(1) + "/", founded_year=2016)})
    prepared(warehouse, tmp_path, 1, extractor)

    apply_enrichments(warehouse, ALL, SETTINGS, extractor.name, "run-1")

    with warehouse.transaction() as connection:
        ensure_settings(connection)  # defines the attributes, rebuilds customer_360
        stored = rows(
            connection,
            "SELECT value_string, value_boolean, value_integer FROM custom_attributes "
            "WHERE name = 'founded_year_enriched'",
        )
        in_360 = rows(connection, "SELECT founded_year_enriched FROM customer_360")
        history = rows(
            connection,
            "SELECT new_value FROM custom_attribute_history WHERE name = 'founded_year_enriched'",
        )
    assert stored == [(None, None, 2016)]
    assert in_360 == [(2016,)] and isinstance(in_360[0][0], int)
    assert history == [("2016",)]


@pytest.mark.parametrize(
    ("given", "value", "problem"),
    [
        (2016, 2016, None),
        ("1998", 1998, None),
        (2016.0, 2016, None),
        (True, None, "expected a whole number"),
        ("MMXVI", None, "expected a whole number"),
        (1200, None, "below 1500"),
        (datetime.now(UTC).year + 1, None, "above"),
    ],
)
def test_a_year_is_validated_as_a_whole_number_in_range(
    given: object, value: int | None, problem: str | None
) -> None:
    valid, reason = DATA_POINTS_BY_KEY["founded_year"].validate(given)
    assert valid == value
    assert (reason is None) if problem is None else (problem in (reason or ""))


def test_pages_stored_before_assets_were_kept_are_crawled_again(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    sites = import_sites(warehouse, tmp_path, 2)
    store_crawls(warehouse, [crawl_of(sites[0]), crawl_of(sites[1])])
    with warehouse.transaction() as connection:  # as an earlier version stored them
        connection.execute(
            "UPDATE scraped_pages SET assets = NULL WHERE website_url = ?", [sites[1]]
        )
        due = websites_to_crawl(connection, sites, ALL, timedelta(days=7))
    assert due == [sites[1]]


def test_technologies_follow_the_latest_extraction_and_survive_a_failed_one(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    url = import_sites(warehouse, tmp_path, 1)[0]
    found = extraction_of(url + "/")
    found.details["tech_stack"] = [
        {"name": "WordPress", "categories": ["CMS", "Blogs"], "version": "6.4", "confidence": 1.0,
         "url": url + "/", "quote": "WordPress 6.4", "implied_by": None},
        {"name": "Acme Widgets", "categories": [], "version": "", "confidence": 1.0,
         "url": url + "/", "quote": "w.js", "implied_by": None},
    ]  # fmt: skip
    failed = Extraction(error="LLM call failed: HTTP 500")
    with warehouse.transaction() as connection:
        save_extractions(connection, [extraction_row(url, "k1", "x", found)])
        save_extractions(connection, [extraction_row(url, "k2", "x", failed)])  # retried later
        kept = rows(connection, "SELECT technology, version FROM site_technologies ORDER BY 1")
        by_category = rows(
            connection,
            "SELECT category, technology FROM customer_technologies ORDER BY 1 NULLS FIRST, 2",
        )
    assert kept == [("Acme Widgets", None), ("WordPress", "6.4")]
    # a technology without a category is still there, under NULL
    assert by_category == [(None, "Acme Widgets"), ("Blogs", "WordPress"), ("CMS", "WordPress")]
