//! Web hardening of issue 19: redirects only to this server, security headers on every answer,
//! bounded and literal household search, login CSRF, per-source lockout, password policy and
//! uploads authorised before they are read.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::*;

async fn lang_back(app: &TestApp, referer: &str) -> String {
    let r = app
        .send(
            Request::get("/lang/en")
                .header(header::HOST, "xiuhua.local")
                .header(header::REFERER, referer)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{referer}");
    r.location().to_string()
}

#[tokio::test]
async fn the_language_switch_goes_back_only_to_this_server() {
    let app = TestApp::new().await;
    assert_eq!(
        lang_back(&app, "http://xiuhua.local/households?q=%E9%9F%A6").await,
        "/households?q=%E9%9F%A6"
    );
    for evil in [
        "https://evil.example//evil2.example/x",
        "https://evil.example/\\evil2.example/x",
        "http://xiuhua.local//evil2.example/x",
        "http://xiuhua.local/\\evil2.example",
        "//evil2.example/x",
        "/\\evil2.example",
        "javascript:alert(1)",
        "http://xiuhua.local@evil.example/",
    ] {
        assert_eq!(lang_back(&app, evil).await, "/", "{evil}");
    }
}

fn assert_security_headers(r: &Response, what: &str) {
    let h = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(h("cache-control"), "no-store", "{what}");
    assert_eq!(
        h("content-security-policy"),
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        "{what}"
    );
    assert_eq!(h("referrer-policy"), "same-origin", "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
}

#[tokio::test]
async fn pages_exports_and_the_api_carry_the_security_headers() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let page = app.get("/households", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_security_headers(&page, "page");
    let export = app
        .get(
            "/households/export?purpose=%E6%A3%80%E6%9F%A5",
            Some(&admin),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_security_headers(&export, "export");
    let api = app.get("/api/v1/households", Some(&admin)).await;
    assert_eq!(api.status, StatusCode::OK);
    assert_security_headers(&api, "api");
    let login = app.get("/login", None).await;
    assert_security_headers(&login, "login page");
    // Static assets may be cached; the page script is a file, not inline.
    let js = app.get("/static/app.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_ne!(js.headers[header::CACHE_CONTROL], "no-store");
    assert!(js.body.contains("/imports/jobs/"));
}

#[test]
fn templates_have_no_inline_script_style_or_handlers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![dir];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            seen += 1;
            let text = std::fs::read_to_string(&p).unwrap();
            let lower = text.to_lowercase();
            for (i, _) in lower.match_indices("<script") {
                let tag = &lower[i..i + lower[i..].find('>').unwrap()];
                assert!(tag.contains(" src="), "inline script in {}", p.display());
            }
            assert!(!lower.contains("<style"), "<style> in {}", p.display());
            assert!(!lower.contains(" style="), "style= in {}", p.display());
            assert!(
                !lower.contains("javascript:"),
                "javascript: in {}",
                p.display()
            );
            for w in lower.split(|c: char| c.is_whitespace() || c == '<') {
                let handler = w.starts_with("on")
                    && w.split_once('=').is_some_and(|(n, _)| {
                        n.len() > 2 && n.chars().all(|c| c.is_ascii_lowercase())
                    });
                assert!(!handler, "event handler {w} in {}", p.display());
            }
        }
    }
    assert!(seen > 10);
}

#[tokio::test]
async fn a_long_search_is_refused_and_like_wildcards_are_literal() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let long = "a".repeat(50_000);
    let q = xiuhua_web::pages::url_encode(&long);
    let r = app
        .get(&format!("/api/v1/households?q={q}"), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "search_too_long");
    assert!(
        r.json()["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("64")
    );
    let r = app.get(&format!("/households?q={q}"), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("搜索内容过长"));
    let r = app
        .get(&format!("/households/export?purpose=x&q={q}"), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // 64 characters still search.
    let ok = "韦".repeat(64);
    let r = app
        .get(
            &format!(
                "/api/v1/households?q={}",
                xiuhua_web::pages::url_encode(&ok)
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Both households match a name prefix; `%`, `_` and `\` match only themselves.
    let total = |r: &Response| r.json()["total"].as_i64().unwrap();
    let r = app
        .get("/api/v1/households?q=%E9%9F%A6", Some(&admin))
        .await;
    assert_eq!(total(&r), 2, "{}", r.body);
    for wild in [
        "%25",
        "_",
        "%25%E6%A1%82",
        "_%E6%A1%82",
        "%5C",
        "%E9%9F%A6%25",
    ] {
        let r = app
            .get(&format!("/api/v1/households?q={wild}"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{wild}");
        assert_eq!(total(&r), 0, "q={wild}: {}", r.body);
    }
    let r = app.get("/households?q=%25", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("韦桂英"), "q=% listed households");
}

#[tokio::test]
async fn weak_passwords_are_refused_wherever_a_password_is_set() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let create = |pw: &str, name: &str| {
        format!(
            "csrf={}&username={name}&display_name=x&role=village&region_code=451228101201&password={pw}",
            admin.csrf
        )
    };
    for (pw, why) in [
        ("Password1", "密码太短"),
        ("Password123", "常见密码"),
        ("abcd123456", "常见密码"),
        ("woaini1314", "常见密码"),
        ("1qaz2wsx3edc", "常见密码"),
        ("abcdefghijkl", "两类字符"),
        ("xincun-2026", "用户名"),
        ("2026-NUCNIX", "用户名"),
    ] {
        let r = app
            .post_form("/admin/users", &create(pw, "xincun"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{pw}");
        assert!(r.body.contains(why), "{pw}: {}", r.body);
    }
    let users = app.get("/admin/users", Some(&admin)).await;
    assert!(!users.body.contains("xincun"), "a weak account was created");
    // An administrator's reset and one's own change follow the same policy.
    let page = app.get("/admin/users", Some(&admin)).await;
    let at = page.body.find("/admin/users/").unwrap() + "/admin/users/".len();
    let id: String = page.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = app
        .post_form(
            &format!("/admin/users/{id}/password"),
            &format!("csrf={}&password=qwerty123456", admin.csrf),
            Some(&admin),
        )
        .await;
    assert!(r.body.contains("常见密码"), "{}", r.body);
    let township = app.login("gaoling").await;
    let r = app
        .post_form(
            "/account/password",
            &format!(
                "csrf={}&current={PASSWORD}&password=Gaoling-2026",
                township.csrf
            ),
            Some(&township),
        )
        .await;
    assert!(r.body.contains("用户名"), "{}", r.body);
    assert!(!r.body.contains("密码已更新"));
}

async fn raw_login(
    app: &TestApp,
    cookie: Option<&str>,
    origin: Option<&str>,
    csrf: &str,
) -> Response {
    let mut b = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "xiuhua.local");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    app.send(
        b.body(Body::from(format!(
            "username=admin&password={PASSWORD}&csrf={csrf}"
        )))
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_login_form_needs_its_token_and_this_servers_origin() {
    let app = TestApp::new().await;
    let (cookie, token) = app.login_form_token().await;
    assert_eq!(cookie, format!("xiuhua_login_csrf={token}"));
    let refused = |r: &Response| {
        r.status == StatusCode::SEE_OTHER
            && r.location() == "/login?expired=1"
            && r.headers.get(header::SET_COOKIE).is_none()
    };
    // A cross-site form post: no cookie (SameSite=Strict), a token of the attacker's own.
    let (_, other) = app.login_form_token().await;
    let r = raw_login(&app, None, Some("https://evil.example"), &other).await;
    assert!(refused(&r), "{:?} {}", r.status, r.location());
    // The right cookie and token but another site's Origin, or Referer.
    let r = raw_login(&app, Some(&cookie), Some("https://evil.example"), &token).await;
    assert!(refused(&r), "foreign origin");
    let r = raw_login(&app, Some(&cookie), Some("null"), &token).await;
    assert!(refused(&r), "null origin");
    // A token that is not the cookie's, or none.
    let r = raw_login(&app, Some(&cookie), Some("http://xiuhua.local"), &other).await;
    assert!(refused(&r), "other token");
    let r = raw_login(&app, Some(&cookie), Some("http://xiuhua.local"), "").await;
    assert!(refused(&r), "no token");
    let r = app.get("/login?expired=1", None).await;
    assert!(r.body.contains("id=\"expired\""));
    // The page's own post logs in.
    let r = raw_login(&app, Some(&cookie), Some("http://xiuhua.local"), &token).await;
    assert_eq!(r.location(), "/", "{}", r.body);
    assert!(
        r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("xiuhua_session=")
    );
    // The JSON login refuses a browser request from another site, and takes one from here.
    let json_login = |origin: &'static str| {
        app.send(
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::HOST, "xiuhua.local")
                .header(header::ORIGIN, origin)
                .body(Body::from(
                    serde_json::json!({"username": "admin", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
    };
    let r = json_login("https://evil.example").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "csrf");
    let r = json_login("http://xiuhua.local").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

fn json_login_from(username: &str, password: &str, peer: Option<&str>, xff: &str) -> Request<Body> {
    let mut req = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", xff)
        .body(Body::from(
            serde_json::json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap();
    if let Some(p) = peer {
        let addr: std::net::SocketAddr = p.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
    }
    req
}

#[tokio::test]
async fn wrong_passwords_lock_an_account_only_from_their_address_and_an_admin_unlocks() {
    let app = TestApp::new().await;
    // A stranger (a real TCP peer) tries the administrator's password, rotating the
    // X-Forwarded-For header it sends: the header is not believed, the peer address counts.
    for i in 0..5 {
        let r = app
            .send(json_login_from(
                "admin",
                "wrong-guess",
                Some("203.0.113.7:4000"),
                &format!("10.9.9.{i}"),
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    let r = app
        .send(json_login_from(
            "admin",
            PASSWORD,
            Some("203.0.113.7:4001"),
            "10.9.9.99",
        ))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.json()["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("从此地址")
    );
    // The administrator, from their own address, is not locked out.
    let r = app
        .send(json_login_from(
            "admin",
            PASSWORD,
            Some("192.0.2.10:5000"),
            "203.0.113.7",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let admin = app.login("admin").await;
    let admin_id = xiuhua_app::users::list(&app._services, &xiuhua_app::CurrentUser::system())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "admin")
        .unwrap()
        .id;
    // The user page lists the locked address; the API unlock needs the CSRF token.
    let page = app
        .get(&format!("/admin/users/{admin_id}"), Some(&admin))
        .await;
    assert!(
        page.body.contains("203.0.113.7") && page.body.contains("id=\"unlock-user\""),
        "{}",
        page.body
    );
    let path = format!("/api/v1/users/{admin_id}/unlock");
    let r = app
        .json("POST", &path, serde_json::json!({}), Some(&admin), false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let viewer = app.login("viewer").await;
    let r = app
        .json("POST", &path, serde_json::json!({}), Some(&viewer), true)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .json("POST", &path, serde_json::json!({}), Some(&admin), true)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["forgotten"], 5);
    let r = app
        .send(json_login_from(
            "admin",
            PASSWORD,
            Some("203.0.113.7:4002"),
            "",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "unlocked: {}", r.body);
    // The page's unlock button works too; both unlocks are in the access log.
    let r = app
        .post_form(
            &format!("/admin/users/{admin_id}/unlock"),
            &format!("csrf={}", admin.csrf),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("已解除锁定"), "{}", r.body);
    let log = xiuhua_app::audit::search(
        &app._services,
        &xiuhua_app::CurrentUser::system(),
        &xiuhua_db::audit::AccessFilter {
            action: Some("login_unlock".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|e| e.username == "admin" && e.target == "admin")
    );
}

/// The router on a real socket (port 0), as `xiuhua serve` runs it, with these settings.
async fn spawn_server(app: &TestApp, config: xiuhua_web::WebConfig) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = xiuhua_web::router_with(app._services.clone(), config)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

const BOUNDARY: &str = "xiuhua-upload-boundary";

/// The start of a multipart upload: `fields` in order, then the file part's header.
fn upload_head(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n")
            .as_bytes(),
    );
    b
}

/// Opens a connection and sends the request head announcing `length` body bytes, and `start`.
async fn start_upload(
    addr: std::net::SocketAddr,
    cookie: &str,
    extra_headers: &str,
    length: u64,
    start: &[u8],
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /imports HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n{extra_headers}Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(start).await.unwrap();
    s
}

/// The answer's status and text, if it comes within `secs` seconds.
async fn answer(s: &mut tokio::net::TcpStream, secs: u64) -> Option<(u16, String)> {
    answer_within(s, std::time::Duration::from_secs(secs)).await
}

/// The answer's status and text, if it comes within `wait`.
async fn answer_within(
    s: &mut tokio::net::TcpStream,
    wait: std::time::Duration,
) -> Option<(u16, String)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 8192];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&buf);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_string)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if len.is_some_and(|n| body.len() >= n) || len.is_none() {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

fn test_upload_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "xiuhua-upload-test-{}",
        xiuhua_app::auth::random_token()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn uploads_are_refused_before_their_body_is_read() {
    let app = TestApp::new().await;
    let dir = test_upload_dir();
    let config = xiuhua_web::WebConfig {
        upload_dir: Some(dir.clone()),
        ..xiuhua_web::WebConfig::default()
    };
    let addr = spawn_server(&app, config).await;
    let huge = 500 * 1024 * 1024;
    // A viewer announces 500 MB and sends a few bytes: the answer comes at once.
    let viewer = app.login("viewer").await;
    let mut s = start_upload(
        addr,
        &viewer.cookie,
        "",
        huge,
        &upload_head(&[("csrf", &viewer.csrf)]),
    )
    .await;
    let (status, text) = answer(&mut s, 5).await.expect("answered before the body");
    assert_eq!(status, 403, "{text}");
    // A writer with a wrong token in the header, or as the first part, or without the token
    // as the first part: refused as soon as that is known.
    let admin = app.login("admin").await;
    let mut s = start_upload(addr, &admin.cookie, "X-CSRF-Token: wrong\r\n", huge, b"").await;
    assert_eq!(answer(&mut s, 5).await.expect("header token").0, 403);
    let mut s = start_upload(
        addr,
        &admin.cookie,
        "",
        huge,
        &upload_head(&[("csrf", "wrong")]),
    )
    .await;
    assert_eq!(answer(&mut s, 5).await.expect("first-part token").0, 403);
    let mut s = start_upload(
        addr,
        &admin.cookie,
        "",
        huge,
        &upload_head(&[("county", "451228")]),
    )
    .await;
    assert_eq!(answer(&mut s, 5).await.expect("token not first").0, 403);
    // No session: to the login page, without reading the body.
    let mut s = start_upload(addr, "", "", huge, b"").await;
    let (status, text) = answer(&mut s, 5).await.expect("no session");
    assert_eq!(status, 303, "{text}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing was stored"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_too_large_upload_is_refused_while_it_streams_and_leaves_nothing() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::new().await;
    let dir = test_upload_dir();
    let config = xiuhua_web::WebConfig {
        upload_dir: Some(dir.clone()),
        max_upload_bytes: 1024 * 1024,
        ..xiuhua_web::WebConfig::default()
    };
    let addr = spawn_server(&app, config).await;
    let admin = app.login("admin").await;
    let head = upload_head(&[
        ("csrf", &admin.csrf),
        ("county", "451228"),
        ("dry_run", "1"),
    ]);
    let total = 64 * 1024 * 1024;
    let mut s = start_upload(addr, &admin.cookie, "", (head.len() + total) as u64, &head).await;
    // Send 4 MiB (four times the limit) of the announced 64 MiB, then wait for the answer.
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        if s.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let (status, text) = answer(&mut s, 10).await.expect("refused while streaming");
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("上传的文件过大：最大 1 MiB"), "{text}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "the partial file is gone"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_third_concurrent_upload_of_one_user_is_refused() {
    let app = TestApp::new().await;
    let dir = test_upload_dir();
    let config = xiuhua_web::WebConfig {
        upload_dir: Some(dir.clone()),
        ..xiuhua_web::WebConfig::default()
    };
    let addr = spawn_server(&app, config).await;
    let admin = app.login("admin").await;
    let head = upload_head(&[("csrf", &admin.csrf)]);
    let big = 100 * 1024 * 1024;
    // Two uploads hold their slots; the third is refused. (Under load a third may reach the
    // server before the second: then the second is the one refused, and is started again.)
    let short = std::time::Duration::from_millis(300);
    let mut held = vec![];
    let mut refused = None;
    for _ in 0..20 {
        let mut alive = vec![];
        for mut s in held {
            if answer_within(&mut s, std::time::Duration::from_millis(50))
                .await
                .is_none()
            {
                alive.push(s);
            }
        }
        held = alive;
        while held.len() < 2 {
            held.push(start_upload(addr, &admin.cookie, "", big, &head).await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mut third = start_upload(addr, &admin.cookie, "", big, &head).await;
        if let Some((status, text)) = answer(&mut third, 1).await {
            refused = Some((status, text));
            break;
        }
    }
    let (status, text) = refused.expect("the third upload was answered");
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("个文件正在上传"), "{text}");
    let mut second = held.pop().unwrap();
    let mut first = held.pop().unwrap();
    // The two still run (no answer yet); another user is not affected.
    assert!(answer_within(&mut first, short).await.is_none());
    assert!(answer_within(&mut second, short).await.is_none());
    let other = app.login("gaoling").await;
    let mut s = start_upload(
        addr,
        &other.cookie,
        "",
        big,
        &upload_head(&[("csrf", &other.csrf)]),
    )
    .await;
    assert!(
        answer_within(&mut s, short).await.is_none(),
        "another user's upload streams"
    );
    drop(s);
    // When they end, the slots are free again: a whole small upload of the user goes through.
    drop(first);
    drop(second);
    let mut body = upload_head(&[
        ("csrf", &admin.csrf),
        ("county", "451228"),
        ("dry_run", "1"),
    ]);
    body.extend(crate::transfers::valid_ledger().as_bytes());
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let mut done = None;
    for _ in 0..50 {
        let mut s = start_upload(addr, &admin.cookie, "", body.len() as u64, &body).await;
        let (status, text) = answer(&mut s, 10)
            .await
            .expect("a small upload is answered");
        if status == 200 {
            done = Some(text);
            break;
        }
        assert_eq!(status, 429, "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done.expect("slots were freed").contains("data-job="));
    std::fs::remove_dir_all(&dir).unwrap();
}
