"""The lake contract, shared by the collectors (which write it) and the queries (which read it).

- `schema`   the Parquet schemas of every table, with a description per column
- `tables`   the table specs: key, partitioning, sort order, encodings, which tables derive from which
- `derived`  the derived tables (`sla_facts`, `failures`) and the `sla_facts` footer format
- `layout`   folders, file names, the metadata file and the format version
- `store`    `Lake`: a local folder or s3:// prefix, reads, merges and atomic writes
- `upgrade`  bringing a lake written in an older format up to this one
- `lock`     one writer at a time: a flock on a folder lake, a lease object on S3
- `athena`   the lake's tables as Athena DDL (partition projection), the columns Spark reads
- `status`   execution and state-run status names
- `asl`      the ASL graph model (pure), for whoever needs a definition's shape
"""
