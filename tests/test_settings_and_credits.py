"""Settings and credits as a user drives them with `enrich settings` and `enrich credits`, and
what a run then writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from enrichment_pipelines.cli import main
from enrichment_pipelines.core import warehouse as warehouse_module
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.demo import DemoSites
from enrichment_pipelines.runs import run_pipeline
from tests.support.config import loopback_config


def _enrich(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _rows(home: Path, sql: str) -> list[tuple]:
    with Warehouse(home / "warehouse.duckdb").connect() as connection:
        return connection.execute(sql).fetchall()


def test_defaults_are_saved_on_first_change_and_every_change_is_audited(home: Path) -> None:
    first = _enrich("settings", "show")
    assert first.exit_code == 0 and "no settings saved yet" in first.output
    renamed = _enrich("settings", "set", "industry_category", "--attribute", "sector")
    assert renamed.exit_code == 0, renamed.output
    settings = json.loads(_enrich("settings", "show", "--json").output)["data_points"]
    assert settings["industry_category"]["attribute_name"] == "sector"
    assert settings["is_saas"] == {
        "enabled": True,
        "attribute_name": "is_saas_enriched",
        "in_notes": False,
        "min_confidence": 0.0,
    }
    history = _rows(home, "SELECT changed_by FROM settings_history ORDER BY changed_at")
    assert history[0][0].startswith("enrich (defaults saved on first use)")
    assert history[-1][0].startswith("enrich settings set (")
    assert "enrich settings set" in _enrich("settings", "history").output


def test_a_min_confidence_outside_0_to_1_is_refused_even_for_a_disabled_point(
    home: Path,
) -> None:
    assert _enrich("settings", "set", "tech_stack", "--disable").exit_code == 0
    for bad in ("5", "-0.5", "nan"):
        refused = _enrich("settings", "set", "tech_stack", "--min-confidence", bad)
        assert refused.exit_code == 2, bad
        assert "tech_stack: min_confidence must be between 0 and 1" in refused.output
    assert _enrich("settings", "set", "tech_stack", "--min-confidence", "0.6").exit_code == 0
    settings = json.loads(_enrich("settings", "show", "--json").output)["data_points"]
    assert settings["tech_stack"]["min_confidence"] == 0.6


def test_mapping_onto_an_existing_attribute_and_clashes(home: Path) -> None:
    _enrich("settings", "show")
    with Warehouse(home / "warehouse.duckdb").transaction() as connection:
        connection.execute(
            "INSERT INTO attribute_definitions VALUES "
            "('segment_label', 'String', 'user', 'set by the CRM team', now()), "
            "('is_customer', 'Boolean', 'user', NULL, now())"
        )
    mapped = _enrich("settings", "set", "industry_category", "--attribute", "segment_label")
    assert mapped.exit_code == 0, mapped.output
    clash = _enrich("settings", "set", "industry_category", "--attribute", "is_customer")
    assert clash.exit_code == 2
    assert (
        "industry_category: existing attribute 'is_customer' is Boolean, "
        "but industry_category is String" in clash.output
    )
    twice = _enrich("settings", "set", "location_city", "--attribute", "segment_label")
    assert twice.exit_code == 2
    assert "attribute name 'segment_label' is already used by industry_category" in twice.output
    unknown = _enrich("settings", "set", "favourite_colour", "--disable")
    assert unknown.exit_code == 2 and "favourite_colour: not a known data point" in unknown.output
    bad = _enrich("settings", "set", "location_city", "--attribute", "City Name")
    assert bad.exit_code == 2 and "must be lower case letters, digits and _" in bad.output


def test_a_point_cannot_take_over_an_attribute_of_another_type_that_enrichment_created(
    home: Path,
) -> None:
    moved = _enrich("settings", "set", "employee_count", "--attribute", "headcount_range")
    assert moved.exit_code == 0, moved.output
    # employee_count_enriched (String) stays in the warehouse with the values written to it.
    clash = _enrich("settings", "set", "is_saas", "--attribute", "employee_count_enriched")
    assert clash.exit_code == 2
    assert clash.stderr == (
        "error: is_saas: existing attribute 'employee_count_enriched' is String, but is_saas is "
        "Boolean (employee_count_enriched was created by enrichment for employee_count)\n"
    )
    settings = json.loads(_enrich("settings", "show", "--json").output)["data_points"]
    assert settings["is_saas"]["attribute_name"] == "is_saas_enriched"  # nothing saved
    same_type = _enrich("settings", "set", "target_role", "--attribute", "employee_count_enriched")
    assert same_type.exit_code == 0, same_type.output
    # A disabled point is checked when it is mapped, not first when it is enabled.
    assert _enrich("settings", "set", "has_free_trial", "--disable").exit_code == 0
    later = _enrich("settings", "set", "has_free_trial", "--attribute", "headcount_range")
    assert later.exit_code == 2
    assert "existing attribute 'headcount_range' is String, but has_free_trial is Boolean" in (
        later.stderr
    )


def test_two_points_on_one_attribute_name_the_point_that_moved(home: Path) -> None:
    onto_later = _enrich("settings", "set", "is_saas", "--attribute", "has_free_trial")
    assert onto_later.exit_code == 2
    assert onto_later.stderr == (
        "error: is_saas: attribute name 'has_free_trial' is already used by has_free_trial\n"
    )
    onto_earlier = _enrich("settings", "set", "has_free_trial", "--attribute", "is_saas_enriched")
    assert onto_earlier.exit_code == 2
    assert onto_earlier.stderr == (
        "error: has_free_trial: attribute name 'is_saas_enriched' is already used by is_saas\n"
    )


def test_the_history_says_what_each_change_changed(home: Path) -> None:
    for change, code in (
        (("settings", "set", "employee_count", "--attribute", "headcount_range"), 0),
        (("settings", "set", "is_saas", "--attribute", "employee_count_enriched"), 2),
        (("settings", "set", "is_saas", "--disable", "--note"), 0),
        (("live", "on"), 0),
    ):
        assert _enrich(*change).exit_code == code
    history = json.loads(_enrich("settings", "history", "--json").output)  # newest first
    live, disabled, moved, defaults = history  # the refused change left no trace
    assert live["setting"] == "live"
    assert live["change"].startswith("enabled: false -> true; since: none -> ")
    assert disabled["change"] == "is_saas.enabled: true -> false; is_saas.note: false -> true"
    assert moved["change"] == "employee_count.attribute: employee_count_enriched -> headcount_range"
    assert defaults["change"] == "first saved"
    assert defaults["by"].startswith("enrich (defaults saved on first use)")
    shown = _enrich("settings", "history")
    assert shown.exit_code == 0
    assert (
        "  enrichment  by enrich settings set (" in shown.output
        and "\n    employee_count.attribute: employee_count_enriched -> headcount_range\n"
        in shown.output
    )


def test_an_older_warehouse_keeps_its_history_and_records_changes_after_upgrading(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = warehouse_module.load_migrations()
    change = next(m.version for m in shipped if m.name == "settings_history_change")
    before_changes = [m for m in shipped if m.version < change]
    with monkeypatch.context() as patched:  # a warehouse as the previous version left it
        patched.setattr(warehouse_module, "load_migrations", lambda: before_changes)
        store = Warehouse(home / "warehouse.duckdb")
        store.migrate()
        with store.transaction() as connection:
            connection.execute(
                "INSERT INTO settings_history (key, value, changed_at, changed_by) "
                "VALUES ('live', '{}', now(), 'enrich live on (old)')"
            )
    assert store.migrate() == [m.version for m in shipped if m.version >= change]
    assert _enrich("settings", "set", "is_saas", "--disable").exit_code == 0
    history = json.loads(_enrich("settings", "history", "--json").output)
    assert [(entry["by"], entry["change"]) for entry in history][-1] == (
        "enrich live on (old)",
        None,  # not recorded then
    )
    assert history[0]["change"] == "is_saas.enabled: true -> false"
    shown = _enrich("settings", "history").output
    assert "live  by enrich live on (old)\n" in shown


@pytest.mark.e2e
def test_disabled_points_are_not_written_and_notes_hold_only_flagged_points(
    home: Path, demo_sites: DemoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _enrich("settings", "set", "is_saas", "--disable").exit_code == 0
    assert _enrich("settings", "set", "industry_category", "--attribute", "sector").exit_code == 0
    for key in ("value_proposition", "industry_category", "industry_subcategory",
                "target_market", "employee_count", "location_city"):  # fmt: skip
        assert _enrich("settings", "set", key, "--no-note").exit_code == 0
    # Only the country is left in the note.
    customers = demo_sites.write_customers(home / "customers.csv")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_pipeline(loopback_config(), customers_path=customers, source="demo").success
    names = {name for (name,) in _rows(home, "SELECT DISTINCT name FROM custom_attributes")}
    assert "is_saas_enriched" not in names
    assert "sector" in names and "industry_category_enriched" not in names
    values = _rows(home, "SELECT DISTINCT data_point FROM enrichment_values")
    assert ("is_saas",) not in values
    notes = [body for (body,) in _rows(home, "SELECT body FROM notes")]
    assert notes
    for body in notes:
        heading, *lines = body.splitlines()
        assert heading.startswith("Enrichment summary from http://127.0.")
        assert len(lines) == 1 and lines[0].startswith("- Location country code: ")


def test_credits_show_and_top_up(home: Path) -> None:
    shown = _enrich("credits")
    assert shown.exit_code == 0 and "credit balance: 100" in shown.output
    topped = _enrich("credits", "top-up", "25", "--note", "November invoice")
    assert topped.exit_code == 0 and "balance: 125" in topped.output
    assert "November invoice" in _enrich("credits").output
    refused = _enrich("credits", "top-up", "0")
    assert refused.exit_code == 2 and "a top-up must be a positive number of credits" in (
        refused.output
    )
    assert json.loads(_enrich("status", "--json").output)["credit_balance"] == 125


@pytest.mark.parametrize(
    ("amount", "named"), [("-5", "-5"), ("0", "0"), ("ten", "'ten'"), ("1.5", "'1.5'")]
)
def test_a_top_up_that_is_not_a_positive_whole_number_is_refused_in_one_line(
    home: Path, amount: str, named: str
) -> None:
    refused = _enrich("credits", "top-up", amount)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: a top-up must be a positive")
    assert refused.stderr.endswith(f"number of credits, not {named}\n")
    assert "Usage" not in refused.output
    assert json.loads(_enrich("status", "--json").output)["credit_balance"] == 100


def test_a_data_point_added_by_an_upgrade_gets_its_attribute_on_the_next_run(
    tmp_path: Path,
) -> None:
    from enrichment_pipelines.core.settings import ensure_settings

    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.migrate()
    with warehouse.transaction() as connection:
        ensure_settings(connection)
        # As an earlier version left it: settings saved without founded_year, no attribute.
        stored = json.loads(connection.execute(
            "SELECT value FROM settings WHERE key = 'enrichment'").fetchone()[0])  # fmt: skip
        del stored["data_points"]["founded_year"]
        connection.execute(
            "UPDATE settings SET value = ? WHERE key = 'enrichment'", [json.dumps(stored)]
        )
        connection.execute("DELETE FROM attribute_definitions WHERE name = 'founded_year_enriched'")

    with warehouse.transaction() as connection:
        settings, created = ensure_settings(connection)
        defined = connection.execute(
            "SELECT type FROM attribute_definitions WHERE name = 'founded_year_enriched'"
        ).fetchall()
        columns = [row[0] for row in connection.execute("DESCRIBE customer_360").fetchall()]

    assert not created and "founded_year" in settings.enabled_keys
    assert defined == [("Integer",)]
    assert "founded_year_enriched" in columns
