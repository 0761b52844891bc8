//! Household histories for the demo county: members with valid identity numbers, registration
//! in 2014–2019, exits 2015–2020, births, deaths, marriages, and monitoring objects after 2020,
//! all as registry events folded by the same code as real changes.

use std::collections::HashSet;

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xiuhua_db::events::EventRow;
use xiuhua_db::households::{HouseholdRow, PeriodRow};
use xiuhua_db::ids::COUNTY_FACTOR;
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::{self, Change, Event, EventKind, SourceKind};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::{
    Fen, HouseholdFields, HouseholdState, IdNumber, Income, Member, MonitoringStatus,
    RegistryStatus,
};

use super::{DemoSpec, DemoVillage, names};
use crate::registry::{household_row, period_rows};

/// Rows of one batch of generated households, ready to insert.
pub struct Batch {
    /// Household rows.
    pub households: Vec<HouseholdRow>,
    /// Member rows.
    pub members: Vec<MemberRow>,
    /// Event rows.
    pub events: Vec<EventRow>,
    /// Period rows.
    pub periods: Vec<PeriodRow>,
    /// The final states (validated before loading).
    pub states: Vec<HouseholdState>,
}

/// Address codes of the 河池 counties (people born elsewhere in the prefecture married in).
const HECHI: [&str; 10] = [
    "451202", "451203", "451221", "451222", "451223", "451224", "451225", "451226", "451227",
    "451229",
];

/// Yearly poverty line in current prices (元/person), approximate national figures.
fn poverty_line(year: i32) -> i64 {
    match year {
        ..=2014 => 2800,
        2015 => 2855,
        2016 => 2952,
        2017 => 3335,
        2018 => 3535,
        2019 => 3747,
        _ => 4000,
    }
}

/// The generator state: one seeded RNG, id counters and the identity numbers already used.
pub struct Generator {
    rng: ChaCha8Rng,
    villages: Vec<DemoVillage>,
    today: NaiveDate,
    recorded_at: DateTime<Utc>,
    next_household: i64,
    next_member: i64,
    next_event: i64,
    used_ids: HashSet<u64>,
    seq_in_village: Vec<u32>,
    county: String,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

impl Generator {
    /// A generator for a spec and the villages of [`super::regions`].
    pub fn new(spec: &DemoSpec, villages: Vec<DemoVillage>) -> Generator {
        let base = spec.county.parse::<i64>().unwrap_or(0) * COUNTY_FACTOR + 1;
        let n = villages.len();
        Generator {
            rng: ChaCha8Rng::seed_from_u64(spec.seed),
            villages,
            today: spec.today,
            recorded_at: Utc
                .from_utc_datetime(&spec.today.and_hms_opt(0, 0, 0).unwrap_or_default()),
            next_household: base,
            next_member: base,
            next_event: base,
            used_ids: HashSet::new(),
            seq_in_village: vec![0; n],
            county: spec.county.clone(),
        }
    }

    /// The next free id of each sequence, to store when the load is done.
    pub fn next_ids(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("household", self.next_household),
            ("member", self.next_member),
            ("event", self.next_event),
        ]
    }

    /// Generates `n` households.
    pub fn batch(&mut self, n: usize) -> anyhow::Result<Batch> {
        let mut b = Batch {
            households: vec![],
            members: vec![],
            events: vec![],
            periods: vec![],
            states: vec![],
        };
        for _ in 0..n {
            self.household(&mut b)?;
        }
        Ok(b)
    }

    fn date_in(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + Duration::days(self.rng.random_range(0..=span))
    }

    fn id_number(&mut self, birth: NaiveDate, male: bool) -> anyhow::Result<String> {
        for attempt in 0..200 {
            // Most people were born in the county; some married in from neighbouring counties.
            let local = attempt < 100 && self.rng.random_bool(0.9);
            let addr = if local || !self.county.starts_with("4512") {
                self.county.clone()
            } else {
                HECHI[self.rng.random_range(0..HECHI.len())].to_string()
            };
            let mut seq: u16 = self.rng.random_range(0..500) * 2;
            if male {
                seq += 1;
            }
            let id = IdNumber::compose(&addr, birth, seq).context("compose id number")?;
            let key: u64 = id.as_str()[..17].parse().unwrap_or(0);
            if self.used_ids.insert(key) {
                return Ok(id.as_str().to_string());
            }
        }
        anyhow::bail!("no free identity number for {birth}")
    }

    fn member(&mut self, relation: &str, birth: NaiveDate, male: bool) -> anyhow::Result<Member> {
        let id_number = self.id_number(birth, male)?;
        let id = self.next_member;
        self.next_member += 1;
        let name = self.name(birth, male);
        let age = self.today.year() - birth.year();
        let r = &mut self.rng;
        let education = education(r, age, birth.year());
        let schooling = schooling(r, age);
        let (health, labour, work_status) = health_and_work(r, age);
        Ok(Member {
            id,
            name,
            id_number,
            sex: if male { "1".into() } else { "2".into() },
            birth_date: Some(birth),
            relation: relation.into(),
            ethnicity: Some(ethnicity_code(names::ethnicity(&mut self.rng)).into()),
            political: Some(
                if self.rng.random_bool(0.05) {
                    "01"
                } else {
                    "13"
                }
                .into(),
            ),
            marital: None,
            education: Some(education.into()),
            schooling: Some(schooling.into()),
            disability_category: (health[0] == "04")
                .then(|| self.rng.random_range(1..=7).to_string()),
            disability_grade: (health[0] == "04").then(|| self.rng.random_range(1..=4).to_string()),
            health,
            labour: Some(labour.into()),
            work_months: work_status.as_ref().map(|_| self.rng.random_range(3..=12)),
            work_status,
            has_medical_insurance: self.rng.random_bool(0.97),
            has_pension_insurance: age >= 16 && self.rng.random_bool(0.8),
            is_dibao: false,
            is_tekun: false,
            phone: (age >= 18 && self.rng.random_bool(0.6)).then(|| names::phone(&mut self.rng)),
            extra: Default::default(),
        })
    }

    /// A surname and a given name fitting the sex and the birth year.
    fn name(&mut self, birth: NaiveDate, male: bool) -> String {
        let surname = names::surname(&mut self.rng);
        format!(
            "{surname}{}",
            names::given_name(&mut self.rng, male, birth.year())
        )
    }

    fn income(&mut self, year: i32, people: usize, ratio_lo: f64, ratio_hi: f64) -> Income {
        let per_capita = poverty_line(year) as f64 * self.rng.random_range(ratio_lo..ratio_hi);
        let total = (per_capita * people as f64 * 100.0) as i64;
        let wage = total * self.rng.random_range(30..70) / 100;
        let transfer = total * self.rng.random_range(5..25) / 100;
        let cost = total * self.rng.random_range(5..15) / 100;
        let business = total - wage - transfer + cost;
        Income {
            year: Some(year),
            wage: Fen(wage),
            business: Fen(business),
            property: Fen(0),
            transfer: Fen(transfer),
            business_cost: Fen(cost),
        }
    }

    fn event(
        &mut self,
        hid: i64,
        date: NaiveDate,
        kind: EventKind,
        reason: &str,
        changes: Vec<Change>,
    ) -> Event {
        let id = self.next_event;
        self.next_event += 1;
        Event {
            id,
            household_id: hid,
            kind,
            actor: "demo".into(),
            recorded_at: self.recorded_at,
            effective_date: date,
            reason: reason.into(),
            source: SourceKind::Demo,
            source_ref: None,
            changes,
        }
    }

    fn household(&mut self, b: &mut Batch) -> anyhow::Result<()> {
        let hid = self.next_household;
        self.next_household += 1;
        let vi = self.rng.random_range(0..self.villages.len());
        let village = self.villages[vi].clone();
        self.seq_in_village[vi] += 1;
        let household_no = format!("{}{:05}", village.code, self.seq_in_village[vi]);
        let poor = self.rng.random_bool(if village.poor { 0.30 } else { 0.12 });
        let size = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7][self.rng.random_range(0..16)];
        let mut members = self.household_members(size)?;
        let people = members.len();
        let (identified_year, created) = self.registration(poor);
        let mut fields =
            self.household_fields(household_no, &village, poor, identified_year, &members);
        if poor {
            self.poor_fields(&mut fields, identified_year, &mut members);
        }
        let mut events = vec![self.event(
            hid,
            created,
            EventKind::Created,
            if poor {
                "精准识别纳入建档立卡"
            } else {
                "农户信息采集"
            },
            vec![Change::Create {
                fields: fields.clone(),
                members: members.clone(),
            }],
        )];
        if poor {
            events.push(self.exit_event(hid, created, &fields, people));
        }
        self.life_events(hid, created, &members, &mut events)?;
        self.monitoring(hid, &fields, people, &mut events);
        self.push_rows(b, hid, events)
    }

    /// The head (born 1934–1989), a spouse of about the same age if there are two or more, then
    /// children, parents or grandchildren up to `size`.
    fn household_members(&mut self, size: usize) -> anyhow::Result<Vec<Member>> {
        let head_age = self.rng.random_range(25..80);
        let head_by = 2014 - head_age;
        let head_male = self.rng.random_bool(0.86);
        let head_birth = self.date_in(d(head_by, 1, 1), d(head_by, 12, 28));
        let mut members = vec![self.member("01", head_birth, head_male)?];
        if size >= 2 {
            let by = head_by + self.rng.random_range(-4..=4);
            let birth = self.date_in(d(by, 1, 1), d(by, 12, 28));
            members.push(self.member("02", birth, !head_male)?);
        }
        while members.len() < size {
            let (rel_base, by) = if head_age >= 60 && self.rng.random_bool(0.4) {
                (7, head_by + self.rng.random_range(45..=60))
            } else if head_age < 45 && members.len() == 2 && self.rng.random_bool(0.3) {
                (11, head_by - self.rng.random_range(24..=32))
            } else {
                (3, head_by + self.rng.random_range(20..=38))
            };
            let by = by.min(2013);
            let male = self.rng.random_bool(0.52);
            let relation = match (rel_base, male) {
                (3, true) => "03",
                (3, false) => "04",
                (7, true) => "07",
                (7, false) => "08",
                (_, true) => "11",
                (_, false) => "12",
            };
            let birth = self.date_in(d(by, 1, 1), d(by, 12, 28));
            members.push(self.member(relation, birth, male)?);
        }
        Ok(members)
    }

    /// The year a poor household was identified (2014 for the others) and the date it was
    /// registered.
    fn registration(&mut self, poor: bool) -> (i32, NaiveDate) {
        let identified_year = if poor {
            [
                2014, 2014, 2014, 2014, 2014, 2014, 2014, 2015, 2015, 2016, 2017,
            ][self.rng.random_range(0..11)]
        } else {
            2014
        };
        let created = if poor {
            match identified_year {
                2014 => self.date_in(d(2014, 8, 1), d(2014, 10, 31)),
                2015 => self.date_in(d(2015, 10, 15), d(2015, 12, 20)),
                y => self.date_in(d(y, 5, 1), d(y, 9, 30)),
            }
        } else {
            d(2014, 7, 1)
        };
        (identified_year, created)
    }

    /// The household's fields at registration: housing, water, power, land and income.
    fn household_fields(
        &mut self,
        household_no: String,
        village: &DemoVillage,
        poor: bool,
        identified_year: i32,
        members: &[Member],
    ) -> HouseholdFields {
        let people = members.len();
        HouseholdFields {
            household_no,
            village_code: village.code.clone(),
            group_code: Some(
                village.groups[self.rng.random_range(0..village.groups.len())].clone(),
            ),
            phone: members.iter().find_map(|m| m.phone.clone()),
            status: if poor {
                RegistryStatus::Poor
            } else {
                RegistryStatus::General
            },
            housing_area_m2: Some(f64::from(self.rng.random_range(40..180))),
            housing_safety: Some(
                if poor && self.rng.random_bool(0.35) {
                    ["C", "D"][self.rng.random_range(0..2)]
                } else {
                    "A"
                }
                .into(),
            ),
            water_safe: Some(!poor || self.rng.random_bool(0.6)),
            water_difficult: Some(poor && self.rng.random_bool(0.3)),
            has_living_power: Some(true),
            has_production_power: Some(self.rng.random_bool(0.8)),
            road_type: Some(["1", "2", "3", "3", "3"][self.rng.random_range(0..5)].into()),
            fuel_type: Some(["1", "1", "3", "4"][self.rng.random_range(0..4)].into()),
            has_toilet: Some(self.rng.random_bool(if poor { 0.5 } else { 0.85 })),
            farmland_mu: Some(f64::from(self.rng.random_range(2..40)) / 10.0 * people as f64),
            forest_mu: Some(f64::from(self.rng.random_range(0..60)) / 10.0),
            income: if poor {
                self.income(identified_year, people, 0.45, 0.95)
            } else {
                self.income(2014, people, 1.3, 4.5)
            },
            ..HouseholdFields::default()
        }
    }

    /// What a registered poor household has besides: attribute, causes, planned exit year (and
    /// 低保 members for 低保 households).
    fn poor_fields(
        &mut self,
        fields: &mut HouseholdFields,
        identified_year: i32,
        members: &mut [Member],
    ) {
        fields.identified_year = Some(identified_year);
        fields.identification_standard = Some("1".into());
        fields.attribute = Some(
            ["1", "1", "1", "1", "1", "1", "2", "2", "2", "3"][self.rng.random_range(0..10)].into(),
        );
        const CAUSES: [&str; 20] = [
            "01", "01", "01", "01", "02", "02", "03", "03", "07", "07", "07", "07", "08", "08",
            "09", "09", "09", "05", "10", "11",
        ];
        let main = CAUSES[self.rng.random_range(0..CAUSES.len())];
        fields.main_cause = Some(main.into());
        let n_other = self.rng.random_range(0..=2);
        for _ in 0..n_other {
            let c = CAUSES[self.rng.random_range(0..CAUSES.len())];
            if c != main && !fields.other_causes.iter().any(|x| x == c) {
                fields.other_causes.push(c.into());
            }
        }
        let ex = self.exit_year(identified_year);
        fields.planned_exit_year = Some(ex);
        if fields.attribute.as_deref() == Some("2") {
            for m in members.iter_mut() {
                m.is_dibao = true;
            }
        }
    }

    /// The exit of a poor household in its planned year (most in the second half-year batch).
    fn exit_event(
        &mut self,
        hid: i64,
        created: NaiveDate,
        fields: &HouseholdFields,
        people: usize,
    ) -> Event {
        let ex = fields.planned_exit_year.unwrap_or(2020);
        let second_half = self.rng.random_bool(0.85);
        let second_half = second_half || created >= d(ex, 6, 1);
        let date = if second_half {
            self.date_in(d(ex, 11, 10), d(ex, 12, 20))
        } else {
            self.date_in(d(ex, 6, 1), d(ex, 6, 30))
        };
        let date = date.max(created + Duration::days(1));
        let income = self.income(ex, people, 1.15, 2.4);
        let mut patch = FieldPatch::new();
        patch.insert("status".into(), "lifted".into());
        patch.insert("exit_year".into(), ex.into());
        patch.insert(
            "exit_batch".into(),
            (if second_half { "2" } else { "1" }).into(),
        );
        patch.insert(
            "income".into(),
            serde_json::to_value(&income).unwrap_or_default(),
        );
        if fields
            .housing_safety
            .as_deref()
            .is_some_and(|h| h == "C" || h == "D")
        {
            patch.insert("housing_safety".into(), "A".into());
        }
        patch.insert("water_safe".into(), true.into());
        self.event(
            hid,
            date,
            EventKind::StatusChanged,
            "经入户核验、村评议公示、乡镇审核、县审定，达到脱贫标准",
            vec![Change::SetFields { patch }],
        )
    }

    /// Folds a household's events and adds its rows to the batch.
    fn push_rows(&self, b: &mut Batch, hid: i64, mut events: Vec<Event>) -> anyhow::Result<()> {
        event::sort_for_fold(&mut events);
        let state = event::fold(&events)?.context("generated household has no state")?;
        let periods = event::periods(&events)?;
        let ts = xiuhua_db::events::format_ts(self.recorded_at);
        b.households.push(
            household_row(hid, events.len() as i64, &state, &ts, &ts)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        for m in &state.members {
            b.members
                .push(MemberRow::from_member(&self.county, hid, m)?);
        }
        for e in &events {
            b.events.push(EventRow::from_event(&self.county, e)?);
        }
        b.periods.extend(period_rows(&self.county, hid, &periods));
        b.states.push(state);
        Ok(())
    }

    fn exit_year(&mut self, identified: i32) -> i32 {
        // People exiting per year, 都安: 2016–17 5.56万, 2018 2.64万, 2019 3.80万, 2020 3.08万.
        let weights = [
            (2015, 3),
            (2016, 19),
            (2017, 18),
            (2018, 18),
            (2019, 23),
            (2020, 19),
        ];
        loop {
            let mut x = self.rng.random_range(0..100);
            for (y, w) in weights {
                if x < w {
                    if y >= identified {
                        return y;
                    }
                    break;
                }
                x -= w;
            }
        }
    }

    fn life_events(
        &mut self,
        hid: i64,
        created: NaiveDate,
        initial: &[Member],
        events: &mut Vec<Event>,
    ) -> anyhow::Result<()> {
        let after = created + Duration::days(1);
        let end = self.today - Duration::days(30);
        if after >= end {
            return Ok(());
        }
        // Plan first, then apply in date order so every change sees the household as it is then.
        let mut plan = self.plan_life(initial, after, end);
        plan.sort_by_key(|(date, _)| *date);
        let mut present: Vec<Member> = initial.to_vec();
        for (date, life) in plan {
            match life {
                Life::Death(id) | Life::MarryOut(id)
                    if present.len() < 2 || !present.iter().any(|p| p.id == id) => {}
                Life::Death(id) => {
                    let changes = death(&mut present, id);
                    events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberRemoved,
                        "成员死亡",
                        changes,
                    ));
                }
                Life::MarryOut(id) => {
                    if present.iter().any(|p| p.id == id && p.is_head()) {
                        continue;
                    }
                    present.retain(|p| p.id != id);
                    let c = Change::RemoveMember {
                        member_id: id,
                        reason_code: Some("02".into()),
                    };
                    events.push(self.event(hid, date, EventKind::MemberRemoved, "嫁出", vec![c]));
                }
                Life::Birth => {
                    let baby = self.baby(&present, date)?;
                    present.push(baby.clone());
                    let c = Change::AddMember {
                        member: baby,
                        reason_code: Some("06".into()),
                    };
                    events.push(self.event(hid, date, EventKind::MemberAdded, "新生儿", vec![c]));
                }
            }
        }
        Ok(())
    }

    /// Deaths of the old, daughters marrying out, a birth to a young mother, each with its
    /// date between `after` and `end` (unsorted).
    fn plan_life(
        &mut self,
        initial: &[Member],
        after: NaiveDate,
        end: NaiveDate,
    ) -> Vec<(NaiveDate, Life)> {
        let last_year = self.today.year();
        let mut plan: Vec<(NaiveDate, Life)> = Vec::new();
        for m in initial {
            let by = m.birth_date.map(|b| b.year()).unwrap_or(1970);
            if by <= 1945 && self.rng.random_bool(0.35) {
                plan.push((
                    self.date_in(d(2015, 1, 1).max(after), end),
                    Life::Death(m.id),
                ));
            }
            if m.relation == "04" && (1990..=2002).contains(&by) && self.rng.random_bool(0.3) {
                let year = (by + self.rng.random_range(20..=26)).min(last_year - 1);
                let date = self
                    .date_in(d(year, 1, 1), d(year, 12, 28))
                    .clamp(after, end);
                plan.push((date, Life::MarryOut(m.id)));
            }
        }
        let young_mother = initial.iter().any(|m| {
            m.sex == "2"
                && m.birth_date
                    .is_some_and(|b| (1980..=1996).contains(&b.year()))
        });
        if young_mother && self.rng.random_bool(0.35) {
            plan.push((self.date_in(d(2015, 1, 1).max(after), end), Life::Birth));
        }
        plan
    }

    /// A child born on `date`: a son or daughter of the head, or a grandchild if the head is
    /// older.
    fn baby(&mut self, present: &[Member], date: NaiveDate) -> anyhow::Result<Member> {
        let head_is_parent = present
            .iter()
            .any(|m| m.is_head() && m.birth_date.is_some_and(|b| b.year() >= 1975));
        let male = self.rng.random_bool(0.52);
        let relation = match (head_is_parent, male) {
            (true, true) => "03",
            (true, false) => "04",
            (false, true) => "07",
            (false, false) => "08",
        };
        self.member(relation, date, male)
    }

    fn monitoring(
        &mut self,
        hid: i64,
        fields: &HouseholdFields,
        people: usize,
        events: &mut Vec<Event>,
    ) {
        let lifted = fields.status == RegistryStatus::Poor;
        let p = if lifted { 0.07 } else { 0.018 };
        if !self.rng.random_bool(p) {
            return;
        }
        let monitor_type = if lifted {
            "1"
        } else if self.rng.random_bool(0.75) {
            "2"
        } else {
            "3"
        };
        let start = self.date_in(
            d(2021, 3, 1),
            (self.today - Duration::days(60)).max(d(2021, 3, 2)),
        );
        let mut patch = FieldPatch::new();
        patch.insert(
            "monitoring".into(),
            MonitoringStatus::Monitored.as_str().into(),
        );
        patch.insert("monitor_type".into(), monitor_type.into());
        patch.insert("risk_identified_on".into(), start.to_string().into());
        let income = self.income(start.year(), people, 0.9, 1.5);
        patch.insert(
            "income".into(),
            serde_json::to_value(&income).unwrap_or_default(),
        );
        events.push(self.event(
            hid,
            start,
            EventKind::StatusChanged,
            "经排查识别为监测对象",
            vec![Change::SetFields { patch }],
        ));
        let end = start + Duration::days(self.rng.random_range(200..800));
        if end < self.today && self.rng.random_bool(0.6) {
            let mut patch = FieldPatch::new();
            patch.insert(
                "monitoring".into(),
                MonitoringStatus::Eliminated.as_str().into(),
            );
            patch.insert("risk_eliminated_on".into(), end.to_string().into());
            events.push(self.event(
                hid,
                end,
                EventKind::StatusChanged,
                "收入持续稳定，风险已消除",
                vec![Change::SetFields { patch }],
            ));
        }
    }
}

/// A planned change in a household's life.
enum Life {
    Death(i64),
    MarryOut(i64),
    Birth,
}

/// Removes a member who died from `present`; a head who died is succeeded by the spouse, or
/// else the eldest.
fn death(present: &mut Vec<Member>, id: i64) -> Vec<Change> {
    let was_head = present.iter().any(|p| p.id == id && p.is_head());
    present.retain(|p| p.id != id);
    let mut changes = vec![Change::RemoveMember {
        member_id: id,
        reason_code: Some("01".into()),
    }];
    if was_head {
        let heir = present
            .iter()
            .max_by_key(|p| (p.relation == "02", std::cmp::Reverse(p.birth_date)))
            .map(|h| h.id);
        if let Some(h) = heir {
            let mut patch = FieldPatch::new();
            patch.insert("relation".into(), "01".into());
            changes.push(Change::UpdateMember {
                member_id: h,
                patch,
            });
            for p in present.iter_mut().filter(|p| p.id == h) {
                p.relation = "01".into();
            }
        }
    }
    changes
}

/// Highest education (文化程度) for an age: children by age, adults drawn by generation.
fn education(r: &mut ChaCha8Rng, age: i32, birth_year: i32) -> &'static str {
    match age {
        ..=5 => "06",
        6..=12 => "02",
        13..=15 => "03",
        _ if birth_year < 1960 => ["01", "01", "02", "02", "02", "03"][r.random_range(0..6)],
        _ if birth_year < 1980 => ["01", "02", "02", "03", "03", "03", "04"][r.random_range(0..7)],
        _ => ["02", "03", "03", "03", "04", "04", "05"][r.random_range(0..7)],
    }
}

/// Current schooling (在校生状况) for an age.
fn schooling(r: &mut ChaCha8Rng, age: i32) -> &'static str {
    match age {
        3..=5 => "02",
        6..=12 => "03",
        13 => "04",
        14 => "05",
        15 => "06",
        16..=18 => ["07", "08", "09", "10", "11", "12"][r.random_range(0..6)],
        _ => "01",
    }
}

/// Health, labour ability and (for some who can work) the kind of work.
fn health_and_work(r: &mut ChaCha8Rng, age: i32) -> (Vec<String>, &'static str, Option<String>) {
    let mut health = vec!["01".to_string()];
    if age > 55 && r.random_bool(0.25) {
        health = vec!["02".into()];
    }
    if r.random_bool(0.03) {
        health = vec!["04".into()];
    }
    let labour = if !(16..=64).contains(&age) {
        "04"
    } else if health[0] == "04" {
        "03"
    } else if r.random_bool(0.15) {
        "02"
    } else {
        "01"
    };
    let working = labour == "01" || labour == "02";
    let work_status = (working && r.random_bool(0.45))
        .then(|| ["01", "02", "03", "04", "04", "04"][r.random_range(0..6)].to_string());
    (health, labour, work_status)
}

/// GB 3304 code of an ethnic group's Chinese name (the demo's names are all in the list).
fn ethnicity_code(name: &str) -> &'static str {
    match name {
        "汉族" => "01",
        "苗族" => "06",
        "壮族" => "08",
        "瑶族" => "13",
        "仫佬族" => "32",
        "毛南族" => "36",
        _ => "08",
    }
}
