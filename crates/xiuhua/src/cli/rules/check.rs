//! `xiuhua rules check`: check rule-set files without loading them.

use std::path::PathBuf;

use anyhow::{Context, bail};

use super::read;

/// Options of `xiuhua rules check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Prints `ok` or `FAIL` (with the reason) per file; fails if any file is refused.
pub(crate) fn run(a: &Args) -> anyhow::Result<()> {
    let mut bad = 0;
    let files = rule_files(&a.paths)?;
    for f in &files {
        match xiuhua_app::rules::check(&f.display().to_string(), &read(f)?) {
            Ok(set) => outln!(
                "ok   {} ({} v{}, {} items)",
                f.display(),
                set.def.id,
                set.def.version,
                set.items.len()
            ),
            Err(e) => {
                bad += 1;
                outln!("FAIL {}\n     {}\n     {e}", f.display(), e.to_zh());
            }
        }
    }
    if bad > 0 {
        bail!("{bad} of {} rule files refused", files.len());
    }
    Ok(())
}

/// The files named, with each directory replaced by its `.toml` files in name order.
fn rule_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
