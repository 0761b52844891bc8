//! HTTP for xiuhua: HTML pages (askama templates, Chinese by default, English switch), the JSON
//! API with its OpenAPI document, sessions and CSRF, and the embedded static assets.
//!
//! **Invariant:** this is the only crate that knows HTTP, HTML and JSON wire shapes; it runs no
//! SQL of its own and holds no business rules — every handler calls `xiuhua-app`.

pub mod api;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod request_log;
pub mod views;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::OpenApi;
use xiuhua_app::Services;

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Services,
    /// Deployment settings.
    pub config: WebConfig,
    /// Uploads in progress per user (see [`WebConfig::max_uploads_per_user`]).
    pub uploads: pages::imports::UploadSlots,
}

/// Deployment settings of the web server.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (served over HTTPS, e.g. behind a TLS reverse proxy):
    /// browsers then never send it over plain HTTP.
    pub secure_cookies: bool,
    /// Take the client's address from the `X-Forwarded-For`/`X-Real-IP` headers (the server runs
    /// behind a reverse proxy that sets them). Otherwise the TCP peer's address is used and those
    /// headers are ignored: a client must not choose the address its failed logins count under.
    pub trust_proxy_headers: bool,
    /// The largest uploaded file (bytes); a larger upload is refused (413) while it streams.
    pub max_upload_bytes: u64,
    /// Uploads one user may have in progress at once; more are refused (429).
    pub max_uploads_per_user: usize,
    /// Where uploads are written while they arrive (default: the system's temporary directory).
    pub upload_dir: Option<std::path::PathBuf>,
}

/// Default of [`WebConfig::max_upload_bytes`]: 512 MiB, so a whole county's ledger goes in as
/// it is (the demo county's 1M member rows are 326 MB as csv, about 140 MB as xlsx). Uploads
/// stream to a temporary file after the session, role and CSRF checks, so the limit bounds
/// disk, not memory.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            secure_cookies: false,
            trust_proxy_headers: false,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_uploads_per_user: 2,
            upload_dir: None,
        }
    }
}

/// The OpenAPI document's fixed parts; paths come from the handlers.
#[derive(OpenApi)]
#[openapi(info(
    title = "xiuhua API",
    description = "建档立卡 registry and 防返贫 monitoring. Log in with POST /api/v1/session; send the returned csrf_token as X-CSRF-Token on writes."
))]
struct ApiDoc;

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = api::router().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(api);
    doc
}

const FAVICON: &[u8] = include_bytes!("../assets/favicon.ico");

/// Where the interactive API reference (Swagger UI, embedded in the binary) is served.
pub const API_DOCS_PATH: &str = "/api/docs";

/// The Content-Security-Policy of the API reference's pages only: Swagger UI sets inline
/// styles and shows `data:` images; scripts stay this server's own.
pub const API_DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The API reference: Swagger UI (vendored in `utoipa-swagger-ui`, nothing fetched at run
/// time) reading `/api/openapi.json`, with its own CSP.
fn api_docs<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let ui = utoipa_swagger_ui::SwaggerUi::new(API_DOCS_PATH)
        .config(utoipa_swagger_ui::Config::from("/api/openapi.json"));
    Router::from(ui).layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(API_DOCS_CONTENT_SECURITY_POLICY),
    ))
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

const APP_CSS: &str = include_str!("../assets/app.css");
const APP_JS: &str = include_str!("../assets/app.js");

/// The Content-Security-Policy of every answer: only this server's own scripts, styles and
/// images (plus `data:` images), no inline script or style, no framing, forms only to here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
}

async fn app_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_JS,
    )
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    match state.services.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable",
        ),
    }
}

/// The whole application router.
pub fn router(services: Services) -> Router {
    router_with(services, WebConfig::default())
}

/// The application router with deployment settings.
pub fn router_with(services: Services, config: WebConfig) -> Router {
    let trust_proxy_headers = config.trust_proxy_headers;
    let state = AppState {
        services,
        config,
        uploads: pages::imports::UploadSlots::default(),
    };
    let (api_router, api_doc) = api::router().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(api_doc);
    let doc_json = doc.to_pretty_json().unwrap_or_default();
    Router::new()
        .merge(pages::router())
        .route("/static/app.css", get(app_css))
        .route("/static/app.js", get(app_js))
        .route("/healthz", get(healthz))
        .route("/favicon.ico", get(favicon))
        .merge(api_docs())
        .fallback(error::not_found)
        .route(
            "/api/openapi.json",
            get(move || {
                let body = doc_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(api_router)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::error_pages_with_nav,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(error::api_rejections_as_json))
        .layer(axum::middleware::from_fn(move |req, next| {
            auth::client_address_layer(trust_proxy_headers, req, next)
        }))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                header::HeaderValue::from_static("nosniff"),
            ),
        )
        // Pages, exports and API answers carry personal data: no cache keeps them. The static
        // assets set their own `Cache-Control`, which `if_not_present` leaves alone.
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            ),
        )
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
        )
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                header::HeaderValue::from_static("same-origin"),
            ),
        )
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::X_FRAME_OPTIONS,
                header::HeaderValue::from_static("DENY"),
            ),
        )
        .layer(request_log::layer())
}

/// Serves until Ctrl-C / SIGTERM. First marks the background jobs a previous run left queued or
/// running as failed (`interrupted`): nothing runs them any more.
pub async fn serve(
    listener: tokio::net::TcpListener,
    services: Services,
    config: WebConfig,
) -> std::io::Result<()> {
    let interrupted = xiuhua_app::jobs::interrupt_unfinished(&services)
        .await
        .map_err(std::io::Error::other)?;
    if interrupted > 0 {
        tracing::warn!(
            jobs = interrupted,
            "jobs interrupted by the last shutdown marked failed"
        );
    }
    let app =
        router_with(services, config).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
