//! The stored JSON form of households and members: fields that hold nothing (`None`, `false`,
//! an empty list) are left out, and read back as their defaults.
//!
//! A registry stores each household three times over — its row, its members' rows and the
//! `create` event that made it — and most optional fields are empty, so leaving them out makes
//! the stored JSON about 40% smaller, and bulk imports write that much less. Only
//! [`to_string`] leaves them out; everywhere else (API answers, [`crate::event::diff`], patches)
//! every field is present, so "a field was cleared" stays visible as `null` in a patch. Patches
//! are maps, not structs, and keep their nulls in storage too.

use std::cell::Cell;

use serde::Serialize;

thread_local! {
    static COMPACT: Cell<bool> = const { Cell::new(false) };
}

/// Serializes `value` in the stored form. Reading it back needs nothing special: the structs
/// fill missing fields with their defaults (`#[serde(default)]`).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            COMPACT.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(COMPACT.with(|c| c.replace(true)));
    serde_json::to_string(value)
}

fn on() -> bool {
    COMPACT.with(Cell::get)
}

/// `skip_serializing_if` for `Option` fields.
pub(crate) fn none<T>(v: &Option<T>) -> bool {
    v.is_none() && on()
}

/// `skip_serializing_if` for `bool` fields.
pub(crate) fn no(v: &bool) -> bool {
    !*v && on()
}

/// `skip_serializing_if` for map fields.
pub(crate) fn empty_map<K, V>(v: &std::collections::BTreeMap<K, V>) -> bool {
    v.is_empty() && on()
}

/// `skip_serializing_if` for list fields.
pub(crate) fn empty<T>(v: &[T]) -> bool {
    v.is_empty() && on()
}

#[cfg(test)]
mod tests {
    use crate::household::{HouseholdFields, Member};
    use crate::{Change, event};

    #[test]
    fn empty_fields_are_left_out_and_read_back_as_defaults() {
        let m = Member {
            id: 7,
            name: "黄泽".into(),
            id_number: "451228197501263591".into(),
            sex: "1".into(),
            relation: "01".into(),
            ethnicity: Some("08".into()),
            has_medical_insurance: Some(true),
            ..Member::default()
        };
        let stored = super::to_string(&m).unwrap();
        assert!(
            !stored.contains("null") && !stored.contains("false"),
            "{stored}"
        );
        assert!(!stored.contains("health"), "{stored}");
        assert!(
            stored.contains("\"has_medical_insurance\":true"),
            "{stored}"
        );
        assert_eq!(serde_json::from_str::<Member>(&stored).unwrap(), m);
        // The ordinary form still has every field.
        let full = serde_json::to_string(&m).unwrap();
        assert!(full.contains("\"phone\":null") && full.contains("\"is_dibao\":null"));
        assert!(stored.len() * 2 < full.len());
    }

    #[test]
    fn patches_keep_their_nulls_and_falses() {
        let a = HouseholdFields {
            phone: Some("13812345678".into()),
            water_safe: Some(false),
            is_relocated: true,
            other_causes: vec!["09".into()],
            ..HouseholdFields::default()
        };
        let b = HouseholdFields {
            water_safe: None,
            ..HouseholdFields::default()
        };
        let patch = event::diff(&a, &b);
        let stored = super::to_string(&vec![Change::SetFields {
            patch: patch.clone(),
        }])
        .unwrap();
        for key in [
            "\"phone\":null",
            "\"water_safe\":null",
            "\"is_relocated\":false",
            "\"other_causes\":[]",
        ] {
            assert!(stored.contains(key), "{key} in {stored}");
        }
        let back: Vec<Change> = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, vec![Change::SetFields { patch }]);
    }
}
