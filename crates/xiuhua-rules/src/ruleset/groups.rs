//! The groups of the national 信息采集表 (household survey form) the declared inputs are shown
//! in: an input's own `group` in its rule file, else the shipped table
//! `data/input_groups.tsv`, else 其他.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The groups of the 信息采集表, in the order the form shows them.
pub const INPUT_GROUPS: [&str; 8] = [
    "两不愁",
    "义务教育",
    "基本医疗",
    "住房安全",
    "饮水安全",
    "收入与支出",
    "资产（一票否决）",
    "其他",
];

/// The group inputs that name none and are not in the shipped table fall into.
pub const OTHER_GROUP: &str = "其他";

const TABLE: &str = include_str!("../../data/input_groups.tsv");

fn table() -> &'static BTreeMap<&'static str, &'static str> {
    static T: OnceLock<BTreeMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// The shipped group of an input name ([`OTHER_GROUP`] when the table does not list it).
pub fn default_group(name: &str) -> &'static str {
    table().get(name).copied().unwrap_or(OTHER_GROUP)
}

/// The position of a group in [`INPUT_GROUPS`] (unknown groups last).
pub fn group_rank(group: &str) -> usize {
    INPUT_GROUPS
        .iter()
        .position(|g| *g == group)
        .unwrap_or(INPUT_GROUPS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_only_known_groups_and_every_shipped_household_input() {
        for (name, g) in table() {
            assert!(INPUT_GROUPS.contains(g), "{name}: unknown group {g}");
        }
        for set in crate::shipped().unwrap() {
            if set.def.level != crate::Level::Household {
                continue;
            }
            for (name, _) in &set.input_types {
                assert!(
                    table().contains_key(name.as_str()) || set.def.inputs[name].group.is_some(),
                    "{}: input {name} has no group",
                    set.def.id
                );
            }
        }
        assert_eq!(default_group("no_worry_food_clothing"), "两不愁");
        assert_eq!(default_group("no_such_input"), OTHER_GROUP);
        assert!(group_rank("两不愁") < group_rank("其他"));
    }
}
