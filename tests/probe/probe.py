#!/usr/bin/env python3
"""Probe driver: re-runs known attacks against a real xiuhua server (issue 19).

Usage: python3 tests/probe/probe.py [--bin target/debug/xiuhua] [-k FILTER]

It creates a demo county in a temporary data directory, one user per role, starts
`xiuhua serve`, imports every `tests/probe/p_*.py` and runs each function named
`probe_*(ctx)` in it. A probe raises `Finding("...")` to report a finding; any other
exception is reported as an error (also a failure). Prints `PASS name` or
`FINDING name: ...` per probe, stops the server, and exits 1 on any finding.

Standard library only.
"""

import argparse
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from urllib.parse import urlsplit

PASSWORD = "Probe-2026-xiuhua!x"
ROLES = ["admin", "county", "township", "village", "village_other", "cadre", "viewer"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class Finding(Exception):
    """Raised by a probe that found a weakness."""


class Resp:
    """An HTTP answer: status, headers (lower-case names), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<Resp {self.status} {self.text[:200]!r}>"


def encode_multipart(fields, files):
    """Encodes form fields (in order) then files as multipart/form-data."""
    boundary = "----probe" + uuid.uuid4().hex
    out = []
    for name, value in (fields or {}).items():
        out.append(f"--{boundary}\r\n".encode())
        out.append(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.append(str(value).encode("utf-8"))
        out.append(b"\r\n")
    for name, (filename, data, ctype) in (files or {}).items():
        out.append(f"--{boundary}\r\n".encode())
        out.append(
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        )
        out.append(f"Content-Type: {ctype}\r\n\r\n".encode())
        out.append(data)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


class Client:
    """An HTTP client with an optional session (cookies and CSRF token); no redirects."""

    def __init__(self, base, timeout=120, source=None):
        u = urlsplit(base)
        self.base = base
        self.host = u.hostname
        self.port = u.port
        self.timeout = timeout
        # Local address to connect from (e.g. "127.0.0.2": another client address on loopback).
        self.source = source
        self.cookies = {}
        self.csrf = ""

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method, path, body=None, headers=None):
        h = {}
        if self.cookies:
            h["Cookie"] = self.cookie_header()
        h.update(headers or {})
        conn = http.client.HTTPConnection(
            self.host,
            self.port,
            timeout=self.timeout,
            source_address=(self.source, 0) if self.source else None,
        )
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                if k == "set-cookie":
                    self._store_cookie(v)
                hdrs[k] = v if k not in hdrs else hdrs[k] + ", " + v
            return Resp(r.status, hdrs, data)
        finally:
            conn.close()

    def _store_cookie(self, value):
        first = value.split(";", 1)[0]
        if "=" not in first:
            return
        k, v = first.split("=", 1)
        k = k.strip()
        if "max-age=0" in value.lower().replace(" ", "") or v == "":
            self.cookies.pop(k, None)
        else:
            self.cookies[k] = v

    def _csrf_headers(self, csrf, headers):
        h = dict(headers or {})
        if csrf and self.csrf:
            h.setdefault("X-CSRF-Token", self.csrf)
        return h

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post_form(self, path, fields, files=None, csrf=True, headers=None):
        fields = dict(fields or {})
        if csrf and self.csrf and "csrf" not in fields:
            # The token goes first: upload routes refuse a body whose first part is not it.
            fields = {"csrf": self.csrf, **fields}
        h = dict(headers or {})
        if files:
            body, ctype = encode_multipart(fields, files)
        else:
            from urllib.parse import urlencode

            body = urlencode(fields).encode()
            ctype = "application/x-www-form-urlencoded"
        h.setdefault("Content-Type", ctype)
        return self.request("POST", path, body=body, headers=h)

    def _json(self, method, path, obj, csrf, headers):
        h = self._csrf_headers(csrf, headers)
        h.setdefault("Content-Type", "application/json")
        return self.request(method, path, body=json.dumps(obj).encode(), headers=h)

    def post_json(self, path, obj, csrf=True, headers=None):
        return self._json("POST", path, obj, csrf, headers)

    def patch_json(self, path, obj, csrf=True, headers=None):
        return self._json("PATCH", path, obj, csrf, headers)

    def delete(self, path, csrf=True, headers=None):
        return self.request("DELETE", path, headers=self._csrf_headers(csrf, headers))


class Ctx:
    """What a probe gets: the server, its data and logged-in clients per role."""

    def __init__(self, base, data_dir, binary, county, townships, villages, users, proc):
        self.base = base
        self.data_dir = data_dir
        self.bin = binary
        self.county = county
        self.townships = townships
        self.villages = villages
        self._users = users
        self.proc = proc
        self.pid = proc.pid

    def user(self, role):
        """(username, region code) of the probe user of a role."""
        return self._users[role]

    def anon(self, source=None):
        """A client without a session (optionally connecting from another loopback address)."""
        return Client(self.base, source=source)

    def login(self, role, source=None):
        """A client logged in as the probe user of a role (JSON API login)."""
        username, _ = self._users[role]
        c = Client(self.base, source=source)
        r = c.post_json(
            "/api/v1/session", {"username": username, "password": PASSWORD}, csrf=False
        )
        if r.status != 200:
            raise RuntimeError(f"login as {username} failed: {r.status} {r.text[:300]}")
        c.csrf = r.json()["csrf_token"]
        return c

    def db(self):
        """A read-only connection to the SQLite file."""
        path = os.path.join(self.data_dir, "xiuhua.db")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def households(self, region_code, n=5):
        """Up to n households inside a region (prefix of the village code)."""
        con = self.db()
        try:
            rows = con.execute(
                "SELECT id, household_no, head_name, head_id_number FROM households "
                "WHERE village_code LIKE ? ORDER BY id LIMIT ?",
                (region_code + "%", n),
            ).fetchall()
        finally:
            con.close()
        return [
            {"id": r[0], "household_no": r[1], "head_name": r[2], "head_id_number": r[3]}
            for r in rows
        ]

    def rss_kib(self):
        """The server's resident set size in KiB (from /proc)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def regions(data_dir):
    """County, townships and villages (those with households) of the demo county."""
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'xiuhua.db')}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT township_code, village_code, count(*) FROM households "
            "GROUP BY township_code, village_code ORDER BY township_code, village_code"
        ).fetchall()
        county = con.execute("SELECT DISTINCT county_code FROM households").fetchone()[0]
    finally:
        con.close()
    villages = {}
    for t, v, _ in rows:
        villages.setdefault(t, []).append(v)
    return county, sorted(villages), villages


def load_probes(filt):
    probes = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("p_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in sorted(dir(mod)):
            fn = getattr(mod, attr)
            if attr.startswith("probe_") and callable(fn):
                full = f"{name[:-3]}.{attr}"
                if not filt or any(f in full for f in filt):
                    probes.append((full, fn))
    return probes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "xiuhua"))
    ap.add_argument("-k", action="append", default=[], help="run only probes containing this")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="probes may say more")
    args = ap.parse_args()
    # Probe modules import `Finding` from here: make `import probe` find this module.
    sys.modules.setdefault("probe", sys.modules[__name__])
    sys.path.insert(0, HERE)

    binary = os.path.abspath(args.bin)
    data_dir = tempfile.mkdtemp(prefix="xiuhua-probe-")
    env = dict(os.environ, XIUHUA_NEW_PASSWORD=PASSWORD)
    env.pop("XIUHUA_DATABASE_URL", None)
    base_cmd = [binary, "--data-dir", data_dir]
    run(base_cmd + ["demo", "--households", "300", "--seed", "5"], env=env)
    county, townships, villages = regions(data_dir)
    if len(townships) < 2:
        raise RuntimeError("the demo county needs two townships with households")
    t0, t1 = townships[0], townships[1]
    scopes = {
        "admin": ("admin", ""),
        "county": ("county", county),
        "township": ("township", t0),
        "village": ("village", villages[t0][0]),
        "village_other": ("village", villages[t1][0]),
        "cadre": ("cadre", county),
        "viewer": ("viewer", county),
    }
    users = {}
    for role in ROLES:
        real_role, region = scopes[role]
        username = f"probe_{role}"
        run(
            base_cmd
            + ["create-user", "--username", username, "--role", real_role, "--region", region],
            env=env,
        )
        users[role] = (username, region)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(data_dir, "serve.log"), "w")
    proc = subprocess.Popen(
        base_cmd + ["serve", "--bind", f"127.0.0.1:{port}", "--max-upload-mib", "64"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    findings = 0
    try:
        for _ in range(100):
            try:
                if Client(base, timeout=2).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("the server exited at start; see serve.log")
            time.sleep(0.2)
        ctx = Ctx(base, data_dir, binary, county, townships, villages, users, proc)
        ctx.verbose = args.verbose
        probes = load_probes(args.k)
        for name, fn in probes:
            started = time.time()
            try:
                fn(ctx)
                print(f"PASS {name} ({time.time() - started:.1f} s)", flush=True)
            except Finding as f:
                findings += 1
                print(f"FINDING {name}: {f}", flush=True)
            except Exception:  # noqa: BLE001 - a probe that breaks is a failure too
                findings += 1
                tb = traceback.format_exc().strip().replace("\n", "\n    ")
                print(f"FINDING {name}: probe error\n    {tb}", flush=True)
            if proc.poll() is not None:
                findings += 1
                print(f"FINDING {name}: the server died (exit {proc.returncode})", flush=True)
                break
        print(f"{len(probes)} probes, {findings} findings")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        if args.keep or findings:
            print(f"data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
