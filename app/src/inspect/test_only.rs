//! Code that only exists in the crate's own test build: `#[cfg(test)]` items (with `test` as
//! the condition or one of the conjuncts of `all(...)`) and `#[test]` functions. Cargo never
//! compiles them into a program that depends on the crate, so the run-time reach rules
//! (`super::runtime_reach`) do not read them: `security-framework`'s tests read a `PASSWORD`
//! variable and open a loopback socket, `hf-hub`'s read `HF_TOKEN` and call the API, and
//! neither is anything a user of the crate runs.
//!
//! Two parts: [`strip`] removes such items from a parsed file (modules, functions, impls and
//! their members, nested at any depth of modules and impls), and [`test_only_files`] finds
//! the files of out-of-line test modules (`#[cfg(test)] mod tests;`) from the text of their
//! parent, so those files are skipped too. `any(test, ...)` and `not(test)` are not test-only.

use std::collections::HashSet;

/// Is this attribute list test-only (`#[test]`, `#[cfg(test)]`, `#[cfg(all(.., test, ..))]`)?
pub(crate) fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if a.path().is_ident("test") {
            return true;
        }
        if !a.path().is_ident("cfg") {
            return false;
        }
        let Ok(meta) = a.parse_args::<syn::Meta>() else {
            return false;
        };
        cfg_requires_test(&meta)
    })
}

fn cfg_requires_test(meta: &syn::Meta) -> bool {
    match meta {
        syn::Meta::Path(p) => p.is_ident("test"),
        syn::Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|args| args.iter().any(cfg_requires_test)),
        _ => false,
    }
}

fn attrs_of(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn strip_items(items: &mut Vec<syn::Item>, depth: usize) {
    items.retain(|i| !is_test_only(attrs_of(i)));
    if depth > 64 {
        return;
    }
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &mut m.content {
                    strip_items(inner, depth + 1);
                }
            }
            syn::Item::Impl(i) => i.items.retain(|m| match m {
                syn::ImplItem::Fn(f) => !is_test_only(&f.attrs),
                syn::ImplItem::Const(c) => !is_test_only(&c.attrs),
                _ => true,
            }),
            syn::Item::Trait(t) => t.items.retain(|m| match m {
                syn::TraitItem::Fn(f) => !is_test_only(&f.attrs),
                _ => true,
            }),
            _ => {}
        }
    }
}

/// Remove the test-only items of a parsed file.
pub(crate) fn strip(file: &mut syn::File) {
    strip_items(&mut file.items, 0);
}

/// The files (paths in the archive, as `FileRecord::path`) that out-of-line test-only
/// modules of `path` would live in, read from its text: after a `#[cfg(test)]` or
/// `#[cfg(all(.., test, ..))]` line, the next line that is not an attribute or blank is
/// `mod NAME;` (with any visibility). Both `NAME.rs` and `NAME/mod.rs`, and the folder
/// `NAME/` (as a prefix ending in `/`) for the module's own children.
pub(crate) fn test_only_files(path: &str, text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let dir = module_dir(path);
    let mut armed = false;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with("#[") {
            if t.starts_with("#[cfg(") {
                armed = armed || cfg_line_requires_test(t);
            }
            continue;
        }
        if armed && let Some(name) = out_of_line_mod(t) {
            out.insert(format!("{dir}{name}.rs"));
            out.insert(format!("{dir}{name}/"));
        }
        armed = false;
    }
    out
}

fn cfg_line_requires_test(line: &str) -> bool {
    let Ok(attrs) = syn::parse_str::<syn::File>(&format!("{line} mod m {{}}")) else {
        return false;
    };
    attrs
        .items
        .first()
        .is_some_and(|i| is_test_only(attrs_of(i)))
}

/// `mod NAME;` / `pub(crate) mod NAME;` -> NAME.
fn out_of_line_mod(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("pub").map_or(line, |r| {
        let r = r.trim_start();
        match r.strip_prefix('(') {
            Some(inner) => inner.split_once(')').map_or(r, |(_, after)| after),
            None => r,
        }
    });
    let name = rest
        .trim_start()
        .strip_prefix("mod ")?
        .trim()
        .strip_suffix(';')?;
    let name = name.trim();
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
}

/// Where `path`'s child modules live: beside it for `lib.rs`, `main.rs` and `mod.rs`, in a
/// folder of its own name otherwise.
fn module_dir(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    match file {
        "lib.rs" | "main.rs" | "mod.rs" => prefix,
        other => format!("{prefix}{}/", other.trim_end_matches(".rs")),
    }
}

/// Is `path` inside one of the test-only files or folders?
pub(crate) fn is_in(path: &str, test_only: &HashSet<String>) -> bool {
    test_only.contains(path)
        || test_only
            .iter()
            .any(|p| p.ends_with('/') && path.starts_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<String> {
        let mut f = syn::parse_file(src).unwrap();
        strip(&mut f);
        f.items
            .iter()
            .filter_map(|i| match i {
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                syn::Item::Mod(m) => Some(format!(
                    "mod {} [{}]",
                    m.ident,
                    m.content
                        .as_ref()
                        .map(|(_, items)| items.len())
                        .unwrap_or(0)
                )),
                syn::Item::Impl(i) => Some(format!("impl [{}]", i.items.len())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn test_only_items_are_removed_at_any_depth() {
        let src = r#"
            pub fn kept() {}
            #[cfg(test)] mod tests { fn a() {} }
            #[test] fn t() {}
            #[cfg(all(test, unix))] fn both() {}
            #[cfg(any(test, feature = "x"))] fn either() {}
            #[cfg(not(test))] fn not_test() {}
            mod inner { pub fn k() {} #[cfg(test)] fn gone() {} }
            impl S { fn k() {} #[cfg(test)] fn gone() {} }
        "#;
        assert_eq!(
            names(src),
            ["kept", "either", "not_test", "mod inner [1]", "impl [1]"]
        );
    }

    #[test]
    fn out_of_line_test_modules_name_their_files() {
        let text = "mod a;\n#[cfg(test)]\nmod tests;\n#[cfg(all(test, feature = \"x\"))]\n#[allow(dead_code)]\npub(crate) mod helpers;\n#[cfg(any(test, doc))]\nmod docs;\n";
        let got = test_only_files("src/lib.rs", text);
        for want in [
            "src/tests.rs",
            "src/tests/",
            "src/helpers.rs",
            "src/helpers/",
        ] {
            assert!(got.contains(want), "{want} in {got:?}");
        }
        assert_eq!(got.len(), 4, "{got:?}");
        let nested = test_only_files("src/net/client.rs", "#[cfg(test)]\nmod t;\n");
        assert!(is_in("src/net/client/t.rs", &nested));
        assert!(is_in("src/net/client/t/mod.rs", &nested));
        assert!(!is_in("src/net/client.rs", &nested));
    }
}
