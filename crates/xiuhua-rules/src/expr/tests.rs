//! Tests of the expression compiler and evaluator: answers, unknowns, refusals and limits.

use super::*;
use crate::schema::find_var;
use crate::schema::{Facts, HOUSEHOLD_VARS};
use crate::value::Val;
use chrono::NaiveDate;
use xiuhua_domain::{HouseholdState, Member};

type Names = Vec<(String, Ty)>;

fn scope() -> (Names, Names) {
    (
        vec![("line".to_string(), Ty::Int)],
        vec![("owns_car".to_string(), Ty::Bool)],
    )
}

fn run(src: &str, st: &HouseholdState) -> Val<'static> {
    let (params, inputs) = scope();
    let s = Scope {
        level: Level::Household,
        params: &params,
        inputs: &inputs,
    };
    let c = compile(src, &s).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    let facts = Facts::household(st, NaiveDate::from_ymd_opt(2020, 12, 31).unwrap());
    let pv = [Val::Int(4000)];
    let iv = [Val::Unknown];
    let mut cx = Cx {
        facts: &facts,
        params: &pv,
        inputs: &iv,
        locals: Vec::new(),
    };
    c.node.eval(&mut cx).to_static()
}

fn err(src: &str) -> ExprError {
    let (params, inputs) = scope();
    let s = Scope {
        level: Level::Household,
        params: &params,
        inputs: &inputs,
    };
    compile(src, &s).expect_err(src)
}

fn household() -> HouseholdState {
    let mut st = HouseholdState::default();
    st.fields.village_code = "451228101001".into();
    st.fields.income.year = Some(2020);
    st.fields.income.wage = xiuhua_domain::Fen(1_200_000);
    st.fields.housing_safety = Some("C".into());
    for (rel, year, school) in [("01", 1970, "01"), ("02", 1972, "01"), ("03", 2010, "01")] {
        st.members.push(Member {
            relation: rel.into(),
            birth_date: NaiveDate::from_ymd_opt(year, 1, 1),
            schooling: Some(school.into()),
            health: vec!["01".into()],
            ..Member::default()
        });
    }
    st
}

#[test]
fn evaluates_household_expressions() {
    let h = household();
    assert_eq!(run("income_per_capita > line", &h), Val::Bool(false));
    assert_eq!(run("income_per_capita", &h), Val::Double(4000.0));
    assert_eq!(run("housing_safety in ['C', 'D']", &h), Val::Bool(true));
    assert_eq!(
        run("size(members.filter(m, m.is_head)) == 1", &h),
        Val::Bool(true)
    );
    assert_eq!(
        run(
            "members.exists(m, m.age >= 6 && m.age <= 15 && m.schooling == '01')",
            &h
        ),
        Val::Bool(true)
    );
    assert_eq!(run("members.all(m, '01' in m.health)", &h), Val::Bool(true));
    assert_eq!(
        run("members.exists_one(m, m.relation == '02')", &h),
        Val::Bool(true)
    );
    assert_eq!(run("people * 2 + 1", &h), Val::Int(7));
    assert_eq!(run("double(people) / 2.0", &h), Val::Double(1.5));
    assert_eq!(
        run("people > 2 ? 'big' : 'small'", &h),
        Val::Str("big".into())
    );
    assert_eq!(run("members[0].relation", &h), Val::Str("01".into()));
    assert_eq!(run("has(members[0].education)", &h), Val::Bool(false));
    assert_eq!(run("household_no.startsWith('45')", &h), Val::Unknown);
    assert_eq!(run("size('户主')", &h), Val::Int(2));
}

#[test]
fn missing_data_is_unknown_not_false() {
    let h = household();
    assert_eq!(run("exit_year >= identified_year", &h), Val::Unknown);
    assert_eq!(run("owns_car", &h), Val::Unknown);
    assert_eq!(run("!owns_car", &h), Val::Unknown);
    assert_eq!(run("owns_car && false", &h), Val::Bool(false));
    assert_eq!(run("owns_car || true", &h), Val::Bool(true));
    assert_eq!(run("owns_car || false", &h), Val::Unknown);
    assert_eq!(run("members.all(m, m.education == '02')", &h), Val::Unknown);
    assert_eq!(
        run(
            "members.exists(m, m.relation == '01' || m.education == '02')",
            &h
        ),
        Val::Bool(true)
    );
    assert_eq!(run("people / 0", &h), Val::Unknown);
    assert_eq!(run("1.0 / 0.0 > 1.0", &h), Val::Unknown);
    assert_eq!(run("9223372036854775807 + 1 > 0", &h), Val::Unknown);
    let empty = HouseholdState::default();
    assert_eq!(run("income_per_capita > line", &empty), Val::Unknown);
    assert_eq!(run("members.all(m, m.age > 200)", &empty), Val::Bool(true));
}

#[test]
fn refuses_bad_expressions_at_compile_time() {
    let e = err("income_per_capita > ");
    assert!(e.message_zh.starts_with("语法错误"), "{e:?}");
    let e = err("incme_per_capita > line");
    assert!(
        e.message_zh.contains("未知的变量 incme_per_capita"),
        "{e:?}"
    );
    assert_eq!((e.line, e.column), (1, 1));
    let e = err("people > 1 && housing_safety > 3");
    assert!(e.message_zh.contains("类型错误"), "{e:?}");
    assert_eq!(e.column, 30, "the operator: {e:?}");
    let e = err("people + 0.5 > 1.0");
    assert!(e.message_zh.contains("double(x)"), "{e:?}");
    let e = err("members.exists(m, m.agee > 3)");
    assert!(e.message_zh.contains("成员没有字段 agee"), "{e:?}");
    let e = err("age > 3");
    assert!(e.message_zh.contains("成员字段"), "{e:?}");
    let e = err("members.exists(m, m.age)");
    assert!(e.message_zh.contains("bool"), "{e:?}");
    let e = err("foo(people)");
    assert!(e.message_zh.contains("未知的函数"), "{e:?}");
    let e = err("exit_year == null");
    assert!(e.message_zh.contains("null"), "{e:?}");
}

#[test]
fn long_operator_chains_are_refused_not_a_stack_overflow() {
    // Found with the `rule_file` fuzz target: a chain of 3,000 `+` overflowed the
    // compiler's stack (10,000 the `cel` parser's) and aborted the process instead of
    // refusing the file.
    let chain = |terms: usize| vec!["people"; terms].join(" + ") + " > 0";
    let e = err(&chain(10_000));
    // At the first operator past the limit: the 257th `+`, each term being 9 characters.
    assert_eq!((e.line, e.column), (1, 9 * (MAX_OPERATORS + 1) - 1));
    assert!(e.message_en.contains("too complex"), "{e:?}");
    let e = err(&(vec!["people"; 300].join("\n + ") + " > 0"));
    // Lines are counted too: the 257th `+` starts line 258.
    assert_eq!((e.line, e.column), (MAX_OPERATORS + 2, 2));
    // A chain of n terms is n + 1 levels deep (`>`, n - 1 `+`, a name).
    let e = err(&chain(MAX_DEPTH));
    assert!(e.message_en.contains("nested too deeply"), "{e:?}");
    // The deepest expression allowed compiles and evaluates within a test thread's stack
    // (2 MiB), unoptimised.
    assert_eq!(run(&chain(MAX_DEPTH - 1), &household()), Val::Bool(true));
    // Long lists of conditions are balanced by the parser: not deep.
    let any = vec!["people > 0"; 80].join(" || ");
    assert_eq!(run(&any, &household()), Val::Bool(true));
}

#[test]
fn records_what_an_expression_reads() {
    let (params, inputs) = scope();
    let s = Scope {
        level: Level::Household,
        params: &params,
        inputs: &inputs,
    };
    let c = compile("income_per_capita > line && !owns_car && people > 0", &s).unwrap();
    let ipc = find_var(HOUSEHOLD_VARS, "income_per_capita").unwrap();
    let people = find_var(HOUSEHOLD_VARS, "people").unwrap();
    assert_eq!(
        c.refs,
        vec![
            Ref::Var(ipc),
            Ref::Param(0),
            Ref::Input(0),
            Ref::Var(people)
        ]
    );
}
