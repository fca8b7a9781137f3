"""Great Expectations suites and the asset checks built on them live here."""
