//! Synthetic Chinese names, places and phone numbers for the demo county.
//!
//! The demo county is modelled on 都安瑶族自治县 (Du'an Yao Autonomous County,
//! Hechi, Guangxi): the population is mostly 壮族, then 瑶族 and 汉族, with a few
//! 苗族, 仫佬族 and 毛南族. Every generator takes a caller-supplied RNG, so a
//! seeded RNG always yields the same demo data.

use rand::Rng;

/// Surnames common in Hechi / Du'an with relative weights (higher = more common).
#[rustfmt::skip]
pub const SURNAMES: &[(&str, u32)] = &[
    ("韦", 120), ("蓝", 90), ("黄", 70), ("潘", 60), ("覃", 55), ("罗", 45),
    ("梁", 40), ("莫", 40), ("陆", 35), ("蒙", 35), ("李", 30), ("卢", 25),
    ("班", 20), ("农", 18), ("兰", 15), ("谭", 15), ("吴", 14), ("陈", 14),
    ("何", 12), ("刘", 12), ("廖", 10), ("张", 10), ("王", 10), ("杨", 10),
    ("周", 8), ("唐", 8), ("石", 8), ("邓", 8), ("蒋", 6), ("袁", 6),
    ("欧", 6), ("苏", 6), ("甘", 6), ("马", 5), ("赵", 5), ("银", 5),
    ("谢", 5), ("姚", 5), ("龙", 5), ("郭", 4), ("颜", 4), ("凌", 4),
    ("徐", 4), ("玉", 4), ("朱", 4), ("胡", 4), ("曾", 4), ("林", 4),
    ("付", 3), ("冯", 3), ("宋", 3), ("贝", 3), ("文", 3), ("严", 3),
    ("方", 3), ("麻", 3), ("蔡", 3), ("孙", 3), ("邱", 3), ("骆", 3),
    ("欧阳", 2),
];

/// Ethnic groups of the demo county with weights in per mille.
#[rustfmt::skip]
pub const ETHNICITIES: &[(&str, u32)] = &[
    ("壮族", 710), ("瑶族", 220), ("汉族", 50), ("苗族", 8), ("仫佬族", 6), ("毛南族", 6),
];

/// Male given-name characters typical of people born before 1970.
pub const MALE_OLD: &str = "福贵文德明桂忠华国荣昌光有金祥才生元发仁义富成达";
/// Male given-name characters common across all generations.
pub const MALE_COMMON: &str = "伟勇军平志海林斌刚峰强建新东春永云宁良清庆宏亮";
/// Male given-name characters typical of people born after about 1990.
pub const MALE_YOUNG: &str = "俊宇浩子梓轩睿泽铭博航皓宸杰鑫涛磊凯晨毅";
/// Female given-name characters typical of people born before 1970.
pub const FEMALE_OLD: &str = "桂秀英兰珍凤翠花梅玉娥芳琼莲菊香金妹美春月";
/// Female given-name characters common across all generations.
pub const FEMALE_COMMON: &str = "丽红霞燕艳萍娟芬玲敏静婷慧琳洁雪琴莉晓小";
/// Female given-name characters typical of people born after about 1990.
pub const FEMALE_YOUNG: &str = "欣怡梓涵子雨思佳萱琪诗语彤可馨悦婉妍晨蕾瑶";

/// First syllables typical of Zhuang place names (弄 = hollow, 板 = village, 那 = field …).
pub const VILLAGE_FIRST: &str = "弄板拉那古加百六高龙东上下大小坡九红三保隆菁巴果更江福";
/// Second syllables for village names.
pub const VILLAGE_SECOND: &str = "力升仁文朗庙安福兴旺江岭平合坤荣宁明湾寨桥山洞良阳华林";

/// Real Chinese mobile-number prefixes used by [`phone`].
pub const PHONE_PREFIXES: &[&str] = &[
    "133", "135", "136", "138", "139", "150", "151", "152", "157", "158", "159", "177", "178",
    "180", "181", "182", "187", "188", "189", "191", "198", "199",
];

/// Cumulative-weight selection from a non-empty table with a positive total weight.
fn pick_weighted<R: Rng + ?Sized>(rng: &mut R, table: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = table.iter().map(|&(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(item, weight) in table {
        if roll < weight {
            return item;
        }
        roll -= weight;
    }
    table.last().map_or("", |&(item, _)| item)
}

/// Uniformly picks one character from a non-empty pool string.
fn pick_char<R: Rng + ?Sized>(rng: &mut R, pool: &str) -> char {
    let n = pool.chars().count();
    pool.chars().nth(rng.random_range(0..n)).unwrap_or('文')
}

/// Returns a surname drawn with Hechi/Du'an-typical frequencies (e.g. 韦, 蓝, 潘, 黄, 覃).
pub fn surname<R: Rng + ?Sized>(rng: &mut R) -> &'static str {
    pick_weighted(rng, SURNAMES)
}

/// Returns a one- or two-character given name (about 30% single character).
///
/// Characters come from separate male and female pools; people born before
/// 1970 more often get old-style characters (桂, 秀, 福, 德 …), people born
/// from 1990 on more often get modern ones (俊, 宇, 欣, 梓 …).
pub fn given_name<R: Rng + ?Sized>(rng: &mut R, male: bool, birth_year: i32) -> String {
    let (old_p, young_p) = if birth_year < 1970 {
        (0.45, 0.10)
    } else if birth_year < 1990 {
        (0.20, 0.20)
    } else {
        (0.05, 0.50)
    };
    let (old, common, young) = if male {
        (MALE_OLD, MALE_COMMON, MALE_YOUNG)
    } else {
        (FEMALE_OLD, FEMALE_COMMON, FEMALE_YOUNG)
    };
    let len = if rng.random_bool(0.3) { 1 } else { 2 };
    let mut name = String::new();
    let mut prev: Option<char> = None;
    for _ in 0..len {
        let mut c = '文';
        // Re-roll a few times to avoid accidental doubled characters (叠字).
        for _ in 0..4 {
            let roll = rng.random::<f64>();
            let pool = if roll < old_p {
                old
            } else if roll < old_p + young_p {
                young
            } else {
                common
            };
            c = pick_char(rng, pool);
            if prev != Some(c) {
                break;
            }
        }
        name.push(c);
        prev = Some(c);
    }
    name
}

/// Returns an ethnic-group name: 壮族 ~71%, 瑶族 ~22%, 汉族 ~5%, 苗族/仫佬族/毛南族 the rest.
pub fn ethnicity<R: Rng + ?Sized>(rng: &mut R) -> &'static str {
    pick_weighted(rng, ETHNICITIES)
}

/// Returns a plausible administrative-village name such as 弄力村 or 板升村.
pub fn village_name<R: Rng + ?Sized>(rng: &mut R) -> String {
    let first = pick_char(rng, VILLAGE_FIRST);
    let mut second = pick_char(rng, VILLAGE_SECOND);
    while second == first {
        second = pick_char(rng, VILLAGE_SECOND);
    }
    let mut name = String::with_capacity(9);
    name.push(first);
    name.push(second);
    name.push('村');
    name
}

/// Returns the 村民小组 name for a 1-based index: 第一组 … 第九十九组, then 第100组 etc.
pub fn group_name(index: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match index {
        1..=9 => format!("第{}组", DIGITS[index]),
        10..=19 => format!("第十{}组", DIGITS[index % 10]),
        20..=99 => format!("第{}十{}组", DIGITS[index / 10], DIGITS[index % 10]),
        _ => format!("第{index}组"),
    }
}

/// Returns an 11-digit mainland mobile number starting with a real carrier prefix.
pub fn phone<R: Rng + ?Sized>(rng: &mut R) -> String {
    let prefix = PHONE_PREFIXES[rng.random_range(0..PHONE_PREFIXES.len())];
    let rest = rng.random_range(0..100_000_000u32);
    format!("{prefix}{rest:08}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn is_cjk(c: char) -> bool {
        ('\u{4E00}'..='\u{9FFF}').contains(&c)
    }

    fn sample(seed: u64) -> Vec<String> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..200)
            .map(|i| {
                format!(
                    "{}{}|{}|{}|{}",
                    surname(&mut rng),
                    given_name(&mut rng, i % 2 == 0, 1940 + i),
                    ethnicity(&mut rng),
                    village_name(&mut rng),
                    phone(&mut rng)
                )
            })
            .collect()
    }

    #[test]
    fn deterministic_for_fixed_seed() {
        assert_eq!(sample(7), sample(7));
        assert_ne!(sample(7), sample(8));
    }

    #[test]
    fn surnames_are_cjk() {
        assert!(SURNAMES.len() >= 55);
        for &(s, w) in SURNAMES {
            let n = s.chars().count();
            assert!(w > 0, "{s}");
            assert!(n == 1 || n == 2, "{s}");
            assert!(s.chars().all(is_cjk), "{s}");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..1000 {
            let s = surname(&mut rng);
            assert!(SURNAMES.iter().any(|&(x, _)| x == s));
        }
    }

    #[test]
    fn ethnicity_frequencies() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws = 20_000;
        let mut counts = [0usize; 4];
        for _ in 0..draws {
            match ethnicity(&mut rng) {
                "壮族" => counts[0] += 1,
                "瑶族" => counts[1] += 1,
                "汉族" => counts[2] += 1,
                "苗族" | "仫佬族" | "毛南族" => counts[3] += 1,
                other => panic!("unexpected ethnicity {other}"),
            }
        }
        for (count, target) in counts.iter().zip([0.71, 0.22, 0.05, 0.02]) {
            let share = *count as f64 / draws as f64;
            assert!((share - target).abs() <= 0.03, "{share} vs {target}");
        }
    }

    #[test]
    fn given_names_shape_and_era() {
        assert!(
            MALE_OLD.chars().count() + MALE_COMMON.chars().count() + MALE_YOUNG.chars().count()
                >= 60
        );
        assert!(
            FEMALE_OLD.chars().count()
                + FEMALE_COMMON.chars().count()
                + FEMALE_YOUNG.chars().count()
                >= 60
        );
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut single = 0;
        let (mut old_hits_old, mut old_hits_young) = (0, 0);
        for i in 0..10_000 {
            let male = i % 2 == 0;
            let name = given_name(&mut rng, male, 1950);
            let n = name.chars().count();
            assert!(n == 1 || n == 2, "{name}");
            assert!(name.chars().all(is_cjk), "{name}");
            if n == 1 {
                single += 1;
            }
            let pool = if male { MALE_OLD } else { FEMALE_OLD };
            old_hits_old += name.chars().filter(|&c| pool.contains(c)).count();
            let young = given_name(&mut rng, male, 2005);
            old_hits_young += young.chars().filter(|&c| pool.contains(c)).count();
        }
        assert!((2_500..=3_500).contains(&single), "{single}");
        assert!(
            old_hits_old > 2 * old_hits_young,
            "{old_hits_old} vs {old_hits_young}"
        );
    }

    #[test]
    fn group_names() {
        assert_eq!(group_name(1), "第一组");
        assert_eq!(group_name(10), "第十组");
        assert_eq!(group_name(11), "第十一组");
        assert_eq!(group_name(20), "第二十组");
        assert_eq!(group_name(23), "第二十三组");
        assert_eq!(group_name(30), "第三十组");
        assert_eq!(group_name(100), "第100组");
    }

    #[test]
    fn phones_and_villages() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..1000 {
            let p = phone(&mut rng);
            assert_eq!(p.len(), 11, "{p}");
            assert!(p.bytes().all(|b| b.is_ascii_digit()), "{p}");
            assert!(PHONE_PREFIXES.contains(&&p[..3]), "{p}");
            let v = village_name(&mut rng);
            assert!(v.ends_with('村'), "{v}");
            assert_eq!(v.chars().count(), 3, "{v}");
            assert!(v.chars().all(is_cjk), "{v}");
        }
    }
}
