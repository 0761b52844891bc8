//! The OpenAPI document is served and matches the committed `docs/openapi.json`.

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test]
async fn openapi_document_is_served_and_committed() {
    let app = TestApp::new().await;
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    for path in [
        "/api/v1/households",
        "/api/v1/households/{id}",
        "/api/v1/regions/{code}",
        "/api/v1/session",
        "/api/v1/me",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert_eq!(
        doc["paths"]["/api/v1/households/{id}"]["patch"]["operationId"],
        "update_household"
    );
    let committed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = xiuhua_web::openapi().to_pretty_json().unwrap();
    if std::env::var_os("XIUHUA_BLESS").is_some() {
        std::fs::write(&committed, format!("{generated}\n")).unwrap();
    }
    let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
    assert_eq!(
        on_disk.trim_end(),
        generated.trim_end(),
        "docs/openapi.json is stale: run `XIUHUA_BLESS=1 cargo test -p xiuhua-web openapi`"
    );
}
