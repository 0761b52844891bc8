//! Region scope: users see and change only what lies inside their region.

use serde_json::json;
use xiuhua_app::registry::{self, SearchParams};
use xiuhua_app::{Error, Role};

use crate::support::*;

#[tokio::test]
async fn a_township_user_cannot_read_or_write_another_township() {
    let c = ctx().await;
    let a = household(&c, "H001", VILLAGE_A, 11).await;
    let b = household(&c, "H002", VILLAGE_B, 13).await;
    let u = user(Role::Township, "451228102");
    assert!(matches!(
        registry::household(&c.s, &u, a, None).await,
        Err(Error::NotFound { .. })
    ));
    assert!(registry::household(&c.s, &u, b, None).await.is_ok());
    assert!(matches!(
        registry::region(&c.s, &u, "451228101", None).await,
        Err(Error::NotFound { .. })
    ));
    // Asking for the whole county gives the user's own township only.
    let (list, total) = registry::search(
        &c.s,
        &u,
        &SearchParams {
            region: Some("451228".into()),
            page: 1,
            per_page: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((total, list[0].id), (1, b));
    let p: xiuhua_domain::household::FieldPatch =
        [("phone".to_string(), json!("1"))].into_iter().collect();
    assert!(matches!(
        registry::edit_household(&c.s, &u, a, 1, p.clone(), &meta(d(2020, 1, 1))).await,
        Err(Error::NotFound { .. })
    ));
    // A stale version must not turn into a conflict that shows the foreign household, and a
    // household that does not exist answers like one outside the region.
    assert!(matches!(
        registry::edit_household(&c.s, &u, a, 7, p.clone(), &meta(d(2020, 1, 1))).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        registry::edit_household(&c.s, &u, b + 999, 1, p.clone(), &meta(d(2020, 1, 1))).await,
        Err(Error::NotFound { .. })
    ));
    let viewer = user(Role::Viewer, "451228");
    assert!(matches!(
        registry::edit_household(&c.s, &viewer, b, 1, p, &meta(d(2020, 1, 1))).await,
        Err(Error::Forbidden(_))
    ));
    // Moving a household out of the user's region is refused too.
    let p: xiuhua_domain::household::FieldPatch = [("village_code".to_string(), json!(VILLAGE_A))]
        .into_iter()
        .collect();
    assert!(
        registry::edit_household(&c.s, &u, b, 1, p, &meta(d(2020, 1, 1)))
            .await
            .is_err()
    );
    assert_eq!(
        registry::household(&c.s, &admin(), b, None)
            .await
            .unwrap()
            .state
            .fields
            .village_code,
        VILLAGE_B
    );
}
