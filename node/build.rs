//! The web app's files are embedded by `rust-embed` (src/api/app.rs), which
//! sees a changed file but not an added or removed one. The list of files
//! under web/app/dist goes into an environment variable of the crate, so
//! adding or removing one rebuilds it.
use std::path::Path;

fn list(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            list(&e.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

fn main() {
    let dist = Path::new("../web/app/dist");
    println!("cargo:rerun-if-changed=../web/app/dist");
    let mut files = Vec::new();
    list(dist, "", &mut files);
    println!("cargo:rustc-env=ASSENT_APP_FILES={}", files.join(","));
}
