"""Saved segments: named filters over customers, compiled to parameterised DuckDB SQL.

A segment is written as data (YAML or JSON), never as SQL:

    description: SaaS customers in the EU
    match:
      all:
        - {field: billing_country_code, op: in, value: [DE, FR, NL]}
        - {field: attributes.is_saas_enriched, op: "=", value: true}
        - any:
            - {field: tags, op: contains, value: vip}
            - {field: imported_at, op: after, value: "2026-01-01"}

A condition is a leaf `{field, op, value}` or `{all: [...]}`, `{any: [...]}`, `{not: ...}`.
Fields are the customer's own columns, `tags`, `attributes.<custom attribute>`,
`extra.<imported column>`, `last_enriched_at` and `last_outcome`. Field names and operators are
checked against fixed lists and only ever become SQL through code in `compiler`; every value
is a bound parameter. Comparisons never match an unknown (null) value: ask for it with `is null`.

`compiler` turns a definition into SQL (and says what in it is wrong); `store` keeps the saved
segments, their audit trail and who entered or left each one.
"""
