//! The request log: method, path, status, latency and user of every request; never the query
//! string or the body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_logged_without_query_strings() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let r = app
        .get(
            "/api/v1/households?q=%E9%9F%A6%E6%A1%82%E8%8B%B1",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200);
    app.get("/households/999", None).await;
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let line = lines
        .iter()
        .find(|l| l.contains("path=/api/v1/households"))
        .unwrap_or_else(|| panic!("no request line in {text}"));
    for part in ["method=GET", "status=200", "latency=", "ms", "user="] {
        assert!(line.contains(part), "{part} missing: {line}");
    }
    assert!(
        !text.contains("q=") && !text.contains("韦桂英") && !text.contains("%E9"),
        "query strings or names logged: {text}"
    );
    // Without a session there is no user.
    let anon = lines
        .iter()
        .find(|l| l.contains("path=/households/999"))
        .unwrap_or_else(|| panic!("no anonymous request line in {text}"));
    assert!(
        anon.contains("status=303") && !anon.contains("user="),
        "{anon}"
    );
}
