//! Tidy checks on the crate's source: handlers call use cases, and the use cases record the
//! access log — no file under `src/` records an audit entry itself.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Calls of the access-log writers in a source text (a call through the module path, or through
/// a `use` of the function).
fn audit_calls(text: &str) -> Vec<String> {
    const WRITERS: &[&str] = &["record", "login_failed", "login_succeeded"];
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for w in WRITERS {
            let imported = code.contains("audit::") && code.contains("use ") && code.contains(w);
            if code.contains(&format!("audit::{w}(")) || imported {
                found.push(format!("line {}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_checker_finds_an_audit_call() {
    assert_eq!(
        audit_calls("    xiuhua_app::audit::record(&s, \"a\", x, \"\", \"\", \"\").await?;").len(),
        1
    );
    assert_eq!(
        audit_calls("use xiuhua_app::audit::{record, search};").len(),
        1
    );
    assert!(audit_calls("let rows = xiuhua_app::audit::search(&s, &u, &f).await?;").is_empty());
}

#[test]
fn no_handler_records_an_audit_entry() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 5, "no sources found under {}", src.display());
    let mut offenders = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for hit in audit_calls(&text) {
            offenders.push(format!("{}: {hit}", f.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "web handlers must leave audit entries to the xiuhua-app use cases \
         (add or extend a use case that records them):\n{}",
        offenders.join("\n")
    );
}
