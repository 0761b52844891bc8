//! A change of household head (户主变更): each other member's 与户主关系 re-expressed relative
//! to the new head, from the table in `data/relations.tsv`. Where the relations alone cannot
//! tell (a brother, a great-grandparent), the proposal is 99 其他 and the clerk picks.

use crate::codes::RELATION_HEAD;
use crate::household::Member;

/// The shipped table.
pub const SHIPPED_RELATIONS: &str = include_str!("../data/relations.tsv");

/// The code proposed where the relation cannot be known.
pub const RELATION_OTHER: &str = "99";

/// One row: (new head's relation to the old head, new head's sex, member's relation to the old
/// head, member's sex, proposed relation to the new head); `*` matches either sex.
type Row = [String; 5];

fn rows() -> &'static [Row] {
    static ROWS: std::sync::OnceLock<Vec<Row>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        SHIPPED_RELATIONS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let c: Vec<&str> = l.split('\t').map(str::trim).collect();
                (c.len() == 5).then(|| std::array::from_fn(|i| c[i].to_string()))
            })
            .collect()
    })
}

/// The relation to the new head of a member whose relation to the old head is `member` (sex
/// `member_sex`, "1"/"2"), when the new head's relation to the old head was `new_head` (sex
/// `new_head_sex`). 99 其他 where it cannot be known.
pub fn relation_to_new_head(
    new_head: &str,
    new_head_sex: &str,
    member: &str,
    member_sex: &str,
) -> &'static str {
    let sex_ok = |want: &str, have: &str| want == "*" || want == have;
    rows()
        .iter()
        .find(|r| {
            r[0] == new_head
                && sex_ok(&r[1], new_head_sex)
                && r[2] == member
                && sex_ok(&r[3], member_sex)
        })
        .map(|r| r[4].as_str())
        .unwrap_or(RELATION_OTHER)
}

/// The proposed relations after `new_head_id` becomes the head: (member id, relation) for every
/// member, the new head `01`. `None` if no member has that id.
pub fn propose_head_change(members: &[Member], new_head_id: i64) -> Option<Vec<(i64, String)>> {
    let head = members.iter().find(|m| m.id == new_head_id)?;
    Some(
        members
            .iter()
            .map(|m| {
                let rel = if m.id == new_head_id {
                    RELATION_HEAD
                } else {
                    relation_to_new_head(&head.relation, &head.sex, &m.relation, &m.sex)
                };
                (m.id, rel.to_string())
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, relation: &str, sex: &str) -> Member {
        Member {
            id,
            relation: relation.into(),
            sex: sex.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_son_succeeding_his_father() {
        // Old head (father) still listed, his wife, the son (new head), the son's wife, a
        // grandson, another son and the old head's mother.
        let members = [
            m(1, "01", "1"),
            m(2, "02", "2"),
            m(3, "03", "1"),
            m(4, "05", "2"),
            m(5, "07", "1"),
            m(6, "03", "1"),
            m(7, "12", "2"),
        ];
        let p = propose_head_change(&members, 3).unwrap();
        assert_eq!(
            p,
            vec![
                (1, "11".to_string()), // 之父
                (2, "12".into()),      // 之母
                (3, "01".into()),      // 户主
                (4, "99".into()),      // whose wife? the clerk picks (配偶 if his)
                (5, "03".into()),      // 之子
                (6, "99".into()),      // a brother: no code
                (7, "18".into()),      // 之祖母
            ]
        );
    }

    #[test]
    fn a_widow_succeeding_her_husband() {
        let members = [
            m(2, "02", "2"),
            m(3, "04", "2"),
            m(4, "11", "1"),
            m(5, "13", "1"),
        ];
        let p = propose_head_change(&members, 2).unwrap();
        assert_eq!(
            p,
            vec![
                (2, "01".to_string()),
                (3, "04".into()),
                (4, "15".into()), // her husband's father: 之公公
                (5, "11".into()), // her own father
            ]
        );
        // A husband succeeding his wife: her father is his 岳父.
        assert_eq!(relation_to_new_head("02", "1", "11", "1"), "13");
        assert!(propose_head_change(&members, 99).is_none());
    }

    #[test]
    fn every_proposed_code_is_a_relation() {
        let codes = crate::CodeCatalog::defaults();
        for r in rows() {
            for c in [&r[0], &r[2], &r[4]] {
                assert!(codes.contains("relation", c), "{r:?}");
            }
            for s in [&r[1], &r[3]] {
                assert!(["1", "2", "*"].contains(&s.as_str()), "{r:?}");
            }
        }
        assert!(rows().len() > 50);
    }
}
