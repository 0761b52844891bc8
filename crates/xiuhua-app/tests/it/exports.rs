//! Exports: the statistics tables agree whichever way they are counted.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use xiuhua_app::demo::{self, DemoSpec};
use xiuhua_app::exports;

use crate::support::*;

/// Every sheet of a workbook as rows of cell texts.
fn sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb = Xlsx::new(Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).unwrap();
            let rows = range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect();
            (n, rows)
        })
        .collect()
}

/// The current statistics come from the household rows alone; as of today, every household is
/// re-derived from its events. Both must count the same, at county, township and village level.
#[tokio::test]
async fn statistics_now_and_as_of_today_agree() {
    let c = empty_ctx().await;
    let spec = DemoSpec {
        county: "451228".into(),
        seed: 11,
        households: 300,
        today: today(),
        batch: 120,
    };
    demo::load(&c.s, &spec, &|_, _| {}).await.unwrap();
    let (list, _) = xiuhua_app::registry::search(
        &c.s,
        &admin(),
        &xiuhua_app::registry::SearchParams {
            region: Some("451228".into()),
            page: 1,
            per_page: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let village = list[0].village_code.clone();
    for region in ["451228", &village[..9], &village[..]] {
        let now = exports::export_statistics(&c.s, &admin(), Some(region), None)
            .await
            .unwrap();
        let as_of = exports::export_statistics(&c.s, &admin(), Some(region), Some(today()))
            .await
            .unwrap();
        let (now, as_of) = (sheets(now), sheets(as_of));
        assert_eq!(now, as_of, "{region}");
        let total: usize = now[0].1.len();
        assert!(total > 1, "{region}: no rows");
    }
}
