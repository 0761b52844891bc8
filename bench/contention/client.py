#!/usr/bin/env python3
"""Latency of logins and household pages on a running xiuhua server, idle or during an import.

Stdlib only. Each of --clients threads loops: log in (POST /api/v1/session), then view
--pages household pages (GET /households/{id}, a county user: full identity numbers, so every
view writes the access log), each request timed. Modes:

  peer    --seconds S: the same requests on an idle server;
  import  --ledger FILE: logs in, uploads FILE to /imports (the upload page's background job),
          runs the clients until the job ends and reports the import's wall time (upload start
          to job done) and its outcome.

Prints one JSON object: per kind (login, page) the count, errors (non-200 or no answer),
p50/p99/max in ms; plus the import's wall time and job state in import mode.
"""

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit


class Conn:
    def __init__(self, base, timeout=60):
        u = urlsplit(base)
        self.host, self.port, self.timeout = u.hostname, u.port or 80, timeout

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            c.close()


def login(conn, user, password):
    body = json.dumps({"username": user, "password": password})
    st, h, b = conn.request("POST", "/api/v1/session", body, {"Content-Type": "application/json"})
    if st != 200:
        return st, None, None
    cookie = h.get("set-cookie", "").split(";")[0]
    return st, cookie, json.loads(b)["csrf_token"]


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


class Load:
    def __init__(self, args, ids):
        self.args, self.ids = args, ids
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples = {"login": [], "page": []}
        self.errors = {"login": 0, "page": 0}
        self.statuses = {}

    def record(self, kind, ms, ok, status):
        with self.lock:
            self.samples[kind].append(ms)
            if not ok:
                self.errors[kind] += 1
                key = "%s %s" % (kind, status)
                self.statuses[key] = self.statuses.get(key, 0) + 1

    def worker(self, seed):
        rng = random.Random(seed)
        conn = Conn(self.args.base, timeout=self.args.timeout)
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                st, cookie, _ = login(conn, self.args.user, self.args.password)
            except Exception as e:  # no answer (timeout, reset)
                st, cookie = type(e).__name__, None
            self.record("login", (time.monotonic() - t) * 1000, st == 200, st)
            if cookie is None:
                time.sleep(0.2)
                continue
            for _ in range(self.args.pages):
                if self.stop.is_set():
                    break
                hid = rng.choice(self.ids)
                t = time.monotonic()
                try:
                    st, _, _ = conn.request("GET", "/households/%d" % hid, headers={"Cookie": cookie})
                except Exception as e:
                    st = type(e).__name__
                self.record("page", (time.monotonic() - t) * 1000, st == 200, st)
                time.sleep(self.args.think / 1000.0)

    def start(self):
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.args.clients)]
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        out = {}
        for kind, xs in self.samples.items():
            out[kind] = {
                "count": len(xs),
                "errors": self.errors[kind],
                "p50_ms": round(percentile(xs, 50), 1) if xs else None,
                "p99_ms": round(percentile(xs, 99), 1) if xs else None,
                "max_ms": round(max(xs), 1) if xs else None,
            }
        out["error_statuses"] = self.statuses
        return out


def multipart(fields, file_field, file_name, path):
    boundary = "xiuhua-bench-" + uuid.uuid4().hex
    head = b""
    for k, v in fields.items():
        head += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)).encode()
    head += (
        "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\nContent-Type: text/csv\r\n\r\n"
        % (boundary, file_field, file_name)
    ).encode()
    tail = ("\r\n--%s--\r\n" % boundary).encode()
    size = len(head) + os.path.getsize(path) + len(tail)

    def body():
        yield head
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                yield chunk
        yield tail

    return "multipart/form-data; boundary=" + boundary, size, body()


def run_import(args, load):
    conn = Conn(args.base, timeout=3600)
    st, cookie, csrf = login(conn, args.user, args.password)
    if st != 200:
        sys.exit("login failed: %s" % st)
    ctype, size, body = multipart(
        {"csrf": csrf, "county": args.county, "effective_date": args.effective_date},
        "file",
        os.path.basename(args.ledger),
        args.ledger,
    )
    started = time.monotonic()
    load.start()
    c = http.client.HTTPConnection(conn.host, conn.port, timeout=3600)
    c.putrequest("POST", "/imports")
    c.putheader("Cookie", cookie)
    c.putheader("Content-Type", ctype)
    c.putheader("Content-Length", str(size))
    c.endheaders()
    for part in body:
        c.send(part)
    r = c.getresponse()
    page = r.read().decode("utf-8", "replace")
    c.close()
    if r.status != 200 or 'data-job="' not in page:
        load.finish()
        sys.exit("upload answered %s: %s" % (r.status, page[:500]))
    job = page.split('data-job="', 1)[1].split('"', 1)[0]
    uploaded = time.monotonic() - started
    state = {}
    while True:
        time.sleep(1)
        st, _, b = conn.request("GET", "/imports/jobs/%s" % job, headers={"Cookie": cookie})
        if st == 200:
            state = json.loads(b)
            if state.get("done"):
                break
    wall = time.monotonic() - started
    out = load.finish()
    out["import"] = {
        "wall_s": round(wall, 1),
        "upload_s": round(uploaded, 1),
        "state": state.get("state"),
        "rows": state.get("rows"),
        "failure": state.get("failure"),
    }
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--mode", choices=["peer", "import"], required=True)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--clients", type=int, default=2)
    p.add_argument("--pages", type=int, default=5)
    p.add_argument("--think", type=float, default=20, help="ms between page views")
    p.add_argument("--timeout", type=float, default=30, help="s before a request counts as unanswered")
    p.add_argument("--ledger")
    p.add_argument("--county", default="451228")
    p.add_argument("--effective-date", default="2026-11-01")
    args = p.parse_args()
    conn = Conn(args.base)
    st, cookie, _ = login(conn, args.user, args.password)
    if st != 200:
        sys.exit("login failed: %s" % st)
    st, _, b = conn.request("GET", "/api/v1/households?region=%s&per_page=100" % args.county, headers={"Cookie": cookie})
    ids = [h["id"] for h in json.loads(b)["items"]] if st == 200 else []
    if not ids:
        sys.exit("no households to view (GET /api/v1/households answered %s)" % st)
    load = Load(args, ids)
    if args.mode == "peer":
        load.start()
        time.sleep(args.seconds)
        out = load.finish()
    else:
        out = run_import(args, load)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
