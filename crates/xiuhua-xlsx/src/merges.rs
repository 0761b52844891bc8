//! Finding a sheet's merged cells quickly.
//!
//! An `.xlsx` sheet lists its merged ranges (`<mergeCell ref="A1:C3"/>`) *after* all of its
//! rows, so they have to be known before the rows are read (merged household cells are carried
//! down onto member rows). calamine finds them by running its XML parser over the whole sheet
//! once more; on a 1M-row ledger that second pass cost about a fifth of the import. This module
//! inflates the sheet and looks for the `mergeCell` tags with a byte search instead, reading
//! only the tags it finds. The sheet's file inside the zip is found the standard way
//! (`xl/workbook.xml` names → `xl/_rels/workbook.xml.rels` targets); when that fails, the caller
//! falls back to calamine.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use calamine::Dimensions;
use quick_xml::events::Event;

use crate::guard::{XmlGuard, guard_error};
use crate::limits::{Limit, LimitError, Place, ReadLimits};
use crate::source::ReadError;

/// Merged ranges of sheet `sheet`, or `None` when the sheet's part cannot be located this way.
/// The part is inflated through an [`XmlGuard`] as it is scanned, so a sheet past `limits` is
/// refused here, before calamine reads it.
pub(crate) fn sheet_merges(
    path: &Path,
    sheet: &str,
    limits: &ReadLimits,
) -> Option<Result<Vec<Dimensions>, ReadError>> {
    let mut zip = zip::ZipArchive::new(BufReader::new(File::open(path).ok()?)).ok()?;
    let part = sheet_parts(&mut zip)?
        .into_iter()
        .find(|(name, _)| name == sheet)?
        .1;
    let file = zip.by_name(&part).ok()?;
    let place = Place {
        entry: Some(part.clone()),
        sheet: Some(sheet.to_string()),
        ..Place::default()
    };
    let mut guard = XmlGuard::new(limits, Some(b"c"));
    let max = limits.max_sheet_bytes;
    Some(scan(file, &mut |chunk| {
        if guard.total + chunk.len() as u64 > max {
            return Err(ReadError::Limit(LimitError {
                limit: Limit::EntryBytes(max),
                place: place.clone(),
            }));
        }
        guard
            .feed(chunk)
            .map_err(|limit| ReadError::Limit(guard_error(&guard, limit, &place)))
    }))
}

/// Reads a small part whole (it was checked against the limits by `guard::check_workbook`).
fn read_part<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Option<String> {
    let mut s = String::new();
    zip.by_name(name).ok()?.read_to_string(&mut s).ok()?;
    Some(s)
}

/// The target of the package's `officeDocument` relationship (`xl/workbook.xml`), which is
/// where calamine looks for the workbook part.
pub(crate) fn office_document<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> Option<String> {
    let rels = read_part(zip, "_rels/.rels")?;
    elements(&rels, "Relationship")
        .into_iter()
        .find_map(|attrs| {
            attrs
                .iter()
                .any(|(k, v)| k == "Type" && v.ends_with("/officeDocument"))
                .then(|| {
                    attrs
                        .iter()
                        .find(|(k, _)| k == "Target")
                        .map(|(_, v)| v.clone())
                })
                .flatten()
        })
}

/// Every sheet's name and zip path (e.g. `xl/worksheets/sheet1.xml`), found the standard way:
/// `xl/workbook.xml` names → `xl/_rels/workbook.xml.rels` targets. `None` if either part is
/// missing.
pub(crate) fn sheet_parts<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> Option<Vec<(String, String)>> {
    let workbook = read_part(zip, "xl/workbook.xml")?;
    let rels = read_part(zip, "xl/_rels/workbook.xml.rels")?;
    let rels = elements(&rels, "Relationship");
    let target_of = |rid: &str| {
        rels.iter().find_map(|attrs| {
            attrs
                .iter()
                .any(|(k, v)| k == "Id" && *v == rid)
                .then(|| {
                    attrs
                        .iter()
                        .find(|(k, _)| k == "Target")
                        .map(|(_, v)| v.clone())
                })
                .flatten()
        })
    };
    let parts = elements(&workbook, "sheet")
        .into_iter()
        .filter_map(|attrs| {
            let name = attrs.iter().find(|(k, _)| k == "name")?.1.clone();
            let rid = &attrs
                .iter()
                .find(|(k, _)| k == "r:id" || k.ends_with(":id"))?
                .1;
            let target = target_of(rid)?;
            let part = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_string(),
                None => format!("xl/{target}"),
            };
            Some((name, part))
        })
        .collect();
    Some(parts)
}

/// Attributes (qualified name, unescaped value) of every element with local name `local`.
fn elements(xml: &str, local: &str) -> Vec<Vec<(String, String)>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == local => {
                out.push(
                    e.attributes()
                        .flatten()
                        .filter_map(|a| {
                            let key = a.key.as_ref().to_string();
                            let value = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()?
                                .into_owned();
                            Some((key, value))
                        })
                        .collect(),
                );
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// Scans a sheet's XML for `<mergeCell ref="…"/>` (with or without a namespace prefix), showing
/// every chunk read to `check` first.
fn scan(
    mut r: impl Read,
    check: &mut dyn FnMut(&[u8]) -> Result<(), ReadError>,
) -> Result<Vec<Dimensions>, ReadError> {
    const CHUNK: usize = 1 << 18;
    let finder = memchr::memmem::Finder::new(b"mergeCell");
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut eof = false;
    while !eof {
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let n = loop {
            match r.read(&mut buf[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // E.g. more bytes than the zip directory declared, or a bad checksum.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    return Err(ReadError::Corrupt(e.to_string()));
                }
                other => break other?,
            }
        };
        buf.truncate(start + n);
        check(&buf[start..])?;
        eof = n == 0;
        // Everything before `keep` is done; a tag cut off at the end waits for more bytes
        // (kept with the byte before it, which says whether it opens a tag).
        let mut keep = buf.len().saturating_sub(b"mergeCell".len() + 1);
        let mut at = 0;
        while let Some(i) = finder.find(&buf[at..]) {
            let i = at + i;
            at = i + 1;
            let opens = i > 0 && matches!(buf[i - 1], b'<' | b':');
            let after = buf.get(i + b"mergeCell".len()).copied();
            if !opens || !matches!(after, Some(b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')) {
                // `mergeCells`, a closing tag, or text.
                if after.is_none() && !eof {
                    keep = keep.min(i - usize::from(i > 0));
                    break;
                }
                continue;
            }
            let Some(end) = memchr::memchr(b'>', &buf[i..]).map(|e| i + e) else {
                if eof {
                    break;
                }
                keep = keep.min(i - 1);
                break;
            };
            if let Some(range) = attr(&buf[i..end], b"ref") {
                out.push(dimensions(range)?);
            }
            at = end;
        }
        buf.drain(..keep.min(buf.len()));
    }
    Ok(out)
}

/// The value of attribute `name` inside a tag's bytes (a name preceded by white space, `=`,
/// a quoted value).
pub(crate) fn attr<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut at = 0;
    while let Some(i) = memchr::memmem::find(&tag[at..], name) {
        let i = at + i;
        at = i + 1;
        if i == 0 || !tag[i - 1].is_ascii_whitespace() {
            continue;
        }
        let rest = tag[i + name.len()..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let quote = *rest.first()?;
        if quote != b'"' && quote != b'\'' {
            continue;
        }
        let end = memchr::memchr(quote, &rest[1..])?;
        return Some(&rest[1..1 + end]);
    }
    None
}

/// `A1:C3` (or a single `B2`) as 0-based (row, column) corners.
fn dimensions(range: &[u8]) -> Result<Dimensions, ReadError> {
    let bad = || {
        ReadError::Corrupt(format!(
            "bad merged range {}",
            String::from_utf8_lossy(range)
        ))
    };
    let mut parts = range.split(|b| *b == b':');
    let start = cell(parts.next().ok_or_else(bad)?).ok_or_else(bad)?;
    let end = match parts.next() {
        Some(p) => cell(p).ok_or_else(bad)?,
        None => start,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Dimensions { start, end })
}

/// `AB12` → (11, 27); `$` signs are allowed.
fn cell(r: &[u8]) -> Option<(u32, u32)> {
    let r: Vec<u8> = r.iter().copied().filter(|b| *b != b'$').collect();
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 || letters == r.len() {
        return None;
    }
    let mut col: u32 = 0;
    for b in &r[..letters] {
        col = col * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let row: u32 = std::str::from_utf8(&r[letters..]).ok()?.parse().ok()?;
    (row >= 1).then(|| (row - 1, col - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_merges_across_chunk_boundaries_and_prefixes() {
        let mut xml = String::from("<worksheet><sheetData>");
        // Enough rows that tags fall on every kind of chunk boundary.
        for i in 1..40_000 {
            xml.push_str(&format!(
                "<row r=\"{i}\"><c r=\"A{i}\"><v>{i}</v></c></row>"
            ));
        }
        xml.push_str("</sheetData><mergeCells count=\"3\">");
        xml.push_str(
            "<mergeCell ref=\"A2:A5\"/><x:mergeCell  ref='$B$3:C10' /><mergeCell ref=\"D7\"/>",
        );
        xml.push_str("</mergeCells></worksheet>");
        let got = scan(xml.as_bytes(), &mut |_| Ok(())).unwrap();
        assert_eq!(
            got,
            vec![
                Dimensions {
                    start: (1, 0),
                    end: (4, 0)
                },
                Dimensions {
                    start: (2, 1),
                    end: (9, 2)
                },
                Dimensions {
                    start: (6, 3),
                    end: (6, 3)
                },
            ]
        );
        // Every offset of the tags relative to the chunk size.
        for pad in 0..40 {
            let s = format!(
                "{}<mergeCell ref=\"AB12:XFD1048576\"/>",
                " ".repeat((1 << 18) - 20 + pad)
            );
            assert_eq!(
                scan(s.as_bytes(), &mut |_| Ok(())).unwrap(),
                vec![Dimensions {
                    start: (11, 27),
                    end: (1_048_575, 16_383)
                }],
                "pad {pad}"
            );
        }
    }

    #[test]
    fn agrees_with_calamine_on_a_workbook_with_several_sheets() {
        use calamine::Reader;
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let f = Format::new();
        wb.add_worksheet().set_name("说明").unwrap();
        let ws = wb.add_worksheet();
        ws.set_name("台账 & 汇总").unwrap();
        ws.merge_range(0, 0, 0, 5, "都安瑶族自治县 建档立卡台账", &f)
            .unwrap();
        ws.merge_range(2, 1, 5, 1, "45122810220700001", &f).unwrap();
        let third = wb.add_worksheet();
        third.merge_range(3, 3, 4, 4, "x", &f).unwrap();
        let file = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
        wb.save(file.path()).unwrap();
        let mut cal: calamine::Xlsx<_> = calamine::open_workbook(file.path()).unwrap();
        for name in cal.sheet_names() {
            let ours = sheet_merges(file.path(), &name, &ReadLimits::default())
                .expect("sheet found")
                .unwrap();
            let theirs = cal.merge_cells_by_sheet_name(&name).unwrap();
            assert_eq!(ours, theirs, "{name}");
        }
        assert_eq!(
            sheet_merges(file.path(), "台账 & 汇总", &ReadLimits::default())
                .unwrap()
                .unwrap()
                .len(),
            2
        );
        assert!(sheet_merges(file.path(), "没有这张表", &ReadLimits::default()).is_none());
    }

    #[test]
    fn a_bad_range_is_an_error() {
        assert!(scan(&b"<mergeCell ref=\"A0:B2\"/>"[..], &mut |_| Ok(())).is_err());
        assert!(scan(&b"<mergeCell ref=\"1A:B2\"/>"[..], &mut |_| Ok(())).is_err());
        assert!(scan(&b"<mergeCell ref=\"\"/>"[..], &mut |_| Ok(())).is_err());
        // Not a mergeCell tag.
        assert!(
            scan(&b"<mergeCells count=\"0\"></mergeCells>"[..], &mut |_| Ok(
                ()
            ))
            .unwrap()
            .is_empty()
        );
    }
}
