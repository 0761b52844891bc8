//! Region counts as of a date at every level, the 村民小组 included.

use xiuhua_app::registry;
use xiuhua_domain::HouseholdFields;

use crate::support::*;

const GROUP: &str = "451228101201001";

/// A household registered in 2015 into a village's group, and one without a group: as of a
/// past date, the village's group row, the group's own page and the village total agree with
/// the counts now.
#[tokio::test]
async fn group_counts_as_of_a_date_are_those_of_the_group() {
    let c = ctx().await;
    let f = HouseholdFields {
        group_code: Some(GROUP.into()),
        ..fields("451228101201001", VILLAGE_A)
    };
    registry::register_household(
        &c.s,
        &admin(),
        f,
        vec![
            member("韦一", "01", d(1970, 1, 2), 11),
            member("蓝二", "02", d(1972, 3, 4), 111),
        ],
        &meta(d(2015, 10, 1)),
    )
    .await
    .unwrap();
    household(&c, "451228101201002", VILLAGE_A, 13).await;
    for as_of in [None, Some(d(2020, 6, 30))] {
        let village = registry::region(&c.s, &admin(), VILLAGE_A, as_of)
            .await
            .unwrap();
        assert_eq!(
            (village.counts.total.households, village.counts.total.people),
            (2, 4),
            "{as_of:?}"
        );
        let (_, group) = village
            .children
            .iter()
            .find(|(r, _)| r.code == GROUP)
            .expect("the group is a child of the village");
        assert_eq!(
            (group.total.households, group.total.people),
            (1, 2),
            "{as_of:?}"
        );
        let own = registry::region(&c.s, &admin(), GROUP, as_of)
            .await
            .unwrap();
        assert_eq!(
            (own.counts.total.households, own.counts.total.people),
            (1, 2),
            "{as_of:?}"
        );
    }
    // Before registration: nothing, at every level.
    let own = registry::region(&c.s, &admin(), GROUP, Some(d(2014, 1, 1)))
        .await
        .unwrap();
    assert_eq!(own.counts.total.households, 0);
}
