"""The one place configuration is read: the environment and the optional settings file.

`EnrichConfig.load()` is called at the edges only (the `enrich` command's entry point and the
Dagster definitions); everything below them takes the values it needs as arguments, so the CLI
and the Dagster resources are built from the same object and cannot disagree.

Each value has a default here, may be set in the settings file (TOML, `$ENRICH_HOME/config.toml`
or the file named by `ENRICH_CONFIG`, one table per section: `[crawl]`, `[llm]`, ...), and may
be overridden by its environment variable. `variables_markdown()` renders the table the README
shows, so documentation and code are one list.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enrichment_pipelines.core.errors import EnrichError

DEFAULT_HOME = ".enrich"
SETTINGS_FILE_NAME = "config.toml"
SECRET_MASK = "***"


class ConfigError(EnrichError):
    """A configuration value that cannot be used; the message names the variable or key."""


def setting(default: Any, env: str, doc: str, *, secret: bool = False) -> Any:
    """A configuration field: its default, its environment variable and what it does."""
    # A secret stays out of repr(), hence out of logs and tracebacks.
    return field(
        default=default, repr=not secret, metadata={"env": env, "doc": doc, "secret": secret}
    )


@dataclass(frozen=True)
class CrawlConfig:
    """How websites are fetched."""

    concurrency: int = setting(
        32,
        "ENRICH_CRAWL_CONCURRENCY",
        "Requests in flight across all sites.",
    )
    max_fact_pages: int = setting(
        5,
        "ENRICH_CRAWL_MAX_FACT_PAGES",
        "Fact pages (about, pricing, contact, careers, imprint) read per site besides the "
        "home page.",
    )
    request_timeout_seconds: float = setting(
        10.0,
        "ENRICH_CRAWL_REQUEST_TIMEOUT_SECONDS",
        "Time limit of one request.",
    )
    site_budget_seconds: float = setting(
        60.0,
        "ENRICH_CRAWL_SITE_BUDGET_SECONDS",
        "Time limit of one site's whole crawl.",
    )
    per_host_delay_seconds: float = setting(
        0.1,
        "ENRICH_CRAWL_PER_HOST_DELAY_SECONDS",
        "Pause between two requests to one host (robots.txt Crawl-delay can raise it).",
    )
    retries: int = setting(
        2,
        "ENRICH_CRAWL_RETRIES",
        "Further attempts after a transient failure (429, 5xx, time-out).",
    )
    max_page_age_hours: float = setting(
        24.0,
        "ENRICH_CRAWL_MAX_PAGE_AGE_HOURS",
        "Pages younger than this are not fetched again.",
    )
    allowed_private_networks: str = setting(
        "",
        "ENRICH_ALLOW_PRIVATE_NETWORKS",
        "Private networks that may be fetched: `1` for all, or CIDR ranges separated by "
        "commas. None by default (SSRF guard).",
    )


@dataclass(frozen=True)
class LLMConfig:
    """The LLM extractor, behind any OpenAI-compatible endpoint. Without an API key the
    offline extractor is used."""

    api_key: str = setting(
        "",
        "OPENAI_API_KEY",
        "API key of the OpenAI-compatible endpoint; empty: offline extractor.",
        secret=True,
    )
    base_url: str = setting(
        "",
        "OPENAI_BASE_URL",
        "Endpoint URL; empty: the OpenAI API.",
    )
    model: str = setting(
        "gpt-4o-mini",
        "ENRICH_LLM_MODEL",
        "Model name.",
    )
    input_usd_per_million_tokens: float = setting(
        0.15,
        "ENRICH_LLM_INPUT_USD_PER_MILLION_TOKENS",
        "Price of prompt tokens, for the cost recorded per extraction.",
    )
    output_usd_per_million_tokens: float = setting(
        0.60,
        "ENRICH_LLM_OUTPUT_USD_PER_MILLION_TOKENS",
        "Price of completion tokens.",
    )
    timeout_seconds: float = setting(
        60.0,
        "ENRICH_LLM_TIMEOUT_SECONDS",
        "Time limit of one request to the endpoint.",
    )
    max_retries: int = setting(
        3,
        "ENRICH_LLM_MAX_RETRIES",
        "Retries after 429, 5xx or a time-out (Retry-After honoured).",
    )
    concurrency: int = setting(
        4,
        "ENRICH_LLM_CONCURRENCY",
        "Sites whose calls may be in flight at once.",
    )
    prompt_token_budget: int = setting(
        2500,
        "ENRICH_LLM_PROMPT_TOKEN_BUDGET",
        "Tokens of page excerpts sent per site when every field is asked (fewer for fewer).",
    )
    trust_offline_at: float = setting(
        0.8,
        "ENRICH_LLM_TRUST_OFFLINE_AT",
        "Hybrid extraction: a field the offline extractor found with at least this confidence "
        "is kept without asking the model (a site with every field so found makes no call); "
        "above 1: every field is asked, one call per site.",
    )
    max_completion_tokens: int = setting(
        1500,
        "ENRICH_LLM_MAX_COMPLETION_TOKENS",
        "Longest reply asked for.",
    )
    call_deadline_seconds: float = setting(
        60.0,
        "ENRICH_LLM_CALL_DEADLINE_SECONDS",
        "Time limit of one call to the endpoint from start to last byte, however slowly the "
        "server answers.",
    )
    site_deadline_seconds: float = setting(
        90.0,
        "ENRICH_LLM_SITE_DEADLINE_SECONDS",
        "Time limit of one site's LLM extraction, retries and their waits included.",
    )
    breaker_failures: int = setting(
        5,
        "ENRICH_LLM_BREAKER_FAILURES",
        "Sites failed in a row after which the endpoint is not called for the cool-down; 0: never.",
    )
    breaker_cooldown_seconds: float = setting(
        300.0,
        "ENRICH_LLM_BREAKER_COOLDOWN_SECONDS",
        "How long the endpoint is not called after those failures (sites get the offline "
        "result, marked failed so that the next run asks the LLM); then one site tries it.",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.api_key)


@dataclass(frozen=True)
class QualityTargets:
    """Targets of the data quality checks (shares are 0..1)."""

    completeness: float = setting(
        0.85,
        "ENRICH_QUALITY_COMPLETENESS",
        "Overall share of data point values present in enriched records (each data point also "
        "has its own target, in the data point registry).",
    )
    freshness_days: int = setting(
        30,
        "ENRICH_QUALITY_FRESHNESS_DAYS",
        "Age under which an enrichment counts as fresh.",
    )
    freshness: float = setting(
        0.95,
        "ENRICH_QUALITY_FRESHNESS",
        "Share of current enrichments that are fresh.",
    )
    uniqueness: float = setting(
        0.99,
        "ENRICH_QUALITY_UNIQUENESS",
        "Share of customers with exactly one current enrichment.",
    )
    domain_agreement: float = setting(
        0.95,
        "ENRICH_QUALITY_DOMAIN_AGREEMENT",
        "Share of customers sharing a website domain whose values agree.",
    )
    country_match: float = setting(
        0.80,
        "ENRICH_QUALITY_COUNTRY_MATCH",
        "Share where the enriched country equals the billing country (both known).",
    )


@dataclass(frozen=True)
class ServeConfig:
    """`enrich serve`: the HTTP API and the staff page."""

    read_staleness_seconds: float = setting(
        1.0,
        "ENRICH_SERVE_READ_STALENESS_SECONDS",
        "How far behind the warehouse the API's and staff page's reads may be: they read an "
        "in-memory copy taken again at most this often, so they never wait on a run's writes "
        "(a user's own changes show at once); 0: every read is current, waiting while a run "
        "writes.",
    )
    workers: int = setting(
        2,
        "ENRICH_SERVE_WORKERS",
        "Server processes answering requests (each holds its own copy of the served tables); "
        "one per core is a good figure.",
    )


@dataclass(frozen=True)
class ChartMogulConfig:
    """ChartMogul as a source of customers and a sink of enriched attributes and notes."""

    api_key: str = setting(
        "",
        "CHARTMOGUL_API_KEY",
        "ChartMogul API key (sent as HTTP Basic user name); never logged.",
        secret=True,
    )
    api_base: str = setting(
        "https://api.chartmogul.com",
        "CHARTMOGUL_API_BASE",
        "ChartMogul API address (tests point it at a local server).",
    )
    requests_per_second: float = setting(
        20.0,
        "ENRICH_CHARTMOGUL_REQUESTS_PER_SECOND",
        "Requests sent per second at most (ChartMogul allows 40).",
    )
    max_retries: int = setting(
        4,
        "ENRICH_CHARTMOGUL_MAX_RETRIES",
        "Retries after 429 or 5xx (Retry-After honoured) or a time-out.",
    )
    timeout_seconds: float = setting(
        30.0,
        "ENRICH_CHARTMOGUL_TIMEOUT_SECONDS",
        "Time limit of one request.",
    )


@dataclass(frozen=True)
class EnrichConfig:
    """Everything the engine is configured with."""

    home: Path = setting(
        Path(DEFAULT_HOME),
        "ENRICH_HOME",
        "Folder of the warehouse, the analysts' copy, reports and the settings file.",
    )
    taxonomy_path: Path | None = setting(
        None,
        "ENRICH_TAXONOMY",
        "A user's industry taxonomy (YAML) instead of the bundled one.",
    )
    fingerprints_path: Path | None = setting(
        None,
        "ENRICH_TECH_FINGERPRINTS",
        "A user's technology fingerprints (Wappalyzer's JSON format), added over the bundled ones.",
    )
    customers_path: Path | None = setting(
        None,
        "ENRICH_CUSTOMERS_PATH",
        "File the `customers` asset imports when its run config names none.",
    )
    warehouse_lock_timeout_seconds: float = setting(
        120.0,
        "ENRICH_WAREHOUSE_LOCK_TIMEOUT_SECONDS",
        "How long a write waits while another process holds the warehouse.",
    )
    dagster_home: Path | None = setting(
        None,
        "DAGSTER_HOME",
        "Dagster instance folder for runs the CLI starts in process; empty: an ephemeral instance.",
    )
    dagster_webserver_url: str = setting(
        "http://127.0.0.1:3000",
        "DAGSTER_WEBSERVER_URL",
        "Dagster webserver on which `enrich batch` launches backfills.",
    )
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    quality: QualityTargets = field(default_factory=QualityTargets)
    serve: ServeConfig = field(default_factory=ServeConfig)
    chartmogul: ChartMogulConfig = field(default_factory=ChartMogulConfig)

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def analytics_path(self) -> Path:
        """The read-only copy of the warehouse that analysts query (refreshed after runs)."""
        return self.home / "analytics.duckdb"

    @property
    def quality_report_path(self) -> Path:
        """The self-contained HTML data quality report."""
        return self.home / "reports" / "quality.html"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> EnrichConfig:
        """Defaults, then the settings file, then the environment (the last word)."""
        environ = os.environ if environ is None else environ
        home = Path(environ.get("ENRICH_HOME") or DEFAULT_HOME).expanduser()
        named = environ.get("ENRICH_CONFIG", "").strip()
        path = Path(named).expanduser() if named else home / SETTINGS_FILE_NAME
        document: dict[str, Any] = {}
        if path.is_file():
            try:
                document = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise ConfigError(f"settings file {path}: {error}") from error
        elif named:
            raise ConfigError(f"ENRICH_CONFIG names {path}, which is not a file")
        return _build(cls, document, environ, str(path), prefix="")

    def redacted(self) -> dict[str, Any]:
        """The values in force, secrets masked (for `enrich config show`)."""
        return {
            name: (SECRET_MASK if secret and value else _plain(value))
            for name, value, secret in _values(self, "")
        }


def machine_cache_dir() -> Path | None:
    """Where data derived from installed packages is kept for every process on this machine
    (the city index): `$XDG_CACHE_HOME/enrichment-pipelines`, by default under `~/.cache`;
    None for a user without a home folder. It holds nothing of any customer, so `enrich
    forget` has nothing to do there."""
    named = os.environ.get("XDG_CACHE_HOME", "")
    if Path(named).is_absolute():  # a relative one is to be ignored (the XDG specification)
        return Path(named) / "enrichment-pipelines"
    try:
        return Path.home() / ".cache" / "enrichment-pipelines"
    except RuntimeError:  # no HOME and no entry in the password database
        return None


def _build(
    kind: type, document: Mapping[str, Any], environ: Mapping[str, str], source: str, prefix: str
) -> Any:
    hints = typing.get_type_hints(kind)
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(f"settings file {source}: unknown key {prefix}{unknown[0]}")
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(kind):
        hint = hints[spec.name]
        if dataclasses.is_dataclass(hint):
            section = document.get(spec.name, {})
            if not isinstance(section, dict):
                raise ConfigError(f"settings file {source}: [{prefix}{spec.name}] must be a table")
            values[spec.name] = _build(hint, section, environ, source, f"{spec.name}.")
            continue
        variable = spec.metadata["env"]
        if spec.metadata["secret"] and spec.name in document:
            # A secret in a file ends up in backups and screenshots: environment only.
            raise ConfigError(
                f"settings file {source}: {prefix}{spec.name} is a secret: set {variable} in "
                "the environment instead"
            )
        if environ.get(variable, "").strip():
            values[spec.name] = _convert(hint, environ[variable].strip(), variable)
        elif spec.name in document:
            values[spec.name] = _convert(hint, document[spec.name], f"{prefix}{spec.name}")
    return kind(**values)


def _convert(hint: Any, raw: object, name: str) -> Any:
    """`raw` (text from the environment, or a TOML value) as the field's type."""
    base = next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint)
    try:
        if base is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
        if base in (int, float):
            if isinstance(raw, bool):
                raise ValueError
            number = base(raw)
            if number < 0:
                raise ValueError
            return number
        if base is Path:
            return Path(str(raw)).expanduser() if str(raw) else None
        return str(raw)
    except (TypeError, ValueError):
        expected = {int: "a whole number >= 0", float: "a number >= 0"}.get(base, base.__name__)
        raise ConfigError(f"{name}={raw!r}: expected {expected}") from None


def _values(config: Any, prefix: str) -> Iterator[tuple[str, Any, bool]]:
    for spec in dataclasses.fields(config):
        value = getattr(config, spec.name)
        if dataclasses.is_dataclass(value):
            yield from _values(value, f"{prefix}{spec.name}.")
        else:
            yield f"{prefix}{spec.name}", value, spec.metadata.get("secret", False)


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Path) else value


def env_var(section: type, name: str) -> str:
    """The environment variable that sets field `name` of `section`: messages name what to
    set without repeating the variable's spelling."""
    return next(spec.metadata["env"] for spec in dataclasses.fields(section) if spec.name == name)


def variables() -> Iterator[tuple[str, str, object, str]]:
    """(environment variable, settings-file key, default, description) of every value."""
    defaults = EnrichConfig()
    fields_by_key = dict(_fields_by_key(EnrichConfig, ""))
    for key, default, _secret in _values(defaults, ""):
        spec = fields_by_key[key]
        yield spec.metadata["env"], key, default, spec.metadata["doc"]


def _fields_by_key(kind: type, prefix: str) -> Iterator[tuple[str, dataclasses.Field[Any]]]:
    """(settings-file key, field) of every value of `kind`, its sections' values included."""
    hints = typing.get_type_hints(kind)
    for spec in dataclasses.fields(kind):
        if dataclasses.is_dataclass(hints[spec.name]):
            yield from _fields_by_key(hints[spec.name], f"{prefix}{spec.name}.")
        else:
            yield f"{prefix}{spec.name}", spec


def variables_markdown() -> str:
    """The README's table of configuration values."""
    lines = [
        "| variable | settings file key | default | what it sets |",
        "|---|---|---|---|",
    ]
    for variable, key, default, doc in variables():
        shown = "(none)" if default in (None, "") else f"`{default}`"
        lines.append(f"| `{variable}` | `{key}` | {shown} | {doc} |")
    return "\n".join(lines)
