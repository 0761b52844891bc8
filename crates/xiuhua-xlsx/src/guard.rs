//! Checking a workbook's parts against its [`ReadLimits`] before calamine reads them.
//!
//! calamine inflates each part and parses it with quick-xml, which holds one XML event (a tag,
//! a text run, a CDATA section) whole, and builds each cell's text whole; the shared string
//! table and the styles are read whole when the workbook opens. So, before calamine opens the
//! file, [`check_workbook`] compares every entry's uncompressed size in the zip central
//! directory with the limit and inflates every XML part except the worksheets through an
//! [`XmlGuard`], counting the bytes as they come (the directory can lie); the worksheets go
//! through the same guard in the pass that already inflates them to find their merged cells
//! (`merges::sheet_merges`). The guard is a small tokenizer over the raw bytes — it follows
//! quick-xml's event boundaries (quotes in tags, comments, CDATA, processing instructions) and
//! holds nothing but counters, so memory stays bounded however large the part is.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::limits::{Limit, LimitError, Place, ReadLimits};
use crate::source::ReadError;

/// What the guard tokenizer is inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Text,
    /// Just after `<`: collecting the first bytes to know what it opens.
    Head,
    /// Inside a tag (after its head), outside quotes.
    Tag,
    /// Inside a quoted attribute value.
    Quoted(u8),
    /// `<!-- … -->`.
    Comment,
    /// `<![CDATA[ … ]]>`.
    CData,
    /// `<? … ?>`.
    Pi,
    /// `<!DOCTYPE …>` and other `<!` declarations: `>` at bracket depth 0 ends them.
    Bang,
}

/// How many bytes of a tag are kept to recognise it and read its `r` attribute.
const HEAD: usize = 64;

/// Counts an XML part's events and cells as its bytes stream by.
pub(crate) struct XmlGuard {
    max_event: usize,
    max_cell: usize,
    /// Local name of the element whose whole size is a cell's (`c`, `si`), if any.
    cell_element: Option<&'static [u8]>,
    state: State,
    /// Bytes of the current event.
    event: usize,
    /// Bytes of the current cell element, while inside one.
    cell: Option<usize>,
    head: [u8; HEAD],
    head_len: usize,
    /// The last two bytes seen (for `-->`, `]]>`, `?>`, `/>`).
    last: [u8; 2],
    /// `[` depth in a declaration.
    brackets: u32,
    /// Bytes fed so far.
    pub(crate) total: u64,
    /// 1-based row of the current or last `<row>` (0 before the first).
    pub(crate) row: usize,
    /// 1-based column of the current or last `<c>` (0 before the first of a row).
    pub(crate) column: usize,
    /// Cell elements started so far (the shared string number for `si`).
    pub(crate) cells: usize,
}

impl XmlGuard {
    /// A guard for a part whose `cell_element` elements (if any) are cells.
    pub(crate) fn new(limits: &ReadLimits, cell_element: Option<&'static [u8]>) -> XmlGuard {
        XmlGuard {
            max_event: limits.max_cell_bytes,
            max_cell: limits.max_cell_bytes,
            cell_element,
            state: State::Text,
            event: 0,
            cell: None,
            head: [0; HEAD],
            head_len: 0,
            last: [0; 2],
            brackets: 0,
            total: 0,
            row: 0,
            column: 0,
            cells: 0,
        }
    }

    fn limit(&self) -> Limit {
        Limit::CellBytes(self.max_cell)
    }

    /// Counts `n` bytes of the current event (and cell).
    fn add(&mut self, n: usize) -> Result<(), Limit> {
        self.event = self.event.saturating_add(n);
        if self.event > self.max_event {
            return Err(self.limit());
        }
        if let Some(c) = &mut self.cell {
            *c = c.saturating_add(n);
            if *c > self.max_cell {
                return Err(self.limit());
            }
        }
        Ok(())
    }

    fn remember(&mut self, bytes: &[u8]) {
        match bytes {
            [] => {}
            [b] => self.last = [self.last[1], *b],
            [.., a, b] => self.last = [*a, *b],
        }
    }

    /// Appends bytes of the current tag's head (they fit: callers cut them to the room left).
    fn push_head(&mut self, bytes: &[u8]) -> Result<(), Limit> {
        self.add(bytes.len())?;
        self.remember(bytes);
        self.head[self.head_len..self.head_len + bytes.len()].copy_from_slice(bytes);
        self.head_len += bytes.len();
        Ok(())
    }

    /// Feeds the next bytes of the part.
    pub(crate) fn feed(&mut self, buf: &[u8]) -> Result<(), Limit> {
        self.total += buf.len() as u64;
        let mut i = 0;
        while i < buf.len() {
            let rest = &buf[i..];
            match self.state {
                State::Text => match memchr::memchr(b'<', rest) {
                    Some(k) => {
                        self.add(k)?;
                        self.remember(&rest[..k + 1]);
                        i += k + 1;
                        self.state = State::Head;
                        self.head_len = 0;
                        self.event = 0;
                        self.add(1)?;
                    }
                    None => {
                        self.add(rest.len())?;
                        self.remember(rest);
                        i = buf.len();
                    }
                },
                State::Head if self.head_len > 0 && self.head[0] != b'!' => {
                    // A tag's head (not a declaration): up to its end, a quote or a full head at
                    // once.
                    let window = &rest[..rest.len().min(HEAD - self.head_len)];
                    match memchr::memchr3(b'>', b'"', b'\'', window) {
                        Some(k) => {
                            self.push_head(&window[..=k])?;
                            i += k + 1;
                            match window[k] {
                                b'>' => self.end_tag(),
                                q => self.state = State::Quoted(q),
                            }
                        }
                        None => {
                            self.push_head(window)?;
                            i += window.len();
                            if self.head_len == HEAD {
                                self.state = State::Tag;
                            }
                        }
                    }
                }
                State::Head => {
                    let b = rest[0];
                    i += 1;
                    self.add(1)?;
                    if self.head_len < HEAD {
                        self.head[self.head_len] = b;
                        self.head_len += 1;
                    }
                    self.remember(&[b]);
                    let head = &self.head[..self.head_len];
                    if head[0] == b'!' {
                        if head == b"!--" {
                            self.state = State::Comment;
                            self.last = [0; 2];
                        } else if head == b"![CDATA[" {
                            self.state = State::CData;
                            self.last = [0; 2];
                        } else if !b"!--".starts_with(head) && !b"![CDATA[".starts_with(head) {
                            self.state = State::Bang;
                            self.brackets = u32::from(b == b'[');
                            if b == b'>' {
                                self.end_event();
                            }
                        }
                        continue;
                    }
                    if head[0] == b'?' {
                        self.state = State::Pi;
                        continue;
                    }
                    match b {
                        b'>' => self.end_tag(),
                        b'"' | b'\'' => self.state = State::Quoted(b),
                        _ if self.head_len == HEAD => self.state = State::Tag,
                        _ => {}
                    }
                }
                State::Tag => match memchr::memchr3(b'>', b'"', b'\'', rest) {
                    Some(k) => {
                        self.add(k + 1)?;
                        self.remember(&rest[..k + 1]);
                        i += k + 1;
                        match rest[k] {
                            b'>' => self.end_tag(),
                            q => self.state = State::Quoted(q),
                        }
                    }
                    None => {
                        self.add(rest.len())?;
                        self.remember(rest);
                        i = buf.len();
                    }
                },
                State::Quoted(q) if self.head_len < HEAD => {
                    // Still reading the tag's head (its `r` attribute is wanted): kept whole.
                    let window = &rest[..rest.len().min(HEAD - self.head_len)];
                    match memchr::memchr(q, window) {
                        Some(k) => {
                            self.push_head(&window[..=k])?;
                            i += k + 1;
                            self.state = State::Head;
                        }
                        None => {
                            self.push_head(window)?;
                            i += window.len();
                        }
                    }
                }
                State::Quoted(q) => match memchr::memchr(q, rest) {
                    Some(k) => {
                        self.add(k + 1)?;
                        self.remember(&rest[..k + 1]);
                        i += k + 1;
                        self.state = State::Tag;
                    }
                    None => {
                        self.add(rest.len())?;
                        self.remember(rest);
                        i = buf.len();
                    }
                },
                State::Comment | State::CData | State::Pi => {
                    let Some(k) = memchr::memchr(b'>', rest) else {
                        self.add(rest.len())?;
                        self.remember(rest);
                        i = buf.len();
                        continue;
                    };
                    self.add(k + 1)?;
                    let before = if k >= 2 {
                        [rest[k - 2], rest[k - 1]]
                    } else if k == 1 {
                        [self.last[1], rest[0]]
                    } else {
                        self.last
                    };
                    self.remember(&rest[..k + 1]);
                    i += k + 1;
                    let ends = match self.state {
                        State::Comment => before == *b"--",
                        State::CData => before == *b"]]",
                        _ => before[1] == b'?',
                    };
                    if ends {
                        self.end_event();
                    }
                }
                State::Bang => {
                    let b = rest[0];
                    i += 1;
                    self.add(1)?;
                    self.remember(&[b]);
                    match b {
                        b'[' => self.brackets += 1,
                        b']' => self.brackets = self.brackets.saturating_sub(1),
                        b'>' if self.brackets == 0 => self.end_event(),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// An event other than a tag ended: text follows.
    fn end_event(&mut self) {
        self.state = State::Text;
        self.event = 0;
    }

    /// A tag ended (its `>` was just read).
    fn end_tag(&mut self) {
        let tag_len = self.event;
        self.end_event();
        let head = &self.head[..self.head_len];
        let closing = head.first() == Some(&b'/');
        let self_closing = self.last[0] == b'/';
        let name_part = if closing { &head[1..] } else { head };
        let name_len = name_part
            .iter()
            .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
            .unwrap_or(name_part.len());
        let qname = &name_part[..name_len];
        let local = match memchr::memrchr(b':', qname) {
            Some(k) => &qname[k + 1..],
            None => qname,
        };
        let attrs = &name_part[name_len..];
        if !closing && local == b"row" {
            self.row = attr_r(attrs)
                .and_then(|r| std::str::from_utf8(r).ok()?.parse().ok())
                .unwrap_or(self.row + 1);
            self.column = 0;
        }
        let Some(element) = self.cell_element else {
            return;
        };
        if local != element {
            return;
        }
        if closing {
            self.cell = None;
            return;
        }
        self.cells += 1;
        if element == b"c" {
            match attr_r(attrs).and_then(cell_ref) {
                Some((row, column)) => {
                    self.row = row;
                    self.column = column;
                }
                None => self.column += 1,
            }
        }
        if !self_closing {
            // The start tag counts toward the cell.
            self.cell = Some(tag_len);
        }
    }
}

/// The value of attribute `r` among a tag's attribute bytes.
fn attr_r(attrs: &[u8]) -> Option<&[u8]> {
    crate::merges::attr(attrs, b"r")
}

/// `B7` → (7, 2), 1-based.
fn cell_ref(r: &[u8]) -> Option<(usize, usize)> {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let mut column = 0usize;
    for b in &r[..letters] {
        column = column * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let row = std::str::from_utf8(&r[letters..]).ok()?.parse().ok()?;
    Some((row, column))
}

/// Reads `r` to its end through `guard`, refusing past `max_bytes` inflated; `place` says where
/// the part is (entry and sheet) in an error.
pub(crate) fn drain(
    mut r: impl Read,
    guard: &mut XmlGuard,
    max_bytes: u64,
    place: &Place,
    mut also: impl FnMut(&[u8]) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let entry = place.entry.as_deref().unwrap_or("?");
                return Err(ReadError::Corrupt(format!("{entry}: {e}")));
            }
        };
        if guard.total + n as u64 > max_bytes {
            return Err(ReadError::Limit(LimitError {
                limit: Limit::EntryBytes(max_bytes),
                place: place.clone(),
            }));
        }
        guard
            .feed(&buf[..n])
            .map_err(|limit| ReadError::Limit(guard_error(guard, limit, place)))?;
        also(&buf[..n])?;
    }
}

/// The error for a limit the guard found, with the row, column or shared string it was in.
pub(crate) fn guard_error(guard: &XmlGuard, limit: Limit, place: &Place) -> LimitError {
    let mut place = place.clone();
    match guard.cell_element {
        Some(b"si") => place.shared_string = Some(guard.cells.max(1)),
        Some(_) => {
            place.row = (guard.row > 0).then_some(guard.row);
            place.column = (guard.column > 0).then_some(guard.column);
        }
        None => {}
    }
    LimitError { limit, place }
}

/// Whether a zip entry is read by calamine as XML.
fn is_xml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".xml") || lower.ends_with(".rels") || lower.ends_with(".vml")
}

/// Whether a zip entry is a worksheet part (or beside one), by its path.
fn under_worksheets(name: &str) -> bool {
    name.to_ascii_lowercase().contains("worksheets/")
}

/// Checks every entry of the workbook at `path` before calamine opens it: its declared size
/// against the limits, and the content of every XML part, inflated and counted — except the
/// worksheets that `merges::sheet_merges` will find (those are checked as they are scanned).
pub(crate) fn check_workbook(path: &Path, limits: &ReadLimits) -> Result<(), ReadError> {
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(File::open(path)?)) else {
        // Not readable as a zip here: calamine says why.
        return Ok(());
    };
    let mut entries = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let Ok(f) = zip.by_index_raw(i) else { continue };
        // A name that is not UTF-8 cannot be asked for by calamine, but its size is checked.
        let name = f
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let max = if under_worksheets(&name) {
            limits.max_sheet_bytes
        } else {
            limits.max_entry_bytes
        };
        if f.size() > max {
            return Err(ReadError::Limit(LimitError {
                limit: Limit::EntryBytes(max),
                place: Place {
                    entry: Some(name),
                    ..Place::default()
                },
            }));
        }
        entries.push((i, name, max));
    }
    let scan = |zip: &mut zip::ZipArchive<BufReader<File>>,
                i: usize,
                name: &str,
                max: u64|
     -> Result<(), ReadError> {
        let lower = name.to_ascii_lowercase();
        // Any part may be a sheet to calamine (its relationships say which): `c` elements
        // are cells wherever they are.
        let element: &'static [u8] = if lower.ends_with("sharedstrings.xml") {
            b"si"
        } else {
            b"c"
        };
        let place = Place {
            entry: Some(name.to_string()),
            ..Place::default()
        };
        let mut guard = XmlGuard::new(limits, Some(element));
        match zip.by_index(i) {
            Ok(file) => drain(file, &mut guard, max, &place, |_| Ok(())),
            // Encrypted, an unknown compression …: calamine reports it if it needs the part.
            Err(_) => Ok(()),
        }
    };
    for (i, name, max) in &entries {
        if is_xml(name) && !under_worksheets(name) {
            scan(&mut zip, *i, name, *max)?;
        }
    }
    // The parts naming the sheets are checked: find the worksheets the merge scan will read —
    // if calamine finds the workbook where that scan looks (`xl/workbook.xml`); otherwise
    // every worksheet is checked now.
    let standard = crate::merges::office_document(&mut zip)
        .is_some_and(|t| t.trim_start_matches('/') == "xl/workbook.xml");
    let found: HashSet<String> = if standard {
        crate::merges::sheet_parts(&mut zip)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, part)| part)
            .collect()
    } else {
        HashSet::new()
    };
    for (i, name, max) in &entries {
        if is_xml(name) && under_worksheets(name) && !found.contains(name) {
            scan(&mut zip, *i, name, *max)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cell: usize) -> ReadLimits {
        ReadLimits {
            max_cell_bytes: cell,
            ..ReadLimits::default()
        }
    }

    /// Feeds `xml` in pieces of `step` bytes.
    fn run(
        xml: &[u8],
        element: Option<&'static [u8]>,
        cell: usize,
        step: usize,
    ) -> Result<XmlGuard, Limit> {
        let mut g = XmlGuard::new(&limits(cell), element);
        for piece in xml.chunks(step) {
            g.feed(piece)?;
        }
        Ok(g)
    }

    #[test]
    fn an_ordinary_sheet_passes_and_its_cells_are_counted() {
        let xml = br#"<?xml version="1.0"?><!-- a > comment --><worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>&lt;x&gt;</t></is></c></row><row r="3"><c r="C3"/><c><v>2</v></c></row></sheetData><mergeCells><mergeCell ref="A1:B1"/></mergeCells></worksheet>"#;
        for step in [1, 2, 3, 7, 1000] {
            let g = run(xml, Some(b"c"), 64, step).unwrap();
            assert_eq!((g.row, g.column, g.cells), (3, 4, 4), "step {step}");
            assert_eq!(g.state, State::Text);
        }
    }

    #[test]
    fn long_heads_quotes_and_self_closing_tags_read_alike_in_any_split() {
        let long = "q>/".repeat(30);
        let xml = format!(
            r#"<worksheet><sheetData><row r="2" spans="{long}"><c s="1" x='a"b>' r="B2"><v>1</v></c><c r="D2" x="/"/><c x="{long}" r="F2"/></row><row><c t="s"><v>3</v></c></row></sheetData></worksheet>"#
        );
        for step in 1..=80 {
            let g = run(xml.as_bytes(), Some(b"c"), 4096, step).unwrap();
            assert_eq!((g.row, g.column, g.cells), (3, 1, 4), "step {step}");
            assert_eq!(g.state, State::Text, "step {step}");
            assert_eq!(g.cell, None, "step {step}");
        }
    }

    #[test]
    fn a_long_cell_is_refused_where_it_is_even_split_in_runs() {
        let mut xml = b"<worksheet><sheetData><row r=\"5\"><c r=\"A5\"><v>1</v></c><c r=\"D5\" t=\"inlineStr\"><is>".to_vec();
        for _ in 0..100 {
            xml.extend_from_slice(b"<r><t>0123456789</t></r>");
        }
        xml.extend_from_slice(b"</is></c></row></sheetData></worksheet>");
        for step in [1, 5, 4096] {
            let Err(limit) = run(&xml, Some(b"c"), 1000, step).map(|_| ()) else {
                panic!("not refused")
            };
            assert_eq!(limit, Limit::CellBytes(1000));
            let mut g = XmlGuard::new(&limits(1000), Some(b"c"));
            let _ = xml.chunks(step).try_for_each(|p| g.feed(p));
            assert_eq!((g.row, g.column), (5, 4));
        }
        // Big enough: read.
        run(&xml, Some(b"c"), 4000, 3).unwrap();
    }

    #[test]
    fn long_events_anywhere_are_refused() {
        let long = "x".repeat(2000);
        let cases = [
            format!("<a>{long}</a>"),
            format!("<a b=\"{long}>>>\"/>"),
            format!("<a b='>{long}'/>"),
            format!("<!--{long}-->"),
            format!("<a><![CDATA[<b>{long}]]></a>"),
            format!("<?pi {long}?>"),
            format!("<!DOCTYPE a [<!ENTITY e '{long}'>]>"),
        ];
        for xml in &cases {
            for step in [1, 3, 999] {
                assert_eq!(
                    run(xml.as_bytes(), None, 1000, step).map(|_| ()),
                    Err(Limit::CellBytes(1000)),
                    "{} step {step}",
                    &xml[..12]
                );
                run(xml.as_bytes(), None, 3000, step).unwrap();
            }
        }
        // Short events in a long part are fine.
        let many = "<a>xx</a><!-- c --><![CDATA[y]]>".repeat(10_000);
        run(many.as_bytes(), None, 16, 77).unwrap();
    }

    #[test]
    fn shared_strings_name_the_item() {
        let xml = format!(
            "<sst><si><t>a</t></si><si><t>b</t></si><si><t>{}</t></si></sst>",
            "y".repeat(500)
        );
        let mut g = XmlGuard::new(&limits(100), Some(b"si"));
        let limit = g.feed(xml.as_bytes()).unwrap_err();
        let e = guard_error(&g, limit, &Place::default());
        assert_eq!(e.place.shared_string, Some(3));
    }

    #[test]
    fn cell_references_read() {
        assert_eq!(cell_ref(b"B7"), Some((7, 2)));
        assert_eq!(cell_ref(b"xfd1048576"), Some((1_048_576, 16_384)));
        assert_eq!(cell_ref(b"7"), None);
        assert_eq!(attr_r(b" s=\"1\" r=\"C3\" t=\"s\""), Some(&b"C3"[..]));
        assert_eq!(attr_r(b" spans=\"1:3\""), None);
    }
}
