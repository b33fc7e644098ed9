"""Audit CSV: byte-identical reruns, formula injection neutralised, the columnar renderer against Python's
csv module row by row, exit codes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from queries_tiny_lake import build

from queries.export import COLUMNS, FORMULA_PREFIXES, csv_pieces
from stepscope import cli


# -- the reference: what each cell must be, written row by row with the csv module ----------------
def cell(value) -> str:
    """Empty for null, true/false, ISO 8601 UTC milliseconds (floored) with Z, text neutralised."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, datetime):
        ts = pd.Timestamp(value).tz_convert(UTC) if value.tzinfo else pd.Timestamp(value).tz_localize(UTC)
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return str(value)


def to_csv(rows: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([h for h, _ in COLUMNS])
    cols = [rows[c] if c in rows else pd.Series([None] * len(rows)) for _, c in COLUMNS]
    for values in zip(*cols, strict=True):
        w.writerow([cell(v) for v in values])
    return buf.getvalue().encode("utf-8")


def rendered(batches) -> bytes:
    return b"".join(bytes(data) for data, _ in csv_pieces(batches))


def only_csv(folder: Path) -> Path:
    (path,) = folder.rglob("*.csv")
    return path


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


def test_the_reference_cells():
    assert [cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "ok", "")] == [
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
    a, b = tmp_path / "a", tmp_path / "b"
    assert export(lake, a) == 0 and export(lake, b) == 0
    csv_a = a / "pay" / "2025-01-01_2025-01-02.csv"
    assert csv_a.read_bytes() == only_csv(b).read_bytes()
    rows = list(csv.DictReader(csv_a.open(newline="")))
    assert len(rows) == 15 and rows[0]["name"] == "a1" and rows[0]["start"] == "2025-01-01T10:00:00.000Z"
    evil = rows[-1]
    assert (evil["name"], evil["error"], evil["cause"], evil["failed_state"]) == (
        '\'=HYPERLINK("http://x")',
        "'+cmd",
        "'@SUM(A1)",
        "'-2+3",
    )
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    m = json.loads(csv_a.with_name(csv_a.name + ".manifest.json").read_text())
    assert m["rows"] == 15 and m["sha256"] == hashlib.sha256(csv_a.read_bytes()).hexdigest()
    assert m["arguments"]["domain"] == "pay" and m["previous"] is None and m["sequence"] == 1


def test_exit_codes(lake, tmp_path, capsys):
    assert cli.main(["export-audit", "--lake", str(tmp_path / "none"), *ARGS[1:], "--out", "x"]) == 3
    assert "no lake" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults: {window: 9d}")
    assert export(lake, tmp_path / "o", "--config", str(bad)) == 4
    assert "defaults.window" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert export(lake, blocker) == 5  # the destination cannot be written
    assert "cannot write to" in capsys.readouterr().err and blocker.read_text() == "not a folder"
    assert export(lake, tmp_path / "o.csv") == 2
    assert "--out is a folder" in capsys.readouterr().err
    argv = ["export-audit", "--lake", lake, "--domain", "pay", "--out", str(tmp_path / "o")]
    assert cli.main([*argv, "--from", "2025-01-02", "--to", "2025-01-01"]) == 2
    assert "the period is empty" in capsys.readouterr().err
    assert cli.main(argv) == 2 and "give --period" in capsys.readouterr().err
    assert cli.main([*argv, "--period", "yesterday", "--from", "2025-01-01", "--to", "2025-01-02"]) == 2
    assert cli.main([*argv, "--period", "yesterday", "--tz", "Mars/Olympus"]) == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "--from", "soon", "--to", "2025-01-01"])
    assert e.value.code == 2
    assert not (tmp_path / "o").exists()


def test_an_unknown_domain_is_exit_2_not_an_empty_file(lake, tmp_path, capsys):
    argv = [
        "export-audit",
        "--lake",
        lake,
        "--domain",
        "nosuch",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-02",
    ]
    assert cli.main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert (
        capsys.readouterr().err == "stepscope: no domain called 'nosuch' in the lake (domains: care, pay)\n"
    )
    assert not (tmp_path / "o").exists()


def test_an_unreachable_s3_lake_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys):
    from services import free_port, point_boto3_at

    point_boto3_at(f"http://127.0.0.1:{free_port()}", monkeypatch)  # nothing listens there
    for argv in (
        ["sla", "--lake", "s3://stepscope-lake/prod"],
        ["export-audit", "--lake", "s3://stepscope-lake/prod", *ARGS[1:], "--out", str(tmp_path / "o")],
    ):
        assert cli.main(argv) == 3
        err = capsys.readouterr().err
        assert (
            err.startswith("stepscope: cannot read the lake at s3://stepscope-lake/prod: ")
            and err.count("\n") == 1
        )
    assert not (tmp_path / "o").exists()


def test_sla_command_table_and_json(lake, capsys):
    assert cli.main(["sla", "--lake", lake, "--at", "2025-01-03", "--format", "json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["pay"]["executions"] == 14 and rows["pay"]["succeeded"] == 10  # 13 + the FAILED "evil" row
    assert cli.main(["sla", "--lake", lake, "--at", "2025-01-03"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["domain", "window", "executions"] and "pay" in out


def test_streamed_export_is_the_same_in_any_batch_size(lake, tmp_path):
    # the command streams Arrow batches; one row per batch, one batch, and the csv module row by row agree
    from datetime import timedelta

    from queries_tiny_lake import t

    import queries
    from queries import sla_config

    q = queries.connect(lake)
    cfg = sla_config.default()
    start, end = t(1, 0), t(3, 0)
    one = rendered(q.audit_batches("pay", start, end, cfg, batch_rows=1))
    whole = rendered(q.audit_batches("pay", start, end, cfg, batch_rows=10_000))
    assert one == whole == to_csv(q.audit_rows("pay", start, end, cfg))
    sizes = [b.num_rows for b in q.audit_batches("pay", start, end, cfg, batch_rows=4)]
    assert sum(sizes) == 15 and max(sizes) == 4 and len(sizes) >= 4
    assert one.count(b"\n") == 16 and b"'=HYPERLINK" in one
    assert export(lake, tmp_path / "cli") == 0 and only_csv(tmp_path / "cli").read_bytes() == one
    # an empty period: the header alone
    empty = rendered(q.audit_batches("pay", start, start + timedelta(minutes=1), cfg))
    assert empty.count(b"\n") == 1 and empty.startswith(b"account,region,domain,")
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
    import pyarrow as pa

    from queries.export import batch_csv, csv_header

    tricky = ["a,b", 'say "hi"', "line\nbreak", "cr\rhere", "=1,2", '"', "", None, "tab\tin", "ünï,cødé"]
    plain = ["arn:aws:states:x", "ok", "", None, "ünï", "b", "c", "d", "e", "f"]
    numeric = (
        "start_time",
        "stop_time",
        "duration_ms",
        "redrive_count",
        "event_count",
        "history_complete",
        "sla_met",
    )
    text = [c for _, c in COLUMNS if c not in numeric]
    for values in (tricky, plain, [*tricky[:5], *plain[5:]]):
        rows = {c: values for c in text}
        batch = pa.RecordBatch.from_pydict(rows)
        assert csv_header() + bytes(batch_csv(batch)) == to_csv(pd.DataFrame(rows)), values


def test_the_preview_frame_is_the_csv(lake):
    """The page's preview: the CSV's header as columns, the CSV's cells as values."""
    from queries_tiny_lake import t

    import queries
    from queries.export import csv_frame

    q = queries.connect(lake)
    rows = q.audit_rows("pay", t(1, 0), t(3, 0), limit=50)
    frame = csv_frame(rows)
    lines = list(csv.reader(io.StringIO(to_csv(rows).decode())))
    assert list(frame.columns) == lines[0] and frame.values.tolist() == lines[1:]
    q.close()


def test_timestamp_cells_are_arrows_own_text_of_the_time():
    """The digit-by-digit timestamp cells against Arrow's timestamp cast, over the years 0 to 9999,
    in every unit, with nulls and sliced arrays."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from queries.export import column_cells

    def arrow_text(arr: pa.Array) -> list[str]:
        if arr.type.unit == "ns":
            arr = pc.floor_temporal(arr, unit="microsecond")
        us = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        ms = pa.array(
            np.floor_divide(us.fill_null(0).to_numpy(), 1000),
            pa.timestamp("ms"),
            mask=np.asarray(us.is_null()),
        )
        return [
            f"{s.replace(' ', 'T', 1)}Z" if s is not None else "" for s in ms.cast(pa.string()).to_pylist()
        ]

    rng = np.random.default_rng(7)
    first_s, last_s = -62_167_219_200, 253_402_300_799  # 0000-01-01 .. 9999-12-31T23:59:59
    for unit, per_s in (("s", 1), ("ms", 1000), ("us", 10**6), ("ns", 10**9)):
        lo, hi = max(first_s * per_s, -(2**62)), min(last_s * per_s, 2**62)
        values = rng.integers(lo, hi, 3000)
        arr = pa.array(values, pa.timestamp(unit, tz="UTC"), mask=rng.random(3000) < 0.1)
        for part in (arr, arr.slice(5, 2000), arr.slice(0, 0)):
            assert column_cells(part) == arrow_text(part), unit
    with pytest.raises(ValueError, match="years 0 to 9999"):
        column_cells(pa.array([last_s + 1], pa.timestamp("s", tz="UTC")))


def test_dictionary_columns_render_as_their_values():
    import pyarrow as pa

    from queries.export import batch_csv

    values = ["a,b", 'say "hi"', "line\nbreak", "=1", None, "", "a,b", "plain", None, "=1"]
    plain = pa.RecordBatch.from_pydict({c: values for c in ("account_id", "error", "cause", "name")})
    encoded = pa.RecordBatch.from_arrays(
        [
            plain.column(0).dictionary_encode(),
            plain.column(1).dictionary_encode(),
            plain.column(2),
            plain.column(3),
        ],
        names=plain.schema.names,
    )
    assert (
        bytes(batch_csv(encoded))
        == bytes(batch_csv(plain))
        == to_csv(pd.DataFrame(plain.to_pydict())).split(b"\n", 1)[1]
    )
