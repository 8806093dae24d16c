//! The web app's files are embedded by `rust-embed` (src/api/app.rs), which
//! sees a changed file but not an added or removed one: rebuild when
//! anything under web/app/dist changes.
fn main() {
    println!("cargo:rerun-if-changed=../web/app/dist");
}
