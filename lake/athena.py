"""The lake as Athena (Glue) tables: `CREATE EXTERNAL TABLE` statements generated from the table specs
(`lake/tables.py`) and schemas (`lake/schema.py`), so the DDL can never drift from what is written.

A partitioned table uses partition projection, so Athena needs no crawler and no `MSCK REPAIR`:
`date` is a date range from the lake's first day up to `NOW`, `domain` an enum of the lake's domains
as its folders spell them (percent-encoded; a new domain needs the statements run again). Spark and
Trino read the same columns: `schema_ddl` is the column list both the DDL and a Spark reader use.
"""

from __future__ import annotations

import re
import urllib.parse

import pyarrow as pa

from lake.store import Lake
from lake.tables import TABLES

DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")
PARTITION_COLUMNS = (
    ("domain", "string", "value of the business-domain tag, as the partition folder spells it"),
    ("date", "string", "UTC start date, YYYY-MM-DD"),
)
_SCALARS = {
    pa.string(): "string",
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.bool_(): "boolean",
    pa.float64(): "double",
}


def hive_type(t: pa.DataType) -> str:
    """The Hive/Athena type of a lake column's Arrow type."""
    if pa.types.is_timestamp(t):
        return "timestamp"
    if t in _SCALARS:
        return _SCALARS[t]
    raise ValueError(f"no Athena type for {t}: add it to lake/athena.py")


def _column(name: str, typ: str, comment: str) -> str:
    text = comment.replace("\\", "\\\\").replace("'", "\\'")
    return f"`{name}` {typ} COMMENT '{text}'"


def schema_ddl(table: str, *, partitions: bool = False) -> str:
    """The table's columns as DDL (`name` type COMMENT '...', ...), with `domain` and `date` after them
    when `partitions` (the schema Spark reads the folders with)."""
    spec = TABLES[table]
    # A partitioned table's own `domain` column (traces) is the partition's value: declared once, as that.
    own = {n for n, _, _ in PARTITION_COLUMNS} if spec.partitioned else set()
    cols = [_column(f.name, hive_type(f.type), _description(f)) for f in spec.schema if f.name not in own]
    if partitions and spec.partitioned:
        cols += [_column(*c) for c in PARTITION_COLUMNS]
    return ",\n  ".join(cols)


def _description(f: pa.Field) -> str:
    return (f.metadata or {}).get(b"description", b"").decode()


def create_table(table: str, *, database: str, location: str, domains: list[str], first_date: str) -> str:
    """One `CREATE EXTERNAL TABLE IF NOT EXISTS` statement over the table's folder at `location`."""
    spec = TABLES[table]
    lines = [
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (",
        f"  {schema_ddl(table)}",
        ")",
    ]
    if spec.partitioned:
        lines.append(f"PARTITIONED BY ({', '.join(_column(*c) for c in PARTITION_COLUMNS)})")
    lines += ["STORED AS PARQUET", f"LOCATION '{location.rstrip('/')}/{table}/'"]
    if spec.partitioned:
        props = {
            "projection.enabled": "true",
            "projection.domain.type": "enum",
            "projection.domain.values": ",".join(domains),
            "projection.date.type": "date",
            "projection.date.format": "yyyy-MM-dd",
            "projection.date.range": f"{first_date},NOW",
            "projection.date.interval": "1",
            "projection.date.interval.unit": "DAYS",
        }
        lines.append("TBLPROPERTIES (")
        lines.append(",\n".join(f"  '{k}'='{v}'" for k, v in props.items()))
        lines.append(")")
    return "\n".join(lines) + ";"


def lake_ddl(lake: Lake, database: str) -> str:
    """`CREATE DATABASE` and one `CREATE EXTERNAL TABLE` per lake table, for the lake as it is now."""
    if not DATABASE_NAME.match(database):
        raise ValueError(f"bad database name {database!r}: use lower-case letters, digits and _")
    keys = sorted({k for t, s in TABLES.items() if s.partitioned for k in lake.partitions(t)})
    if not keys:
        raise ValueError(f"the lake at {lake.uri} has no partitions yet: collect first")
    domains = sorted({_folder(d) for d, _ in keys})
    first = min(day for _, day in keys)
    location = lake.uri if lake.uri.startswith("s3://") else f"file://{lake.root}"
    head = [
        f"-- Athena tables over the Stepscope lake at {lake.uri} (format {lake.format_version()}).",
        f"-- Partition projection: date from {first} up to NOW; domain one of {len(domains)} values.",
        "-- Run the statements again when a new domain appears.",
        f"CREATE DATABASE IF NOT EXISTS `{database}`;",
    ]
    tables = [
        create_table(t, database=database, location=location, domains=domains, first_date=first)
        for t in TABLES
    ]
    return "\n\n".join(["\n".join(head), *tables]) + "\n"


def _folder(domain: str) -> str:
    # as lake.layout.partition_dir spells it in a path
    return urllib.parse.quote(domain, safe="")
