//! Generates a `Field` constant for every row of `data/fields.tsv` (the field catalogue), so
//! code that gives a field behaviour names it (`Field::HOUSING_SAFETY`) and a typo fails the
//! build. Everything else about a field is read from the same file at run time.

use std::fmt::Write;

fn main() {
    let path = "data/fields.tsv";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("data/fields.tsv");
    let mut out = String::from("impl Field {\n");
    let mut n = 0u16;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let name = line.split('\t').next().unwrap_or("");
        if line.starts_with("name\tlevel\t") {
            continue; // the column header
        }
        writeln!(
            out,
            "    /// `{name}` (row {n} of the field catalogue).\n    pub const {}: Field = Field({n});",
            name.to_ascii_uppercase()
        )
        .unwrap();
        n += 1;
    }
    writeln!(out, "    /// Number of rows in the shipped catalogue.\n    pub const SHIPPED_COUNT: u16 = {n};\n}}").unwrap();
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("field_ids.rs");
    std::fs::write(dest, out).unwrap();
}
