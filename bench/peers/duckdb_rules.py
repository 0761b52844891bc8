"""DuckDB evaluating the same rule predicates as xiuhua, on the same data (bench/rules).

Input directory (written by `xiuhua-bench rules --out DIR`):
  households.csv, members.csv  the generated households, one row per household / member
  schema.tsv                   table, column, SQL type
  predicates.tsv               rule set, item, xiuhua pass/fail/unknown counts, SQL expression

The CSV files are loaded into DuckDB tables once (timed separately), then every predicate is
evaluated over all households with one query per predicate (a single query holding all of them
took 100× longer at 3,000 households: DuckDB plans each member subquery as its own join). Pass/fail/unknown counts are compared with xiuhua's:
any difference is printed and makes the script exit with status 2.

Prints one line per measure, `key value`, for bench/rules to read.
"""

import sys
import time

import duckdb


def main() -> int:
    d = sys.argv[1]
    threads = sys.argv[2] if len(sys.argv) > 2 else None
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    cols = {"households": [], "members": []}
    for line in open(f"{d}/schema.tsv", encoding="utf-8"):
        table, name, typ = line.rstrip("\n").split("\t")
        cols[table].append((name, typ))

    t0 = time.perf_counter()
    for table, spec in cols.items():
        read_types = {n: ("VARCHAR" if t.endswith("[]") else t) for n, t in spec}
        select = ", ".join(
            f"list_filter(string_split(coalesce({n}, ''), '|'), lambda s: s <> '') AS {n}"
            if t.endswith("[]")
            else n
            for n, t in spec
        )
        con.execute(
            f"CREATE TABLE {table} AS SELECT {select} FROM read_csv('{d}/{table}.csv', header = true, "
            f"columns = {read_types!r})"
        )
    con.execute("CREATE INDEX members_hid ON members (hid)")
    load = time.perf_counter() - t0
    households = con.execute("SELECT count(*) FROM households").fetchone()[0]
    members = con.execute("SELECT count(*) FROM members").fetchone()[0]

    preds = []
    for line in open(f"{d}/predicates.tsv", encoding="utf-8"):
        set_id, code, p, f, u, sql = line.rstrip("\n").split("\t", 5)
        preds.append((set_id, code, (int(p), int(f), int(u)), sql))

    mismatches = []
    t0 = time.perf_counter()
    for set_id, code, want, sql in preds:
        got = con.execute(
            "SELECT count(*) FILTER (WHERE x), count(*) FILTER (WHERE NOT x), count(*) FILTER (WHERE x IS NULL) "
            f"FROM (SELECT ({sql}) AS x FROM households h)"
        ).fetchone()
        if tuple(got) != want:
            mismatches.append((set_id, code, want, tuple(got)))
    each = time.perf_counter() - t0

    best = each
    evals = households * len(preds)
    print(f"households {households}")
    print(f"members {members}")
    print(f"predicates {len(preds)}")
    print(f"load_s {load:.3f}")
    print(f"each_s {each:.3f}")
    print(f"best_s {best:.3f}")
    print(f"evals_per_s {evals / best:.0f}")
    print(f"mismatches {len(mismatches)}")
    for set_id, code, want, got in mismatches[:20]:
        print(f"mismatch {set_id} {code}: xiuhua pass/fail/unknown {want}, duckdb {got}", file=sys.stderr)
    return 2 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
