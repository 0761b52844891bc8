"""Web probes of issue 19: the attacks of items 1, 4, 6, 8, 9, 10, 11, 12 and 14, re-run
against the real server. Each probe raises Finding when the attack works again."""

import csv
import io
import re
import socket
import subprocess
import time
import uuid
import zipfile
from urllib.parse import quote

from probe import PASSWORD, Finding

BOUNDARY = "probe-web-" + uuid.uuid4().hex


def upload_head(fields):
    """The start of a multipart upload: fields in order, then the file part's header."""
    out = b""
    for k, v in fields:
        out += (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ).encode()
    out += (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    ).encode()
    return out


def start_upload(ctx, client, length, start, extra=""):
    """A socket that has sent the head of POST /imports announcing `length` body bytes."""
    s = socket.create_connection((client.host, client.port), timeout=30)
    head = (
        f"POST /imports HTTP/1.1\r\nHost: {client.host}:{client.port}\r\n"
        f"Cookie: {client.cookie_header()}\r\n{extra}"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    s.sendall(head.encode() + start)
    return s


def answer(s, wait):
    """(status, text) of the answer if it comes within `wait` seconds, else None."""
    s.settimeout(wait)
    buf = b""
    deadline = time.time() + wait
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                head, body = buf.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if not m or len(body) >= int(m.group(1)):
                    break
    except (socket.timeout, OSError):
        pass
    if not buf:
        return None
    text = buf.decode("utf-8", errors="replace")
    try:
        return int(text.split(" ", 2)[1]), text
    except (IndexError, ValueError):
        return None


def offered_county(client):
    """The region the upload form offers first (what a user would pick)."""
    page = client.get("/imports").text
    m = re.search(r'<select name="county"><option value="([0-9]+)"', page)
    return m.group(1) if m else ""


# Item 1: a decompression bomb must be refused with a message, without the server's memory
# growing with the bomb.
def bomb_xlsx(cell_mib=300):
    """A small xlsx whose one inline-string cell expands to `cell_mib` MiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as w:
            w.write(
                (
                    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    '<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c><c r="B1" t="inlineStr"><is><t>姓名</t></is></c>'
                    '<c r="C1" t="inlineStr"><is><t>身份证号</t></is></c><c r="D1" t="inlineStr"><is><t>与户主关系</t></is></c></row>'
                    '<row r="2"><c r="A2" t="inlineStr"><is><t>'
                ).encode()
            )
            block = b"A" * (1024 * 1024)
            for _ in range(cell_mib):
                w.write(block)
            w.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


def probe_xlsx_bomb_is_refused_within_memory(ctx):
    village = ctx.login("village")
    data = bomb_xlsx()
    before = ctx.rss_kib()
    r = village.post_form(
        "/imports",
        # The user's own region: the file is read (a county code the user cannot import into
        # would be refused before the file is opened, proving nothing).
        {"county": ctx.user("village")[1], "effective_date": "2026-01-01", "dry_run": "1"},
        files={"file": ("bomb.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )
    peak = max(before, ctx.rss_kib())
    job = re.search(r'data-job="([0-9]+)"', r.text)
    page = r.text
    if job:
        deadline = time.time() + 180
        while time.time() < deadline:
            peak = max(peak, ctx.rss_kib())
            if peak > 500 * 1024:
                break
            st = village.get(f"/imports/jobs/{job.group(1)}").json()
            if st.get("done"):
                break
            time.sleep(0.2)
        else:
            raise Finding("the bomb's import did not end within 180 s")
        page = village.get(f"/imports/jobs/{job.group(1)}/report").text
    if peak > 500 * 1024:
        raise Finding(f"RSS reached {peak // 1024} MB on a {len(data) // 1024} KB bomb")
    if r.status >= 500:
        raise Finding(f"the bomb upload answered {r.status}")
    if getattr(ctx, "verbose", False):
        print(f"    bomb: {len(data)} bytes, peak RSS {peak // 1024} MB; page: {re.sub(r'<[^>]+>', ' ', page)[-600:]}")
    if "未找到" in page:
        raise Finding("the bomb's dry run was refused as not found: the file was never read")
    refused = 'class="error"' in page or 'id="problems"' in page or "发现问题" in page
    if not refused or "检查通过" in page:
        raise Finding(f"the bomb was not refused with a message (status {r.status})")


# Item 4: formulas in household fields come out neutralised in every CSV export.
PAYLOADS = ['=HYPERLINK("http://evil.example","点此")', "+1", "-1", "@x", "=1+1"]


def probe_csv_export_neutralises_formulas(ctx):
    county = ctx.login("county")
    village = ctx.townships[0]
    households = ctx.households(village, n=len(PAYLOADS))
    if len(households) < len(PAYLOADS):
        raise RuntimeError("not enough households in the probe village")
    for h, payload in zip(households, PAYLOADS):
        cur = county.get(f"/api/v1/households/{h['id']}").json()
        r = county.patch_json(
            f"/api/v1/households/{h['id']}",
            {
                "version": cur["version"],
                "effective_date": "2026-01-01",
                "reason": "probe",
                "fields": {"bank_name": payload},
            },
        )
        if r.status != 200:
            raise RuntimeError(f"edit refused: {r.status} {r.text[:300]}")
    r = county.get(f"/exports/registry?format=csv&region={village}&purpose={quote('安全检查')}")
    if r.status != 200:
        raise RuntimeError(f"csv export: {r.status} {r.text[:300]}")
    cells = [c for row in csv.reader(io.StringIO(r.body.decode("utf-8-sig"))) for c in row]
    raw = [c for c in cells if c in PAYLOADS]
    if raw:
        raise Finding(f"formula cells come out raw in the CSV export: {raw}")
    seen = [c for c in cells if any(p in c for p in PAYLOADS[:1])]
    if not seen:
        raise Finding("the edited field is missing from the CSV export (probe cannot tell)")


# Item 6: uploads are authorised before they are read, bounded in size and in number.
def probe_viewer_upload_refused_before_the_body(ctx):
    viewer = ctx.login("viewer")
    s = start_upload(ctx, viewer, 500 * 1024 * 1024, upload_head([("csrf", viewer.csrf)]))
    try:
        got = answer(s, 5)
    finally:
        s.close()
    if got is None:
        raise Finding("a viewer's 500 MB upload was not refused before its body was sent")
    if got[0] != 403:
        raise Finding(f"a viewer's upload answered {got[0]}")


def probe_upload_with_wrong_csrf_refused_before_the_body(ctx):
    admin = ctx.login("admin")
    for extra, start in [
        ("X-CSRF-Token: wrong\r\n", b""),
        ("", upload_head([("csrf", "wrong")])),
        ("", upload_head([("county", ctx.county)])),
    ]:
        s = start_upload(ctx, admin, 500 * 1024 * 1024, start, extra)
        try:
            got = answer(s, 5)
        finally:
            s.close()
        if got is None or got[0] != 403:
            raise Finding(f"an upload without the right CSRF token first was not refused at once: {got and got[0]}")


def probe_too_large_upload_refused(ctx):
    admin = ctx.login("admin")
    head = upload_head([("csrf", admin.csrf), ("county", ctx.county), ("dry_run", "1")])
    total = 200 * 1024 * 1024
    s = start_upload(ctx, admin, len(head) + total, head)
    chunk = b"x" * (1024 * 1024)
    got = None
    try:
        for _ in range(100):
            try:
                s.sendall(chunk)
            except OSError:
                break
        got = answer(s, 15)
    finally:
        s.close()
    if got is None:
        raise Finding("100 MiB of a 200 MiB upload were taken without a refusal")
    if got[0] != 413 or "过大" not in got[1]:
        raise Finding(f"a too-large upload answered {got[0]}: {got[1][-300:]}")


def probe_concurrent_uploads_are_bounded(ctx):
    admin = ctx.login("county")
    head = upload_head([("csrf", admin.csrf)])
    big = 300 * 1024 * 1024
    held = []
    got = None
    try:
        for _ in range(10):
            # Keep two uploads streaming (one refused in a race with the third is restarted).
            alive = []
            for s in held:
                if answer(s, 0.05) is None:
                    alive.append(s)
                else:
                    s.close()
            held = alive
            while len(held) < 2:
                held.append(start_upload(ctx, admin, big, head))
            time.sleep(0.3)
            third = start_upload(ctx, admin, big, head)
            got = answer(third, 1)
            third.close()
            if got is not None:
                break
        if got is None:
            raise Finding("a third concurrent upload of one user was taken")
        if got[0] != 429:
            raise Finding(f"a third concurrent upload answered {got[0]}")
    finally:
        for s in held:
            s.close()


# Item 8: login CSRF.
def probe_login_form_needs_token_and_origin(ctx):
    username, _ = ctx.user("viewer")
    c = ctx.anon()
    # Another site's form: no login cookie, no token.
    r = c.post_form(
        "/login",
        {"username": username, "password": PASSWORD},
        csrf=False,
        headers={"Origin": "https://evil.example"},
    )
    if "xiuhua_session" in c.cookies:
        raise Finding("a cross-site login form post opened a session")
    # The right token and cookie but another Origin.
    c = ctx.anon()
    page = c.get("/login")
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    if not m:
        raise Finding("the login form carries no CSRF token")
    r = c.post_form(
        "/login",
        {"csrf": m.group(1), "username": username, "password": PASSWORD},
        csrf=False,
        headers={"Origin": "https://evil.example"},
    )
    if "xiuhua_session" in c.cookies:
        raise Finding("a login post from another Origin opened a session")
    # The page's own post works.
    r = c.post_form(
        "/login",
        {"csrf": m.group(1), "username": username, "password": PASSWORD},
        csrf=False,
        headers={"Origin": ctx.base},
    )
    if "xiuhua_session" not in c.cookies:
        raise Finding(f"the login form's own post did not log in: {r.status} {r.headers.get('location')}")
    r = ctx.anon().post_json(
        "/api/v1/session",
        {"username": username, "password": PASSWORD},
        csrf=False,
        headers={"Origin": "https://evil.example"},
    )
    if r.status == 200:
        raise Finding("the JSON login accepted another site's Origin")


# Item 9: wrong passwords from one address do not lock the account elsewhere.
def probe_lockout_is_per_source_and_admin_unlocks(ctx):
    admin_name, _ = ctx.user("admin")
    attacker = "127.0.0.3"
    for i in range(6):
        ctx.anon(source=attacker).post_json(
            "/api/v1/session",
            {"username": admin_name, "password": f"wrong-{i}"},
            csrf=False,
            headers={"X-Forwarded-For": f"10.66.0.{i}"},
        )
    r = ctx.anon(source=attacker).post_json(
        "/api/v1/session", {"username": admin_name, "password": PASSWORD}, csrf=False,
        headers={"X-Forwarded-For": "10.66.1.1"},
    )
    if r.status != 429:
        raise Finding(f"six wrong passwords from one address did not lock it there ({r.status})")
    # The administrator, from their own address, is not locked out.
    try:
        admin = ctx.login("admin")
    except RuntimeError as e:
        raise Finding(f"the system administrator was locked out from a foreign address: {e}")
    # The administrator unlocks; the access log records it.
    users = admin.get("/admin/users").text
    m = re.search(
        "<td>" + re.escape(admin_name) + r'</td>.*?href="/admin/users/([0-9]+)"', users, re.S
    )
    if not m:
        raise RuntimeError("cannot find the admin's user id")
    r = admin.post_json(f"/api/v1/users/{m.group(1)}/unlock", {})
    if r.status != 200:
        raise Finding(f"the unlock API answered {r.status}: {r.text[:200]}")
    r = ctx.anon(source=attacker).post_json(
        "/api/v1/session", {"username": admin_name, "password": PASSWORD}, csrf=False
    )
    if r.status != 200:
        raise Finding(f"still locked after the unlock ({r.status})")
    out = subprocess.run(
        [ctx.bin, "--data-dir", ctx.data_dir, "audit", "--action", "login_unlock"],
        capture_output=True,
        text=True,
    )
    if admin_name not in out.stdout:
        raise Finding(f"the unlock is not in the access log: {out.stdout[-300:]} {out.stderr[-300:]}")


# Item 10: weak passwords.
def probe_weak_passwords_refused(ctx):
    admin = ctx.login("admin")
    for i, pw in enumerate(["Password1", "abcd1234", "woaini1314", "probeweak{i}", "Qwerty123!"]):
        name = f"probeweak{i}"
        pw = pw.replace("{i}", str(i))
        admin.post_form(
            "/admin/users",
            {
                "username": name,
                "display_name": name,
                "role": "viewer",
                "region_code": ctx.county,
                "password": pw,
            },
        )
        if name in admin.get("/admin/users").text:
            raise Finding(f"an account with the password {pw!r} was created")
    r = subprocess.run(
        [ctx.bin, "--data-dir", ctx.data_dir, "create-user", "--username", "probeweakcli",
         "--role", "viewer", "--region", ctx.county, "--password", "Password123"],
        capture_output=True,
        text=True,
    )
    if r.returncode == 0:
        raise Finding("create-user accepted Password123")


# Item 11: open redirect.
def probe_language_switch_does_not_redirect_away(ctx):
    c = ctx.anon()
    for referer in [
        "https://evil.example//evil2.example/x",
        "https://evil.example/\\evil2.example/x",
        "https://evil.example/x",
        f"{ctx.base}//evil2.example/x",
        f"{ctx.base}/\\evil2.example",
        "//evil2.example/x",
    ]:
        r = c.get("/lang/en", headers={"Referer": referer})
        loc = r.headers.get("location", "")
        if not loc.startswith("/") or loc.startswith("//") or loc.startswith("/\\") or "evil" in loc:
            raise Finding(f"Referer {referer!r} redirects to {loc!r}")


# Item 12: headers.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def probe_security_headers(ctx):
    county = ctx.login("county")
    answers = {
        "page": county.get("/households"),
        "export": county.get(f"/households/export?purpose={quote('安全检查')}"),
        "api": county.get("/api/v1/households"),
        "login": ctx.anon().get("/login"),
    }
    for what, r in answers.items():
        if r.status != 200:
            raise RuntimeError(f"{what}: {r.status}")
        want = {
            "cache-control": "no-store",
            "content-security-policy": CSP,
            "referrer-policy": "same-origin",
            "x-content-type-options": "nosniff",
        }
        for h, v in want.items():
            if r.headers.get(h) != v:
                raise Finding(f"{what}: {h} is {r.headers.get(h)!r}")
    for path in ["/imports", "/households", "/login"]:
        page = county.get(path).text
        if re.search(r"<script(?![^>]*\bsrc=)", page) or re.search(r"\son[a-z]+=", page):
            raise Finding(f"{path} has inline script")


# Item 14: long and wildcard searches.
def probe_long_and_wildcard_search(ctx):
    county = ctx.login("county")
    r = county.get("/api/v1/households?q=" + "a" * 50_000)
    if r.status != 400:
        raise Finding(f"a 50 KB search answered {r.status}")
    r = county.get("/households?q=" + "a" * 50_000)
    if r.status != 400:
        raise Finding(f"a 50 KB page search answered {r.status}")
    every = county.get("/api/v1/households").json()["total"]
    for q in ["%25", "_", "%5C%25"]:
        r = county.get(f"/api/v1/households?q={q}")
        if r.status != 200:
            raise Finding(f"q={q} answered {r.status}")
        total = r.json()["total"]
        if total and total >= min(every, 10):
            raise Finding(f"q={q} matches {total} of {every} households")


