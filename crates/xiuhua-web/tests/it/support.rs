//! `TestApp`: the router over a test database with a small county, users per role, and
//! request helpers that carry the session cookie and CSRF token.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{NaiveDate, TimeZone, Utc};
use http_body_util::BodyExt;
use tower::ServiceExt;
use xiuhua_app::auth::{NewUser, Role};
use xiuhua_app::registry::ChangeMeta;
use xiuhua_app::{CurrentUser, FixedClock, Services};
use xiuhua_db::testing::TestDb;
use xiuhua_domain::{HouseholdFields, IdNumber, Member, RegistryStatus};

pub struct TestApp {
    pub _db: TestDb,
    pub _services: Services,
    pub router: Router,
    /// Household in 高岭镇 弄力村.
    pub household_a: i64,
    /// Household in 地苏镇 板升村.
    pub household_b: i64,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A logged-in client.
#[derive(Clone)]
pub struct Client {
    pub cookie: String,
    pub csrf: String,
}

pub const PASSWORD: &str = "Test-pass-2026";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn member(name: &str, relation: &str, birth: NaiveDate, seq: u16) -> Member {
    let id = IdNumber::compose("451228", birth, seq).unwrap();
    Member {
        name: name.into(),
        id_number: id.as_str().into(),
        relation: relation.into(),
        ..Member::default()
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        let db = TestDb::new().await;
        let clock = FixedClock(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap());
        let services = Services::new(db.db.clone(), Arc::new(clock)).await.unwrap();
        let sys = CurrentUser::system();
        let csv = "code,name\n45,广西壮族自治区\n4512,河池市\n451228,都安瑶族自治县\n451228101,高岭镇\n451228102,地苏镇\n451228101201,弄力村\n451228102201,板升村\n";
        let rows = xiuhua_app::regions::parse_region_csv(csv).unwrap();
        xiuhua_app::regions::import_regions(&services, &sys, &rows)
            .await
            .unwrap();
        for (name, role, region) in [
            ("admin", Role::Admin, ""),
            ("gaoling", Role::Township, "451228101"),
            ("disu", Role::Township, "451228102"),
            ("viewer", Role::Viewer, "451228"),
            ("nongli", Role::Village, "451228101201"),
            ("cadre_b", Role::Cadre, "451228102201"),
            ("gongcheng", Role::Viewer, "450332"),
        ] {
            let new = NewUser {
                username: name.into(),
                password: PASSWORD.into(),
                display_name: name.into(),
                role,
                region_code: region.into(),
            };
            xiuhua_app::auth::create_user(&services, &sys, new)
                .await
                .unwrap();
        }
        let mut ids = vec![];
        for (no, village, seq) in [
            ("451228101201001", "451228101201", 11u16),
            ("451228102201001", "451228102201", 13),
        ] {
            let fields = HouseholdFields {
                household_no: no.into(),
                village_code: village.into(),
                status: RegistryStatus::Poor,
                main_cause: Some("01".into()),
                ..HouseholdFields::default()
            };
            let members = vec![
                member("韦桂英", "01", d(1970, 1, 2), seq),
                member("蓝秀", "02", d(1972, 3, 4), seq + 100),
            ];
            let meta = ChangeMeta::manual(d(2015, 10, 1), "精准识别");
            ids.push(
                xiuhua_app::registry::register_household(&services, &sys, fields, members, &meta)
                    .await
                    .unwrap(),
            );
        }
        let router = xiuhua_web::router(services.clone());
        TestApp {
            _db: db,
            _services: services,
            router,
            household_a: ids[0],
            household_b: ids[1],
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Response {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, client: Option<&Client>) -> Response {
        let mut b = Request::get(path);
        if let Some(c) = client {
            b = b.header(header::COOKIE, &c.cookie);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        self.send(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, body: &str, client: Option<&Client>) -> Response {
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = client {
            b = b.header(header::COOKIE, &c.cookie);
        }
        self.send(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn json(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
        client: Option<&Client>,
        csrf: bool,
    ) -> Response {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = client {
            b = b.header(header::COOKIE, &c.cookie);
            if csrf {
                b = b.header("x-csrf-token", &c.csrf);
            }
        }
        self.send(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// The login page's CSRF cookie (`name=value`) and form token.
    pub async fn login_form_token(&self) -> (String, String) {
        let r = self.get("/login", None).await;
        let set = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("xiuhua_login_csrf="))
            .expect("the login page sets its CSRF cookie");
        let cookie = set.split(';').next().unwrap().to_string();
        let needle = "name=\"csrf\" value=\"";
        let at = r.body.find(needle).unwrap() + needle.len();
        let token: String = r.body[at..].chars().take_while(|c| *c != '"').collect();
        (cookie, token)
    }

    /// Posts the HTML login form as a browser does: with the page's CSRF cookie and token and an
    /// `Origin` of this server. `fields` is `username=…&password=…`.
    pub async fn post_login(&self, fields: &str) -> Response {
        let (cookie, token) = self.login_form_token().await;
        self.send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::HOST, "xiuhua.local")
                .header(header::ORIGIN, "http://xiuhua.local")
                .header(header::COOKIE, cookie)
                .body(Body::from(format!("{fields}&csrf={token}")))
                .unwrap(),
        )
        .await
    }

    /// Logs in through the JSON API and returns a client with cookie and CSRF token.
    pub async fn login(&self, username: &str) -> Client {
        let r = self
            .json(
                "POST",
                "/api/v1/session",
                serde_json::json!({"username": username, "password": PASSWORD}),
                None,
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_string();
        Client {
            cookie,
            csrf: r.json()["csrf_token"].as_str().unwrap().to_string(),
        }
    }
}
