"""DuckDB baseline for the logistics benchmark: the same questions as Vigie, over the same CSV files.

Usage: python3 duckdb_baseline.py DIR DAY ITEMS NEAR_SITES  (ITEMS and NEAR_SITES comma-separated)
Prints one JSON document: per question, the latencies (seconds) and a few answers to cross-check.
"""
import json
import sys
import time

import duckdb

data, day, items, near_sites = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(",")
con = duckdb.connect()
opts = "delim=';', header=true, decimal_separator=','"
for table in ["organizations", "sites", "items", "allowances", "forces", "stock"]:
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{data}/{table}.csv', {opts})")

SUFFICIENCY = f"""
WITH lines AS (
  SELECT s.site_id, si.organization_id AS org, s.quantity AS q,
         CASE WHEN s.condition = 'serviceable' AND (s.expires_on IS NULL OR s.expires_on >= DATE '{day}')
              THEN s.quantity ELSE 0 END AS serviceable
  FROM stock s JOIN sites si ON si.id = s.site_id WHERE s.item_id = $item),
need AS (
  SELECT f.site_id, f.organization_id AS org,
         f.headcount * a.quantity * CASE WHEN a.basis = 'person_day' THEN 1 ELSE 1 END AS need
  FROM forces f JOIN allowances a ON a.item_id = $item
  WHERE f.starts_on <= DATE '{day}' AND f.ends_on >= DATE '{day}'),
by_site AS (
  SELECT site_id, sum(need) AS need, 0 AS on_hand, 0 AS serviceable FROM need GROUP BY site_id
  UNION ALL SELECT site_id, 0, sum(q), sum(serviceable) FROM lines GROUP BY site_id),
by_org AS (
  SELECT org, sum(need) AS need, 0 AS on_hand, 0 AS serviceable FROM need GROUP BY org
  UNION ALL SELECT org, 0, sum(q), sum(serviceable) FROM lines GROUP BY org)
SELECT 'total' AS level, NULL AS key, sum(need), sum(on_hand), sum(serviceable) FROM by_site
UNION ALL SELECT 'site', site_id, sum(need), sum(on_hand), sum(serviceable) FROM by_site GROUP BY site_id
UNION ALL SELECT 'org', org, sum(need), sum(on_hand), sum(serviceable) FROM by_org GROUP BY org
"""

LOCATE = f"""
WITH origin AS (SELECT lat, lon FROM sites WHERE id = $near)
SELECT s.site_id, sum(s.quantity) AS available,
       2 * 6371.0088 * asin(sqrt(pow(sin(radians(si.lat - o.lat) / 2), 2)
         + cos(radians(o.lat)) * cos(radians(si.lat)) * pow(sin(radians(si.lon - o.lon) / 2), 2))) AS km
FROM stock s JOIN sites si ON si.id = s.site_id, origin o
WHERE s.item_id = $item AND s.condition = 'serviceable' AND (s.expires_on IS NULL OR s.expires_on >= DATE '{day}')
GROUP BY s.site_id, si.lat, si.lon, o.lat, o.lon
HAVING sum(s.quantity) > 0
ORDER BY km, s.site_id
"""


def timed(sql, params):
    t = time.perf_counter()
    rows = con.execute(sql, params).fetchall()
    return time.perf_counter() - t, rows


for i in items[:5]:  # warm-up
    timed(SUFFICIENCY, {"item": i})
suff, loc, answers = [], [], {}
for i in items:
    dt, rows = timed(SUFFICIENCY, {"item": i})
    suff.append(dt)
    total = [r for r in rows if r[0] == "total"][0]
    answers.setdefault("sufficiency", {})[i] = {"need": float(total[2] or 0), "on_hand": float(total[3] or 0), "serviceable": float(total[4] or 0)}
for i, n in zip(items, near_sites):
    dt, rows = timed(LOCATE, {"item": i, "near": n})
    loc.append(dt)
    answers.setdefault("locate", {})[f"{i}@{n}"] = {"sites": len(rows), "first": rows[0][0] if rows else None, "total": float(sum(r[1] for r in rows))}
print(json.dumps({"sufficiency": suff, "locate": loc, "answers": answers}))
