"""enrichment-pipelines: enrich customer records with facts read from their own websites."""

__version__ = "0.1.0"
