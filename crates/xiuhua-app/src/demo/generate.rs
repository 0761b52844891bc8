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

use super::facts::DemoFacts;
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
    /// Facts outside the registry (入户核实), per 户编号, for the stored rule runs.
    pub facts: Vec<(String, DemoFacts)>,
}

/// Address codes of the 河池 counties (people born elsewhere in the prefecture married in).
const HECHI: [&str; 10] = [
    "451202", "451203", "451221", "451222", "451223", "451224", "451225", "451226", "451227",
    "451229",
];

/// The monitoring line from 2021 (元/person·year): the shipped monitoring rule sets' `line`.
const MONITORING_LINE: i64 = 6000;

/// The income line a household's income is measured against in a year: the poverty line up
/// to 2020 (as in the shipped exit rule sets), the monitoring line after.
fn income_line(year: i32) -> i64 {
    if year <= 2020 {
        poverty_line(year)
    } else {
        MONITORING_LINE
    }
}

/// Yearly poverty line in current prices (元/person), approximate national figures (2016–2020
/// as the shipped exit rule sets' `line`).
fn poverty_line(year: i32) -> i64 {
    match year {
        ..=2014 => 2800,
        2015 => 2855,
        2016 => 3146,
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
    /// Households the current batch still has room for.
    room: usize,
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
            room: 0,
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
            facts: vec![],
        };
        while b.households.len() < n {
            // A 分户 adds a second household: only when there is room for it.
            self.room = n - b.households.len();
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
            has_medical_insurance: Some(self.rng.random_bool(0.97)),
            has_pension_insurance: Some(age >= 16 && self.rng.random_bool(0.8)),
            is_dibao: Some(false),
            is_tekun: Some(false),
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

    /// The household's 入户核查 (信息采集) at registration: its facts outside the registry,
    /// recorded with source 入户核查 on the day it was registered, before any evaluation.
    fn survey_event(&mut self, hid: i64, on: NaiveDate, facts: &DemoFacts) -> Event {
        let mut e = self.event(
            hid,
            on,
            EventKind::Survey,
            "入户核查：信息采集表",
            vec![Change::SetFacts {
                facts: facts.recorded(),
            }],
        );
        e.source = SourceKind::Survey;
        e
    }

    fn household(&mut self, b: &mut Batch) -> anyhow::Result<()> {
        let hid = self.next_household;
        self.next_household += 1;
        let vi = self.rng.random_range(0..self.villages.len());
        let village = self.villages[vi].clone();
        let household_no = self.next_household_no(vi);
        let poor = self.rng.random_bool(if village.poor { 0.30 } else { 0.12 });
        let size = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7][self.rng.random_range(0..16)];
        let mut members = self.household_members(size)?;
        if poor {
            // 医保 for the registered poor is paid by the state: everyone takes part.
            for m in &mut members {
                m.has_medical_insurance = Some(true);
            }
            // A few exited without it (错退: found in later checks).
            if self.rng.random_bool(0.03)
                && let Some(m) = members.last_mut()
            {
                m.has_medical_insurance = Some(false);
            }
        }
        let (identified_year, created) = self.registration(poor);
        let mut fields =
            self.household_fields(household_no, &village, poor, identified_year, &members);
        if poor {
            self.poor_fields(&mut fields, identified_year, &mut members);
        }
        let mut econ = self.econ(&fields, poor);
        let mut life = self.life_events(hid, created, &members, poor)?;
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
        events.append(&mut life.events);
        let mut incomes = Vec::new();
        let first = self.income_for(&econ, created.year(), created, created, &life.sizes);
        fields.income = first.clone();
        if let Change::Create { fields: f, .. } = &mut events[0].changes[0] {
            f.income = first.clone();
        }
        incomes.push((created, first.net().0));
        if poor {
            let exit = self.exit_event(hid, created, &fields, &econ, &life.sizes);
            incomes.push((exit.effective_date, income_of(&exit)));
            events.push(exit);
        }
        self.monitoring(hid, &mut econ, &life.sizes, &mut events, &mut incomes);
        self.income_updates(hid, &econ, created, &life.sizes, &mut events, &mut incomes);
        self.correction(hid, created, &fields, &mut events);
        let facts = self.facts(&econ, &incomes, &life.sizes, poor);
        events.push(self.survey_event(hid, created, &facts));
        b.facts.push((fields.household_no.clone(), facts));
        self.push_rows(b, hid, events)?;
        if let Some(split) = life.split {
            self.split_household(b, vi, &village, split)?;
        }
        Ok(())
    }

    /// The next 户编号 in a village.
    fn next_household_no(&mut self, vi: usize) -> String {
        self.seq_in_village[vi] += 1;
        format!("{}{:05}", self.villages[vi].code, self.seq_in_village[vi])
    }

    /// The household's income model: where it stands against the income line, and whether and
    /// when it falls under monitoring.
    fn econ(&mut self, fields: &HouseholdFields, poor: bool) -> Econ {
        Econ {
            exit_year: poor.then(|| fields.planned_exit_year.unwrap_or(2020)),
            pre: self.rng.random_range(0.45..0.95),
            base: if poor {
                self.rng.random_range(1.15..2.4)
            } else {
                self.rng.random_range(1.3..4.5)
            },
            monitoring: None,
        }
    }

    /// An income record for `year`, measured on `on`, holding until `until`: its per-capita
    /// income follows the household's model against the year's line, for the household size
    /// over that time (the smallest size for an income above the line, the largest for one
    /// below, so that a birth or a death in between does not cross the line).
    fn income_for(
        &mut self,
        econ: &Econ,
        year: i32,
        on: NaiveDate,
        until: NaiveDate,
        sizes: &Sizes,
    ) -> Income {
        let (ratio, above) = econ.ratio(year, on);
        let jitter = self.rng.random_range(0.96..1.04);
        let (lo, hi) = sizes.range(on, until);
        let people = if above { hi } else { lo };
        let per_capita = income_line(year) as f64 * ratio * jitter;
        self.income_pc(year, people, per_capita)
    }

    /// Income of a year from its per-capita amount, split into its parts.
    fn income_pc(&mut self, year: i32, people: usize, per_capita: f64) -> Income {
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

    /// The yearly income updates (年度动态调整): every year for registered poor, exited and
    /// monitored households, and in the 排查 years 2018, 2021 and 2024 for the others.
    fn income_updates(
        &mut self,
        hid: i64,
        econ: &Econ,
        created: NaiveDate,
        sizes: &Sizes,
        events: &mut Vec<Event>,
        incomes: &mut Vec<(NaiveDate, i64)>,
    ) {
        let yearly = econ.exit_year.is_some() || econ.monitoring.is_some();
        let mut dates = Vec::new();
        for year in created.year() + 1..=self.today.year() {
            if !(yearly || [2018, 2021, 2024].contains(&year)) || econ.exit_year == Some(year) {
                continue;
            }
            let on = self.date_in(d(year, 10, 8), d(year, 10, 31));
            if on >= self.today - Duration::days(1) {
                continue;
            }
            // Not on the day monitoring starts or ends (those events carry their own income).
            if econ
                .monitoring
                .as_ref()
                .is_some_and(|m| m.start.year() == year || m.end.is_some_and(|e| e.year() == year))
            {
                continue;
            }
            dates.push((year, on));
        }
        for (i, &(year, on)) in dates.iter().enumerate() {
            let until = dates.get(i + 1).map_or(self.today, |n| n.1);
            let until = econ.next_change_after(on).map_or(until, |c| c.min(until));
            let mut income = self.income_for(econ, year, on, until, sizes);
            // A household that shrank (a death, a 分户) keeps most of its earnings: its net
            // income does not halve unless the model puts it under the line.
            let prev = incomes
                .iter()
                .filter(|(d, _)| *d < on)
                .max_by_key(|(d, _)| *d)
                .map_or(0, |(_, n)| *n);
            let net = income.net().0;
            if econ.ratio(year, on).1 && net > 0 && net * 10 < prev * 6 {
                income = scaled(&income, prev as f64 * 0.62 / net as f64);
            }
            incomes.push((on, income.net().0));
            let mut patch = FieldPatch::new();
            patch.insert(
                "income".into(),
                serde_json::to_value(&income).unwrap_or_default(),
            );
            events.push(self.event(
                hid,
                on,
                EventKind::Edited,
                "年度动态调整：更新家庭收入",
                vec![Change::SetFields { patch }],
            ));
        }
    }

    /// A correction (更正) of a few households' land area, effective in a past year.
    fn correction(
        &mut self,
        hid: i64,
        created: NaiveDate,
        fields: &HouseholdFields,
        events: &mut Vec<Event>,
    ) {
        let last = self.today.year() - 1;
        if !self.rng.random_bool(0.04) || last < 2019 {
            return;
        }
        let year = self.rng.random_range(2019..=last);
        let on = self
            .date_in(d(year, 3, 1), d(year, 9, 30))
            .max(created + Duration::days(2));
        if on >= self.today {
            return;
        }
        let area =
            fields.farmland_mu.unwrap_or(1.0) + f64::from(self.rng.random_range(1..8)) / 10.0;
        let mut patch = FieldPatch::new();
        patch.insert("farmland_mu".into(), ((area * 10.0).round() / 10.0).into());
        events.push(self.event(
            hid,
            on,
            EventKind::Correction,
            "更正：耕地面积复核有误，按确权面积更正",
            vec![Change::SetFields { patch }],
        ));
    }

    /// What the shipped rule sets ask for beyond the registry (入户核实), as the household's
    /// model has it today.
    fn facts(
        &mut self,
        econ: &Econ,
        incomes: &[(NaiveDate, i64)],
        sizes: &Sizes,
        poor: bool,
    ) -> DemoFacts {
        let mut incomes = incomes.to_vec();
        incomes.sort_by_key(|(on, _)| *on);
        // Last year's income: the record before the latest (a household set up since, 分户,
        // reported the same as now).
        let income_last_year = incomes
            .len()
            .checked_sub(2)
            .or_else(|| incomes.len().checked_sub(1))
            .map(|i| incomes[i].1 as f64 / 100.0);
        let hardship = econ
            .monitoring
            .as_ref()
            .is_some_and(|m| m.kind == "3" && m.end.is_none_or(|e| e >= self.today));
        let people = sizes.at(self.today).max(1) as f64;
        let net = incomes.last().map_or(0.0, |(_, n)| *n as f64 / 100.0);
        let rigid_expense = if hardship {
            (net - 0.5 * MONITORING_LINE as f64 * people).max(10_000.0)
                + f64::from(self.rng.random_range(0..5000))
        } else {
            f64::from(self.rng.random_range(0..30)) * 100.0
        };
        let r = &mut self.rng;
        DemoFacts {
            no_worry_food_clothing: poor || r.random_bool(0.995),
            has_tv_signal: poor || r.random_bool(0.98),
            rigid_expense,
            income_last_year,
            sudden_hardship: hardship,
            owns_motorcycle: !poor && r.random_bool(0.5),
            owns_color_tv: !poor && r.random_bool(0.9),
            owns_washing_machine: !poor && r.random_bool(0.5),
            owns_fridge: !poor && r.random_bool(0.5),
            owns_car: !poor && r.random_bool(0.12),
            owns_town_house: !poor && r.random_bool(0.06),
            livestock_head: if poor {
                r.random_range(0..3)
            } else {
                r.random_range(0..8)
            },
        }
    }

    /// A son's new household (分户) after 2018, with a wife who marries in, perhaps a child and
    /// a sibling who moves in from the parents' household.
    fn split_household(
        &mut self,
        b: &mut Batch,
        vi: usize,
        village: &DemoVillage,
        split: Split,
    ) -> anyhow::Result<()> {
        let hid = split.household_id;
        let household_no = self.next_household_no(vi);
        let mut head = split.son;
        head.relation = "01".into();
        let members = vec![head.clone()];
        let mut fields = self.household_fields(household_no, village, false, 2014, &members);
        let econ = Econ {
            exit_year: None,
            pre: 1.0,
            base: self.rng.random_range(1.4..3.5),
            monitoring: None,
        };
        let mut sizes = Sizes {
            initial: 1,
            changes: vec![],
        };
        let end = self.today - Duration::days(1);
        let wife_on = split.on + Duration::days(self.rng.random_range(20..400));
        let wife = (wife_on < end && self.rng.random_bool(0.7)).then_some(wife_on);
        if wife.is_some() {
            sizes.changes.push((wife_on, 1));
        }
        if let Some((on, _)) = &split.sibling {
            sizes.changes.push((*on, 1));
        }
        let income = self.income_for(&econ, split.on.year(), split.on, self.today, &sizes);
        fields.income = income.clone();
        let mut events = vec![self.event(
            hid,
            split.on,
            EventKind::Created,
            "分户：原户成员另立新户",
            vec![Change::Create {
                fields: fields.clone(),
                members,
            }],
        )];
        let mut incomes = vec![(split.on, income.net().0)];
        if let Some(on) = wife {
            let by = head.birth_date.map_or(1995, |b| b.year()) + self.rng.random_range(-3..=2);
            let birth = self.date_in(d(by, 1, 1), d(by, 12, 28));
            let w = self.member("02", birth, head.sex != "1")?;
            events.push(self.event(
                hid,
                on,
                EventKind::MemberAdded,
                "嫁入",
                vec![Change::AddMember {
                    member: w,
                    reason_code: Some("05".into()),
                }],
            ));
        }
        if let Some((on, sibling)) = split.sibling {
            events.push(self.event(
                hid,
                on,
                EventKind::MemberMovedIn,
                "随兄迁入",
                vec![Change::AddMember {
                    member: sibling,
                    reason_code: Some("07".into()),
                }],
            ));
        }
        self.income_updates(hid, &econ, split.on, &sizes, &mut events, &mut incomes);
        let facts = self.facts(&econ, &incomes, &sizes, false);
        events.push(self.survey_event(hid, split.on, &facts));
        b.facts.push((fields.household_no.clone(), facts));
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
                m.is_dibao = Some(true);
            }
        }
        // A 特困供养 household has its 特困 person (the head).
        if fields.attribute.as_deref() == Some("3")
            && let Some(head) = members.first_mut()
        {
            head.is_tekun = Some(true);
        }
    }

    /// The exit of a poor household in its planned year (most in the second half-year batch),
    /// with what the exit standard checks put right: income over the line, safe housing of
    /// enough area, safe water and a hardened road.
    fn exit_event(
        &mut self,
        hid: i64,
        created: NaiveDate,
        fields: &HouseholdFields,
        econ: &Econ,
        sizes: &Sizes,
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
        let income = self.income_for(econ, ex, date, d(ex + 1, 10, 1), sizes);
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
        let (_, most) = sizes.range(created, d(ex, 12, 31));
        if fields.housing_area_m2.unwrap_or(0.0) < 14.0 * most as f64 {
            let area = f64::from(self.rng.random_range(15..30)) * most as f64;
            patch.insert("housing_area_m2".into(), area.into());
        }
        if fields.road_type.as_deref() == Some("1") {
            patch.insert("road_type".into(), "3".into());
        }
        patch.insert("water_safe".into(), true.into());
        patch.insert("water_difficult".into(), false.into());
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

    /// Births, deaths, marriages, a son's 分户 and a sibling following him, phone changes, from
    /// the day after registration to a month before today, in date order so that every change
    /// sees the household as it is then. Returns the events, the household size over time
    /// and the split, if any.
    fn life_events(
        &mut self,
        hid: i64,
        created: NaiveDate,
        initial: &[Member],
        poor: bool,
    ) -> anyhow::Result<LifeOutcome> {
        let mut out = LifeOutcome {
            events: vec![],
            sizes: Sizes {
                initial: initial.len(),
                changes: vec![],
            },
            split: None,
        };
        let after = created + Duration::days(1);
        let end = self.today - Duration::days(30);
        if after >= end {
            return Ok(out);
        }
        let mut plan = self.plan_life(initial, after, end);
        plan.sort_by_key(|(date, _)| *date);
        let mut present: Vec<Member> = initial.to_vec();
        // (husband, wife) pairs formed by a marriage in, so a new head keeps his wife.
        let mut couples: Vec<(i64, i64)> = Vec::new();
        for (date, life) in plan {
            let here = |id: i64, present: &[Member]| present.iter().any(|p| p.id == id);
            let is_head =
                |id: i64, present: &[Member]| present.iter().any(|p| p.id == id && p.is_head());
            match life {
                Life::Death(id) | Life::MarryOut(id) | Life::Split(id) | Life::FollowSplit(id)
                    if present.len() < 2 || !here(id, &present) => {}
                Life::Death(id) => {
                    let changes = death(&mut present, id, &couples);
                    out.sizes.changes.push((date, -1));
                    out.events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberRemoved,
                        "成员死亡",
                        changes,
                    ));
                }
                Life::MarryOut(id) | Life::Split(id) | Life::FollowSplit(id)
                    if is_head(id, &present) => {}
                Life::MarryOut(id) => {
                    present.retain(|p| p.id != id);
                    out.sizes.changes.push((date, -1));
                    let c = Change::RemoveMember {
                        member_id: id,
                        reason_code: Some("02".into()),
                    };
                    out.events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberRemoved,
                        "嫁出",
                        vec![c],
                    ));
                }
                Life::MarryIn(husband) => {
                    let Some(h) = present
                        .iter()
                        .find(|p| p.id == husband && p.relation == "03")
                    else {
                        continue;
                    };
                    if couples.iter().any(|(a, _)| *a == husband) {
                        continue;
                    }
                    let by =
                        h.birth_date.map_or(1990, |b| b.year()) + self.rng.random_range(-3..=2);
                    let birth = self.date_in(d(by, 1, 1), d(by, 12, 28));
                    let mut wife = self.member("05", birth, false)?;
                    if poor {
                        wife.has_medical_insurance = Some(true);
                    }
                    couples.push((husband, wife.id));
                    present.push(wife.clone());
                    out.sizes.changes.push((date, 1));
                    let c = Change::AddMember {
                        member: wife,
                        reason_code: Some("05".into()),
                    };
                    out.events
                        .push(self.event(hid, date, EventKind::MemberAdded, "嫁入", vec![c]));
                }
                Life::Split(id) => {
                    if out.split.is_some()
                        || self.room < 2
                        || couples.iter().any(|(a, b)| *a == id || *b == id)
                    {
                        continue;
                    }
                    let Some(son) = present.iter().find(|p| p.id == id).cloned() else {
                        continue;
                    };
                    present.retain(|p| p.id != id);
                    out.sizes.changes.push((date, -1));
                    let c = Change::RemoveMember {
                        member_id: id,
                        reason_code: Some("08".into()),
                    };
                    out.events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberMovedOut,
                        "分户，另立新户",
                        vec![c],
                    ));
                    let household_id = self.next_household;
                    self.next_household += 1;
                    out.split = Some(Split {
                        household_id,
                        on: date,
                        son,
                        sibling: None,
                    });
                }
                Life::FollowSplit(id) => {
                    let Some(split) = out
                        .split
                        .as_mut()
                        .filter(|s| s.sibling.is_none() && s.on < date)
                    else {
                        continue;
                    };
                    if couples.iter().any(|(a, b)| *a == id || *b == id) {
                        continue;
                    }
                    let Some(mut sibling) = present.iter().find(|p| p.id == id).cloned() else {
                        continue;
                    };
                    present.retain(|p| p.id != id);
                    out.sizes.changes.push((date, -1));
                    let c = Change::RemoveMember {
                        member_id: id,
                        reason_code: Some("08".into()),
                    };
                    out.events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberMovedOut,
                        "迁往兄长新户",
                        vec![c],
                    ));
                    // No code for a sibling: 其他.
                    sibling.relation = "99".into();
                    split.sibling = Some((date, sibling));
                }
                Life::Birth => {
                    let mut baby = self.baby(&present, date)?;
                    if poor {
                        baby.has_medical_insurance = Some(true);
                    }
                    present.push(baby.clone());
                    out.sizes.changes.push((date, 1));
                    let c = Change::AddMember {
                        member: baby,
                        reason_code: Some("06".into()),
                    };
                    out.events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberAdded,
                        "新生儿",
                        vec![c],
                    ));
                }
                Life::Phone => {
                    let Some(head) = present.iter().find(|p| p.is_head()).map(|p| p.id) else {
                        continue;
                    };
                    let mut patch = FieldPatch::new();
                    patch.insert("phone".into(), names::phone(&mut self.rng).into());
                    let c = Change::UpdateMember {
                        member_id: head,
                        patch,
                    };
                    out.events.push(self.event(
                        hid,
                        date,
                        EventKind::MemberEdited,
                        "联系电话变更",
                        vec![c],
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Deaths of the old, daughters marrying out, sons marrying in a wife or setting up their
    /// own household (分户, after 2018) with a younger sibling following, a birth to a young
    /// mother, a phone change, each with its date between `after` and `end` (unsorted).
    fn plan_life(
        &mut self,
        initial: &[Member],
        after: NaiveDate,
        end: NaiveDate,
    ) -> Vec<(NaiveDate, Life)> {
        let last_year = self.today.year();
        let mut plan: Vec<(NaiveDate, Life)> = Vec::new();
        let mut split_planned = false;
        for m in initial {
            let by = m.birth_date.map(|b| b.year()).unwrap_or(1970);
            if by <= 1945 && self.rng.random_bool(0.35) {
                plan.push((
                    self.date_in(d(2015, 1, 1).max(after), end),
                    Life::Death(m.id),
                ));
            } else if m.is_head() && by <= 1960 && self.rng.random_bool(0.15) {
                plan.push((
                    self.date_in(d(2016, 1, 1).max(after), end),
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
            if m.relation == "03" && (1986..=2002).contains(&by) {
                let year = (by + self.rng.random_range(22..=30)).clamp(2015, last_year);
                let date = self
                    .date_in(d(year, 1, 1), d(year, 12, 28))
                    .clamp(after, end);
                if !split_planned && year >= 2019 && self.rng.random_bool(0.45) {
                    split_planned = true;
                    plan.push((date, Life::Split(m.id)));
                    if let Some(s) = initial.iter().find(|s| {
                        s.id != m.id
                            && (s.relation == "03" || s.relation == "04")
                            && s.birth_date.is_some_and(|b| b.year() > by)
                    }) && self.rng.random_bool(0.5)
                    {
                        let later =
                            (date + Duration::days(self.rng.random_range(30..300))).min(end);
                        plan.push((later, Life::FollowSplit(s.id)));
                    }
                } else if self.rng.random_bool(0.3) {
                    plan.push((date, Life::MarryIn(m.id)));
                }
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
        if self.rng.random_bool(0.1) {
            plan.push((self.date_in(d(2019, 1, 1).max(after), end), Life::Phone));
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

    /// Whether and when the household becomes a 监测对象 after 2020, its income then, and the
    /// risk's elimination with the income back over the line.
    fn monitoring(
        &mut self,
        hid: i64,
        econ: &mut Econ,
        sizes: &Sizes,
        events: &mut Vec<Event>,
        incomes: &mut Vec<(NaiveDate, i64)>,
    ) {
        let lifted = econ.exit_year.is_some();
        let p = if lifted { 0.07 } else { 0.018 };
        if !self.rng.random_bool(p) || self.today < d(2021, 6, 1) {
            return;
        }
        let kind = if lifted {
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
        let end = start + Duration::days(self.rng.random_range(200..800));
        let end =
            (end < self.today - Duration::days(1) && self.rng.random_bool(0.6)).then_some(end);
        econ.monitoring = Some(Monitoring {
            start,
            end,
            kind,
            low: self.rng.random_range(0.65..0.92),
        });
        let today = self.today;
        let next_update = move |on: NaiveDate| d(on.year() + 1, 10, 31).min(today);
        let until = end.map_or(next_update(start), |e| e.min(next_update(start)));
        let income = self.income_for(econ, start.year(), start, until, sizes);
        incomes.push((start, income.net().0));
        let mut patch = FieldPatch::new();
        patch.insert(
            "monitoring".into(),
            MonitoringStatus::Monitored.as_str().into(),
        );
        patch.insert("monitor_type".into(), kind.into());
        patch.insert("risk_identified_on".into(), start.to_string().into());
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
        if let Some(end) = end {
            let income = self.income_for(econ, end.year(), end, next_update(end), sizes);
            incomes.push((end, income.net().0));
            let mut patch = FieldPatch::new();
            patch.insert(
                "monitoring".into(),
                MonitoringStatus::Eliminated.as_str().into(),
            );
            patch.insert("risk_eliminated_on".into(), end.to_string().into());
            patch.insert(
                "income".into(),
                serde_json::to_value(&income).unwrap_or_default(),
            );
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

/// A household's income model (per capita, as a ratio to the year's income line).
struct Econ {
    /// The planned exit year of a registered poor household.
    exit_year: Option<i32>,
    /// Ratio while poor (under the line).
    pre: f64,
    /// Ratio when not poor (over the line).
    base: f64,
    /// Monitoring after 2020, if any.
    monitoring: Option<Monitoring>,
}

/// A 监测对象 period.
struct Monitoring {
    start: NaiveDate,
    end: Option<NaiveDate>,
    /// 监测对象类型 (1 脱贫不稳定, 2 边缘易致贫, 3 突发严重困难).
    kind: &'static str,
    /// Ratio while monitored (types 1 and 2: under the line).
    low: f64,
}

impl Econ {
    /// The ratio of per-capita income to the line in `year` as measured on `on`, and whether it
    /// is over the line.
    fn ratio(&self, year: i32, on: NaiveDate) -> (f64, bool) {
        if self.exit_year.is_some_and(|e| year < e) {
            return (self.pre, false);
        }
        let over = if year <= 2020 {
            self.base
        } else {
            1.12 + (self.base - 1.15) * 0.8
        };
        match &self.monitoring {
            Some(m) if m.start <= on && m.end.is_none_or(|e| on < e) => {
                if m.kind == "3" {
                    (over.clamp(1.08, 1.5), true)
                } else {
                    (m.low, false)
                }
            }
            _ => (over, true),
        }
    }

    /// The first start or end of monitoring after `on`.
    fn next_change_after(&self, on: NaiveDate) -> Option<NaiveDate> {
        let m = self.monitoring.as_ref()?;
        [Some(m.start), m.end]
            .into_iter()
            .flatten()
            .filter(|x| *x > on)
            .min()
    }
}

/// A household's size over time.
struct Sizes {
    initial: usize,
    /// (date, +1 or −1), in date order.
    changes: Vec<(NaiveDate, i32)>,
}

impl Sizes {
    /// The size at the end of `on`.
    fn at(&self, on: NaiveDate) -> usize {
        let n = self.initial as i64
            + self
                .changes
                .iter()
                .filter(|(d, _)| *d <= on)
                .map(|(_, c)| i64::from(*c))
                .sum::<i64>();
        n.max(1) as usize
    }

    /// The smallest and largest size from `from` to `to`.
    fn range(&self, from: NaiveDate, to: NaiveDate) -> (usize, usize) {
        let mut lo = self.at(from);
        let mut hi = lo;
        for (d, _) in self.changes.iter().filter(|(d, _)| *d > from && *d <= to) {
            let n = self.at(*d);
            lo = lo.min(n);
            hi = hi.max(n);
        }
        (lo, hi)
    }
}

/// What [`Generator::life_events`] produced.
struct LifeOutcome {
    events: Vec<Event>,
    sizes: Sizes,
    split: Option<Split>,
}

/// A son who left to set up his own household (分户).
struct Split {
    household_id: i64,
    on: NaiveDate,
    son: Member,
    /// A sibling who followed him, with the date.
    sibling: Option<(NaiveDate, Member)>,
}

/// An income with every part multiplied by `f`.
fn scaled(i: &Income, f: f64) -> Income {
    let m = |x: Fen| Fen((x.0 as f64 * f) as i64);
    Income {
        year: i.year,
        wage: m(i.wage),
        business: m(i.business),
        property: m(i.property),
        transfer: m(i.transfer),
        business_cost: m(i.business_cost),
    }
}

/// The net income an event sets (分), or 0.
fn income_of(e: &Event) -> i64 {
    e.changes
        .iter()
        .find_map(|c| match c {
            Change::SetFields { patch } => patch
                .get("income")
                .and_then(|v| serde_json::from_value::<Income>(v.clone()).ok()),
            _ => None,
        })
        .map_or(0, |i| i.net().0)
}

/// A planned change in a household's life.
enum Life {
    Death(i64),
    MarryOut(i64),
    /// A wife marries in to this son.
    MarryIn(i64),
    /// This son sets up his own household.
    Split(i64),
    /// This sibling moves to the son's new household.
    FollowSplit(i64),
    Birth,
    Phone,
}

/// Removes a member who died from `present`. A head who died is succeeded by the spouse, else
/// the eldest adult child, else the eldest; every other member's relation is re-expressed
/// relative to the new head (`couples`: sons and the wives who married in).
fn death(present: &mut Vec<Member>, id: i64, couples: &[(i64, i64)]) -> Vec<Change> {
    let dead = present.iter().find(|p| p.id == id).cloned();
    present.retain(|p| p.id != id);
    let mut changes = vec![Change::RemoveMember {
        member_id: id,
        reason_code: Some("01".into()),
    }];
    if !dead.as_ref().is_some_and(Member::is_head) {
        return changes;
    }
    let heir = present
        .iter()
        .find(|p| p.relation == "02")
        .or_else(|| {
            present
                .iter()
                .filter(|p| p.relation == "03" || p.relation == "04")
                .min_by_key(|p| p.birth_date)
        })
        .or_else(|| present.iter().min_by_key(|p| p.birth_date))
        .map(|h| (h.id, h.relation.clone(), h.sex.clone()));
    let Some((heir, heir_rel, heir_sex)) = heir else {
        return changes;
    };
    let wife_of_heir = couples.iter().find(|(h, _)| *h == heir).map(|(_, w)| *w);
    for p in present.iter_mut() {
        let new = if p.id == heir {
            "01".to_string()
        } else if Some(p.id) == wife_of_heir {
            "02".to_string()
        } else {
            relative_to_heir(&heir_rel, &heir_sex, &p.relation, &p.sex).to_string()
        };
        if new != p.relation {
            let mut patch = FieldPatch::new();
            patch.insert("relation".into(), new.clone().into());
            changes.push(Change::UpdateMember {
                member_id: p.id,
                patch,
            });
            p.relation = new;
        }
    }
    changes
}

/// A member's relation to the new head, given both their relations to the head who died and
/// their sexes (`1` male, `2` female); `99` 其他 where the codes have no word for it.
fn relative_to_heir(heir: &str, heir_sex: &str, rel: &str, sex: &str) -> &'static str {
    let male = sex == "1";
    match (heir, rel) {
        // The widow(er) heads: children and grandchildren stay, the dead one's parents are
        // now parents-in-law.
        ("02", "03") => "03",
        ("02", "04") => "04",
        ("02", "05") => "05",
        ("02", "06") => "06",
        ("02", "07") => "07",
        ("02", "08") => "08",
        ("02", "09") => "09",
        ("02", "10") => "10",
        ("02", "11") if heir_sex == "2" => "15",
        ("02", "12") if heir_sex == "2" => "16",
        ("02", "11") => "13",
        ("02", "12") => "14",
        // A child heads: the surviving parent, the grandparents, the children (grandchildren
        // of the dead, taken as the heir's), siblings have no code.
        ("03" | "04", "02") => {
            if male {
                "11"
            } else {
                "12"
            }
        }
        ("03" | "04", "11") => "17",
        ("03" | "04", "12") => "18",
        ("03" | "04", "07" | "09") => "03",
        ("03" | "04", "08" | "10") => "04",
        // A parent heads: the dead one's children are grandchildren, the other parent the
        // spouse, the dead one's spouse a child-in-law.
        ("11" | "12", "03") => "07",
        ("11" | "12", "04") => "08",
        ("11" | "12", "11" | "12") => "02",
        ("11" | "12", "02") => {
            if male {
                "06"
            } else {
                "05"
            }
        }
        _ => "99",
    }
}

/// Highest education (文化程度) for an age: children by age, adults drawn by generation.
fn education(r: &mut ChaCha8Rng, age: i32, birth_year: i32) -> &'static str {
    match age {
        ..=5 => "06",
        6..=12 => "02",
        13..=15 => "03",
        _ if birth_year < 1960 => ["01", "01", "02", "02", "02", "03"][r.random_range(0..6)],
        _ if birth_year < 1980 => ["01", "02", "02", "03", "03", "03", "04"][r.random_range(0..7)],
        // Nine-year compulsory education: the young have finished 初中 at least.
        _ if birth_year >= 1995 => ["03", "03", "04", "04", "05"][r.random_range(0..5)],
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use xiuhua_rules::{Facts, Outcome, RuleSet};

    use super::*;

    const TODAY: (i32, u32, u32) = (2026, 12, 3);

    /// A generated county: each household's events in fold order, its facts.
    fn county(households: usize) -> (Vec<Vec<Event>>, HashMap<String, DemoFacts>) {
        let (_, villages) = super::super::regions(11);
        let spec = DemoSpec {
            county: "451228".into(),
            seed: 11,
            households,
            today: d(TODAY.0, TODAY.1, TODAY.2),
            batch: households,
        };
        let mut g = Generator::new(&spec, villages);
        let b = g.batch(households).unwrap();
        assert_eq!(b.households.len(), households);
        let mut by: BTreeMap<i64, Vec<Event>> = BTreeMap::new();
        for e in &b.events {
            let e = e.decode().unwrap();
            by.entry(e.household_id).or_default().push(e);
        }
        let mut out: Vec<Vec<Event>> = by.into_values().collect();
        for es in &mut out {
            event::sort_for_fold(es);
        }
        (out, b.facts.into_iter().collect())
    }

    fn set(name: &str) -> RuleSet {
        let path = format!("{}/../../rules/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        RuleSet::load(&path, &text).unwrap()
    }

    fn decide(set: &RuleSet, st: &HouseholdState, on: NaiveDate, f: &DemoFacts) -> Outcome {
        let params = set.params_for(on.year(), &BTreeMap::new());
        let inputs = set.inputs_from(&f.inputs_for(set));
        set.evaluate(&Facts::household(st, on), &params, &inputs)
            .decision
    }

    #[test]
    fn the_shipped_exit_standards_judge_exited_households_as_of_their_exit_year() {
        let (county, facts) = county(3000);
        let national = set("national-household-exit");
        let gx2016 = set("gx-household-exit-2016");
        let gx2018 = set("gx-household-exit-2018");
        let (mut judged, mut verdicts, mut met) = (0, 0, 0);
        for es in &county {
            let st = event::fold(es).unwrap().unwrap();
            let Some(year) = st.fields.exit_year.filter(|y| (2016..=2020).contains(y)) else {
                continue;
            };
            let on = d(year, 12, 31);
            let then = event::state_as_of(es, on).unwrap().unwrap();
            assert_eq!(then.fields.status, RegistryStatus::Lifted);
            let f = &facts[&st.fields.household_no];
            let gx = if year <= 2017 { &gx2016 } else { &gx2018 };
            for s in [&national, gx] {
                judged += 1;
                match decide(s, &then, on, f) {
                    Outcome::Unknown => {}
                    Outcome::Pass => {
                        verdicts += 1;
                        met += 1;
                    }
                    Outcome::Fail => verdicts += 1,
                }
            }
        }
        eprintln!("exit standards: {judged} judged, {verdicts} verdicts, {met} met");
        assert!(judged > 600, "{judged} exited households judged");
        // Every fact the standards read is recorded or given: a verdict for (nearly) all.
        assert!(
            verdicts * 100 >= judged * 98,
            "{verdicts} verdicts of {judged}"
        );
        // Exited households met the standard when they exited (most of them).
        assert!(met * 100 >= judged * 90, "{met} met of {judged}");
    }

    #[test]
    fn the_monitoring_rule_marks_the_monitored_households() {
        let (county, facts) = county(3000);
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        let set = set("national-monitoring-2026");
        let (mut monitored, mut hits, mut both) = (0, 0, 0);
        for es in &county {
            let st = event::fold(es).unwrap().unwrap();
            let is = st.fields.monitoring == MonitoringStatus::Monitored;
            let hit = decide(&set, &st, today, &facts[&st.fields.household_no]) == Outcome::Pass;
            monitored += usize::from(is);
            hits += usize::from(hit);
            both += usize::from(is && hit);
        }
        eprintln!("monitoring 2026: {monitored} monitored, {hits} hits, {both} both");
        assert!(monitored > 20, "{monitored} monitored");
        assert!(
            both * 100 >= monitored * 95,
            "{both} of {monitored} monitored are hits"
        );
        assert!(
            hits * 100 <= monitored * 115,
            "{hits} hits for {monitored} monitored"
        );
    }

    #[test]
    fn history_runs_to_today_with_every_kind_of_event_after_2018() {
        let (county, _) = county(1500);
        let mut kinds: Vec<EventKind> = county
            .iter()
            .flatten()
            .filter(|e| e.effective_date.year() > 2018)
            .map(|e| e.kind)
            .collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        assert_eq!(kinds.len(), EventKind::ALL.len(), "{kinds:?}");
        let created_after_2018 = county
            .iter()
            .filter(|es| es[0].effective_date.year() > 2018)
            .count();
        assert!(
            created_after_2018 > 10,
            "{created_after_2018} 分户 households"
        );
        let last = county
            .iter()
            .flatten()
            .map(|e| e.effective_date)
            .max()
            .unwrap();
        assert!(last.year() == TODAY.0, "last event {last}");
    }

    #[test]
    fn a_head_who_dies_is_succeeded_and_the_relations_follow_the_new_head() {
        let (county, _) = county(3000);
        let mut checked = 0;
        for es in &county {
            let head_died = es.iter().any(|e| {
                e.kind == EventKind::MemberRemoved
                    && e.changes
                        .iter()
                        .any(|c| matches!(c, Change::UpdateMember { patch, .. } if patch.get("relation").is_some_and(|r| r == "01")))
            });
            if !head_died {
                continue;
            }
            checked += 1;
            let st = event::fold(es).unwrap().unwrap();
            let heads = st.members.iter().filter(|m| m.is_head()).count();
            assert_eq!(heads, 1, "{}", st.fields.household_no);
            let head = st.members.iter().find(|m| m.is_head()).unwrap();
            let spouses: Vec<_> = st.members.iter().filter(|m| m.relation == "02").collect();
            assert!(spouses.len() <= 1, "{}", st.fields.household_no);
            for s in spouses {
                assert_ne!(s.sex, head.sex, "{} spouse", st.fields.household_no);
            }
            for m in &st.members {
                let male_only = ["03", "06", "07", "09", "11", "13", "15", "17", "19"];
                let female_only = ["04", "05", "08", "10", "12", "14", "16", "18", "20"];
                if male_only.contains(&m.relation.as_str()) {
                    assert_eq!(m.sex, "1", "{} {}", st.fields.household_no, m.relation);
                }
                if female_only.contains(&m.relation.as_str()) {
                    assert_eq!(m.sex, "2", "{} {}", st.fields.household_no, m.relation);
                }
                // Parents are older than the head, children younger.
                if ["11", "12", "13", "14", "15", "16"].contains(&m.relation.as_str()) {
                    assert!(m.birth_date < head.birth_date, "{}", st.fields.household_no);
                }
                if ["03", "04", "07", "08"].contains(&m.relation.as_str()) {
                    assert!(m.birth_date > head.birth_date, "{}", st.fields.household_no);
                }
            }
        }
        eprintln!("{checked} households whose head died");
        assert!(checked > 20, "{checked} households whose head died");
    }
}
