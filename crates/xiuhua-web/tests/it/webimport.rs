//! Issue 14 part 3 on the upload page: the column dialog (map unknown columns, check again
//! without uploading, save them for the county), the dry run's changes with paging, "import
//! now", the saved column names (list, delete), valid-only with the households held back.

use axum::http::StatusCode;
use xiuhua_domain::IdNumber;

use crate::support::*;
use crate::transfers::{job_id, post};

/// Percent-encodes a form value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Follows the job a page started (as the page's script does) and returns its report page.
async fn follow(app: &TestApp, c: &Client, page: &str) -> (String, Response) {
    let job = job_id(page).unwrap_or_else(|| panic!("no job on the page: {page}"));
    for _ in 0..400 {
        let st = app
            .get(&format!("/imports/jobs/{job}"), Some(c))
            .await
            .json();
        if st["done"] == true {
            let r = app
                .get(&format!("/imports/jobs/{job}/report"), Some(c))
                .await;
            return (job, r);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import did not finish");
}

fn idn(year: i32, seq: u16) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(year, 5, 6).unwrap();
    IdNumber::compose("110105", birth, seq)
        .unwrap()
        .as_str()
        .to_string()
}

const HEADER: &str = "户编号,乡镇,行政村,户类型,主要致贫原因,姓名,身份证号,与户主关系,民族";

/// `n` new one-person households of 弄力村, with an extra column `extra` (header, value).
fn ledger(n: usize, extra: Option<(&str, &str)>) -> String {
    let mut s = HEADER.to_string();
    if let Some((h, _)) = extra {
        s.push(',');
        s.push_str(h);
    }
    s.push('\n');
    for i in 0..n {
        s.push_str(&format!(
            "451228101201{:03},高岭镇,弄力村,贫困户,因病,潘{i},{},户主,壮族",
            100 + i,
            idn(1950 + i as i32 % 40, 20 + i as u16)
        ));
        if let Some((_, v)) = extra {
            s.push(',');
            s.push_str(v);
        }
        s.push('\n');
    }
    s
}

async fn upload(
    app: &TestApp,
    c: &Client,
    file: &str,
    dry_run: bool,
    extra: &[(&str, &str)],
) -> (String, Response) {
    let mut fields = vec![
        ("csrf", c.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
    ];
    if dry_run {
        fields.push(("dry_run", "1"));
    }
    fields.extend_from_slice(extra);
    let r = post(app, c, &fields, Some(("台账.csv", file.as_bytes()))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    follow(app, c, &r.body).await
}

#[tokio::test]
async fn unknown_columns_are_mapped_in_the_dialog_saved_and_applied_to_the_next_upload() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let file = ledger(2, Some(("户主手机", "13812345678")));
    let (job, r) = upload(&app, &admin, &file, true, &[]).await;
    // The dialog: column letter, header, a sample value, a select of catalogue fields.
    assert!(r.body.contains("id=\"column-dialog\""), "{}", r.body);
    assert!(
        r.body.contains("户主手机") && r.body.contains(">J</span>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<span class=\"sample\">13812345678</span>"));
    assert!(r.body.contains("<option value=\"phone\">联系电话</option>"));
    assert!(r.body.contains("忽略此列") && r.body.contains("保存为本县的列名对照"));
    // The dry run lists the new households.
    assert!(
        r.body.contains("id=\"import-diff\"")
            && r.body.contains("data-household=\"451228101201100\"")
    );

    // Someone else cannot use the kept file.
    let other = app.login("gaoling").await;
    let r2 = app
        .post_form(
            &format!("/imports/jobs/{job}/recheck"),
            &format!("csrf={}&choices=1&dry_run=1", other.csrf),
            Some(&other),
        )
        .await;
    assert_eq!(r2.status, StatusCode::NOT_FOUND);

    // Map it, save it, check again without uploading.
    let body = format!(
        "csrf={}&choices=1&h={}&f=phone&save=1&dry_run=1",
        admin.csrf,
        enc("户主手机")
    );
    let r = app
        .post_form(&format!("/imports/jobs/{job}/recheck"), &body, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (job2, r) = follow(&app, &admin, &r.body).await;
    assert!(r.body.contains("检查通过（预览，未写入）"), "{}", r.body);
    assert!(
        !r.body.contains("id=\"column-dialog\""),
        "mapped: no dialog"
    );
    assert!(r.body.contains("id=\"import-now\""));
    // The saved name is listed for the administrator.
    let page = app.get("/imports", Some(&admin)).await;
    assert!(page.body.contains("id=\"saved-mappings\""));
    assert!(
        page.body.contains("data-header=\"户主手机\"") && page.body.contains("<td>联系电话</td>")
    );

    // Import now, without uploading.
    let r = app
        .post_form(
            &format!("/imports/jobs/{job2}/recheck"),
            &format!("csrf={}", admin.csrf),
            Some(&admin),
        )
        .await;
    let (_, r) = follow(&app, &admin, &r.body).await;
    assert!(r.body.contains("导入完成"), "{}", r.body);
    let found = app
        .get("/api/v1/households?q=潘0", Some(&admin))
        .await
        .json();
    assert_eq!(found["total"], 1);

    // A new upload with the same column: applied at once, a changed phone shown masked.
    let file = ledger(2, Some(("户主手机", "13900001111")));
    let (_, r) = upload(&app, &admin, &file, true, &[]).await;
    assert!(!r.body.contains("id=\"column-dialog\""), "{}", r.body);
    assert!(!r.body.contains("列“户主手机”"), "not reported unknown");
    assert!(
        r.body.contains("联系电话：138****5678 → 139****1111"),
        "{}",
        r.body
    );

    // Deleting it (administrators); then it is unknown again.
    let r = app
        .post_form(
            "/imports/mappings/delete",
            &format!(
                "csrf={}&county=451228&header={}",
                admin.csrf,
                enc("户主手机")
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.get("/imports", Some(&admin)).await;
    assert!(!page.body.contains("id=\"saved-mappings\""));
    let r = app
        .post_form(
            "/imports/mappings/delete",
            &format!(
                "csrf={}&county=451228&header={}",
                other.csrf,
                enc("户主手机")
            ),
            Some(&other),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_preview_pages_its_household_changes() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let (job, r) = upload(&app, &admin, &ledger(25, None), true, &[]).await;
    assert_eq!(r.body.matches("class=\"diff\"").count(), 20, "{}", r.body);
    assert!(r.body.contains("第 1 页，共 2"));
    assert!(
        r.body
            .contains(&format!("/imports/jobs/{job}/report?page=2"))
    );
    // Identity numbers masked as in the lists.
    assert!(r.body.contains("110105**********"));
    assert!(!r.body.contains(&idn(1950, 20)));
    let r = app
        .get(&format!("/imports/jobs/{job}/report?page=2"), Some(&admin))
        .await;
    assert_eq!(r.body.matches("class=\"diff\"").count(), 5);
    assert!(r.body.contains("data-household=\"451228101201124\""));
}

#[tokio::test]
async fn valid_only_imports_the_valid_households_and_lists_the_held_back_one() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let mut file = ledger(2, None);
    // A third household with a wrong check digit.
    let bad = idn(1960, 90);
    let wrong = format!(
        "{}{}",
        &bad[..17],
        if bad.ends_with('1') { "2" } else { "1" }
    );
    file.push_str(&format!(
        "451228101201200,高岭镇,弄力村,贫困户,因病,错号,{wrong},户主,壮族\n"
    ));
    let (_, r) = upload(&app, &admin, &file, false, &[]).await;
    assert!(
        r.body.contains("发现问题，未写入任何数据"),
        "all or nothing by default"
    );
    let (_, r) = upload(&app, &admin, &file, false, &[("valid_only", "1")]).await;
    assert!(
        r.body.contains("已导入无误的户，有误的户暂不导入"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"held-back\""));
    let held = r.body.split("id=\"held-back\"").nth(1).unwrap();
    assert!(
        held.contains("data-household=\"451228101201200\""),
        "{held}"
    );
    assert!(held.contains("第4行"), "{held}");
    let found = app
        .get("/api/v1/households?q=潘", Some(&admin))
        .await
        .json();
    assert_eq!(found["total"], 2);
    let found = app
        .get("/api/v1/households?q=错号", Some(&admin))
        .await
        .json();
    assert_eq!(found["total"], 0);
}

#[tokio::test]
async fn a_file_without_a_status_column_asks_for_the_default_status() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let file = ledger(1, None)
        .replace(",户类型", "")
        .replace(",贫困户", "");
    let (job, r) = upload(&app, &admin, &file, true, &[]).await;
    assert!(r.body.contains("id=\"status-needed\""), "{}", r.body);
    assert!(r.body.contains("<select name=\"default_status\" required>"));
    let r = app
        .post_form(
            &format!("/imports/jobs/{job}/recheck"),
            &format!(
                "csrf={}&choices=1&default_status=poor&dry_run=1",
                admin.csrf
            ),
            Some(&admin),
        )
        .await;
    let (_, r) = follow(&app, &admin, &r.body).await;
    assert!(r.body.contains("检查通过（预览，未写入）"), "{}", r.body);
}

#[tokio::test]
async fn rows_that_are_not_households_are_listed_as_skipped_on_the_report() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let mut file = ledger(2, None);
    file.push_str("合计,,,,,,,,\n填表人：韦某某,,,审核人：覃某,,,,,\n");
    let (_, r) = upload(&app, &admin, &file, true, &[]).await;
    assert!(r.body.contains("检查通过"), "{}", r.body);
    let list = r
        .body
        .split("id=\"skipped-rows\"")
        .nth(1)
        .expect("the skipped rows");
    assert!(list.contains("（2）"), "{list}");
    assert!(list.contains("第4行是合计行"), "{list}");
    assert!(list.contains("第5行"), "{list}");
}
