"""Probes of issue 19 items 3, 5, 7, 13 and 15: what read-only roles see of identity numbers,
answers across scope (imports, household numbers, department pushes), imports below county
level."""

import random
import re
import time

from probe import Finding

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
SEARCH_REFUSED = "按身份证号查询需要查看完整身份证号的权限"


def check_char(body17):
    return CHECK[sum(int(c) * w for c, w in zip(body17, WEIGHTS)) % 11]


def region_name(ctx, code):
    con = ctx.db()
    try:
        row = con.execute("SELECT name FROM regions WHERE code = ?", (code,)).fetchone()
    finally:
        con.close()
    return row[0] if row else ""


def unregistered_id(ctx, region):
    """A valid identity number no member holds."""
    con = ctx.db()
    try:
        while True:
            body = f"{region}1931{random.randint(1, 12):02d}{random.randint(1, 28):02d}{random.randint(0, 999):03d}"
            id_number = body + check_char(body)
            if not con.execute(
                "SELECT 1 FROM members WHERE id_number = ?", (id_number,)
            ).fetchone():
                return id_number
    finally:
        con.close()


def members_of(ctx, household_id):
    con = ctx.db()
    try:
        return con.execute(
            "SELECT id_number, name FROM members WHERE household_id = ?", (household_id,)
        ).fetchall()
    finally:
        con.close()


def ledger(rows):
    head = "户编号,乡镇,行政村,户类型,主要致贫原因,姓名,证件号码,与户主关系\n"
    return (head + "".join(",".join(r) + "\n" for r in rows)).encode("utf-8")


def run_import(client, region, data, dry_run):
    """Uploads a CSV ledger through the page and waits for the job; returns the report page."""
    fields = {"county": region, "reason": "探测"}
    if dry_run:
        fields["dry_run"] = "1"
    r = client.post_form("/imports", fields, files={"file": ("ledger.csv", data, "text/csv")})
    if r.status != 200:
        raise Finding(f"upload as {region} answered {r.status}: {r.text[:300]}")
    m = re.search(r"/imports/jobs/(\d+)", r.text) or re.search(r'var id = "(\d+)"', r.text)
    if not m:
        err = re.search(r'id="import-error">([^<]*)<', r.text)
        raise Finding(f"upload as {region} started no import: {err.group(1) if err else r.text[:300]}")
    job = m.group(1)
    for _ in range(600):
        s = client.get(f"/imports/jobs/{job}")
        if s.status == 200 and s.json().get("done"):
            break
        time.sleep(0.2)
    return client.get(f"/imports/jobs/{job}/report").text


def probe_viewer_sees_no_recombinable_identity_data(ctx):
    viewer = ctx.login("viewer")
    for h in ctx.households(ctx.county, 5):
        page = viewer.get(f"/households/{h['id']}")
        api = viewer.get(f"/api/v1/households/{h['id']}")
        if page.status != 200 or api.status != 200:
            raise Finding(f"viewer cannot read household {h['id']}: {page.status} {api.status}")
        for id_number, name in members_of(ctx, h["id"]):
            if len(id_number) != 18:
                continue
            birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
            for what, text in (("page", page.text), ("api", api.text)):
                for leak in (id_number, id_number[6:16], id_number[6:14], birth):
                    if leak in text:
                        raise Finding(f"{what} of household {h['id']} shows {leak!r} of {name}")
                masked = id_number[:6] + "*" * 10 + id_number[16:]
                if masked not in text:
                    raise Finding(f"{what} of household {h['id']} lacks the masked form {masked}")
        for m in api.json()["members"]:
            if m.get("birth_date") is not None or not m.get("birth_year"):
                raise Finding(f"member API gives birth_date={m.get('birth_date')!r} to a viewer")


def probe_viewer_cannot_search_by_identity_number(ctx):
    viewer = ctx.login("viewer")
    h = ctx.households(ctx.county, 1)[0]
    id_number = h["head_id_number"]
    for q in (id_number, id_number[6:14], id_number[6:]):
        for path in (f"/api/v1/households?q={q}", f"/households?q={q}"):
            r = viewer.get(path)
            if r.status != 403 or SEARCH_REFUSED not in r.text:
                raise Finding(f"viewer GET {path} answered {r.status}: {r.text[:200]}")


def probe_dry_run_names_nobody_outside_scope(ctx):
    t0, t1 = ctx.townships[0], ctx.townships[1]
    village = ctx.villages[t0][0]
    other = ctx.households(ctx.villages[t1][0], 1)[0]
    client = ctx.login("village")
    data = ledger([[
        village + "99901",
        region_name(ctx, t0),
        region_name(ctx, village),
        "贫困户",
        "因病",
        "探测人",
        other["head_id_number"],
        "户主",
    ]])
    report = run_import(client, village, data, dry_run=True)
    if "已在本县其他地区登记" not in report:
        raise Finding(f"dry run does not refuse the number as registered elsewhere: {report[-800:]}")
    for leak in (other["household_no"], other["head_name"]):
        if leak in report:
            raise Finding(f"dry run by a village operator names {leak!r} of another township")


def department_secret(ctx):
    admin = ctx.login("admin")
    r = admin.post_form(
        "/admin/tokens",
        {"name": "探测", "department": "medical_insurance", "region_code": ctx.county, "days": "1"},
    )
    m = re.search(r"xht_[A-Za-z0-9_]+", r.text)
    if not m:
        raise Finding(f"no token made: {r.status} {r.text[:200]}")
    return m.group(0)


def probe_department_push_is_no_registry_oracle(ctx):
    secret = department_secret(ctx)
    registered = ctx.households(ctx.county, 1)[0]["head_id_number"]
    answers = []
    for id_number in (registered, unregistered_id(ctx, ctx.county)):
        c = ctx.anon()
        r = c.request(
            "POST",
            "/api/v1/department-data?file_name=probe.csv",
            body=f"姓名,身份证号\n某,{id_number}\n".encode(),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "text/csv"},
        )
        if r.status != 200:
            raise Finding(f"push answered {r.status}: {r.text[:200]}")
        v = r.json()
        v.pop("batch_id", None)
        if "matched" in v:
            raise Finding(f"push tells matches: {v}")
        answers.append(v)
    if answers[0] != answers[1]:
        raise Finding(f"push answers differ for a registered and an unknown person: {answers}")


def probe_household_numbers_follow_the_village(ctx):
    t0, t1 = ctx.townships[0], ctx.townships[1]
    own = ctx.households(ctx.villages[t0][0], 2)
    other = ctx.households(ctx.villages[t1][0], 1)[0]
    client = ctx.login("village")
    h = own[0]
    v = client.get(f"/api/v1/households/{h['id']}").json()
    body = {
        "version": v["version"],
        "effective_date": time.strftime("%Y-%m-%d"),
        "reason": "探测",
        "fields": {"household_no": other["household_no"]},
    }
    r = client.patch_json(f"/api/v1/households/{h['id']}", body)
    if r.status == 409 or r.status < 400:
        raise Finding(f"another village's number answered {r.status}: {r.text[:200]}")
    fields = r.json()["error"]["fields"]
    if not any(f["field"] == "household_no" for f in fields):
        raise Finding(f"no household_no field error: {r.text[:300]}")
    for leak in (other["head_name"], str(other["id"])):
        if leak in r.text:
            raise Finding(f"refusal names the other household: {leak}")
    if len(own) > 1:
        body["fields"] = {"household_no": own[1]["household_no"]}
        r = client.patch_json(f"/api/v1/households/{h['id']}", body)
        if r.status != 409 or own[1]["head_name"] in r.text or str(own[1]["id"]) in r.text:
            raise Finding(f"a taken number answered {r.status}: {r.text[:300]}")


def probe_imports_below_county_level(ctx):
    t0 = ctx.townships[0]
    village = ctx.villages[t0][0]
    for role, region, target in (("village", village, village), ("township", t0, ctx.villages[t0][-1])):
        client = ctx.login(role)
        form = client.get("/imports")
        if f'value="{region}"' not in form.text:
            raise Finding(f"the {role} upload form does not offer {region}")
        no = target + f"9{random.randint(1000, 9999)}"
        data = ledger([[
            no,
            region_name(ctx, t0),
            region_name(ctx, target),
            "贫困户",
            "因病",
            "导入测试",
            unregistered_id(ctx, ctx.county),
            "户主",
        ]])
        report = run_import(client, region, data, dry_run=False)
        if "导入完成" not in report:
            raise Finding(f"{role} import of their region failed: {report[-800:]}")
        if not any(x["household_no"] == no for x in ctx.households(target, 10_000)):
            raise Finding(f"{role} import reported done but {no} is not stored")
