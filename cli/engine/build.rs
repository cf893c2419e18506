//! Rebuilds when the built-in templates change: they are embedded with include_dir, which
//! does not tell cargo about files added to the directory.

fn main() {
    println!("cargo::rerun-if-changed=../../templates");
}
