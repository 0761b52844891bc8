//! The ledger columns xiuhua understands, with the Chinese header names and common variants
//! found in county ledgers and national-system exports. A mapping file can add more.

/// Whether a column describes the household or one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Same value on every row of a household.
    Household,
    /// One value per member row.
    Member,
    /// Recognised but not imported (derived values such as 年龄, 人数, 序号).
    Ignored,
}

/// A ledger column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// 户编号
    HouseholdNo,
    /// 县 (name)
    County,
    /// 乡镇 (name)
    Township,
    /// 行政村 (name)
    Village,
    /// 村民小组/自然村 (name)
    Group,
    /// 行政村代码 (12 digits)
    VillageCode,
    /// 户主姓名
    HeadName,
    /// 户联系电话
    Phone,
    /// 开户银行
    BankName,
    /// 银行账号
    BankAccount,
    /// 识别标准
    IdentificationStandard,
    /// 贫困户属性
    Attribute,
    /// 主要致贫原因
    MainCause,
    /// 其他致贫原因 (up to two, separated by 、,;)
    OtherCauses,
    /// 户类型 / 脱贫状态
    Status,
    /// 识别年度 / 首次识别时间
    IdentifiedYear,
    /// 计划脱贫年度
    PlannedExitYear,
    /// 脱贫年度
    ExitYear,
    /// 脱贫批次
    ExitBatch,
    /// 监测对象类型
    MonitorType,
    /// 风险是否消除
    RiskEliminated,
    /// 风险识别时间
    RiskIdentifiedOn,
    /// 风险消除时间
    RiskEliminatedOn,
    /// 住房安全等级 / 危房等级
    HousingSafety,
    /// 饮水是否安全
    WaterSafe,
    /// 收入年度
    IncomeYear,
    /// 工资性收入 (元)
    IncomeWage,
    /// 生产经营性收入 (元)
    IncomeBusiness,
    /// 财产性收入 (元)
    IncomeProperty,
    /// 转移性收入 (元)
    IncomeTransfer,
    /// 生产经营性支出 (元)
    IncomeCost,
    /// 姓名
    Name,
    /// 证件号码
    IdNumber,
    /// 与户主关系
    Relation,
    /// 性别 (checked against the identity number)
    Sex,
    /// 民族
    Ethnicity,
    /// 政治面貌
    Political,
    /// 文化程度
    Education,
    /// 在校生状况
    Schooling,
    /// 健康状况 (several, separated by 、,;)
    Health,
    /// 劳动技能
    Labour,
    /// 务工状况
    WorkStatus,
    /// 务工时间(月)
    WorkMonths,
    /// 是否参加城乡居民基本医疗保险
    MedicalInsurance,
    /// 是否参加城乡居民基本养老保险
    PensionInsurance,
    /// 是否享受低保
    Dibao,
    /// 人联系电话
    MemberPhone,
    /// Recognised, not imported.
    Ignored,
}

/// (field, level, storage name, header names; the first is the canonical export header).
pub const COLUMNS: &[(Field, Level, &str, &[&str])] = &[
    (
        Field::County,
        Level::Household,
        "county",
        &["县", "县(市、区)", "县(市区)", "县区", "县名称"],
    ),
    (
        Field::Township,
        Level::Household,
        "township",
        &["乡(镇)", "乡镇", "乡", "镇", "乡镇(街道)", "乡镇名称"],
    ),
    (
        Field::Village,
        Level::Household,
        "village",
        &["行政村", "村", "村(社区)", "行政村名称", "村名称"],
    ),
    (
        Field::Group,
        Level::Household,
        "group",
        &[
            "村民小组",
            "自然村",
            "组",
            "自然屯",
            "自然村(屯)",
            "村民小组(自然屯)",
        ],
    ),
    (
        Field::VillageCode,
        Level::Household,
        "village_code",
        &["行政村代码", "村代码", "区划代码", "行政区划代码"],
    ),
    (
        Field::HouseholdNo,
        Level::Household,
        "household_no",
        &["户编号", "户码", "户号", "户编码"],
    ),
    (
        Field::HeadName,
        Level::Household,
        "head_name",
        &["户主姓名", "户主"],
    ),
    (
        Field::Phone,
        Level::Household,
        "phone",
        &["户联系电话", "联系电话", "家庭联系电话"],
    ),
    (
        Field::BankName,
        Level::Household,
        "bank_name",
        &["开户银行", "开户行", "银行名称"],
    ),
    (
        Field::BankAccount,
        Level::Household,
        "bank_account",
        &["银行账号", "银行卡号", "一卡通账号", "开户账号", "收款账号"],
    ),
    (
        Field::IdentificationStandard,
        Level::Household,
        "identification_standard",
        &["识别标准"],
    ),
    (
        Field::Attribute,
        Level::Household,
        "attribute",
        &["贫困户属性", "户属性"],
    ),
    (
        Field::MainCause,
        Level::Household,
        "main_cause",
        &["主要致贫原因", "致贫原因", "致贫原因1"],
    ),
    (
        Field::OtherCauses,
        Level::Household,
        "other_causes",
        &["其他致贫原因", "次要致贫原因"],
    ),
    (
        Field::Status,
        Level::Household,
        "status",
        &["户类型", "贫困户状态", "脱贫状态", "脱贫标志"],
    ),
    (
        Field::IdentifiedYear,
        Level::Household,
        "identified_year",
        &["识别年度", "首次识别时间", "识别时间", "纳入年度"],
    ),
    (
        Field::PlannedExitYear,
        Level::Household,
        "planned_exit_year",
        &["计划脱贫年度"],
    ),
    (
        Field::ExitYear,
        Level::Household,
        "exit_year",
        &["脱贫年度", "脱贫年份", "脱贫时间"],
    ),
    (
        Field::ExitBatch,
        Level::Household,
        "exit_batch",
        &["脱贫批次"],
    ),
    (
        Field::MonitorType,
        Level::Household,
        "monitor_type",
        &["监测对象类型", "易返贫致贫户(监测对象)类型", "监测类型"],
    ),
    (
        Field::RiskEliminated,
        Level::Household,
        "risk_eliminated",
        &["风险是否消除"],
    ),
    (
        Field::RiskIdentifiedOn,
        Level::Household,
        "risk_identified_on",
        &["风险识别时间"],
    ),
    (
        Field::RiskEliminatedOn,
        Level::Household,
        "risk_eliminated_on",
        &["风险消除时间"],
    ),
    (
        Field::HousingSafety,
        Level::Household,
        "housing_safety",
        &["住房安全等级", "危房等级", "住房安全"],
    ),
    (
        Field::WaterSafe,
        Level::Household,
        "water_safe",
        &["饮水是否安全", "是否解决安全饮用水", "饮水安全"],
    ),
    (
        Field::IncomeYear,
        Level::Household,
        "income_year",
        &["收入年度"],
    ),
    (
        Field::IncomeWage,
        Level::Household,
        "income_wage",
        &["工资性收入", "工资性收入(元)"],
    ),
    (
        Field::IncomeBusiness,
        Level::Household,
        "income_business",
        &["生产经营性收入", "生产经营性收入(元)"],
    ),
    (
        Field::IncomeProperty,
        Level::Household,
        "income_property",
        &["财产性收入", "财产性收入(元)"],
    ),
    (
        Field::IncomeTransfer,
        Level::Household,
        "income_transfer",
        &["转移性收入", "转移性收入(元)"],
    ),
    (
        Field::IncomeCost,
        Level::Household,
        "income_cost",
        &["生产经营性支出", "生产经营性支出(元)"],
    ),
    (
        Field::Name,
        Level::Member,
        "name",
        &["姓名", "成员姓名", "家庭成员姓名"],
    ),
    (
        Field::IdNumber,
        Level::Member,
        "id_number",
        &[
            "证件号码",
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "身份证件号码",
            "证件号",
            "公民身份号码或残疾人证号",
        ],
    ),
    (Field::Relation, Level::Member, "relation", &["与户主关系"]),
    (Field::Sex, Level::Member, "sex", &["性别"]),
    (Field::Ethnicity, Level::Member, "ethnicity", &["民族"]),
    (Field::Political, Level::Member, "political", &["政治面貌"]),
    (Field::Education, Level::Member, "education", &["文化程度"]),
    (
        Field::Schooling,
        Level::Member,
        "schooling",
        &["在校生状况", "在校生情况", "在校情况"],
    ),
    (Field::Health, Level::Member, "health", &["健康状况"]),
    (
        Field::Labour,
        Level::Member,
        "labour",
        &["劳动技能", "劳动能力"],
    ),
    (
        Field::WorkStatus,
        Level::Member,
        "work_status",
        &["务工状况", "务工情况", "务工区域"],
    ),
    (
        Field::WorkMonths,
        Level::Member,
        "work_months",
        &["务工时间(月)", "务工时间", "务工月数"],
    ),
    (
        Field::MedicalInsurance,
        Level::Member,
        "has_medical_insurance",
        &[
            "是否参加城乡居民基本医疗保险",
            "是否参加基本医疗保险",
            "是否参加新型农村合作医疗",
        ],
    ),
    (
        Field::PensionInsurance,
        Level::Member,
        "has_pension_insurance",
        &["是否参加城乡居民基本养老保险", "是否参加基本养老保险"],
    ),
    (Field::Dibao, Level::Member, "is_dibao", &["是否享受低保"]),
    (
        Field::MemberPhone,
        Level::Member,
        "member_phone",
        &["人联系电话", "本人联系电话", "个人联系电话"],
    ),
    (
        Field::Ignored,
        Level::Ignored,
        "",
        &[
            "序号",
            "人数",
            "家庭人口数",
            "人编号",
            "出生日期",
            "年龄",
            "人均纯收入",
            "年人均纯收入",
            "备注",
        ],
    ),
];

/// Normalises a header for matching: cleaned, full-width brackets mapped, spaces and line
/// breaks removed.
pub fn normalise_header(h: &str) -> String {
    crate::cell::clean_text(h)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

/// The field a header names, if known (`extra` maps further header names to storage names).
pub fn field_of(header: &str, extra: &[(String, String)]) -> Option<Field> {
    let h = normalise_header(header);
    if h.is_empty() {
        return None;
    }
    if let Some((_, storage)) = extra.iter().find(|(name, _)| normalise_header(name) == h) {
        return COLUMNS
            .iter()
            .find(|(_, _, s, _)| s == storage)
            .map(|(f, ..)| *f);
    }
    COLUMNS
        .iter()
        .find(|(_, _, _, names)| names.iter().any(|n| normalise_header(n) == h))
        .map(|(f, ..)| *f)
}

/// The level of a field.
pub fn level(f: Field) -> Level {
    COLUMNS
        .iter()
        .find(|(x, ..)| *x == f)
        .map(|(_, l, ..)| *l)
        .unwrap_or(Level::Ignored)
}

/// The canonical (export) header of a field.
pub fn header(f: Field) -> &'static str {
    COLUMNS
        .iter()
        .find(|(x, ..)| *x == f)
        .map(|(.., names)| names[0])
        .unwrap_or("")
}

/// The storage name of a field (used in mapping files).
pub fn storage_name(f: Field) -> &'static str {
    COLUMNS
        .iter()
        .find(|(x, ..)| *x == f)
        .map(|(_, _, s, _)| *s)
        .unwrap_or("")
}

/// Parses a mapping file: one `表头<TAB or comma>storage_name` per line, `#` comments.
pub fn parse_mapping(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((h, s)) = line.split_once(['\t', ',', '=']) else {
            return Err(format!("line {}: expected `header<TAB>field`", i + 1));
        };
        let s = s.trim();
        if !COLUMNS.iter().any(|(_, _, name, _)| *name == s) {
            return Err(format!("line {}: unknown field {s:?}", i + 1));
        }
        out.push((h.trim().to_string(), s.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_and_full_width_headers_match() {
        assert_eq!(field_of("身份证号", &[]), Some(Field::IdNumber));
        assert_eq!(field_of(" 证件号码 ", &[]), Some(Field::IdNumber));
        assert_eq!(field_of("务工时间（月）", &[]), Some(Field::WorkMonths));
        assert_eq!(field_of("*户编号", &[]), Some(Field::HouseholdNo));
        assert_eq!(field_of("户码", &[]), Some(Field::HouseholdNo));
        assert_eq!(field_of("年龄", &[]), Some(Field::Ignored));
        assert_eq!(field_of("宠物", &[]), None);
        let extra = vec![("家庭编号".to_string(), "household_no".to_string())];
        assert_eq!(field_of("家庭编号", &extra), Some(Field::HouseholdNo));
    }

    #[test]
    fn mapping_files_are_checked() {
        assert_eq!(
            parse_mapping("# x\n家庭编号\thousehold_no\n")
                .unwrap()
                .len(),
            1
        );
        assert!(parse_mapping("家庭编号\tno_such_field\n").is_err());
    }

    #[test]
    fn every_header_name_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for (_, _, _, names) in COLUMNS {
            for n in *names {
                assert!(seen.insert(normalise_header(n)), "duplicate header {n}");
            }
        }
    }
}
