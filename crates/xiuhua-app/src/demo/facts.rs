//! Facts the shipped rule sets ask for that the registry does not hold (入户核实: 两不愁, TV
//! signal, rigid expenses, last year's income, sudden hardship, the 2015 scorecard's
//! belongings), generated with each household from the same model as its registry data and
//! recorded in its history as a 入户核查 event ([`DemoFacts::recorded`]), where the checklists and
//! the demo's stored rule runs read them.

use std::collections::BTreeMap;

use serde_json::Value;
use xiuhua_rules::RuleSet;

/// One household's facts outside the registry, as of the demo's today.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoFacts {
    /// 不愁吃、不愁穿.
    pub no_worry_food_clothing: bool,
    /// Can watch television.
    pub has_tv_signal: bool,
    /// Rigid expenses of the last 12 months (元).
    pub rigid_expense: f64,
    /// Last year's net household income (元), when a year before is recorded.
    pub income_last_year: Option<f64>,
    /// 突发严重困难 (a type-3 监测对象 whose risk is not eliminated).
    pub sudden_hardship: bool,
    /// Owns a motorcycle.
    pub owns_motorcycle: bool,
    /// Owns a colour TV.
    pub owns_color_tv: bool,
    /// Owns a washing machine.
    pub owns_washing_machine: bool,
    /// Owns a fridge.
    pub owns_fridge: bool,
    /// Owns a car.
    pub owns_car: bool,
    /// Owns a house in town.
    pub owns_town_house: bool,
    /// Head of livestock.
    pub livestock_head: i64,
}

/// The names of the facts [`DemoFacts`] records (every household input of the shipped sets).
pub const RECORDED: [&str; 23] = [
    "no_worry_food_clothing",
    "has_tv_signal",
    "rigid_expense",
    "income_last_year",
    "sudden_hardship",
    "owns_motorcycle",
    "owns_color_tv",
    "owns_washing_machine",
    "owns_fridge",
    "owns_car",
    "owns_town_house",
    "livestock_head",
    "owns_farm_machinery",
    "has_state_salaried_member",
    "has_registered_business",
    "is_village_cadre_family",
    "owns_large_machinery",
    "owns_shop",
    "self_funded_study_abroad",
    "has_commercial_pension",
    "is_split_or_nominal",
    "employs_long_term_labour",
    "is_registered_not_resident",
];

impl DemoFacts {
    /// The value of one fact by input name (none for a name these facts do not know, or last
    /// year's income of a household with no year before).
    pub fn value_of(&self, name: &str) -> Option<Value> {
        Some(match name {
            "no_worry_food_clothing" => self.no_worry_food_clothing.into(),
            "has_tv_signal" => self.has_tv_signal.into(),
            "rigid_expense" => self.rigid_expense.into(),
            "income_last_year" => self.income_last_year?.into(),
            "sudden_hardship" => self.sudden_hardship.into(),
            "owns_motorcycle" => self.owns_motorcycle.into(),
            "owns_color_tv" => self.owns_color_tv.into(),
            "owns_washing_machine" => self.owns_washing_machine.into(),
            "owns_fridge" => self.owns_fridge.into(),
            "owns_car" => self.owns_car.into(),
            "owns_town_house" => self.owns_town_house.into(),
            "livestock_head" => self.livestock_head.into(),
            // The 2015 scorecard's other exclusions (state salary, business, cadre family,
            // machinery, shop, study abroad, commercial pension, nominal split, long-term
            // hired labour, registered but absent) apply to none of the demo's households.
            "owns_farm_machinery"
            | "has_state_salaried_member"
            | "has_registered_business"
            | "is_village_cadre_family"
            | "owns_large_machinery"
            | "owns_shop"
            | "self_funded_study_abroad"
            | "has_commercial_pension"
            | "is_split_or_nominal"
            | "employs_long_term_labour"
            | "is_registered_not_resident" => false.into(),
            _ => return None,
        })
    }

    /// The facts as a 入户核查 records them (input name → value), for the household's survey
    /// event.
    pub fn recorded(&self) -> BTreeMap<String, Value> {
        RECORDED
            .iter()
            .filter_map(|n| Some((n.to_string(), self.value_of(n)?)))
            .collect()
    }

    /// The values of the inputs `set` declares that these facts know (the others stay
    /// unknown, as they would in a county that never recorded them).
    pub fn inputs_for(&self, set: &RuleSet) -> BTreeMap<String, Value> {
        set.input_types
            .iter()
            .filter_map(|(name, _)| Some((name.clone(), self.value_of(name)?)))
            .collect()
    }
}

/// What the village and county exit sets know of an area from the registry and the
/// households' facts, as of the run's date.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AreaBasis {
    /// Village or county code.
    pub code: String,
    /// People registered in the area (the exit sets' 农业人口).
    pub people: i64,
    /// Poor people among them (for the 综合贫困发生率).
    pub poor_people: i64,
    /// Share of its households with TV signal (0–100).
    pub tv_rate: f64,
    /// Whether the area met the exit standards by the run's date: a village that never was a
    /// 贫困村, or one whose exit year has come; a county once its villages have exited.
    pub met: bool,
}

/// The survey figures of an area (村 or 县) that the village and county exit sets read and the
/// registry does not hold: coverage rates, roads, services, the collective's income, the
/// assessment's rates. Drawn from the area's code (the same figures every run), high where the
/// area had met the standards (a few reference items short, as in real 验收), short on one or
/// more required items for most areas that had not; the population and TV coverage come from
/// the registry and the households' facts, so the 贫困发生率 is the registry's own.
pub fn area_inputs(set: &RuleSet, b: &AreaBasis) -> BTreeMap<String, Value> {
    use rand::{Rng, SeedableRng};
    let seed = b.code.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, c| {
        (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ set.def.id.len() as u64);
    // A met area: every rate 95–100 %; an unmet one falls short on about half its items.
    let rate = |rng: &mut rand_chacha::ChaCha8Rng| -> f64 {
        let r: f64 = if b.met || rng.random_bool(0.5) {
            rng.random_range(95.5..100.0)
        } else {
            rng.random_range(80.0..94.5)
        };
        (r * 10.0).round() / 10.0
    };
    let mut out = BTreeMap::new();
    for (name, _) in &set.input_types {
        let v: Value = match name.as_str() {
            "rural_population" => b.people.max(1).into(),
            "tv_rate" => ((b.tv_rate * 10.0).round() / 10.0).into(),
            "housing_secure_rate"
            | "medical_insurance_rate"
            | "water_rate"
            | "safe_water_rate"
            | "power_rate" => rate(&mut rng).into(),
            "industries" => rng.random_range(if b.met { 1..=4 } else { 0..=2 }).into(),
            "poor_households_without_industry" => {
                if b.met || rng.random_bool(0.4) {
                    0.into()
                } else {
                    rng.random_range(1..=6).into()
                }
            }
            "dropout_children" => {
                if b.met || rng.random_bool(0.7) {
                    0.into()
                } else {
                    rng.random_range(1..=3).into()
                }
            }
            "has_hardened_road" => (b.met || rng.random_bool(0.6)).into(),
            "road_base_width_m" => {
                let w: f64 = if b.met {
                    rng.random_range(4.5..6.5)
                } else {
                    rng.random_range(3.5..5.5)
                };
                ((w * 10.0).round() / 10.0).into()
            }
            "road_surface_width_m" => {
                let w: f64 = if b.met {
                    rng.random_range(3.5..5.0)
                } else {
                    rng.random_range(3.0..4.5)
                };
                ((w * 10.0).round() / 10.0).into()
            }
            // Reference items of 2018 (office, board, clinic, committee): short in a few
            // villages that had met the required ones.
            "has_village_office" | "has_bulletin_board" | "has_clinic" => {
                rng.random_bool(if b.met { 0.97 } else { 0.8 }).into()
            }
            "good_committee" => rng.random_bool(if b.met { 0.96 } else { 0.85 }).into(),
            "collective_income" => {
                let yuan: f64 = if b.met && rng.random_bool(0.93) {
                    rng.random_range(30_000.0..90_000.0)
                } else {
                    rng.random_range(5_000.0..30_000.0)
                };
                ((yuan / 100.0).round() * 100.0).into()
            }
            "has_leading_industries" | "public_services_ok" => b.met.into(),
            "hardened_road_village_rate" => {
                if b.met {
                    100.0.into()
                } else {
                    rate(&mut rng).into()
                }
            }
            "dibao_eligible_poor_not_covered" => {
                if b.met {
                    0.into()
                } else {
                    rng.random_range(0..=20).into()
                }
            }
            "wrong_exit_rate" | "missed_rate" => {
                let r: f64 = if b.met {
                    rng.random_range(0.2..1.5)
                } else {
                    rng.random_range(0.5..3.5)
                };
                ((r * 100.0).round() / 100.0).into()
            }
            "approval_rate" => {
                let r: f64 = if b.met {
                    rng.random_range(92.0..98.5)
                } else {
                    rng.random_range(85.0..95.0)
                };
                ((r * 10.0).round() / 10.0).into()
            }
            "comprehensive_incidence" => {
                let base = b.poor_people as f64 / b.people.max(1) as f64 * 100.0;
                let extra: f64 = rng.random_range(0.1..0.8);
                (((base + extra) * 100.0).round() / 100.0).into()
            }
            _ => continue,
        };
        out.insert(name.clone(), v);
    }
    out
}
