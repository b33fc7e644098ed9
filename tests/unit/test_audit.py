"""Scheduled audit exports: relative periods in a time zone, file names, idempotent re-runs, late-data
revisions, a chain per series, Ed25519 signatures, and verify-audit catching every kind of tampering."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from queries_tiny_lake import build, executions, t

from queries.audit import period
from queries.audit.sign import Ed25519Signer, signed_message
from queries.audit.verify import scan_csv
from stepscope import cli

MANIFEST = ".manifest.json"


# -- periods --------------------------------------------------------------------------------------
def _bounds(p: period.Period) -> tuple[str, str]:
    return p.start.astimezone(UTC).isoformat(), p.end.astimezone(UTC).isoformat()


def test_yesterday_is_the_day_before_today_where_the_schedule_runs():
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 21:00 on 30 Nov in New York
    utc = period.relative("yesterday", "UTC", now)
    ny = period.relative("yesterday", "America/New_York", now)
    assert (utc.label, _bounds(utc)) == (
        "2026-11-30",
        ("2026-11-30T00:00:00+00:00", "2026-12-01T00:00:00+00:00"),
    )
    assert (ny.label, _bounds(ny)) == (
        "2026-11-29",
        ("2026-11-29T05:00:00+00:00", "2026-11-30T05:00:00+00:00"),
    )
    # the day the clocks go forward in Paris has 23 hours
    dst = period.relative("yesterday", "Europe/Paris", datetime(2026, 3, 30, 5, 0, tzinfo=UTC))
    assert _bounds(dst) == ("2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00")
    assert (
        dst.as_dict()["start"] == "2026-03-29T00:00:00+01:00"
        and dst.as_dict()["end_utc"] == "2026-03-29T22:00:00Z"
    )


def test_weeks_months_and_explicit_bounds():
    wed = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    week = period.relative("last-week", "UTC", wed)
    assert (week.label, _bounds(week)) == (
        "2026-W48",
        ("2026-11-23T00:00:00+00:00", "2026-11-30T00:00:00+00:00"),
    )
    seven = period.relative("last-7d", "UTC", wed)
    assert (seven.label, _bounds(seven)[0]) == ("7d-to-2026-12-01", "2026-11-25T00:00:00+00:00")
    jan = period.relative("last-month", "UTC", datetime(2026, 1, 15, tzinfo=UTC))
    assert (jan.label, _bounds(jan)) == (
        "2025-12",
        ("2025-12-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
    )
    mtd = period.relative("month-to-date", "UTC", wed)
    assert (mtd.label, _bounds(mtd)) == ("2026-12-mtd", ("2026-12-01T00:00:00+00:00", wed.isoformat()))
    days = period.explicit(date(2026, 11, 3), date(2026, 11, 5))
    assert (days.label, _bounds(days)[1]) == ("2026-11-03_2026-11-05", "2026-11-06T00:00:00+00:00")
    times = period.explicit(datetime(2026, 11, 3, 12, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    assert times.label == "20261103T120000Z_20261105T000000Z" and times.kind == "custom"
    assert period.audit_path("pay/ments", jan, 2) == "pay_ments/2025-12.r2.csv"
    with pytest.raises(ValueError, match="unknown period"):
        period.relative("fortnight")


# -- the command ------------------------------------------------------------------------------------
@pytest.fixture
def lake(tmp_path):
    return build(str(tmp_path / "lake"))


@pytest.fixture
def key(tmp_path) -> tuple[Path, Path]:
    assert cli.main(["keygen", "--out", str(tmp_path / "signer")]) == 0
    return tmp_path / "signer.key", tmp_path / "signer.pub"


def export(lake, out, *extra: str) -> int:
    return cli.main(["export-audit", "--lake", lake.uri, "--domain", "pay", "--out", str(out), *extra])


def verify(target, *extra: str) -> int:
    return cli.main(["verify-audit", str(target), *extra])


def daily(lake, out, key, days=(2, 3, 4)) -> None:
    """Three runs of a daily schedule at 06:00 UTC: the chain of 1, 2 and 3 January."""
    for d in days:
        assert (
            export(
                lake, out, "--period", "yesterday", "--at", f"2025-01-0{d}T06:00Z", "--signing-key", str(key)
            )
            == 0
        )


def test_yesterday_in_a_time_zone_exports_that_local_day(lake, tmp_path):
    at = "2025-01-02T20:00Z"  # noon on 2 January in Los Angeles
    assert (
        export(lake, tmp_path / "la", "--period", "yesterday", "--tz", "America/Los_Angeles", "--at", at) == 0
    )
    assert export(lake, tmp_path / "utc", "--period", "yesterday", "--at", at) == 0
    la = tmp_path / "la" / "pay" / "2025-01-01.csv"
    m = json.loads(la.with_name(la.name + MANIFEST).read_text())
    assert (m["period"]["start"], m["period"]["end"]) == (
        "2025-01-01T00:00:00-08:00",
        "2025-01-02T00:00:00-08:00",
    )

    def expected(lo: datetime, hi: datetime) -> list[str]:
        return sorted(r["name"] for r in executions() if r["domain"] == "pay" and lo <= r["start_time"] < hi)

    names = sorted(r["name"] for r in csv.DictReader(la.open(newline="")))
    assert names == expected(t(1, 8), t(2, 8)) and {"a1", "b1"} <= set(names)  # b1 started 19:00 local
    utc = [r["name"] for r in csv.DictReader((tmp_path / "utc" / "pay" / "2025-01-01.csv").open(newline=""))]
    assert sorted(utc) == expected(t(1, 0), t(2, 0)) and "b1" not in utc


def test_a_rerun_of_a_closed_period_is_the_same_bytes_and_no_new_link(lake, tmp_path, key, capsys):
    out = tmp_path / "out"
    daily(lake, out, key[0], days=(2,))
    first = {p.name: p.read_bytes() for p in (out / "pay").iterdir()}
    capsys.readouterr()
    daily(lake, out, key[0], days=(2,))
    assert "unchanged (revision 1): nothing written" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (out / "pay").iterdir()} == first
    assert verify(out, "--public-key", str(key[1])) == 0


def test_late_data_makes_a_new_revision_that_says_so(lake, tmp_path, key, capsys):
    out = tmp_path / "out"
    daily(lake, out, key[0], days=(2, 3))
    late = {**executions()[0], "execution_arn": executions()[0]["execution_arn"] + "-late", "name": "late"}
    lake.write_partitioned("executions", [late], date_column="start_time")
    capsys.readouterr()
    daily(lake, out, key[0], days=(2,))
    assert "revision 2, link 3 of pay/yesterday: late data" in capsys.readouterr().err
    m1 = json.loads((out / "pay" / f"2025-01-01.csv{MANIFEST}").read_text())
    m2 = json.loads((out / "pay" / f"2025-01-01.r2.csv{MANIFEST}").read_text())
    assert (m2["revision"], m2["sequence"], m2["rows"]) == (2, 3, m1["rows"] + 1)
    assert m2["revises"] == {"file": "2025-01-01.csv", "sha256": m1["sha256"], "rows": m1["rows"]}
    assert (
        m2["reason"]
        == f"late data: the period held {m1['rows']} rows when revision 1 was exported, {m1['rows'] + 1} now"
    )
    assert m2["previous"]["file"] == "2025-01-02.csv"
    assert "late" in (out / "pay" / "2025-01-01.r2.csv").read_text()
    assert verify(out, "--public-key", str(key[1])) == 0


def test_the_manifest_holds_what_the_issue_lists(lake, tmp_path, key):
    slas = tmp_path / "slas.yaml"
    slas.write_text("defaults: {window: 7d}\n")
    daily(lake, tmp_path / "out", key[0], days=(2,))
    assert (
        export(lake, tmp_path / "out", "--from", "2025-01-01", "--to", "2025-01-02", "--config", str(slas))
        == 0
    )
    m = json.loads((tmp_path / "out" / "pay" / f"2025-01-01_2025-01-02.csv{MANIFEST}").read_text())
    assert m["series"] == "pay/custom" and m["sequence"] == 1  # its own series: not chained to the daily one
    assert m["slas_sha256"] == hashlib.sha256(slas.read_bytes()).hexdigest()
    assert m["lake"]["format_version"] == lake.format_version() and m["versions"]["duckdb"]
    assert m["period"]["kind"] == "custom" and m["arguments"]["from"] == "2025-01-01" and "signature" not in m
    d = json.loads((tmp_path / "out" / "pay" / f"2025-01-01.csv{MANIFEST}").read_text())
    assert d["signature"]["algorithm"] == "ed25519" and datetime.fromisoformat(d["generated_at"]).tzinfo


# -- verify-audit: each kind of tampering -------------------------------------------------------------
@pytest.fixture
def chain(lake, tmp_path, key) -> Path:
    out = tmp_path / "out"
    daily(lake, out, key[0])
    return out


def findings(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]


def _resign(path: Path, key: Path, **changes) -> None:
    m = json.loads(path.read_text())
    m.update(changes)
    m["signature"] = Ed25519Signer.from_file(key).sign(signed_message(m))
    path.write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def test_a_sound_chain_verifies_by_file_and_by_folder(chain, key, capsys):
    assert verify(chain, "--public-key", str(key[1])) == 0
    out = capsys.readouterr().out
    assert "ok   pay/yesterday: 3 link(s) sound" in out and "signatures checked" in out
    assert verify(chain / "pay" / "2025-01-02.csv", "--public-key", str(key[1])) == 0
    assert verify(chain) == 0 and "signatures not checked" in capsys.readouterr().err


def test_an_edited_csv_is_found(chain, key, capsys):
    f = chain / "pay" / "2025-01-01.csv"
    f.write_bytes(f.read_bytes().replace(b"SUCCEEDED", b"FAILED", 1))
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    assert findings(capsys) == [
        f"FAIL {chain}/pay/2025-01-01.csv: SHA-256 differs from its manifest (the file was changed)"
    ]
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:-1]) + "\n")  # a row removed
    assert verify(chain / "pay" / "2025-01-01.csv") == cli.EXIT_UNVERIFIED
    assert any("rows, its manifest says" in x for x in findings(capsys))


def test_an_edited_manifest_is_found(chain, key, capsys):
    m = chain / "pay" / f"2025-01-02.csv{MANIFEST}"
    m.write_text(m.read_text().replace('"rows": ', '"rows": 1', 1))
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    got = findings(capsys)
    assert (
        f"FAIL {m}: signature does not verify with the given key (manifest edited, or signed by another key)"
        in got
    )
    assert f"FAIL {m}: changed after 2025-01-03.csv was chained to it (edited or re-signed)" in got
    assert any("rows, its manifest says" in x for x in got)


def test_a_removed_link_is_found(chain, key, capsys):
    for p in (chain / "pay").glob("2025-01-02.csv*"):
        p.unlink()
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    assert findings(capsys) == [f"FAIL pay/yesterday: link 2 is missing (before {chain}/pay/2025-01-03.csv)"]


def test_reordered_links_are_found_even_when_re_signed_with_the_key(chain, key, capsys):
    pay = chain / "pay"
    _resign(pay / f"2025-01-02.csv{MANIFEST}", key[0], sequence=3)
    _resign(pay / f"2025-01-03.csv{MANIFEST}", key[0], sequence=2)
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    got = findings(capsys)
    assert any("2025-01-03.csv: does not follow" in x and "links reordered" in x for x in got), got


def test_swapped_files_are_found(chain, key, capsys):
    pay = chain / "pay"
    for suffix in (".csv", f".csv{MANIFEST}"):
        a, b = pay / f"2025-01-01{suffix}", pay / f"2025-01-02{suffix}"
        tmp = pay / "swap"
        a.rename(tmp)
        b.rename(a)
        tmp.rename(b)
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    got = findings(capsys)
    assert any("describes 2025-01-02.csv, not 2025-01-01.csv (renamed?)" in x for x in got), got


def test_a_link_re_signed_with_another_key_is_found(chain, key, tmp_path, capsys):
    assert cli.main(["keygen", "--out", str(tmp_path / "mallory")]) == 0
    m = chain / "pay" / f"2025-01-03.csv{MANIFEST}"
    _resign(m, tmp_path / "mallory.key")
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    mallory = Ed25519Signer.from_file(tmp_path / "mallory.key").key_id
    assert findings(capsys) == [
        f"FAIL {m}: signed by key {mallory}, not by the given key {Ed25519Signer.from_file(key[0]).key_id}"
    ]
    # an edited middle link re-signed with the real key still breaks the next link's hash
    _resign(chain / "pay" / f"2025-01-02.csv{MANIFEST}", key[0], rows=99)
    assert verify(chain / "pay" / "2025-01-02.csv", "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    assert any(
        "2025-01-02.csv.manifest.json: changed after 2025-01-03.csv was chained" in x
        for x in findings(capsys)
    )


def test_unsigned_or_missing_files_are_findings(chain, key, tmp_path, capsys):
    m = chain / "pay" / f"2025-01-01.csv{MANIFEST}"
    body = json.loads(m.read_text())
    del body["signature"]
    m.write_text(json.dumps(body))
    (chain / "pay" / "stray.csv").write_text("a,b\n")
    assert verify(chain, "--public-key", str(key[1])) == cli.EXIT_UNVERIFIED
    got = findings(capsys)
    assert f"FAIL {m}: not signed" in got and f"FAIL {chain}/pay/stray.csv: has no manifest beside it" in got
    assert verify(tmp_path / "empty") == cli.EXIT_UNVERIFIED
    assert (
        verify(chain / "pay" / "nope.csv") == cli.EXIT_UNVERIFIED
        and "nope.csv: missing" in capsys.readouterr().out
    )


def test_keygen_never_overwrites_and_keeps_the_private_key_private(key, tmp_path, capsys):
    assert key[0].stat().st_mode & 0o777 == 0o600
    before = key[0].read_bytes()
    assert cli.main(["keygen", "--out", str(tmp_path / "signer")]) == cli.EXIT_OUTPUT
    assert "exists: not overwritten" in capsys.readouterr().err and key[0].read_bytes() == before
    assert (
        export(
            build(str(tmp_path / "l2")), tmp_path / "o", "--period", "yesterday", "--signing-key", str(key[1])
        )
        == 2
    )
    assert "not an unencrypted PEM private key" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_row_count_ignores_line_breaks_inside_quoted_cells():
    data = b'h1,h2\n"a\nb",c\n"say ""hi""\n",d\nplain,e\n'
    for size in (1, 3, 7, len(data)):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        sha, rows, header = scan_csv(iter(chunks))
        assert (rows, header) == (3, b"h1,h2\n") and sha == hashlib.sha256(data).hexdigest()


def test_exports_of_one_series_at_once_take_turns_on_its_chain(lake, tmp_path, key, monkeypatch):
    """Four daily exports of one domain at once (a catch-up beside the schedule), each slow between
    reading the chain and writing its link: each becomes its own link, one after another, and the chain
    verifies; none forks it."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from queries.audit import job

    def slow_links(*a, **kw):  # the chain as read, then time for another export to read it too
        found = links(*a, **kw)
        time.sleep(0.3)
        return found

    links = job.links
    monkeypatch.setattr(job, "links", slow_links)
    out = tmp_path / "audit"
    argv = ["--period", "yesterday", "--signing-key", str(key[0])]
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(lambda d: export(lake, out, *argv, "--at", f"2025-01-0{d}T06:00Z"), (2, 3, 4, 5))
        )
    assert codes == [0] * 4
    manifests = [json.loads(m.read_text()) for m in (out / "pay").glob(f"*{MANIFEST}")]
    assert sorted(m["sequence"] for m in manifests) == [1, 2, 3, 4]
    assert verify(out, "--public-key", str(key[1])) == 0
