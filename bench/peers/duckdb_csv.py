#!/usr/bin/env python3
"""Peer for `bench/import`: DuckDB loads the ledger CSV into a table of a file database.

    duckdb_csv.py LEDGER.csv [--db PATH]

`CREATE TABLE t AS SELECT * FROM read_csv(..., all_varchar=true, header=true)` into a fresh
file database (default: LEDGER.duckdb beside the CSV, removed first), then a checkpoint so the
table is on disk. No validation, no mapping: only parsing and storing. Prints one line:
`rows=N seconds=S` (S: connect, load and checkpoint; interpreter start-up not included).
"""

import argparse
import os
import time

import duckdb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--db")
    a = ap.parse_args()
    db = a.db or os.path.splitext(a.csv)[0] + ".duckdb"
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)

    t0 = time.perf_counter()
    con = duckdb.connect(db)
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, header=true)", [a.csv]
    )
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    secs = time.perf_counter() - t0
    print(f"rows={rows} seconds={secs:.2f}")


if __name__ == "__main__":
    main()
