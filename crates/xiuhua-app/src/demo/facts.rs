//! Facts the shipped rule sets ask for that the registry does not hold (入户核实: 两不愁, TV
//! signal, rigid expenses, last year's income, sudden hardship, the 2015 scorecard's
//! belongings), generated with each household from the same model as its registry data, and
//! given to the demo's stored rule runs as their inputs.

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

impl DemoFacts {
    /// The values of the inputs `set` declares that these facts know (the others stay
    /// unknown, as they would in a county that never recorded them).
    pub fn inputs_for(&self, set: &RuleSet) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for (name, _) in &set.input_types {
            let v: Value = match name.as_str() {
                "no_worry_food_clothing" => self.no_worry_food_clothing.into(),
                "has_tv_signal" => self.has_tv_signal.into(),
                "rigid_expense" => self.rigid_expense.into(),
                "income_last_year" => match self.income_last_year {
                    Some(v) => v.into(),
                    None => continue,
                },
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
                _ => continue,
            };
            out.insert(name.clone(), v);
        }
        out
    }
}
