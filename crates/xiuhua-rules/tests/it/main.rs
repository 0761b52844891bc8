//! Integration tests of the rules crate: the shipped rule sets load, bad files are refused with
//! file/item/position, decisions combine items as documented, and every shipped expression gives
//! the same answer in xiuhua's evaluator as in the `cel` crate's own interpreter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xiuhua_domain::{Fen, HouseholdState, Member, MonitoringStatus, RegistryStatus};
use xiuhua_rules::schema::{HOUSEHOLD_VARS, MEMBER_VARS};
use xiuhua_rules::{Facts, Kind, Level, Outcome, RuleSet, Val, shipped};

const SMALL: &str = r#"
id = "test-exit"
version = 2
name = "测试脱贫标准"
level = "household"
purpose = "exit"
region = "45"
years = [2016, 2020]

[params.line]
label = "扶贫标准"
unit = "元"
value = 4000
by_year = { 2016 = 3146 }

[inputs.owns_car]
type = "bool"
label = "有小汽车"

[[items]]
code = "income"
label = "人均纯收入超过扶贫标准"
kind = "required"
expr = "income_per_capita > line"
explain = "人均纯收入 {income_per_capita} 元，标准 {line} 元"

[[items]]
code = "housing"
label = "住房安全"
kind = "required"
expr = "housing_safety in ['A', 'B']"
explain = "住房安全等级 {housing_safety}"

[[items]]
code = "toilet"
label = "卫生厕所"
kind = "reference"
expr = "has_toilet"

[[items]]
code = "car"
label = "有小汽车"
kind = "veto"
expr = "owns_car"
"#;

fn household(income_yuan: i64, people: usize, safety: &str) -> HouseholdState {
    let mut st = HouseholdState::default();
    st.fields.village_code = "451228101001".into();
    st.fields.housing_safety = Some(safety.into());
    st.fields.income.year = Some(2020);
    st.fields.income.wage = Fen(income_yuan * 100);
    for i in 0..people {
        st.members.push(Member {
            relation: if i == 0 { "01" } else { "03" }.into(),
            birth_date: NaiveDate::from_ymd_opt(1980 + i as i32, 1, 1),
            ..Member::default()
        });
    }
    st
}

fn day(y: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, 12, 31).unwrap()
}

#[test]
fn decisions_combine_items_as_documented() {
    let set = RuleSet::load("test.toml", SMALL).expect("loads");
    let h = household(9000, 2, "B");
    let facts = Facts::household(&h, day(2020));
    let params = set.params_for(2020, &BTreeMap::new());
    let no_car = set.inputs_from(&BTreeMap::from([("owns_car".into(), false.into())]));
    let r = set.evaluate(&facts, &params, &no_car);
    assert_eq!(r.decision, Outcome::Pass);
    assert_eq!(
        r.items[2].outcome,
        Outcome::Unknown,
        "reference item with no data"
    );
    assert_eq!(
        set.explain(0, &facts, &params, &no_car, None),
        "人均纯收入 4,500 元，标准 4,000 元"
    );
    // Unknown input: the veto cannot be ruled out.
    let r = set.evaluate(&facts, &params, &set.inputs_from(&BTreeMap::new()));
    assert_eq!(r.decision, Outcome::Unknown);
    // Veto applies.
    let car = set.inputs_from(&BTreeMap::from([("owns_car".into(), true.into())]));
    assert_eq!(set.evaluate(&facts, &params, &car).decision, Outcome::Fail);
    // A failed required item.
    let poor = household(5000, 2, "C");
    let facts = Facts::household(&poor, day(2020));
    let r = set.evaluate(&facts, &params, &no_car);
    assert_eq!(r.decision, Outcome::Fail);
    assert_eq!(r.items[0].outcome, Outcome::Fail);
    assert_eq!(r.items[1].outcome, Outcome::Fail);
    assert_eq!(
        set.explain(
            1,
            &facts,
            &params,
            &no_car,
            Some(&xiuhua_domain::CodeCatalog::defaults())
        ),
        "住房安全等级 危房C级"
    );
    // The parameter by year: 3,500 a head is above the 2016 line (3,146), below 2020's (4,000).
    let mid = household(7000, 2, "B");
    let p2016 = set.params_for(2016, &BTreeMap::new());
    let facts = Facts::household(&mid, day(2016));
    assert_eq!(
        set.evaluate(&facts, &p2016, &no_car).items[0].outcome,
        Outcome::Pass
    );
    let p2020 = set.params_for(2020, &BTreeMap::new());
    assert_eq!(
        set.evaluate(&facts, &p2020, &no_car).items[0].outcome,
        Outcome::Fail
    );
    // What-if override.
    let over = BTreeMap::from([("line".to_string(), xiuhua_rules::ParamValue::Int(3000))]);
    set.check_overrides(&over).unwrap();
    assert_eq!(
        set.evaluate(&facts, &set.params_for(2020, &over), &no_car)
            .items[0]
            .outcome,
        Outcome::Pass
    );
    assert!(
        set.check_overrides(&BTreeMap::from([(
            "nope".to_string(),
            xiuhua_rules::ParamValue::Int(1)
        )]))
        .is_err()
    );
    // Scope.
    assert!(set.applies("451228101001", 2018));
    assert!(!set.applies("420625101001", 2018));
    assert!(!set.applies("451228101001", 2021));
}

#[test]
fn scorecards_total_points_against_the_cutoff() {
    let text = r#"
id = "test-score"
version = 1
name = "评分"
level = "household"
purpose = "identification"
years = [2015]

[[items]]
code = "housing"
label = "住房"
kind = "score"
expr = "housing_safety == 'D' ? 0 : (housing_safety == 'C' ? 10 : 30)"

[[items]]
code = "income"
label = "收入"
kind = "score"
expr = "income_per_capita < 3000.0 ? 0.0 : 40.0"

[scoring]
cutoff = 60
holds_when = "below"
"#;
    let set = RuleSet::load("score.toml", text).unwrap();
    let p = set.params_for(2015, &BTreeMap::new());
    let h = household(2000, 1, "C");
    let r = set.evaluate(&Facts::household(&h, day(2015)), &p, &[]);
    assert_eq!(r.score, Some(10.0));
    assert_eq!(r.decision, Outcome::Pass, "10 < 60: identified");
    let h = household(9000, 1, "A");
    let r = set.evaluate(&Facts::household(&h, day(2015)), &p, &[]);
    assert_eq!(r.score, Some(70.0));
    assert_eq!(r.decision, Outcome::Fail);
}

#[test]
fn a_quota_ranks_the_eligible_households_of_a_batch() {
    let text = r#"
id = "test-quota"
version = 1
name = "规模控制"
level = "household"
purpose = "identification"
years = [2015]

[inputs.owns_car]
type = "bool"
label = "有车"

[[items]]
code = "car"
label = "有车"
kind = "veto"
expr = "owns_car"

[[items]]
code = "income"
label = "收入"
kind = "score"
expr = "income_per_capita / 100.0"

[scoring]
quota = 2
holds_when = "below"
"#;
    let set = RuleSet::load("quota.toml", text).unwrap();
    assert_eq!(set.quota(), Some(2));
    let p = set.params_for(2015, &BTreeMap::new());
    let no_car = set.inputs_from(&BTreeMap::from([("owns_car".into(), false.into())]));
    let car = set.inputs_from(&BTreeMap::from([("owns_car".into(), true.into())]));
    let mut outs: Vec<_> = [
        (3000, &no_car),
        (1000, &car),
        (2000, &no_car),
        (4000, &no_car),
        (2500, &no_car),
    ]
    .into_iter()
    .map(|(income, inputs)| {
        let h = household(income, 1, "A");
        set.evaluate(&Facts::household(&h, day(2015)), &p, inputs)
    })
    .collect();
    assert!(
        outs.iter().all(|o| o.decision != Outcome::Pass),
        "undecided before ranking"
    );
    assert!(set.apply_quota(&mut outs));
    let holds: Vec<Outcome> = outs.iter().map(|o| o.decision).collect();
    // The poorest (1,000) is vetoed; the two lowest eligible scores (2,000 and 2,500) hold.
    assert_eq!(
        holds,
        vec![
            Outcome::Fail,
            Outcome::Fail,
            Outcome::Pass,
            Outcome::Fail,
            Outcome::Pass
        ]
    );
    let e = RuleSet::load("q.toml", &text.replace("quota = 2\n", "")).unwrap_err();
    assert!(e.message_en().contains("cutoff or a quota"), "{e}");
}

fn load_err(text: &str) -> xiuhua_rules::LoadError {
    RuleSet::load("bad.toml", text).expect_err("must be refused")
}

#[test]
fn bad_files_are_refused_naming_file_item_and_position() {
    // A type error in the second item: file, item, line and column of the operator.
    let bad = SMALL.replace("housing_safety in ['A', 'B']", "housing_safety > 3");
    let e = load_err(&bad);
    assert_eq!(e.file, "bad.toml");
    assert_eq!(e.item.as_deref(), Some("housing"));
    let line = bad
        .lines()
        .position(|l| l.contains("housing_safety > 3"))
        .unwrap()
        + 1;
    let col = bad.lines().nth(line - 1).unwrap().find('>').unwrap() + 1;
    assert_eq!(e.position, Some((line, col)), "{e}");
    assert!(e.to_zh().contains("检查项 housing"), "{}", e.to_zh());
    assert!(e.to_zh().contains("类型错误"), "{}", e.to_zh());
    // Unknown variable.
    let e = load_err(&SMALL.replace("income_per_capita > line", "income_per_head > line"));
    assert_eq!(e.item.as_deref(), Some("income"));
    assert!(e.message_zh().contains("income_per_head"), "{e}");
    // Syntax error.
    let e = load_err(&SMALL.replace("income_per_capita > line", "income_per_capita > > line"));
    assert!(e.message_zh().contains("语法错误"), "{e}");
    // Unknown placeholder in an explanation.
    let e = load_err(&SMALL.replace("标准 {line} 元", "标准 {lien} 元"));
    assert!(e.message_zh().contains("{lien}"), "{e}");
    // A required item that is not bool.
    let e = load_err(&SMALL.replace("expr = \"has_toilet\"", "expr = \"people\""));
    assert_eq!(e.item.as_deref(), Some("toilet"));
    // TOML errors with a position, unknown keys, bad kinds.
    let e = load_err(&SMALL.replace("version = 2", "version = "));
    assert!(e.position.is_some(), "{e}");
    let e = load_err(&SMALL.replace("kind = \"veto\"", "kind = \"vetoo\""));
    assert!(e.message_zh().contains("文件格式错误"), "{e}");
    let e = load_err(&SMALL.replace("unit = \"元\"", "unit = \"元\"\nunits = 1"));
    assert!(e.message_en().contains("units"), "{e}");
    // Duplicate codes, score items without scoring.
    let e = load_err(&SMALL.replace("code = \"toilet\"", "code = \"income\""));
    assert!(e.message_zh().contains("重复"), "{e}");
    let e = load_err(&SMALL.replace(
        "kind = \"reference\"\nexpr = \"has_toilet\"",
        "kind = \"score\"\nexpr = \"people\"",
    ));
    assert!(e.message_zh().contains("scoring"), "{e}");
}

#[test]
fn shipped_rule_sets_load_and_cover_the_issue() {
    let sets = shipped().unwrap_or_else(|e| panic!("{}", e.to_zh()));
    let ids: Vec<&str> = sets.iter().map(|s| s.def.id.as_str()).collect();
    for want in [
        "gx-household-exit-2016",
        "gx-household-exit-2018",
        "national-household-exit",
        "hb-household-exit",
        "gx-village-exit-2016",
        "gx-village-exit-2018",
        "gx-county-exit",
        "national-county-exit",
        "gx-identification-2015",
        "national-monitoring-2021",
        "quality",
    ] {
        assert!(
            ids.contains(&want),
            "missing shipped rule set {want}: {ids:?}"
        );
    }
    let quality = sets.iter().find(|s| s.def.id == "quality").unwrap();
    assert!(
        quality.items.len() >= 30,
        "{} quality checks",
        quality.items.len()
    );
    let household_exprs: usize = sets
        .iter()
        .filter(|s| {
            s.def.level == Level::Household
                && s.def.purpose != xiuhua_rules::Purpose::Identification
        })
        .map(|s| s.items.len())
        .sum();
    assert!(
        household_exprs >= 40,
        "{household_exprs} household expressions"
    );
    let mut seen = std::collections::HashSet::new();
    for s in &sets {
        assert!(seen.insert(s.def.id.clone()), "duplicate id {}", s.def.id);
    }
}

// ---- differential test against the cel crate's interpreter ---------------------------------

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

/// A household with every field recorded (so that no value is missing).
fn random_household(rng: &mut StdRng) -> HouseholdState {
    let mut st = HouseholdState::default();
    let f = &mut st.fields;
    f.household_no = format!("45122810100{}", rng.random_range(1000..9999));
    f.village_code = "451228101001".into();
    f.status = [
        RegistryStatus::General,
        RegistryStatus::Poor,
        RegistryStatus::Lifted,
    ][rng.random_range(0..3)];
    f.monitoring = [
        MonitoringStatus::None,
        MonitoringStatus::Monitored,
        MonitoringStatus::Eliminated,
    ][rng.random_range(0..3)];
    f.monitor_type = Some(pick(rng, &["1", "2", "3"]).into());
    f.attribute = Some(pick(rng, &["1", "2", "3", "4", "5"]).into());
    f.identification_standard = Some(pick(rng, &["1", "2", "3"]).into());
    f.main_cause = Some(pick(rng, &["01", "02", "03", "05", "08"]).into());
    f.other_causes = (0..rng.random_range(0..3))
        .map(|_| pick(rng, &["01", "02", "04", "06"]).to_string())
        .collect();
    f.identified_year = Some(rng.random_range(2013..2021));
    f.planned_exit_year = Some(rng.random_range(2014..2022));
    f.exit_year = Some(rng.random_range(2012..2022));
    f.exit_batch = Some(pick(rng, &["1", "2"]).into());
    f.is_military_family = rng.random_bool(0.1);
    f.is_relocated = rng.random_bool(0.2);
    f.housing_area_m2 = Some(rng.random_range(0..200) as f64);
    f.housing_safety = Some(pick(rng, &["A", "B", "C", "D"]).into());
    f.water_safe = Some(rng.random_bool(0.8));
    f.water_difficult = Some(rng.random_bool(0.2));
    f.has_living_power = Some(rng.random_bool(0.9));
    f.has_production_power = Some(rng.random_bool(0.7));
    f.road_type = Some(pick(rng, &["1", "2", "3", "4"]).into());
    f.fuel_type = Some(pick(rng, &["1", "2", "3"]).into());
    f.has_toilet = Some(rng.random_bool(0.6));
    f.farmland_mu = Some(rng.random_range(0..40) as f64 / 4.0);
    f.forest_mu = Some(rng.random_range(0..80) as f64 / 4.0);
    f.income.year = Some(rng.random_range(2015..2025));
    f.income.wage = Fen(rng.random_range(0..3_000_000));
    f.income.business = Fen(rng.random_range(0..2_000_000));
    f.income.property = Fen(rng.random_range(0..100_000));
    f.income.transfer = Fen(rng.random_range(0..800_000));
    f.income.business_cost = Fen(rng.random_range(0..500_000));
    let n = rng.random_range(1..7);
    for i in 0..n {
        let year = rng.random_range(1915..2024);
        st.members.push(Member {
            id: i,
            name: format!("成员{i}"),
            id_number: format!(
                "45122819800101{:03}{}",
                rng.random_range(0..999),
                pick(rng, &["1", "X", "5"])
            ),
            sex: pick(rng, &["1", "2"]).into(),
            birth_date: NaiveDate::from_ymd_opt(
                year,
                rng.random_range(1..13),
                rng.random_range(1..29),
            ),
            relation: if i == 0 {
                "01".into()
            } else {
                pick(rng, &["01", "02", "03", "04", "11", "99"]).into()
            },
            ethnicity: Some(pick(rng, &["01", "08"]).into()),
            political: Some(pick(rng, &["01", "13"]).into()),
            marital: Some(pick(rng, &["1", "2", "3", "4"]).into()),
            education: Some(pick(rng, &["01", "02", "03", "04", "05", "06"]).into()),
            schooling: Some(pick(rng, &["01", "02", "03", "05", "08", "11", "16"]).into()),
            health: (0..rng.random_range(1..3))
                .map(|_| pick(rng, &["01", "02", "03", "04"]).to_string())
                .collect(),
            disability_category: Some(pick(rng, &["1", "2", "3"]).into()),
            disability_grade: Some(pick(rng, &["1", "2", "3", "4"]).into()),
            labour: Some(pick(rng, &["01", "02", "03", "04", "05"]).into()),
            work_status: Some(pick(rng, &["01", "02", "03", "04", "05"]).into()),
            work_months: Some(rng.random_range(0..14)),
            has_medical_insurance: Some(rng.random_bool(0.9)),
            has_pension_insurance: Some(rng.random_bool(0.7)),
            is_dibao: Some(rng.random_bool(0.2)),
            is_tekun: Some(rng.random_bool(0.05)),
            phone: None,
            extra: Default::default(),
        });
    }
    st
}

fn to_cel(v: &Val<'_>) -> Option<cel::Value> {
    Some(match v {
        Val::Unknown => return None,
        Val::Bool(b) => cel::Value::Bool(*b),
        Val::Int(i) => cel::Value::Int(*i),
        Val::Double(d) => cel::Value::Float(*d),
        Val::Str(s) => cel::Value::String(Arc::new(s.to_string())),
        Val::List(l) => {
            cel::Value::List(Arc::new(l.iter().map(to_cel).collect::<Option<Vec<_>>>()?))
        }
        Val::StrSlice(l) => cel::Value::List(Arc::new(
            l.iter()
                .map(|s| cel::Value::String(Arc::new(s.clone())))
                .collect(),
        )),
        Val::Members(_) | Val::Member(_) => return None,
    })
}

fn from_cel(v: &cel::Value) -> Option<Val<'static>> {
    Some(match v {
        cel::Value::Bool(b) => Val::Bool(*b),
        cel::Value::Int(i) => Val::Int(*i),
        cel::Value::UInt(u) => Val::Int(i64::try_from(*u).ok()?),
        cel::Value::Float(d) => Val::Double(*d),
        cel::Value::String(s) => Val::Str(s.to_string().into()),
        _ => return None,
    })
}

#[test]
fn shipped_expressions_agree_with_the_cel_interpreter() {
    let sets = shipped().unwrap_or_else(|e| panic!("{}", e.to_zh()));
    let env = Arc::new(cel::Env::stdlib());
    let mut rng = StdRng::seed_from_u64(20261124);
    let mut compared = 0usize;
    let mut exprs = 0usize;
    for set in sets.iter().filter(|s| s.def.level == Level::Household) {
        let programs: Vec<cel::Program> = set
            .items
            .iter()
            .map(|it| {
                env.compile(&it.def.expr)
                    .unwrap_or_else(|e| panic!("{} {}: cel rejects: {e}", set.def.id, it.def.code))
            })
            .collect();
        exprs += programs.len();
        for _ in 0..300 {
            let st = random_household(&mut rng);
            let first = set.def.years[0];
            let last = set.def.years.get(1).copied().unwrap_or(first + 3);
            let year = rng.random_range(first..=last);
            let facts = Facts::household(&st, day(year));
            let params = set.params_for(year, &BTreeMap::new());
            // Random values for every declared input.
            let inputs: Vec<Val<'static>> = set
                .input_types
                .iter()
                .map(|(_, ty)| match ty {
                    xiuhua_rules::Ty::Bool => Val::Bool(rng.random_bool(0.5)),
                    xiuhua_rules::Ty::Int => Val::Int(rng.random_range(0..20_000)),
                    xiuhua_rules::Ty::Double => {
                        Val::Double(rng.random_range(0..2_000_000) as f64 / 100.0)
                    }
                    _ => Val::Str(pick(&mut rng, &["1", "2", "A"]).to_string().into()),
                })
                .collect();
            let mut cx = cel::Context::with_env(Arc::clone(&env));
            for (slot, def) in HOUSEHOLD_VARS.iter().enumerate() {
                if def.name == "members" {
                    let members: Vec<cel::Value> = facts
                        .members
                        .iter()
                        .map(|m| {
                            let map: HashMap<String, cel::Value> = MEMBER_VARS
                                .iter()
                                .zip(&m.slots)
                                .filter_map(|(d, v)| Some((d.name.to_string(), to_cel(v)?)))
                                .collect();
                            cel::Value::from(map)
                        })
                        .collect();
                    cx.add_variable_from_value("members", members);
                } else if let Some(v) = to_cel(&facts.slots[slot]) {
                    cx.add_variable_from_value(def.name, v);
                }
            }
            let mut complete = set.def.level == Level::Household;
            for ((name, _), v) in set.param_types.iter().zip(&params.0) {
                match to_cel(v) {
                    Some(c) => cx.add_variable_from_value(name.as_str(), c),
                    None => complete = false,
                }
            }
            for ((name, _), v) in set.input_types.iter().zip(&inputs) {
                cx.add_variable_from_value(name.as_str(), to_cel(v).unwrap());
            }
            if !complete {
                continue;
            }
            let ours = set.evaluate(&facts, &params, &inputs);
            for (i, (it, prog)) in set.items.iter().zip(&programs).enumerate() {
                let theirs = prog.execute(&cx);
                let o = ours.items[i];
                match theirs.as_ref().ok().and_then(from_cel) {
                    Some(Val::Bool(b)) => assert_eq!(
                        o.outcome,
                        if b { Outcome::Pass } else { Outcome::Fail },
                        "{} {} `{}`: cel says {b}, xiuhua {:?} on {st:#?}",
                        set.def.id,
                        it.def.code,
                        it.def.expr,
                        o
                    ),
                    Some(v) if it.def.kind == Kind::Score => assert_eq!(
                        o.points,
                        v.as_f64(),
                        "{} {}: cel {v:?}, xiuhua {o:?}",
                        set.def.id,
                        it.def.code
                    ),
                    Some(v) => panic!("{} {}: unexpected cel value {v:?}", set.def.id, it.def.code),
                    // cel errors (division by zero, no overload): xiuhua must say unknown.
                    None => assert_eq!(
                        o.outcome,
                        Outcome::Unknown,
                        "{} {} `{}`: cel error {theirs:?}, xiuhua {o:?}",
                        set.def.id,
                        it.def.code,
                        it.def.expr
                    ),
                }
                compared += 1;
            }
        }
    }
    assert!(exprs >= 40, "only {exprs} household expressions compared");
    assert!(compared > 10_000, "only {compared} comparisons");
}
