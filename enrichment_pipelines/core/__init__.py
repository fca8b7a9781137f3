"""The pure core: no Dagster here, so it is easy to test and reuse."""
