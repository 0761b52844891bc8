//! Arbitrary text as a 公民身份号码 through `xiuhua_domain::id_number`, checking the invariants
//! every parsed number must keep.

#![no_main]

use chrono::{Datelike, NaiveDate};
use libfuzzer_sys::fuzz_target;
use xiuhua_domain::id_number::{IdNumber, Sex};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Sex::parse(&text);
    match IdNumber::parse(&text) {
        Ok(id) => check_parsed(&id),
        Err(e) => {
            let _ = e.code();
            let _ = e.message_zh();
            let _ = e.to_string();
        }
    }
    // `compose` with a fuzzed address code, date and sequence: whatever it builds must parse
    // back to itself.
    if data.len() >= 8 {
        let year = 1800 + i32::from(u16::from_le_bytes([data[0], data[1]]) % 400);
        let month = u32::from(data[2] % 13);
        let day = u32::from(data[3] % 32);
        let sequence = u16::from_le_bytes([data[4], data[5]]);
        let len = 7 + usize::from(data[6] % 9);
        let address = String::from_utf8_lossy(&data[7..data.len().min(len)]);
        if let Some(birth) = NaiveDate::from_ymd_opt(year, month, day)
            && let Ok(id) = IdNumber::compose(&address, birth, sequence)
        {
            check_parsed(&id);
            assert_eq!(id.address_code(), address, "compose keeps the address code");
            assert_eq!(id.birth_date(), Some(birth), "compose keeps the birth date");
            let sex = if (sequence % 1000) % 2 == 1 {
                Sex::Male
            } else {
                Sex::Female
            };
            assert_eq!(id.sex(), sex, "compose: the sequence's parity is the sex");
        }
    }
});

fn check_parsed(id: &IdNumber) {
    let s = id.as_str();
    assert_eq!(s.len(), 18, "{s:?} is not 18 characters");
    assert!(
        s.bytes().take(17).all(|b| b.is_ascii_digit()),
        "{s:?}: first 17 are digits"
    );
    assert!(
        matches!(s.as_bytes()[17], b'0'..=b'9' | b'X'),
        "{s:?}: check character"
    );
    assert_eq!(id.to_string(), s);
    // Normalised form is a fixed point.
    assert_eq!(
        IdNumber::parse(s).as_ref(),
        Ok(id),
        "{s:?} does not re-parse to itself"
    );
    // Lower-case x and full-width forms are the same number.
    let lower = s.to_ascii_lowercase();
    assert_eq!(IdNumber::parse(&lower).as_ref(), Ok(id));
    let wide: String = s
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            'X' => 'Ｘ',
            other => other,
        })
        .collect();
    assert_eq!(IdNumber::parse(&wide).as_ref(), Ok(id));
    // Masked form: same length, the address code (first 6) and last 2 kept, so neither the
    // birth date nor the sequence number can be read off it.
    let masked = id.masked();
    assert_eq!(masked.chars().count(), 18, "masked {masked:?}");
    assert_eq!(&masked[..6], &s[..6]);
    assert_eq!(&masked[16..], &s[16..]);
    assert!(masked[6..16].chars().all(|c| c == '*'));
    // Derived values.
    let birth = id
        .birth_date()
        .expect("a parsed number has a real birth date");
    assert_eq!(birth.format("%Y%m%d").to_string(), &s[6..14]);
    assert_eq!(id.address_code(), &s[..6]);
    let sex = id.sex();
    assert_eq!(Sex::parse(sex.code()), Some(sex));
    assert_eq!(Sex::parse(sex.label_zh()), Some(sex));
    assert_eq!(id.age_on(birth), Some(0));
    for on in [
        NaiveDate::MIN,
        NaiveDate::MAX,
        NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
    ] {
        let _ = id.age_on(on);
    }
    if let Some(next) = birth.with_year(birth.year() + 1) {
        assert_eq!(id.age_on(next), Some(1));
    }
}
