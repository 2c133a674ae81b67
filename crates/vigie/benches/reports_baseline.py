"""DuckDB baseline for the LOGSTAT benchmark: the same report over the same CSV files, the stock held as a temporal
table (each count with the instant it was recorded), as of now and as of an instant between the two counts.

Usage: python3 reports_baseline.py DIR DAY   (DIR holds the generated tables and stock_later.csv)
Prints one JSON document: load time, per instant the query's latencies (seconds) and figures to cross-check.
"""
import json
import sys
import time

import duckdb

data, day = sys.argv[1], sys.argv[2]
con = duckdb.connect()
opts = "delim=';', header=true, decimal_separator=','"
t = time.perf_counter()
for table in ["organizations", "sites", "items", "allowances", "forces"]:
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{data}/{table}.csv', {opts})")
# The first counts recorded at 0, the later ones at 1: "as of" 0.5 is between them.
con.execute(f"""CREATE TABLE stock AS
  SELECT *, 0.0 AS recorded_at FROM read_csv('{data}/stock.csv', {opts})
  UNION ALL SELECT *, 1.0 FROM read_csv('{data}/stock_later.csv', {opts})""")
load = time.perf_counter() - t

LOGSTAT = f"""
WITH counts AS (SELECT site_id, max(recorded_at) AS r FROM stock WHERE recorded_at <= $at GROUP BY site_id),
lines AS (SELECT s.* FROM stock s JOIN counts c ON s.site_id = c.site_id AND s.recorded_at = c.r),
held AS (
  SELECT si.organization_id AS org, l.item_id AS item, sum(l.quantity) AS on_hand,
         sum(CASE WHEN l.condition = 'serviceable' AND (l.expires_on IS NULL OR l.expires_on >= DATE '{day}')
                  THEN l.quantity ELSE 0 END) AS serviceable,
         min(l.counted_at) AS oldest
  FROM lines l JOIN sites si ON si.id = l.site_id GROUP BY 1, 2),
need AS (
  SELECT f.organization_id AS org, a.item_id AS item,
         sum(CASE WHEN a.basis = 'person' THEN f.headcount * a.quantity ELSE 0 END) AS once,
         sum(CASE WHEN a.basis = 'person_day' THEN f.headcount * a.quantity ELSE 0 END) AS daily
  FROM forces f JOIN allowances a ON true
  WHERE f.starts_on <= DATE '{day}' AND f.ends_on >= DATE '{day}' GROUP BY 1, 2)
SELECT coalesce(h.org, n.org) AS org, coalesce(h.item, n.item) AS item,
       coalesce(h.on_hand, 0) AS on_hand, coalesce(h.serviceable, 0) AS serviceable,
       coalesce(n.once, 0) + coalesce(n.daily, 0) AS need,
       coalesce(h.serviceable, 0) - coalesce(n.once, 0) - 1 * coalesce(n.daily, 0) AS balance_24h,
       coalesce(h.serviceable, 0) - coalesce(n.once, 0) - 2 * coalesce(n.daily, 0) AS balance_48h,
       coalesce(h.serviceable, 0) - coalesce(n.once, 0) - 3 * coalesce(n.daily, 0) AS balance_72h,
       h.oldest
FROM held h FULL OUTER JOIN need n ON h.org = n.org AND h.item = n.item
"""


def run(at):
    times, rows = [], None
    for _ in range(5):
        t = time.perf_counter()
        rows = con.execute(LOGSTAT, {"at": at}).fetchall()
        times.append(time.perf_counter() - t)
    return {
        "seconds": times,
        "lines": len(rows),
        "on_hand": float(sum(r[2] for r in rows)),
        "serviceable": float(sum(r[3] for r in rows)),
        "need": float(sum(r[4] for r in rows)),
    }


print(json.dumps({"load_seconds": load, "now": run(2.0), "past": run(0.5)}))
