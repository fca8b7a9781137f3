from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from enrichment_pipelines.core.customers import ImportFileError, import_customers
from enrichment_pipelines.core.warehouse import Warehouse

GOOD_CSV = """id,name,website,email,country,tags,plan
1,Acme Analytics,acme-analytics.com,ap@acme.example,Germany,"vip;eu",pro
2,Globex,https://globex.example.org/,,US,,free
3,No Site Ltd,,,,,free
"""


def _rows(warehouse: Warehouse, sql: str) -> list[tuple]:
    with warehouse.connect() as connection:
        return connection.execute(sql).fetchall()


def test_imports_a_good_csv(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(GOOD_CSV)
    report = import_customers(warehouse, path, source="crm")
    assert (report.inserted, report.updated, report.rejected) == (3, 0, 0)
    rows = _rows(
        warehouse,
        "SELECT customer_id, website_url, website_domain, website_error, billing_country_code, "
        "extra->>'plan' FROM customers ORDER BY customer_id",
    )
    assert rows == [
        ("crm:1", "https://acme-analytics.com", "acme-analytics.com", None, "DE", "pro"),
        ("crm:2", "https://globex.example.org", "globex.example.org", None, "US", "free"),
        ("crm:3", None, None, "no website", None, "free"),
    ]
    assert _rows(warehouse, "SELECT tag FROM customer_tags ORDER BY tag") == [("eu",), ("vip",)]


def test_malformed_rows_are_reported_by_line_and_good_rows_imported(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,website\n"
        "1,Good One,good-one.com\n"
        ",Missing Id,missing-id.com\n"
        "3,Too,Many,Columns\n"
        "1,Duplicate,dup.com\n"
        "5,Bad Site,javascript:alert(1)\n"
        "\n"
        "6,Good Two,good-two.com\n"
    )
    report = import_customers(warehouse, path)
    problems = [(p.line, p.reason, p.rejected) for p in report.problems]
    assert problems == [
        (3, "missing id", True),
        (4, "expected 3 columns, found 4", True),
        (5, "duplicate id '1' (first on line 2)", True),
        (6, "customer 5: unsupported URL scheme 'javascript' (only http and https)", False),
    ]
    assert (report.inserted, report.rejected) == (3, 3)
    assert _rows(warehouse, "SELECT external_id FROM customers ORDER BY 1") == [
        ("1",),
        ("5",),
        ("6",),
    ]


def test_reimport_upserts_without_duplicates(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(GOOD_CSV)
    import_customers(warehouse, path)
    path.write_text("id,name,website\n1,Acme Renamed,acme.io\n4,New Co,newco.io\n")
    report = import_customers(warehouse, path)
    assert (report.inserted, report.updated) == (1, 1)
    assert _rows(warehouse, "SELECT count(*) FROM customers") == [(4,)]
    assert _rows(warehouse, "SELECT name, website_url FROM customers WHERE external_id = '1'") == [
        ("Acme Renamed", "https://acme.io")
    ]
    # Same ids from another source are other customers.
    import_customers(warehouse, path, source="billing")
    assert _rows(warehouse, "SELECT count(*) FROM customers") == [(6,)]


def test_a_second_import_of_the_same_records_changes_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,website,tags,plan,chartmogul_uuid\n"
        "1,Acme,acme.io,b;a,pro,cus_1\n2,Beta,beta.io,,free,\n"
    )
    import_customers(warehouse, path)
    before = _rows(warehouse, "SELECT * FROM customers ORDER BY 1")
    again = import_customers(warehouse, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert _rows(warehouse, "SELECT * FROM customers ORDER BY 1") == before  # updated_at too
    assert _rows(warehouse, "SELECT customer_id, chartmogul_uuid FROM customers ORDER BY 1") == [
        ("import:1", "cus_1"),
        ("import:2", None),
    ]
    # A change in any field, tags and extra columns included, is an update of that row alone.
    path.write_text(
        "id,name,website,tags,plan,chartmogul_uuid\n"
        "1,Acme,acme.io,a,pro,cus_1\n2,Beta,beta.io,,paid,\n"
    )
    changed = import_customers(warehouse, path)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 2, 0)
    assert _rows(warehouse, "SELECT tag FROM customer_tags") == [("a",)]


def test_jsonl_with_bad_lines(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text(
        json.dumps({"id": "a", "website": "a.example.com", "tags": ["x", "y"]})
        + "\n{not json\n[1, 2]\n"
        + json.dumps({"customer_id": 7, "url": "b.example.com"})
        + "\n"
    )
    report = import_customers(warehouse, path)
    assert [(p.line, p.reason.split(":")[0]) for p in report.problems] == [
        (2, "invalid JSON"),
        (3, "expected a JSON object"),
    ]
    assert _rows(warehouse, "SELECT external_id, website_url FROM customers ORDER BY 1") == [
        ("7", "https://b.example.com"),
        ("a", "https://a.example.com"),
    ]


def test_parquet(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    duckdb.sql(
        "SELECT * FROM (VALUES ('p1', 'Parquet Co', 'parquet.example.com'), "
        "('p2', 'Null Site', NULL)) t(external_id, name, website)"
    ).write_parquet(str(path))
    report = import_customers(warehouse, path)
    assert report.inserted == 2
    assert _rows(warehouse, "SELECT website_error FROM customers ORDER BY customer_id") == [
        (None,),
        ("no website",),
    ]


def test_nothing_written_when_every_row_is_bad(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text('id,name\n,No id\n"2,Broken quote\n')
    report = import_customers(warehouse, path)
    assert report.imported == 0
    assert report.rejected == 2
    assert _rows(warehouse, "SELECT count(*) FROM customers") == [(0,)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("customers.xlsx", "x", "unsupported file type .xlsx"),
        ("empty.csv", "", "the file is empty"),
        ("noid.csv", "name,website\nA,a.com\n", "no id column"),
        ("latin1.csv", b"id,n\xe4me\n1,M\xfcller\n", "line 1 .the header. is not UTF-8"),
    ],
)
def test_unusable_files_are_refused_whole(
    warehouse: Warehouse, tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ImportFileError, match=message):
        import_customers(warehouse, path)


def test_an_invalid_utf8_byte_rejects_only_its_row(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(
        b"id,name,website\n"
        b"1,Good One,good-one.com\n"
        b"2,M\xfcller GmbH,mueller.de\n"  # Latin-1, not UTF-8
        b'3,"Two\nLines \xe9",two-lines.com\n'  # the bad byte on the record's second line
        b"4,Caf\xc3\xa9 Good,cafe.com\n"  # valid UTF-8
    )
    report = import_customers(warehouse, path)
    assert [(p.line, p.reason, p.rejected) for p in report.problems] == [
        (3, "not UTF-8 text: byte 0xfc at column 4 (save the file as UTF-8)", True),
        (4, "not UTF-8 text: byte 0xe9 on line 5 at column 7 (save the file as UTF-8)", True),
    ]
    assert (report.inserted, report.rejected) == (2, 2)
    assert _rows(warehouse, "SELECT external_id, name FROM customers ORDER BY 1") == [
        ("1", "Good One"),
        ("4", "Café Good"),
    ]


def test_jsonl_invalid_utf8_line_is_rejected_alone(warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_bytes(b'{"id": "a", "name": "Ok"}\n{"id": "b", "name": "M\xfcller"}\n')
    report = import_customers(warehouse, path)
    assert [(p.line, p.reason) for p in report.problems] == [
        (2, "not UTF-8 text: byte 0xfc at column 23 (save the file as UTF-8)")
    ]
    assert _rows(warehouse, "SELECT external_id FROM customers") == [("a",)]


def test_unusable_website_forms_are_imported_with_the_reason(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    long_url = "https://example.com/" + "a" * 5000
    shorthand = ["http://127.1/", "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/"]
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,website\n"
        + f"long,{long_url}\n"
        + "".join(f"ip{n},{url}\n" for n, url in enumerate(shorthand))
    )
    report = import_customers(warehouse, path)
    assert report.inserted == 5 and report.rejected == 0
    assert [p.rejected for p in report.problems] == [False] * 5  # warnings
    # A shorthand address is written out; being private, it is imported with a warning that
    # names the setting, and checked again when it is fetched (under that run's settings).
    assert [p.reason for p in report.problems if p.reason.startswith("customer ip")] == [
        f"customer ip{n}: 127.0.0.1 is a private, loopback or link-local address; "
        "set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it"
        for n in range(4)
    ]
    assert _rows(
        warehouse, "SELECT external_id, website_url, website_error FROM customers ORDER BY 1"
    ) == [
        ("ip0", "http://127.0.0.1", None),
        ("ip1", "http://127.0.0.1", None),
        ("ip2", "http://127.0.0.1", None),
        ("ip3", "http://127.0.0.1", None),
        ("long", None, "website URL is too long: 5020 characters, at most 2048"),
    ]
