//! End-to-end tests of the `xiuhua` binary: demo → stats → serve on port 0 → HTTP, and clear
//! start-up errors for a damaged data directory or an unreachable database. They run on
//! SQLite, and on PostgreSQL too when `XIUHUA_TEST_DATABASE_URL` is set.

mod durability;
mod tidy;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use xiuhua_db::testing::TestDb;

fn xiuhua(data: &Path, db: Option<&str>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xiuhua"));
    c.arg("--data-dir").arg(data);
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    c.args(args).env("XIUHUA_LOG", "warn");
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("run xiuhua")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A minimal HTTP/1.1 client over a raw socket (no extra dependency).
fn http(addr: &str, method: &str, path: &str, cookie: &str, body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scenario(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(xiuhua(
        dir.path(),
        db,
        &[
            "demo",
            "--households",
            "400",
            "--seed",
            "3",
            "--today",
            "2026-11-23",
        ],
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("400 households"), "{}", text(&out));
    let demo_out = text(&out);
    let out = run(xiuhua(
        dir.path(),
        db,
        &["stats", "--region", "451228", "--as-of", "2017-06-30"],
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("as of 2017-06-30") && text(&out).contains("query_ms="));
    // `xiuhua stats | head`: output closed before the command writes ends it quietly.
    let mut c = xiuhua(dir.path(), db, &["stats", "--region", "451228"]);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("panicked"),
        "{:?}: {err}",
        out.status
    );

    let mut child = xiuhua(dir.path(), db, &["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    // The complete demo creates the administrator (beside its other accounts) and announces
    // the password; a registry without users gets it from the first serve instead.
    let mut password = demo_out
        .lines()
        .find_map(|l| l.strip_prefix("first run: created user `admin` with password "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let mut addr = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("first run: created user `admin` with password ") {
            password = rest.split_whitespace().next().unwrap().to_string();
        }
        if let Some(a) = line.strip_prefix("xiuhua is serving on http://") {
            addr = a.to_string();
            break;
        }
    }
    assert!(
        !password.is_empty() && !addr.is_empty(),
        "server did not announce itself"
    );
    assert_eq!(http(&addr, "GET", "/healthz", "", "").0, 200);
    // The login form carries a pre-session CSRF token, also set as a cookie.
    let (status, head, body) = http(&addr, "GET", "/login", "", "");
    assert_eq!(status, 200);
    let login_cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: xiuhua_login_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    let needle = "name=\"csrf\" value=\"";
    let at = body.find(needle).unwrap() + needle.len();
    let token: String = body[at..].chars().take_while(|c| *c != '"').collect();
    assert_eq!(token, login_cookie);
    let (status, head, _) = http(
        &addr,
        "POST",
        "/login",
        &format!("xiuhua_login_csrf={login_cookie}"),
        &format!("username=admin&password={password}&csrf={token}"),
    );
    assert_eq!(status, 303);
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, _, body) = http(&addr, "GET", "/regions/451228", &cookie, "");
    assert_eq!(status, 200);
    assert!(body.contains("都安瑶族自治县") && body.contains("安阳镇"));
    drop(server);
}

#[test]
fn demo_stats_and_serve_end_to_end() {
    scenario(None);
    if xiuhua_db::testing::postgres_admin_url().is_some() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let db = rt.block_on(TestDb::new());
        scenario(Some(&db.url));
    }
}

#[test]
fn a_damaged_data_directory_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("xiuhua.db"),
        b"this is not a database, it is a spreadsheet",
    )
    .unwrap();
    let out = run(xiuhua(dir.path(), None, &["stats", "--region", "451228"]));
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("cannot open database"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(xiuhua(
        dir.path(),
        Some("postgres://postgres:secret@127.0.0.1:1/none"),
        &["migrate"],
    ));
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("cannot open database postgres://postgres:***@127.0.0.1:1/none"),
        "{t}"
    );
    assert!(!t.contains("secret") && !t.contains("panicked"), "{t}");
    let out = run(xiuhua(dir.path(), Some("mysql://x"), &["migrate"]));
    assert!(text(&out).contains("unsupported database URL"));
}

#[test]
fn region_files_are_imported_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "code,name,parent\n451228,都安瑶族自治县,4512\n451228101,高岭镇,451228\n45122810x,坏,451228\n451228999201,孤村,451228999\n").unwrap();
    let out = run(xiuhua(
        dir.path(),
        None,
        &["import-regions", bad.to_str().unwrap()],
    ));
    assert!(!out.status.success());
    assert!(text(&out).contains("第4行: code"), "{}", text(&out));
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "code,name,parent\n451228,都安瑶族自治县,4512\n451228999201,孤村,451228999\n",
    )
    .unwrap();
    let out = run(xiuhua(
        dir.path(),
        None,
        &["import-regions", good.to_str().unwrap()],
    ));
    assert!(
        !out.status.success(),
        "a village without its township is refused"
    );
    assert!(text(&out).contains("parent 451228999"), "{}", text(&out));
    let out = run(xiuhua(dir.path(), None, &["stats", "--region", "451228"]));
    assert!(!out.status.success(), "nothing was written: {}", text(&out));
}

/// Real NBS reference data from `../shared/data/regions` (present in CI next to the project).
#[test]
fn the_national_county_and_township_files_import() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/regions");
    if !shared.exists() {
        eprintln!("skipped: {} not present", shared.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for file in ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"] {
        let out = run(xiuhua(
            dir.path(),
            None,
            &["import-regions", shared.join(file).to_str().unwrap()],
        ));
        assert!(out.status.success(), "{file}: {}", text(&out));
    }
    let out = run(xiuhua(dir.path(), None, &["stats", "--region", "451228"]));
    assert!(
        text(&out).contains("451228 都安瑶族自治县"),
        "{}",
        text(&out)
    );
}
