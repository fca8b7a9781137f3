"""The one base class of errors a user can cause and fix.

Each core module raises its own subclass (bad import file, settings, segment, ...) with a
message naming the record, field or line; the `enrich` command prints any of them as
`error: <message>` and exits with status 2, so no command handles them one by one.
"""


class EnrichError(Exception):
    """A problem the user can act on; the message says what and where."""
