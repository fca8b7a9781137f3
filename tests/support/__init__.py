"""Helpers for the tests and `bench/`: the labelled development set, a local OpenAI-compatible
server, and a production-shaped Dagster instance. Not part of the installed package."""
