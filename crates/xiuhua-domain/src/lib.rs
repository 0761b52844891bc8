//! The 建档立卡 registry's domain: households, members, statuses, code lists, identity numbers,
//! events and validation.
//!
//! **Invariant:** this crate does no IO and never reads the clock; dates that matter ("today")
//! are parameters. It can be tested with plain `#[test]`.

pub mod codes;
pub mod compact;
pub mod display;
pub mod event;
pub mod fields;
pub mod history;
pub mod household;
pub mod id_number;
pub mod message;
pub mod region;
pub mod relations;
pub mod synonyms;
pub mod validate;

pub use codes::{CodeCatalog, CodeItem};
pub use event::{Change, Event, EventKind, SourceKind};
pub use fields::{
    Field, FieldCatalog, FieldDef, FieldLevel, FieldRef, FieldType, FieldValue, Personal, Record,
};
pub use household::{
    Fen, HouseholdFields, HouseholdId, HouseholdState, Income, Member, MemberId, MonitoringStatus,
    RegistryStatus,
};
pub use id_number::{IdNumber, IdNumberError, Sex};
pub use region::{RegionCode, RegionLevel};
pub use validate::{FieldError, validate_household};
