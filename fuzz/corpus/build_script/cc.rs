fn main() {
    println!("cargo:rerun-if-changed=src/native.c");
    let out = std::env::var("OUT_DIR").unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let v = std::process::Command::new(rustc).arg("--version").output();
    cc::Build::new().file("src/native.c").compile("native");
    println!("cargo:rustc-link-search=native={out}");
    let _ = v;
}
