"""Audit export: byte-identical reruns, formula injection neutralised, manifest hash chain, exit codes."""

from __future__ import annotations

import csv
import hashlib
import json
import os

import pandas as pd
import pytest
from queries_tiny_lake import build

from queries.export import cell, neutralise, verify_folder, write_atomic
from stepscope import cli

ARGS = ["export-audit", "--domain", "pay", "--from", "2025-01-01", "--to", "2025-01-02"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("lake")
    lake = build(str(path))
    # an execution whose text fields try formula injection
    lake.write_partitioned(
        "executions",
        [
            {
                "execution_arn": "arn:aws:states:us-east-1:1:execution:pay-a:evil",
                "state_machine_arn": "x",
                "name": '=HYPERLINK("http://x")',
                "status": "FAILED",
                "error": "+cmd",
                "cause": "@SUM(A1)",
                "failed_state": "-2+3",
                "domain": "pay",
                "start_time": __import__("queries_tiny_lake").t(2, 23),
            }
        ],
        date_column="start_time",
    )
    return str(path)


def export(lake, out, *extra):
    return cli.main([*ARGS[:1], "--lake", lake, *ARGS[1:], "--out", str(out), *extra])


def test_neutralise_cells():
    assert [neutralise(s) for s in ("=1", "+1", "-1", "@a", "\tx", "\rx", "ok", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]
    assert cell(None) == "" and cell(True) == "true" and cell(7) == "7" and cell(-5) == "-5"


def test_export_is_deterministic_and_safe(lake, tmp_path):
    a, b = tmp_path / "a" / "audit.csv", tmp_path / "b" / "audit.csv"
    a.parent.mkdir()
    b.parent.mkdir()
    assert export(lake, a) == 0 and export(lake, b) == 0
    assert a.read_bytes() == b.read_bytes()
    rows = list(csv.DictReader(a.open(newline="")))
    assert len(rows) == 15 and rows[0]["name"] == "a1" and rows[0]["start"] == "2025-01-01T10:00:00.000Z"
    evil = rows[-1]
    assert (evil["name"], evil["error"], evil["cause"], evil["failed_state"]) == (
        '\'=HYPERLINK("http://x")',
        "'+cmd",
        "'@SUM(A1)",
        "'-2+3",
    )
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    m = json.loads((a.parent / "audit.csv.manifest.json").read_text())
    assert m["rows"] == 15 and m["sha256"] == hashlib.sha256(a.read_bytes()).hexdigest()
    assert m["arguments"]["domain"] == "pay" and m["previous_sha256"] is None


def test_manifest_chain_verifies_and_detects_tampering(lake, tmp_path):
    first, second = tmp_path / "jan1.csv", tmp_path / "jan2.csv"
    assert export(lake, first) == 0
    assert (
        cli.main(
            [
                "export-audit",
                "--lake",
                lake,
                "--domain",
                "pay",
                "--from",
                "2025-01-02",
                "--to",
                "2025-01-02",
                "--out",
                str(second),
            ]
        )
        == 0
    )
    m2 = json.loads((tmp_path / "jan2.csv.manifest.json").read_text())
    assert m2["previous_file"] == "jan1.csv"
    assert m2["previous_sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert verify_folder(tmp_path) == []
    first.write_bytes(first.read_bytes().replace(b"SUCCEEDED", b"FAILED", 1))
    assert any("jan1.csv: SHA-256 differs" in p for p in verify_folder(tmp_path))


def test_exit_codes(lake, tmp_path, capsys):
    assert cli.main(["export-audit", "--lake", str(tmp_path / "none"), *ARGS[1:], "--out", "x.csv"]) == 3
    assert "no lake" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults: {window: 9d}")
    assert export(lake, tmp_path / "o.csv", "--config", str(bad)) == 4
    assert "defaults.window" in capsys.readouterr().err
    assert export(lake, tmp_path / "missing-dir" / "o.csv") == 5
    assert not (tmp_path / "missing-dir").exists()
    assert (
        cli.main(
            [
                "export-audit",
                "--lake",
                lake,
                "--domain",
                "pay",
                "--from",
                "2025-01-02",
                "--to",
                "2025-01-01",
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    with pytest.raises(SystemExit) as e:
        cli.main(
            [
                "export-audit",
                "--lake",
                lake,
                "--domain",
                "pay",
                "--from",
                "soon",
                "--to",
                "2025-01-01",
                "--out",
                "o.csv",
            ]
        )
    assert e.value.code == 2


def test_an_unreachable_s3_lake_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys):
    from services import free_port, point_boto3_at

    point_boto3_at(f"http://127.0.0.1:{free_port()}", monkeypatch)  # nothing listens there
    for argv in (
        ["sla", "--lake", "s3://stepscope-lake/prod"],
        ["export-audit", "--lake", "s3://stepscope-lake/prod", *ARGS[1:], "--out", str(tmp_path / "o.csv")],
    ):
        assert cli.main(argv) == 3
        err = capsys.readouterr().err
        assert (
            err.startswith("stepscope: cannot read the lake at s3://stepscope-lake/prod: ")
            and err.count("\n") == 1
        )
    assert not (tmp_path / "o.csv").exists()


def test_write_atomic_leaves_no_temporary_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.csv"]


def test_sla_command_table_and_json(lake, capsys):
    assert cli.main(["sla", "--lake", lake, "--at", "2025-01-03", "--format", "json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["pay"]["executions"] == 14 and rows["pay"]["succeeded"] == 10  # 13 + the FAILED "evil" row
    assert cli.main(["sla", "--lake", lake, "--at", "2025-01-03"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["domain", "window", "executions"] and "pay" in out


def test_streamed_export_is_the_same_in_any_batch_size(lake, tmp_path):
    # the command streams Arrow batches; one row per batch, one batch, and the DataFrame path agree
    from datetime import timedelta

    from queries_tiny_lake import t

    import queries
    from queries import sla_config
    from queries.export import export_audit

    q = queries.connect(lake)
    cfg = sla_config.default()
    start, end = t(1, 0), t(3, 0)
    outs = []
    for i, rows in enumerate(
        [
            q.audit_batches("pay", start, end, cfg, batch_rows=1),
            q.audit_batches("pay", start, end, cfg, batch_rows=10_000),
            q.audit_rows("pay", start, end, cfg),
        ]
    ):
        out = tmp_path / str(i) / "audit.csv"
        out.parent.mkdir()
        m = export_audit(rows, out, {"domain": "pay"})
        assert m["rows"] == 15 and m["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
        outs.append(out.read_bytes())
    sizes = [b.num_rows for b in q.audit_batches("pay", start, end, cfg, batch_rows=4)]
    assert sum(sizes) == 15 and max(sizes) == 4 and len(sizes) >= 4
    assert outs[0] == outs[1] == outs[2]
    assert outs[0].count(b"\n") == 16 and b"'=HYPERLINK" in outs[0]
    cli_out = tmp_path / "cli.csv"
    assert export(lake, cli_out) == 0 and cli_out.read_bytes() == outs[0]
    # an empty period: the header alone, zero rows
    m = export_audit(
        q.audit_batches("pay", start, start + timedelta(minutes=1), cfg), tmp_path / "empty.csv", {}
    )
    assert m["rows"] == 0 and (tmp_path / "empty.csv").read_bytes().count(b"\n") == 1
    q.close()


def test_column_cells_match_cell_for_every_type():
    from datetime import UTC, datetime

    import pyarrow as pa

    from queries.export import column_cells

    texts = ["ok", None, "=1+1", "-x", "@a", "\tt", "\rr", "+", "a,b", 'q"uote', "é", ""]
    stamps = [
        datetime(2025, 1, 2, 3, 4, 5, 678999, tzinfo=UTC),
        None,
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    columns = [
        (pa.array(texts, pa.string()), texts),
        (pa.array(stamps, pa.timestamp("us", tz="UTC")), stamps),
        (
            pa.array(stamps, pa.timestamp("ms", tz="UTC")),
            [s.replace(microsecond=678000) if s and s.microsecond else s for s in stamps],
        ),
        (pa.array([True, None, False]), [True, None, False]),
        (pa.array([0, None, -5, 2**40], pa.int64()), [0, None, -5, 2**40]),
        (pa.array([1, None], pa.int32()), [1, None]),
        (pa.nulls(2), [None, None]),
    ]
    for arr, values in columns:
        assert column_cells(arr) == [cell(v) for v in values], arr.type
    assert column_cells(pa.array(stamps, pa.timestamp("us", tz="UTC")))[0] == "2025-01-02T03:04:05.678Z"


def test_audit_rows_limit_is_the_first_rows(lake):
    from queries_tiny_lake import t

    import queries

    q = queries.connect(lake)
    every = q.audit_rows("pay", t(1, 0), t(3, 0))
    first = q.audit_rows("pay", t(1, 0), t(3, 0), limit=3)
    assert list(first["execution_arn"]) == list(every["execution_arn"][:3])
    assert list(first.columns) == list(every.columns) and q.audit_rows("pay", t(1, 0), t(3, 0), limit=0).empty
    assert (
        q.audit_count("pay", t(1, 0), t(3, 0)) == len(every) == 15
        and q.audit_count("care", t(1, 0), t(1, 1)) == 0
    )
    with pytest.raises(ValueError, match="limit"):
        q.audit_rows("pay", t(1, 0), t(3, 0), limit=-1)
    with pytest.raises(ValueError, match="audit_batches"):
        q.audit_rows("pay", t(1, 0), t(3, 0), limit=10**6)
    q.close()


def test_audit_pages_follow_each_other_to_the_end(lake):
    from queries_tiny_lake import t

    import queries

    q = queries.connect(lake)
    every = q.audit_rows("pay", t(31, 0, month=12, year=2024), t(4, 0))
    pages, after = [], None
    while True:
        page = q.audit_rows("pay", t(31, 0, month=12, year=2024), t(4, 0), limit=4, after=after)
        if page.empty:
            break
        pages.append(page)
        after = (page["start_time"].iloc[-1], page["execution_arn"].iloc[-1])
    assert [len(p) for p in pages][:-1] == [4] * (len(pages) - 1) and len(pages) > 2
    paged = pd.concat(pages, ignore_index=True)
    assert list(paged["execution_arn"]) == list(every["execution_arn"]) and len(every) == 15

    def cells(df: pd.DataFrame) -> list[list[str]]:
        return df.astype(object).where(df.notna(), None).astype(str).values.tolist()

    assert cells(paged) == cells(every)
    q.close()


def test_batch_csv_quotes_like_the_csv_module():
    import pandas as pd
    import pyarrow as pa

    from queries.export import COLUMNS, batch_csv, csv_header, to_csv

    tricky = ["a,b", 'say "hi"', "line\nbreak", "cr\rhere", "=1,2", '"', "", None, "tab\tin", "ünï,cødé"]
    rows = {
        c: tricky
        for _, c in COLUMNS
        if c
        not in (
            "start_time",
            "stop_time",
            "duration_ms",
            "redrive_count",
            "event_count",
            "history_complete",
            "sla_met",
        )
    }
    batch = pa.RecordBatch.from_pydict(rows)
    assert csv_header() + batch_csv(batch) == to_csv(pd.DataFrame(rows))
