//! Upload and download of spreadsheets through the web UI.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::*;

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "xiuhua-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn post(
    app: &TestApp,
    c: &Client,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Response {
    let (ct, body) = multipart(fields, file);
    let req = Request::post("/imports")
        .header(header::COOKIE, &c.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

pub(crate) fn job_id(page: &str) -> Option<String> {
    page.split("data-job=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap_or("").to_string())
}

/// Uploads, follows the progress like the page's script does, and returns the report page.
pub(crate) async fn upload(
    app: &TestApp,
    c: &Client,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Response {
    let r = post(app, c, fields, file).await;
    let Some(job) = job_id(&r.body) else { return r };
    assert!(r.body.contains("正在导入"));
    for _ in 0..400 {
        let status = app
            .get(&format!("/imports/jobs/{job}"), Some(c))
            .await
            .json();
        if status["done"] == true {
            return app
                .get(&format!("/imports/jobs/{job}/report"), Some(c))
                .await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

const LEDGER: &str = "户编号,乡镇,行政村,户类型,主要致贫原因,姓名,身份证号,与户主关系\n\
                      451228101201002,高岭镇,弄力村,贫困户,因病,潘大,110105194912310021,户主\n";

pub(crate) fn valid_ledger() -> String {
    // 11010519491231002X is a valid number not used by the fixtures.
    LEDGER.replace("110105194912310021", "11010519491231002X")
}

#[tokio::test]
async fn a_ledger_is_checked_then_imported_from_the_upload_page() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/imports", Some(&admin)).await;
    assert!(r.body.contains("台账导入") && r.body.contains("都安瑶族自治县"));
    let ledger = valid_ledger();
    let no_csrf = post(
        &app,
        &admin,
        &[("county", "451228")],
        Some(("a.csv", ledger.as_bytes())),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let fields = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
        ("dry_run", "1"),
    ];
    let r = upload(&app, &admin, &fields, Some(("a.csv", ledger.as_bytes()))).await;
    assert!(r.body.contains("检查通过（预览，未写入）"), "{}", r.body);
    assert_eq!(
        app.get("/api/v1/households?q=潘大", Some(&admin))
            .await
            .json()["total"],
        0
    );
    let fields = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
    ];
    let r = upload(&app, &admin, &fields, Some(("a.csv", ledger.as_bytes()))).await;
    assert!(r.body.contains("导入完成"), "{}", r.body);
    assert_eq!(
        app.get("/api/v1/households?q=潘大", Some(&admin))
            .await
            .json()["total"],
        1
    );
}

#[tokio::test]
async fn problems_are_listed_and_the_error_rows_can_be_downloaded() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let fields = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
    ];
    let r = upload(&app, &admin, &fields, Some(("bad.csv", LEDGER.as_bytes()))).await;
    assert!(r.body.contains("发现问题，未写入任何数据"), "{}", r.body);
    assert!(r.body.contains("身份证号校验码"));
    let link = r
        .body
        .split("href=\"/imports/errors/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let wb = app
        .get(&format!("/imports/errors/{link}"), Some(&admin))
        .await;
    assert_eq!(wb.status, StatusCode::OK);
    assert!(
        wb.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    // Someone else cannot fetch it.
    let other = app.login("gaoling").await;
    assert_eq!(
        app.get(&format!("/imports/errors/{link}"), Some(&other))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A file that is not a spreadsheet says so.
    let r = upload(
        &app,
        &admin,
        &fields,
        Some(("x.pdf", b"%PDF-1.7\x00\x00binary")),
    )
    .await;
    assert!(r.body.contains("不是Excel工作簿"), "{}", r.body);
    // Another user cannot follow someone's import.
    let r = post(&app, &admin, &fields, Some(("y.csv", LEDGER.as_bytes()))).await;
    let job = job_id(&r.body).unwrap();
    assert_eq!(
        app.get(&format!("/imports/jobs/{job}"), Some(&other))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn exports_respect_region_and_role() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app
        .get(
            "/exports/registry?region=451228&purpose=check",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let r = app
        .get(
            "/exports/registry?region=451228&format=csv&purpose=check",
            Some(&admin),
        )
        .await;
    assert!(
        r.body.starts_with('\u{feff}')
            && r.body.contains("韦桂英")
            && r.body.contains("451228197001020112"),
        "{}",
        r.body
    );
    let viewer = app.login("viewer").await;
    let r = app
        .get("/exports/registry?region=451228&format=csv", Some(&viewer))
        .await;
    assert!(
        r.body.contains("韦桂英")
            && r.body.contains("451228**********12")
            && !r.body.contains("451228197001020112")
            && !r.body.contains("1970-01-02"),
        "masked for viewers"
    );
    let gaoling = app.login("gaoling").await;
    assert_eq!(
        app.get("/exports/registry?region=451228102", Some(&gaoling))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .get("/exports/statistics?region=451228", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .get(
            "/households/export?region=451228&status=poor&purpose=check",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Without a purpose, full personal data does not leave; the page says why.
    for path in [
        "/exports/registry?region=451228",
        "/households/export?region=451228&status=poor&full_ids=1",
    ] {
        let r = app.get(path, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(r.body.contains("须填写用途"), "{}", r.body);
    }
}

#[tokio::test]
async fn a_mapping_file_names_unusual_headers() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let ledger = valid_ledger().replace("户编号", "家庭编号");
    let boundary_fields = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
        ("mapping", "家庭编号\thousehold_no\n"),
    ];
    let r = upload(
        &app,
        &admin,
        &boundary_fields,
        Some(("m.csv", ledger.as_bytes())),
    )
    .await;
    assert!(r.body.contains("导入完成"), "{}", r.body);
    let bad = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("mapping", "家庭编号\tno_such_field\n"),
    ];
    let r = post(&app, &admin, &bad, Some(("m.csv", ledger.as_bytes()))).await;
    assert!(r.body.contains("列对照文件有误"), "{}", r.body);
}
