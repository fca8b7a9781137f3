"""Connectors to the systems customers come from and enrichments go to: one package each
(`chartmogul/`), pure Python like the core, used by the CLI and the Dagster assets alike."""
