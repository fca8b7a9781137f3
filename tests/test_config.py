"""Configuration is read in one place, documented from that place, and the CLI and the Dagster
resources built from it agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from enrichment_pipelines.cli import main
from enrichment_pipelines.core.config import ConfigError, EnrichConfig, variables_markdown
from enrichment_pipelines.definitions import default_resources

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "enrichment_pipelines"
# The edges that may read the process environment: the configuration module, and the CLI's
# entry point (which hands it to EnrichConfig.load).
ENVIRONMENT_READERS = {PACKAGE / "core" / "config.py", PACKAGE / "cli" / "__init__.py"}


def test_only_the_config_module_and_the_cli_entry_read_the_environment() -> None:
    readers = {
        path
        for path in PACKAGE.rglob("*.py")
        if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))
    }
    assert readers <= ENVIRONMENT_READERS, sorted(map(str, readers - ENVIRONMENT_READERS))


def test_the_readme_table_of_variables_is_the_generated_one() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    table = re.search(
        r"<!-- config-table:start -->\n(.*?)\n<!-- config-table:end -->", readme, re.S
    )
    assert table, "README.md lost its config-table markers"
    assert table.group(1) == variables_markdown(), "regenerate it: enrich config variables"


def test_environment_overrides_the_settings_file_which_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[crawl]\nconcurrency = 8\nretries = 5\n[llm]\nmodel = "from-file"\n'
        "[quality]\ncompleteness = 0.5\n"
    )
    config = EnrichConfig.load(
        {"ENRICH_HOME": str(tmp_path), "ENRICH_CRAWL_RETRIES": "1", "ENRICH_LLM_MODEL": " "}
    )
    assert config.home == tmp_path
    assert config.crawl.concurrency == 8  # the file
    assert config.crawl.retries == 1  # the environment wins
    assert config.llm.model == "from-file"  # a blank variable does not count
    assert config.quality.completeness == 0.5
    assert config.crawl.request_timeout_seconds == 10.0  # the default
    assert config.warehouse_path == tmp_path / "warehouse.duckdb"


@pytest.mark.parametrize(
    ("environment", "file", "message"),
    [
        ({"ENRICH_CRAWL_CONCURRENCY": "many"}, "", "CONCURRENCY='many': expected a whole number"),
        ({"ENRICH_LLM_TIMEOUT_SECONDS": "-1"}, "", "SECONDS='-1': expected a number >= 0"),
        ({}, "[crawl]\nconcurency = 3\n", "unknown key crawl.concurency"),
        ({}, "[crawl]\nconcurrency = 'x'\n", "crawl.concurrency='x'"),
        ({}, "crawl = 3\n", "[crawl] must be a table"),
        ({}, '[llm]\napi_key = "sk-in-a-file"\n', "llm.api_key is a secret: set OPENAI_API_KEY"),
        ({}, "[crawl\n", "config.toml"),
    ],
)  # fmt: skip
def test_bad_values_name_the_variable_or_key(
    tmp_path: Path, environment: dict[str, str], file: str, message: str
) -> None:
    if file:
        (tmp_path / "config.toml").write_text(file)
    with pytest.raises(ConfigError, match=re.escape(message)):
        EnrichConfig.load({"ENRICH_HOME": str(tmp_path), **environment})


def test_a_missing_named_settings_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ENRICH_CONFIG names .* not a file"):
        EnrichConfig.load({"ENRICH_CONFIG": str(tmp_path / "nope.toml")})


def test_the_cli_reports_a_bad_configuration_as_an_error(home: Path) -> None:
    result = CliRunner().invoke(main, ["status"], env={"ENRICH_CRAWL_RETRIES": "twice"})
    assert result.exit_code == 2
    assert "error: ENRICH_CRAWL_RETRIES='twice'" in result.output


def test_secrets_stay_out_of_repr_and_config_show(home: Path) -> None:
    config = EnrichConfig.load({"OPENAI_API_KEY": "sk-live-very-secret"})
    assert "sk-live-very-secret" not in repr(config)
    result = CliRunner().invoke(
        main, ["config", "show", "--json"], env={"OPENAI_API_KEY": "sk-live-very-secret"}
    )
    assert result.exit_code == 0, result.output
    assert "sk-live-very-secret" not in result.output
    assert json.loads(result.output)["llm.api_key"] == "***"


PRICED = {
    "OPENAI_API_KEY": "sk-test",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    "ENRICH_LLM_MODEL": "priced-model",
    "ENRICH_LLM_INPUT_USD_PER_MILLION_TOKENS": "2.5",
    "ENRICH_LLM_OUTPUT_USD_PER_MILLION_TOKENS": "10",
    "ENRICH_QUALITY_COMPLETENESS": "0.5",
    "ENRICH_QUALITY_FRESHNESS_DAYS": "7",
}


def test_cli_and_dagster_resources_agree_on_prices_and_quality_targets(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PRICED.items():
        monkeypatch.setenv(name, value)
    config = EnrichConfig.load()
    # What the Dagster resources use, resolved as a run resolves them (the key via EnvVar).
    with dg.build_resources(default_resources(config)) as resources:
        dagster_llm = resources.extractor.get_extractor().options
        dagster_targets = resources.data_quality.targets()
    assert dagster_llm.api_key == "sk-test"
    assert (
        dagster_llm.input_usd_per_million_tokens,
        dagster_llm.output_usd_per_million_tokens,
    ) == (
        2.5,
        10.0,
    )
    assert dagster_llm == config.llm
    assert dagster_targets == config.quality

    # What the CLI uses: the same values, from the same configuration.
    shown = json.loads(CliRunner().invoke(main, ["config", "show", "--json"]).output)
    assert shown["llm.input_usd_per_million_tokens"] == 2.5
    assert shown["llm.output_usd_per_million_tokens"] == 10.0
    quality = CliRunner().invoke(main, ["quality", "--json"])
    assert quality.exit_code == 0, quality.output
    report = json.loads(quality.stdout)
    assert report["targets"]["completeness"] == 0.5
    assert report["targets"]["freshness_days"] == 7
