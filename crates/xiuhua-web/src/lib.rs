//! HTTP for xiuhua: HTML pages (askama templates, Chinese by default, English switch), the JSON
//! API with its OpenAPI document, sessions and CSRF, and the embedded static assets.
//!
//! **Invariant:** this is the only crate that knows HTTP, HTML and JSON wire shapes; it runs no
//! SQL of its own and holds no business rules — every handler calls `xiuhua-app`.

pub mod admin_web;
pub mod api;
pub mod auth;
pub mod edit_web;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod request_log;
pub mod rules_web;
pub mod transfers;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use utoipa::OpenApi;
use xiuhua_app::Services;

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Services,
    /// Deployment settings.
    pub config: WebConfig,
}

/// Deployment settings of the web server.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (served over HTTPS, e.g. behind a TLS reverse proxy):
    /// browsers then never send it over plain HTTP.
    pub secure_cookies: bool,
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

const APP_CSS: &str = include_str!("../assets/app.css");

async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
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
    let state = AppState { services, config };
    let (api_router, api_doc) = api::router().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(api_doc);
    let doc_json = doc.to_pretty_json().unwrap_or_default();
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::set_lang))
        .route("/regions/{code}", get(pages::region))
        .route("/households", get(pages::households))
        .route("/households/{id}", get(pages::household))
        .route("/households/export", get(transfers::export_list))
        .route("/households/{id}/edit", post(edit_web::edit))
        .route(
            "/imports",
            get(transfers::import_form)
                .post(transfers::import)
                .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024)),
        )
        .route("/imports/errors/{token}", get(transfers::error_workbook))
        .route("/imports/jobs/{id}", get(transfers::job_status))
        .route("/imports/jobs/{id}/report", get(transfers::job_report))
        .route("/exports/registry", get(transfers::export_registry))
        .route("/exports/statistics", get(transfers::export_statistics))
        .route("/rules", get(rules_web::list).post(rules_web::load))
        .route("/rules/{id}", get(rules_web::show))
        .route("/rules/{id}/simulate", get(rules_web::simulate_page))
        .route("/rules/{id}/simulate.xlsx", get(rules_web::simulate_xlsx))
        .route("/rules/{id}/runs", post(rules_web::run_store))
        .route(
            "/rules/runs/{run}/households/{household}",
            get(rules_web::explain_stored),
        )
        .route(
            "/admin/users",
            get(admin_web::users_list).post(admin_web::user_create),
        )
        .route(
            "/admin/users/{id}",
            get(admin_web::user_show).post(admin_web::user_update),
        )
        .route(
            "/admin/users/{id}/password",
            post(admin_web::user_reset_password),
        )
        .route(
            "/admin/tokens",
            get(admin_web::tokens_list).post(admin_web::token_create),
        )
        .route("/admin/tokens/{id}/revoke", post(admin_web::token_revoke))
        .route("/departments", get(admin_web::department_batches))
        .route(
            "/account/password",
            get(admin_web::password_form).post(admin_web::password_change),
        )
        .route("/static/app.css", get(app_css))
        .route("/healthz", get(healthz))
        .route(
            "/api/openapi.json",
            get(move || {
                let body = doc_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(api_router)
        .with_state(state)
        .layer(axum::middleware::from_fn(error::api_rejections_as_json))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                header::HeaderValue::from_static("nosniff"),
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
    axum::serve(listener, router_with(services, config))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
