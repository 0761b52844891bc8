//! The county's townships, villages and 村民小组 by name, for resolving a ledger's region
//! columns; groups new to a village are created (and stored at the end of the import).

use std::collections::{HashMap, HashSet};

use xiuhua_db::AnyConnection;
use xiuhua_db::regions::RegionRow;
use xiuhua_domain::{RegionCode, RegionLevel};

use crate::Result;

/// Region lookups for one county.
pub(super) struct Regions {
    pub(super) townships: HashMap<String, String>,
    pub(super) villages: HashMap<(String, String), String>,
    pub(super) village_by_name: HashMap<String, Vec<String>>,
    pub(super) village_codes: HashSet<String>,
    groups: HashMap<(String, String), String>,
    next_group: HashMap<String, u32>,
    /// Groups created by this import (to store at the end).
    pub(super) new_groups: Vec<RegionRow>,
}

impl Regions {
    /// The townships, villages and groups stored under `county`.
    pub(super) async fn load(conn: &mut AnyConnection, county: &str) -> Result<Regions> {
        let mut r = Regions {
            townships: HashMap::new(),
            villages: HashMap::new(),
            village_by_name: HashMap::new(),
            village_codes: HashSet::new(),
            groups: HashMap::new(),
            next_group: HashMap::new(),
            new_groups: Vec::new(),
        };
        for t in
            xiuhua_db::regions::list_level(conn, RegionLevel::Township.as_i16(), county).await?
        {
            r.townships.insert(t.name, t.code);
        }
        for v in xiuhua_db::regions::list_level(conn, RegionLevel::Village.as_i16(), county).await?
        {
            r.villages
                .insert((v.code[..9].to_string(), v.name.clone()), v.code.clone());
            r.village_by_name
                .entry(v.name)
                .or_default()
                .push(v.code.clone());
            r.village_codes.insert(v.code);
        }
        for g in xiuhua_db::regions::list_level(conn, RegionLevel::Group.as_i16(), county).await? {
            let seq: u32 = g.code[12..].parse().unwrap_or(0);
            let next = r.next_group.entry(g.code[..12].to_string()).or_insert(1);
            *next = (*next).max(seq + 1);
            r.groups.insert((g.code[..12].to_string(), g.name), g.code);
        }
        Ok(r)
    }

    /// The group code of a name in a village, creating the group if it is new (groups have no
    /// national code; the system assigns village code + 3 digits).
    pub(super) fn group(&mut self, village: &str, name: &str) -> Option<String> {
        if let Some(c) = self.groups.get(&(village.to_string(), name.to_string())) {
            return Some(c.clone());
        }
        let next = self.next_group.entry(village.to_string()).or_insert(1);
        if *next > 999 {
            return None;
        }
        let code = format!("{village}{:03}", *next);
        *next += 1;
        let parsed = RegionCode::parse(&code).ok()?;
        self.new_groups
            .push(crate::regions::region_row(&parsed, name));
        self.groups
            .insert((village.to_string(), name.to_string()), code.clone());
        Some(code)
    }
}
