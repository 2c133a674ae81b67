"""Drives Vigie's Table API with the real pysnow client (PyPI), unchanged: run by tests/servicenow.rs."""
import os
import sys

import pysnow
import requests

host, user, password = os.environ["VIGIE_HOST"], os.environ["VIGIE_USER"], os.environ["VIGIE_PASSWORD"]
c = pysnow.Client(host=host, user=user, password=password, use_ssl=False)
inc = c.resource(api_path="/table/incident")

# Create: five incidents, impact alternating high and low.
created = []
for k in range(5):
    payload = {"short_description": "Panne %d" % k, "impact": "1" if k % 2 == 0 else "3", "urgency": "2",
               "category": "network" if k < 4 else "software", "location": "STA"}
    created.append(inc.create(payload=payload).one())
assert created[0]["number"] == "INC0000001", created[0]
assert created[0]["priority"] == "2" and created[1]["priority"] == "4", created[:2]
assert len(created[0]["sys_id"]) == 32

# Get with a dict query, and one by sys_id.
assert inc.get(query={"number": "INC0000003"}).one()["short_description"] == "Panne 2"
assert inc.get(query={"sys_id": created[4]["sys_id"]}).one()["category"] == "software"

# QueryBuilder: and, starts_with, order descending.
qb = (pysnow.QueryBuilder().field("impact").equals("1").AND().field("short_description").starts_with("Panne")
      .AND().field("number").order_descending())
assert [r["number"] for r in inc.get(query=qb).all()] == ["INC0000005", "INC0000003", "INC0000001"]
qb = pysnow.QueryBuilder().field("category").equals("software").OR().field("number").equals("INC0000002")
assert sorted(r["number"] for r in inc.get(query=qb).all()) == ["INC0000002", "INC0000005"]

# Paging with limit and offset.
page = [r["number"] for r in inc.get(query={}, limit=2, offset=2).all()]
assert page == ["INC0000003", "INC0000004"], page

# Streamed responses.
assert len(list(inc.get(query={"location": "STA"}, stream=True).all())) == 5
assert inc.get(query={"category": "software"}, stream=True).first()["number"] == "INC0000005"

# Fields and display values (on a resource of their own: pysnow keeps a resource's parameters between calls).
shown = c.resource(api_path="/table/incident")
d = shown.get(query={"number": "INC0000001"}, fields=["number", "state", "priority"], display_value=True).one()
assert d == {"number": "INC0000001", "state": "New", "priority": "2 - High"}, d
a = shown.get(query={"number": "INC0000001"}, fields=["state"], display_value="all").one()
assert a == {"state": {"display_value": "New", "value": "1"}}, a

# Update (pysnow finds the record, then PUTs to its sys_id).
u = inc.update(query={"number": "INC0000002"}, payload={"state": "2", "work_notes": "prise en compte"}).one()
assert u["state"] == "2" and u["sys_mod_count"] == "1", u
try:
    inc.update(query={"number": "INC0000002"}, payload={"state": "6"}).one()
    raise AssertionError("resolving without a close code must fail")
except requests.exceptions.HTTPError as e:
    assert e.response.status_code == 400
    err = e.response.json()
    assert err["status"] == "failure" and "close_code" in err["error"]["detail"], err
r = inc.update(query={"number": "INC0000002"},
               payload={"state": "6", "close_code": "Solved (Permanently)", "close_notes": "lien rétabli"}).one()
assert r["state"] == "6" and r["resolved_at"] != "", r

# Delete.
assert inc.delete(query={"number": "INC0000005"}) == {"status": "record deleted"}
assert inc.get(query={"number": "INC0000005"}).one_or_none() is None
assert len(list(inc.get(query={}).all())) == 4

# Wrong credentials are refused.
bad = pysnow.Client(host=host, user=user, password="wrong", use_ssl=False).resource(api_path="/table/incident")
try:
    list(bad.get(query={}).all())
    raise AssertionError("wrong credentials must be refused")
except requests.exceptions.HTTPError as e:
    assert e.response.status_code == 401

print("pysnow: all checks passed")
sys.exit(0)
