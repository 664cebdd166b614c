//! What build-time code launches: the program given to `Command::new`, traced back to where
//! its value comes from, and whether that is a normal build tool.
//!
//! Cargo hands every build script the compiler to use (`RUSTC`, `RUSTC_WRAPPER`, ...), and
//! the most common build scripts run it (`rustc --version`), the C toolchain or `pkg-config`.
//! Those launches are [`Launch::BuildTool`]. A shell or an interpreter that runs a script the
//! package ships (`sh configure`, `perl crypto/aes.pl`), or a build tool at a path inside the
//! package, is [`Launch::PackageScript`]: what it runs is reviewable content of the package.
//! A shell or interpreter given inline code (`sh -c`, `perl -e`, `python -m`, a URL, stdin),
//! a downloader, any other program, a program whose name is assembled at run time, read from a
//! variable Cargo does not set (unless the variable is named after the build tool it falls
//! back to: `LLVM_CONFIG_PATH` or `llvm-config`), or read from anywhere this module cannot
//! follow, is [`Launch::Other`].
//!
//! The value of the program expression is followed through the syntax tree of one file:
//! string literals, `std::env::var`/`var_os` of a literal name, `let` bindings (also
//! `if let`, `match` arms, `for` loops and closure parameters of `map`/`and_then`/...),
//! assignments, conversions (`PathBuf::from`, `.into()`, `.unwrap_or_else(|| ..)`, ...),
//! `if`/`match` branches, and local helper functions (their return values, with their
//! parameters bound to the arguments of the call, or to the arguments of every call in the
//! file), and macros the file defines with `macro_rules!` whose rule takes one expression
//! (`otry!(env::var_os("RUSTC"))`). Anything else is an unknown source, which is never a
//! build tool. A binding that is changed in place (`push_str`, `&mut x`, `+=`) is unknown too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Lit, Pat, Token};

use super::archive::FileRecord;
use super::rust_source::macro_name;

/// Identifies a function body: where its `{` is.
pub(crate) type FnKey = (usize, usize);

/// The judgement of one `Command::new(..)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Launch {
    /// A normal build tool; says which.
    BuildTool(String),
    /// A shell or interpreter running a script the package ships, or a build tool at a path
    /// inside the package; says which and names the script.
    PackageScript(String),
    /// Anything else; says why.
    Other(String),
}

/// Where a program name may come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Source {
    Literal(String),
    /// An environment variable; a name with `{}` is a `format!` template.
    Env(String),
    Unknown(String),
}

/// How a name got its value inside one function.
#[derive(Clone, Copy)]
enum Binding<'f> {
    Expr(&'f Expr),
    Param(usize),
    Unknown(&'static str),
}

struct FnDef<'f> {
    /// Expressions the function returns: its tail and every `return`.
    returns: Vec<&'f Expr>,
    bindings: HashMap<String, Vec<Binding<'f>>>,
}

/// Functions, bindings and call sites of one parsed file.
#[derive(Default)]
pub(crate) struct LaunchIndex<'f> {
    fns: HashMap<FnKey, FnDef<'f>>,
    by_name: HashMap<String, Vec<FnKey>>,
    /// Local function name → `(caller, arguments)` of each call.
    calls: HashMap<String, Vec<(Option<FnKey>, &'f Punctuated<Expr, Token![,]>)>>,
    /// Names used as values or inside macro bodies (their callers are not all known).
    escaped: HashSet<String>,
    /// Other files can call this file's functions (`mod x;` children, `include!`).
    open: bool,
    consts: HashMap<String, &'f Expr>,
    /// `macro_rules!` macros of the file with one `$x:expr` rule: parameter and body;
    /// `None` when the name is defined more than once or otherwise.
    macros: HashMap<String, Option<(String, TokenStream)>>,
    /// Every string literal of the file (also inside macro bodies).
    literals: HashSet<String>,
    /// The file gives some process a standard input other than null or inherit: a shell or
    /// interpreter there may read its program from it.
    feeds_stdin: bool,
}

pub(crate) fn fn_key(block: &syn::Block) -> FnKey {
    let at = block.brace_token.span.open().start();
    (at.line, at.column)
}

fn pat_idents(p: &Pat, out: &mut Vec<String>) {
    match p {
        Pat::Ident(i) => {
            out.push(i.ident.to_string());
            if let Some((_, sub)) = &i.subpat {
                pat_idents(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| pat_idents(&f.pat, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::Or(o) => o.cases.iter().for_each(|e| pat_idents(e, out)),
        Pat::Reference(r) => pat_idents(&r.pat, out),
        Pat::Type(t) => pat_idents(&t.pat, out),
        Pat::Paren(p) => pat_idents(&p.pat, out),
        _ => {}
    }
}

/// The name a pattern binds the whole value or its `Some`/`Ok` content to.
fn unwrapped_name(p: &Pat) -> Option<String> {
    match p {
        Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
        Pat::TupleStruct(t)
            if t.elems.len() == 1
                && t.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Some" || s.ident == "Ok") =>
        {
            match &t.elems[0] {
                Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn single_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        Expr::Paren(p) => single_ident(&p.expr),
        _ => None,
    }
}

/// Methods that change a `String`/`OsString`/`PathBuf` in place.
const MUTATORS: &[&str] = &[
    "push",
    "push_str",
    "insert",
    "insert_str",
    "extend",
    "extend_from_slice",
    "set_file_name",
    "set_extension",
    "truncate",
    "replace_range",
    "clear",
    "as_mut_os_string",
    "as_mut_os_str",
    "as_mut_str",
    "as_mut_vec",
    "get_mut",
    "iter_mut",
    "retain",
    "drain",
    "reserve",
    "make_ascii_lowercase",
    "make_ascii_uppercase",
];

/// Collects the bindings of one function body (not of nested functions).
struct Bindings<'f> {
    map: HashMap<String, Vec<Binding<'f>>>,
    returns: Vec<&'f Expr>,
}

impl<'f> Bindings<'f> {
    fn bind(&mut self, pat: &'f Pat, b: Binding<'f>) {
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        for n in names {
            self.map.entry(n).or_default().push(b);
        }
    }

    fn taint(&mut self, name: String, why: &'static str) {
        self.map
            .entry(name)
            .or_default()
            .push(Binding::Unknown(why));
    }

    fn macro_body(&mut self, mac: &'f syn::Macro) {
        // The expressions of `println!`-style macros are visited like code; in any other
        // body, names that look assigned or changed in place are unknown.
        let is_rules = mac.path.is_ident("macro_rules");
        let parsed = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated);
        let assigned = match parsed {
            Ok(args) if !is_rules => {
                let mut names = NameUses::default();
                for a in &args {
                    names.visit_expr(a);
                }
                names.assigned
            }
            _ => assigned_in_tokens(mac.tokens.clone()),
        };
        for n in assigned {
            self.taint(n, "changed inside a macro");
        }
    }
}

/// Names that a token stream assigns (`x = ..`, `x += ..`), borrows mutably (`&mut x`) or
/// changes in place (`x.push(..)`).
fn assigned_in_tokens(tokens: proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tokens.into_iter().collect::<Vec<_>>()];
    while let Some(list) = stack.pop() {
        for (i, tt) in list.iter().enumerate() {
            match tt {
                TokenTree::Group(g) => stack.push(g.stream().into_iter().collect()),
                TokenTree::Ident(id) => {
                    let name = id.to_string();
                    let mut op = String::new();
                    for next in &list[i + 1..] {
                        match next {
                            TokenTree::Punct(p) => {
                                op.push(p.as_char());
                                if p.spacing() == proc_macro2::Spacing::Alone {
                                    break;
                                }
                            }
                            _ => break,
                        }
                    }
                    let assigns =
                        op.ends_with('=') && !matches!(op.as_str(), "==" | "<=" | ">=" | "!=");
                    let mutated = op == "."
                        && matches!(list.get(i + 2), Some(TokenTree::Ident(m)) if MUTATORS.contains(&m.to_string().as_str()));
                    let borrowed = i >= 2
                        && matches!(&list[i - 1], TokenTree::Ident(m) if m == "mut")
                        && matches!(&list[i - 2], TokenTree::Punct(p) if p.as_char() == '&');
                    if assigns || mutated || borrowed {
                        out.push(name);
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }
    out
}

/// Names assigned or changed in place in an expression (for macro bodies).
#[derive(Default)]
struct NameUses {
    assigned: Vec<String>,
}

impl<'ast> Visit<'ast> for NameUses {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        self.assigned.extend(single_ident(&a.left));
        visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        if is_compound_assign(&b.op) {
            self.assigned.extend(single_ident(&b.left));
        }
        visit::visit_expr_binary(self, b);
    }
    fn visit_expr_reference(&mut self, r: &'ast syn::ExprReference) {
        if r.mutability.is_some() {
            self.assigned.extend(single_ident(&r.expr));
        }
        visit::visit_expr_reference(self, r);
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if MUTATORS.contains(&m.method.to_string().as_str()) {
            self.assigned.extend(single_ident(&m.receiver));
        }
        visit::visit_expr_method_call(self, m);
    }
}

fn is_compound_assign(op: &syn::BinOp) -> bool {
    !matches!(
        op,
        syn::BinOp::Add(_)
            | syn::BinOp::Sub(_)
            | syn::BinOp::Mul(_)
            | syn::BinOp::Div(_)
            | syn::BinOp::Rem(_)
            | syn::BinOp::And(_)
            | syn::BinOp::Or(_)
            | syn::BinOp::BitXor(_)
            | syn::BinOp::BitAnd(_)
            | syn::BinOp::BitOr(_)
            | syn::BinOp::Shl(_)
            | syn::BinOp::Shr(_)
            | syn::BinOp::Eq(_)
            | syn::BinOp::Lt(_)
            | syn::BinOp::Le(_)
            | syn::BinOp::Ne(_)
            | syn::BinOp::Ge(_)
            | syn::BinOp::Gt(_)
    )
}

fn token_idents(tokens: proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tokens.into_iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(TokenTree::Ident(i)) => out.push(i.to_string()),
            Some(TokenTree::Group(g)) => stack.push(g.stream().into_iter()),
            Some(_) => {}
        }
    }
    out
}

impl<'f> Visit<'f> for Bindings<'f> {
    fn visit_item(&mut self, _: &'f syn::Item) {
        // Nested items have bindings of their own.
    }
    fn visit_local(&mut self, l: &'f syn::Local) {
        match &l.init {
            Some(init) => self.bind(&l.pat, Binding::Expr(&init.expr)),
            None => self.bind(&l.pat, Binding::Unknown("declared without a value")),
        }
        visit::visit_local(self, l);
    }
    fn visit_expr_let(&mut self, l: &'f syn::ExprLet) {
        self.bind(&l.pat, Binding::Expr(&l.expr));
        visit::visit_expr_let(self, l);
    }
    fn visit_expr_match(&mut self, m: &'f syn::ExprMatch) {
        for arm in &m.arms {
            self.bind(&arm.pat, Binding::Expr(&m.expr));
        }
        visit::visit_expr_match(self, m);
    }
    fn visit_expr_for_loop(&mut self, f: &'f syn::ExprForLoop) {
        self.bind(&f.pat, Binding::Expr(&f.expr));
        visit::visit_expr_for_loop(self, f);
    }
    fn visit_expr_assign(&mut self, a: &'f syn::ExprAssign) {
        if let Some(n) = single_ident(&a.left) {
            self.map.entry(n).or_default().push(Binding::Expr(&a.right));
        }
        visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'f syn::ExprBinary) {
        if is_compound_assign(&b.op)
            && let Some(n) = single_ident(&b.left)
        {
            self.taint(n, "changed with a compound assignment");
        }
        visit::visit_expr_binary(self, b);
    }
    fn visit_expr_reference(&mut self, r: &'f syn::ExprReference) {
        if r.mutability.is_some()
            && let Some(n) = single_ident(&r.expr)
        {
            self.taint(n, "borrowed mutably");
        }
        visit::visit_expr_reference(self, r);
    }
    fn visit_expr_method_call(&mut self, m: &'f syn::ExprMethodCall) {
        if MUTATORS.contains(&m.method.to_string().as_str())
            && let Some(n) = single_ident(&m.receiver)
        {
            self.taint(n, "changed in place");
        }
        self.visit_expr(&m.receiver);
        for a in &m.args {
            match a {
                // A closure passed to a method sees the receiver's values.
                Expr::Closure(c) => {
                    for p in &c.inputs {
                        self.bind(p, Binding::Expr(&m.receiver));
                    }
                    self.visit_expr(&c.body);
                }
                other => self.visit_expr(other),
            }
        }
    }
    fn visit_expr_closure(&mut self, c: &'f syn::ExprClosure) {
        for p in &c.inputs {
            self.bind(p, Binding::Unknown("a closure parameter"));
        }
        visit::visit_expr_closure(self, c);
    }
    fn visit_expr_return(&mut self, r: &'f syn::ExprReturn) {
        if let Some(e) = &r.expr {
            self.returns.push(e);
        }
        visit::visit_expr_return(self, r);
    }
    fn visit_macro(&mut self, mac: &'f syn::Macro) {
        self.macro_body(mac);
    }
}

fn fn_def<'f>(sig: &'f syn::Signature, block: &'f syn::Block) -> FnDef<'f> {
    let mut b = Bindings {
        map: HashMap::new(),
        returns: Vec::new(),
    };
    let mut index = 0;
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            b.bind(&t.pat, Binding::Param(index));
            index += 1;
        }
    }
    b.visit_block(block);
    if let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() {
        b.returns.push(tail);
    }
    FnDef {
        returns: b.returns,
        bindings: b.map,
    }
}

/// Builds the index: every function, every call of a local function by name.
struct Indexer<'i, 'f> {
    index: &'i mut LaunchIndex<'f>,
    current: Vec<FnKey>,
}

impl<'f> Indexer<'_, 'f> {
    fn add_fn(&mut self, name: String, sig: &'f syn::Signature, block: &'f syn::Block) {
        let key = fn_key(block);
        self.index.fns.insert(key, fn_def(sig, block));
        self.index.by_name.entry(name).or_default().push(key);
        self.current.push(key);
        self.visit_block(block);
        self.current.pop();
    }
}

impl<'f> Visit<'f> for Indexer<'_, 'f> {
    fn visit_item_fn(&mut self, f: &'f syn::ItemFn) {
        if !matches!(f.vis, syn::Visibility::Inherited) {
            self.index.escaped.insert(f.sig.ident.to_string());
        }
        self.add_fn(f.sig.ident.to_string(), &f.sig, &f.block);
    }
    fn visit_impl_item_fn(&mut self, f: &'f syn::ImplItemFn) {
        if !matches!(f.vis, syn::Visibility::Inherited) {
            self.index.escaped.insert(f.sig.ident.to_string());
        }
        self.add_fn(f.sig.ident.to_string(), &f.sig, &f.block);
    }
    fn visit_item_mod(&mut self, m: &'f syn::ItemMod) {
        // A child module in another file sees this file's private functions.
        if m.content.is_none() {
            self.index.open = true;
        }
        visit::visit_item_mod(self, m);
    }
    fn visit_trait_item_fn(&mut self, f: &'f syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.add_fn(f.sig.ident.to_string(), &f.sig, block);
        }
    }
    fn visit_item_const(&mut self, c: &'f syn::ItemConst) {
        self.index.consts.insert(c.ident.to_string(), &c.expr);
        visit::visit_item_const(self, c);
    }
    fn visit_item_static(&mut self, s: &'f syn::ItemStatic) {
        // A `static mut` can be changed anywhere: never followed.
        if matches!(s.mutability, syn::StaticMutability::None) {
            self.index.consts.insert(s.ident.to_string(), &s.expr);
        }
        visit::visit_item_static(self, s);
    }
    fn visit_expr_call(&mut self, c: &'f syn::ExprCall) {
        match single_ident(&c.func) {
            Some(name) => self
                .index
                .calls
                .entry(name)
                .or_default()
                .push((self.current.last().copied(), &c.args)),
            None => self.visit_expr(&c.func),
        }
        for a in &c.args {
            self.visit_expr(a);
        }
    }
    fn visit_expr_path(&mut self, p: &'f syn::ExprPath) {
        // Not in call position: the function may be called from anywhere.
        if let Some(last) = p.path.segments.last() {
            self.index.escaped.insert(last.ident.to_string());
        }
        visit::visit_expr_path(self, p);
    }
    fn visit_macro(&mut self, mac: &'f syn::Macro) {
        if mac.path.is_ident("include") {
            self.index.open = true;
        }
        self.index.escaped.extend(token_idents(mac.tokens.clone()));
        self.index
            .literals
            .extend(token_str_literals(mac.tokens.clone()));
    }
    fn visit_item_macro(&mut self, m: &'f syn::ItemMacro) {
        if let Some(name) = &m.ident
            && m.mac.path.is_ident("macro_rules")
        {
            let rule = single_expr_rule(m.mac.tokens.clone());
            self.index
                .macros
                .entry(name.to_string())
                .and_modify(|r| *r = None)
                .or_insert(rule);
        }
        visit::visit_item_macro(self, m);
    }
    fn visit_lit(&mut self, l: &'f Lit) {
        if let Lit::Str(s) = l {
            self.index.literals.insert(s.value());
        }
    }
    fn visit_expr_method_call(&mut self, m: &'f syn::ExprMethodCall) {
        if m.method == "stdin" {
            let harmless = m.args.first().is_some_and(|a| {
                let text = match a {
                    Expr::Call(c) => match &*c.func {
                        Expr::Path(p) => path_text(&p.path),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                text.ends_with("Stdio::null") || text.ends_with("Stdio::inherit")
            });
            if !harmless {
                self.index.feeds_stdin = true;
            }
        }
        visit::visit_expr_method_call(self, m);
    }
}

/// The string literals of a token stream.
fn token_str_literals(tokens: TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tokens.into_iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(TokenTree::Literal(l)) => {
                if let Lit::Str(s) = Lit::new(l) {
                    out.push(s.value());
                }
            }
            Some(TokenTree::Group(g)) => stack.push(g.stream().into_iter()),
            Some(_) => {}
        }
    }
    out
}

/// The rule of `macro_rules! name { ($x:expr) => { body } }` (one rule, one expression
/// parameter, an optional trailing `;`): the parameter's name and the body.
fn single_expr_rule(tokens: TokenStream) -> Option<(String, TokenStream)> {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let rule = match tts.as_slice() {
        [m, TokenTree::Punct(eq), TokenTree::Punct(gt), b]
        | [
            m,
            TokenTree::Punct(eq),
            TokenTree::Punct(gt),
            b,
            TokenTree::Punct(_),
        ] if eq.as_char() == '=' && gt.as_char() == '>' => (m, b),
        _ => return None,
    };
    let (TokenTree::Group(matcher), TokenTree::Group(body)) = rule else {
        return None;
    };
    let m: Vec<TokenTree> = matcher.stream().into_iter().collect();
    match m.as_slice() {
        [
            TokenTree::Punct(dollar),
            TokenTree::Ident(param),
            TokenTree::Punct(colon),
            TokenTree::Ident(frag),
        ] if dollar.as_char() == '$' && colon.as_char() == ':' && frag == "expr" => {
            Some((param.to_string(), body.stream()))
        }
        _ => None,
    }
}

/// `body` with `$param` replaced by `arg` (in parentheses, as the fragment is one expression).
fn substitute(body: TokenStream, param: &str, arg: &TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut it = body.into_iter().peekable();
    while let Some(tt) = it.next() {
        match tt {
            TokenTree::Punct(p)
                if p.as_char() == '$'
                    && matches!(it.peek(), Some(TokenTree::Ident(i)) if i == param) =>
            {
                it.next();
                out.push(TokenTree::Group(proc_macro2::Group::new(
                    proc_macro2::Delimiter::Parenthesis,
                    arg.clone(),
                )));
            }
            TokenTree::Group(g) => {
                let mut ng =
                    proc_macro2::Group::new(g.delimiter(), substitute(g.stream(), param, arg));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

impl<'f> LaunchIndex<'f> {
    pub(crate) fn new(file: &'f syn::File) -> Self {
        let mut index = LaunchIndex::default();
        Indexer {
            index: &mut index,
            current: Vec::new(),
        }
        .visit_file(file);
        index
    }

    /// Judges `Command::new(program)` inside the function `within`. `resolve` expands a
    /// path through the file's `use` declarations; `args` are the literal arguments the
    /// call chain passes (`.arg("x")`), `None` for a non-literal one, in order; `files` are
    /// the package's files (a script the package ships is reviewable content).
    pub(crate) fn judge(
        &self,
        program: &Expr,
        within: Option<FnKey>,
        resolve: &dyn Fn(&syn::Path) -> Vec<String>,
        args: &[Vec<Option<String>>],
        files: &BTreeMap<String, FileRecord>,
    ) -> Launch {
        let mut eval = Eval {
            index: self,
            resolve,
            visiting: HashSet::new(),
            steps: 0,
        };
        let scope = Scope { within, args: None };
        let mut sources = eval.origin(program, &scope, 0);
        sources.dedup();
        if sources.is_empty() {
            return Launch::Other("a program whose name could not be traced".to_owned());
        }
        let ctx = Ctx { index: self, files };
        let fallbacks: Vec<&str> = sources
            .iter()
            .filter_map(|s| match s {
                Source::Literal(p) => Some(p.as_str()),
                _ => None,
            })
            .collect();
        let mut tools: Vec<String> = Vec::new();
        let mut scripts: Vec<String> = Vec::new();
        let mut others: Vec<String> = Vec::new();
        for s in &sources {
            let class = match s {
                // `env::var("LLVM_CONFIG_PATH").unwrap_or("llvm-config")`: whoever runs the
                // build may name another `llvm-config`; the crate's own choice is the literal.
                Source::Env(name) if !is_toolchain_var(name) => {
                    match fallbacks.iter().find(|p| env_named_after(name, p)) {
                        Some(p) => match classify_literal(p, args, &ctx) {
                            Class::Tool(_) => Class::Tool(format!(
                                "the program in `{name}` (the builder's own `{p}`)"
                            )),
                            Class::Script(_) => Class::Script(format!(
                                "the program in `{name}` (the builder's own `{p}`)"
                            )),
                            other => other,
                        },
                        None => classify(s, args, &ctx),
                    }
                }
                _ => classify(s, args, &ctx),
            };
            match class {
                Class::Tool(t) => tools.push(t),
                Class::Script(t) => scripts.push(t),
                Class::Other(o) => others.push(o),
            }
        }
        dedup_keep_order(&mut tools);
        dedup_keep_order(&mut scripts);
        dedup_keep_order(&mut others);
        if !others.is_empty() {
            Launch::Other(others.join("; "))
        } else if !scripts.is_empty() {
            scripts.extend(tools);
            Launch::PackageScript(scripts.join(" or "))
        } else {
            Launch::BuildTool(tools.join(" or "))
        }
    }
}

/// What one possible program is.
enum Class {
    Tool(String),
    Script(String),
    Other(String),
}

/// What a judgement needs besides the program: the file's index and the package's files.
struct Ctx<'c, 'f> {
    index: &'c LaunchIndex<'f>,
    files: &'c BTreeMap<String, FileRecord>,
}

/// `LLVM_CONFIG_PATH` is named after `llvm-config`, `PG_CONFIG_{}` after `pg_config`,
/// `PERL_EXECUTABLE` after `perl`: the program's name, as whole `_`-separated words of the
/// variable's name.
fn env_named_after(var: &str, program: &str) -> bool {
    let (_, base) = program_base(program);
    let tool: Vec<String> = base
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = var
        .split('_')
        .filter(|w| !w.is_empty() && *w != "{}")
        .collect();
    !tool.is_empty()
        && tool.iter().map(String::len).sum::<usize>() >= 2
        && words
            .windows(tool.len())
            .any(|w| w.iter().zip(&tool).all(|(a, b)| *a == b.as_str()))
}

const MAX_ARG_LISTS: usize = 16;

impl<'f> LaunchIndex<'f> {
    /// The one value `name` is bound to in the function `within` (`let mut cmd =
    /// Command::new(..)`), ignoring in-place changes; `None` when it has none or several.
    pub(crate) fn single_binding(&self, name: &str, within: Option<FnKey>) -> Option<&'f Expr> {
        let def = self.fns.get(&within?)?;
        let mut found = None;
        for b in def.bindings.get(name)? {
            match b {
                Binding::Expr(e) if found.is_none() => found = Some(*e),
                Binding::Unknown(_) => {}
                _ => return None,
            }
        }
        found
    }
}

impl LaunchIndex<'_> {
    /// The argument lists `.args(expr)` may pass, traced like program names but keeping
    /// the order: array literals (`&["--prefix", name]`), `vec![..]`, `let` bindings and
    /// parameters of local functions. `None` when they cannot be followed.
    pub(crate) fn arg_lists(&self, e: &Expr, within: Option<FnKey>) -> Option<ArgLists> {
        self.lists(e, within, 0)
    }

    fn lists(&self, e: &Expr, within: Option<FnKey>, depth: usize) -> Option<ArgLists> {
        if depth > 8 {
            return None;
        }
        match e {
            Expr::Reference(r) => self.lists(&r.expr, within, depth + 1),
            Expr::Paren(p) => self.lists(&p.expr, within, depth + 1),
            Expr::Array(a) => Some(vec![a.elems.iter().map(literal_arg).collect()]),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let elems = m
                    .mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .ok()?;
                Some(vec![elems.iter().map(literal_arg).collect()])
            }
            Expr::MethodCall(m) if m.method == "as_ref" || m.method == "as_slice" => {
                self.lists(&m.receiver, within, depth + 1)
            }
            Expr::Path(_) => {
                let name = single_ident(e)?;
                let def = self.fns.get(&within?)?;
                let mut out: ArgLists = Vec::new();
                for b in def.bindings.get(&name)? {
                    let more = match *b {
                        Binding::Expr(x) => self.lists(x, within, depth + 1)?,
                        Binding::Unknown(_) => return None,
                        Binding::Param(i) => self.param_lists(within?, i, depth)?,
                    };
                    out.extend(more);
                    if out.len() > MAX_ARG_LISTS {
                        return None;
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }

    fn param_lists(&self, key: FnKey, i: usize, depth: usize) -> Option<ArgLists> {
        if self.open {
            return None;
        }
        let mut out: ArgLists = Vec::new();
        for (name, keys) in &self.by_name {
            if !keys.contains(&key) {
                continue;
            }
            if self.escaped.contains(name) {
                return None;
            }
            for (caller, args) in self.calls.get(name)? {
                out.extend(self.lists(args.iter().nth(i)?, *caller, depth + 1)?);
                if out.len() > MAX_ARG_LISTS {
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// A literal argument (`"x"`, `"x".as_ref()`, `OsStr::new("x")`), else `None`.
fn literal_arg(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        Expr::Reference(r) => literal_arg(&r.expr),
        Expr::Paren(p) => literal_arg(&p.expr),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "as_ref" | "into" | "to_string" | "to_owned" | "as_os_str"
            ) =>
        {
            literal_arg(&m.receiver)
        }
        Expr::Call(c) if c.args.len() == 1 => match &*c.func {
            Expr::Path(p)
                if path_text(&p.path).ends_with("::new")
                    || path_text(&p.path).ends_with("::from") =>
            {
                literal_arg(&c.args[0])
            }
            _ => None,
        },
        _ => None,
    }
}

fn dedup_keep_order(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

struct Scope {
    within: Option<FnKey>,
    /// The values of the parameters, when evaluating a call with known arguments.
    args: Option<Rc<Vec<Vec<Source>>>>,
}

struct Eval<'e, 'f> {
    index: &'e LaunchIndex<'f>,
    resolve: &'e dyn Fn(&syn::Path) -> Vec<String>,
    visiting: HashSet<(Option<FnKey>, String)>,
    steps: usize,
}

const MAX_DEPTH: usize = 40;
const MAX_STEPS: usize = 20_000;

/// Methods whose result holds the receiver's value.
const PASS_THROUGH: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_unchecked",
    "unwrap_or_default",
    "clone",
    "to_owned",
    "to_string",
    "into",
    "as_ref",
    "as_os_str",
    "as_path",
    "as_str",
    "ok",
    "err_or",
    "ok_or",
    "ok_or_else",
    "filter",
    "to_os_string",
    "into_os_string",
    "into_string",
    "as_deref",
    "iter",
    "into_iter",
    "next",
    "last",
    "first",
    "cloned",
    "copied",
    "by_ref",
    "borrow",
    "into_owned",
    "to_path_buf",
    "into_path_buf",
    "to_str",
    "to_string_lossy",
    "peekable",
    "rev",
    "trim",
    "find",
    "get",
];
/// Methods whose result is the receiver's value or their argument's.
const ALTERNATIVES: &[&str] = &[
    "unwrap_or",
    "unwrap_or_else",
    "or",
    "or_else",
    "chain",
    "map_or",
    "map_or_else",
    "get_or_insert",
    "get_or_insert_with",
];
/// Methods that transform the receiver with a closure or function.
const TRANSFORMS: &[&str] = &["map", "and_then", "filter_map", "flat_map", "find_map"];
/// Calls (last two path segments) that only convert their argument.
const CONVERSIONS: &[(&str, &str)] = &[
    ("PathBuf", "from"),
    ("OsString", "from"),
    ("String", "from"),
    ("Path", "new"),
    ("OsStr", "new"),
    ("iter", "once"),
    ("Cow", "from"),
    ("Cow", "Borrowed"),
    ("Cow", "Owned"),
    ("Box", "from"),
    ("Box", "new"),
    ("From", "from"),
    ("Into", "into"),
];

impl Eval<'_, '_> {
    fn unknown(why: impl Into<String>) -> Vec<Source> {
        vec![Source::Unknown(why.into())]
    }

    fn union(&mut self, exprs: &[&Expr], scope: &Scope, depth: usize) -> Vec<Source> {
        let mut out = Vec::new();
        for e in exprs {
            for s in self.origin(e, scope, depth) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }

    fn block_value(&mut self, b: &syn::Block, scope: &Scope, depth: usize) -> Vec<Source> {
        match b.stmts.last() {
            Some(syn::Stmt::Expr(tail, None)) => self.origin(tail, scope, depth),
            Some(syn::Stmt::Macro(m)) if m.semi_token.is_none() => {
                self.macro_value(&m.mac, scope, depth)
            }
            // No tail: the block diverges or is `()`; neither names a program.
            _ => Vec::new(),
        }
    }

    fn macro_value(&mut self, mac: &syn::Macro, scope: &Scope, depth: usize) -> Vec<Source> {
        let name = macro_name(mac);
        match name.as_str() {
            "format" | "concat" | "format_args" => {
                Self::unknown(format!("a name assembled at run time with `{name}!`"))
            }
            "env" | "option_env" => {
                Self::unknown("a name taken from the environment at compile time")
            }
            "panic" | "unreachable" | "todo" | "unimplemented" => Vec::new(),
            _ => match self.index.macros.get(&name) {
                Some(Some((param, body))) if mac.path.segments.len() == 1 => {
                    // A macro of this file: its body with the argument in place.
                    let expanded = substitute(body.clone(), param, &mac.tokens);
                    let block = TokenTree::Group(proc_macro2::Group::new(
                        proc_macro2::Delimiter::Brace,
                        expanded,
                    ));
                    match syn::parse2::<Expr>(block.into()) {
                        Ok(e) => self.origin(&e, scope, depth),
                        Err(_) => Self::unknown(format!("the result of the macro `{name}!`")),
                    }
                }
                _ => Self::unknown(format!("the result of the macro `{name}!`")),
            },
        }
    }

    fn origin(&mut self, e: &Expr, scope: &Scope, depth: usize) -> Vec<Source> {
        self.steps += 1;
        if depth > MAX_DEPTH || self.steps > MAX_STEPS {
            return Self::unknown("a value that passes through too many steps to follow");
        }
        let d = depth + 1;
        match e {
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => vec![Source::Literal(s.value())],
                _ => Self::unknown("a literal that is not a string"),
            },
            Expr::Reference(r) => self.origin(&r.expr, scope, d),
            Expr::Paren(p) => self.origin(&p.expr, scope, d),
            Expr::Group(g) => self.origin(&g.expr, scope, d),
            Expr::Try(t) => self.origin(&t.expr, scope, d),
            Expr::Cast(c) => self.origin(&c.expr, scope, d),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.origin(&u.expr, scope, d),
            Expr::Index(i) => self.origin(&i.expr, scope, d),
            Expr::Array(a) => {
                let elems: Vec<&Expr> = a.elems.iter().collect();
                self.union(&elems, scope, d)
            }
            Expr::Block(b) => self.block_value(&b.block, scope, d),
            Expr::Unsafe(u) => self.block_value(&u.block, scope, d),
            Expr::If(i) => {
                let mut out = self.block_value(&i.then_branch, scope, d);
                if let Some((_, other)) = &i.else_branch {
                    out.extend(self.origin(other, scope, d));
                }
                out
            }
            Expr::Match(m) => {
                let mut out = Vec::new();
                for arm in &m.arms {
                    // `Some(x) => x`: the arm's value is the scrutinee's (also when the match
                    // comes from a macro body, whose bindings the function does not list).
                    let values = match (single_ident(&arm.body), unwrapped_name(&arm.pat)) {
                        (Some(n), Some(b)) if n == b => self.origin(&m.expr, scope, d),
                        _ => self.origin(&arm.body, scope, d),
                    };
                    for v in values {
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                }
                out
            }
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => Vec::new(),
            Expr::Macro(m) => self.macro_value(&m.mac, scope, d),
            Expr::Path(p) => self.path_value(p, scope, d),
            Expr::Call(c) => self.call_value(c, scope, d),
            Expr::MethodCall(m) => self.method_value(m, scope, d),
            Expr::Field(_) => Self::unknown("a struct field"),
            Expr::Binary(_) => Self::unknown("a name assembled at run time"),
            _ => Self::unknown("an expression whose value was not followed"),
        }
    }

    fn path_value(&mut self, p: &syn::ExprPath, scope: &Scope, depth: usize) -> Vec<Source> {
        let single = p.qself.is_none() && p.path.segments.len() == 1;
        let Some(name) = single.then(|| p.path.segments[0].ident.to_string()) else {
            return Self::unknown(format!(
                "`{}`, whose value was not followed",
                path_text(&p.path)
            ));
        };
        if name == "None" {
            return Vec::new();
        }
        let def = scope.within.and_then(|k| self.index.fns.get(&k));
        if let Some(bindings) = def.and_then(|f| f.bindings.get(&name)) {
            let key = (scope.within, name.clone());
            if !self.visiting.insert(key.clone()) {
                // A cycle adds no value that is not reached another way.
                return Vec::new();
            }
            let mut out = Vec::new();
            for b in bindings.clone() {
                let values = match b {
                    Binding::Expr(e) => self.origin(e, scope, depth),
                    Binding::Unknown(why) => Self::unknown(format!("`{name}`, {why}")),
                    Binding::Param(i) => self.param_value(&name, i, scope, depth),
                };
                for v in values {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
            }
            self.visiting.remove(&key);
            return out;
        }
        if let Some(c) = self.index.consts.get(&name).copied() {
            let inner = Scope {
                within: None,
                args: None,
            };
            return self.origin(c, &inner, depth);
        }
        Self::unknown(format!("`{name}`, whose value was not followed"))
    }

    /// The values of parameter `i`: the arguments of this call when known, else of every
    /// call of the function in the file.
    fn param_value(&mut self, name: &str, i: usize, scope: &Scope, depth: usize) -> Vec<Source> {
        if let Some(args) = &scope.args {
            return args
                .get(i)
                .cloned()
                .unwrap_or_else(|| Self::unknown(format!("the parameter `{name}`")));
        }
        let Some(key) = scope.within else {
            return Self::unknown(format!("the parameter `{name}`"));
        };
        let fn_names: Vec<String> = self
            .index
            .by_name
            .iter()
            .filter(|(_, keys)| keys.contains(&key))
            .map(|(n, _)| n.clone())
            .collect();
        let mut out = Vec::new();
        for fn_name in fn_names {
            let sites = self.index.calls.get(&fn_name);
            let not_followed = if self.index.open {
                Some("which other files may call (this file has `mod x;` or `include!`)")
            } else if self.index.escaped.contains(&fn_name) {
                Some("which is public, used as a value or named in a macro")
            } else if sites.is_none() {
                Some("which is never called here")
            } else {
                None
            };
            if let Some(why) = not_followed {
                return Self::unknown(format!("the parameter `{name}` of `{fn_name}`, {why}"));
            }
            for (caller, args) in sites.cloned().unwrap_or_default() {
                let Some(arg) = args.iter().nth(i) else {
                    continue;
                };
                let caller_scope = Scope {
                    within: caller,
                    args: None,
                };
                for v in self.origin(arg, &caller_scope, depth) {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    fn call_value(&mut self, c: &syn::ExprCall, scope: &Scope, depth: usize) -> Vec<Source> {
        let Expr::Path(func) = &*c.func else {
            return Self::unknown("the result of a call");
        };
        let first = c.args.first();
        let resolved = (self.resolve)(&func.path);
        let segs: Vec<&str> = resolved.iter().map(String::as_str).collect();
        match segs.as_slice() {
            [.., "env", "var" | "var_os"] => {
                let Some(arg) = first else {
                    return Self::unknown("an environment variable");
                };
                return self.env_value(arg, scope, depth);
            }
            ["Some" | "Ok"] => {
                return first.map_or_else(Vec::new, |a| self.origin(a, scope, depth));
            }
            [.., a, b] if CONVERSIONS.contains(&(a, b)) => {
                return first.map_or_else(Vec::new, |a| self.origin(a, scope, depth));
            }
            _ => {}
        }
        if let Some(name) = single_ident(&c.func)
            && let Some(keys) = self.index.by_name.get(&name).cloned()
        {
            let args: Vec<Vec<Source>> = c
                .args
                .iter()
                .map(|a| self.origin(a, scope, depth))
                .collect();
            let args = Rc::new(args);
            let mut out = Vec::new();
            for key in keys {
                let visit_key = (Some(key), "<return>".to_owned());
                if !self.visiting.insert(visit_key.clone()) {
                    continue;
                }
                let returns = self
                    .index
                    .fns
                    .get(&key)
                    .map(|f| f.returns.clone())
                    .unwrap_or_default();
                let inner = Scope {
                    within: Some(key),
                    args: Some(args.clone()),
                };
                for v in self.union(&returns, &inner, depth) {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
                self.visiting.remove(&visit_key);
            }
            return out;
        }
        Self::unknown(format!("the result of `{}(..)`", path_text(&func.path)))
    }

    fn env_value(&mut self, name: &Expr, scope: &Scope, depth: usize) -> Vec<Source> {
        if let Expr::Macro(m) = name
            && m.mac.path.is_ident("format")
            && let Ok(args) = m
                .mac
                .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
            && let Some(Expr::Lit(syn::ExprLit {
                lit: Lit::Str(template),
                ..
            })) = args.first()
        {
            return vec![Source::Env(template_holes(&template.value()))];
        }
        match name {
            Expr::Reference(r) => return self.env_value(&r.expr, scope, depth + 1),
            Expr::Paren(p) => return self.env_value(&p.expr, scope, depth + 1),
            _ => {}
        }
        // `let name = format!("PG_CONFIG_{}", ..); env::var_os(&name)`: the template.
        let index = self.index;
        if depth < MAX_DEPTH
            && let Some(ident) = single_ident(name)
            && let Some(def) = scope.within.and_then(|k| index.fns.get(&k))
            && let Some([Binding::Expr(init)]) = def.bindings.get(&ident).map(Vec::as_slice)
            && let Expr::Macro(_) | Expr::Reference(_) = init
        {
            let init: &Expr = init;
            return self.env_value(init, scope, depth + 1);
        }
        self.origin(name, scope, depth)
            .into_iter()
            .map(|s| match s {
                Source::Literal(n) => Source::Env(n),
                _ => Source::Unknown("an environment variable whose name is computed".to_owned()),
            })
            .collect()
    }

    fn method_value(
        &mut self,
        m: &syn::ExprMethodCall,
        scope: &Scope,
        depth: usize,
    ) -> Vec<Source> {
        let method = m.method.to_string();
        if PASS_THROUGH.contains(&method.as_str()) {
            return self.origin(&m.receiver, scope, depth);
        }
        if ALTERNATIVES.contains(&method.as_str()) {
            let mut out = self.origin(&m.receiver, scope, depth);
            for a in &m.args {
                let values = match a {
                    Expr::Closure(c) => self.origin(&c.body, scope, depth),
                    other => self.origin(other, scope, depth),
                };
                out.extend(values);
            }
            return out;
        }
        if TRANSFORMS.contains(&method.as_str()) {
            return match m.args.first() {
                // Closure parameters are bound to the receiver (see `Bindings`).
                Some(Expr::Closure(c)) => self.origin(&c.body, scope, depth),
                Some(Expr::Path(p)) => {
                    let resolved = (self.resolve)(&p.path);
                    let segs: Vec<&str> = resolved.iter().map(String::as_str).collect();
                    match segs.as_slice() {
                        ["Some" | "Ok"] => self.origin(&m.receiver, scope, depth),
                        [.., a, b] if CONVERSIONS.contains(&(a, b)) => {
                            self.origin(&m.receiver, scope, depth)
                        }
                        _ => Self::unknown(format!(
                            "a value transformed by `{}`",
                            path_text(&p.path)
                        )),
                    }
                }
                _ => Self::unknown(format!("the result of `.{method}()`")),
            };
        }
        if method == "join" {
            return Self::unknown("a path assembled at run time with `.join()`");
        }
        Self::unknown(format!("the result of `.{method}()`"))
    }
}

fn path_text(p: &syn::Path) -> String {
    p.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// `CC_{target}` → `CC_{}`: the holes of a `format!` template, normalized.
fn template_holes(t: &str) -> String {
    let mut out = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' {
            if chars.peek() == Some(&'{') {
                chars.next();
                out.push('{');
                continue;
            }
            for n in chars.by_ref() {
                if n == '}' {
                    break;
                }
            }
            out.push_str("{}");
        } else if c == '}' && chars.peek() == Some(&'}') {
            chars.next();
            out.push('}');
        } else {
            out.push(c);
        }
    }
    out
}

/// Environment variables Cargo sets for build scripts that name a program.
const CARGO_PROGRAM_VARS: &[&str] = &[
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTDOC",
    "RUSTC_LINKER",
    "CARGO",
];
/// C toolchain variables (as the `cc` crate reads them, also `HOST_`/`TARGET_` prefixed,
/// `_{target}` suffixed and `CARGO_TARGET_{target}_` prefixed).
const TOOLCHAIN_VARS: &[&str] = &[
    "CC",
    "CXX",
    "AR",
    "RANLIB",
    "LD",
    "NM",
    "STRIP",
    "OBJCOPY",
    "AS",
    "CPP",
    "LINKER",
    "PKG_CONFIG",
];

fn is_toolchain_var(name: &str) -> bool {
    if CARGO_PROGRAM_VARS.contains(&name) {
        return true;
    }
    let name = name
        .strip_prefix("HOST_")
        .or_else(|| name.strip_prefix("TARGET_"))
        .unwrap_or(name);
    if TOOLCHAIN_VARS.contains(&name) {
        return true;
    }
    if let Some(rest) = name.strip_prefix("CARGO_TARGET_{}_") {
        return TOOLCHAIN_VARS.contains(&rest);
    }
    name.strip_suffix("_{}")
        .is_some_and(|base| TOOLCHAIN_VARS.contains(&base))
}

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "csh",
    "tcsh",
    "fish",
    "ash",
    "cmd",
    "powershell",
    "pwsh",
    "busybox",
    "env",
    "nohup",
    "xargs",
    "sudo",
    "su",
    "doas",
    "setsid",
    "start",
];
const NETWORK_TOOLS: &[&str] = &[
    "curl",
    "wget",
    "fetch",
    "aria2c",
    "scp",
    "sftp",
    "ssh",
    "rsync",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "ftp",
    "tftp",
    "telnet",
    "certutil",
    "bitsadmin",
    "invoke-webrequest",
];
const INTERPRETERS: &[&str] = &[
    "python",
    "py",
    "node",
    "nodejs",
    "deno",
    "bun",
    "perl",
    "ruby",
    "php",
    "lua",
    "luajit",
    "tclsh",
    "osascript",
    "wscript",
    "cscript",
    "mshta",
    "rundll32",
    "regsvr32",
    "java",
    "jshell",
    "awk",
    "gawk",
];
const PACKAGE_MANAGERS: &[&str] = &[
    "npm", "npx", "yarn", "pnpm", "pip", "pip3", "pipx", "gem", "apt", "apt-get", "yum", "dnf",
    "brew", "port", "choco", "winget", "rustup",
];
/// Programs that belong to a normal native build: compilers, archivers, build systems,
/// code generators, configuration probes and OS version queries.
const BUILD_TOOLS: &[&str] = &[
    // Rust
    "rustc",
    "cargo",
    "rustdoc",
    "rustfmt",
    "clippy-driver",
    // C toolchain
    "cc",
    "c++",
    "gcc",
    "g++",
    "clang",
    "clang++",
    "clang-cl",
    "cl",
    "ar",
    "ranlib",
    "ld",
    "lld",
    "ld.lld",
    "link",
    "lib",
    "nm",
    "objcopy",
    "objdump",
    "strip",
    "as",
    "nasm",
    "yasm",
    "windres",
    "rc",
    "dlltool",
    "lipo",
    "install_name_tool",
    "dsymutil",
    "emcc",
    "em++",
    "nvcc",
    "emar",
    "xcrun",
    "xcode-select",
    "libtool",
    // build systems
    "make",
    "gmake",
    "mingw32-make",
    "cmake",
    "ninja",
    "meson",
    "nmake",
    "msbuild",
    // code generators
    "protoc",
    "flatc",
    "bindgen",
    "capnp",
    // configuration probes
    "pkg-config",
    "pkgconf",
    "vcpkg",
    // read-only shell utilities
    "cat",
    "head",
    "tail",
    "ls",
    "echo",
    "true",
    "false",
    "pwd",
    "which",
    "where",
    // OS queries
    "uname",
    "sw_vers",
    "freebsd-version",
    "getconf",
];
/// Cross-toolchain programs (`x86_64-w64-mingw32-gcc`) end with one of these.
const CROSS_SUFFIXES: &[&str] = &[
    "-gcc", "-g++", "-cc", "-c++", "-clang", "-ar", "-ld", "-strip", "-objcopy", "-ranlib",
    "-windres", "-nm", "-as",
];
/// `git` subcommands that only read the repository.
const GIT_QUERIES: &[&str] = &[
    "rev-parse",
    "describe",
    "log",
    "show",
    "status",
    "rev-list",
    "ls-files",
    "diff",
    "tag",
];

/// The arguments a launch may get: one list per possibility, each holding the literal
/// arguments in order (`None` for one that is not a literal).
pub(crate) type ArgLists = Vec<Vec<Option<String>>>;

fn classify(s: &Source, args: &[Vec<Option<String>>], ctx: &Ctx<'_, '_>) -> Class {
    match s {
        Source::Literal(p) => classify_literal(p, args, ctx),
        Source::Env(name) if is_toolchain_var(name) => {
            Class::Tool(format!("the program in `{name}`"))
        }
        Source::Env(name) => Class::Other(format!(
            "a program named by the environment variable `{name}`, which Cargo does not set"
        )),
        Source::Unknown(why) => Class::Other(format!("a program taken from {why}")),
    }
}

/// The directory part (with its trailing separator) and the lower-case file name without a
/// Windows program extension: `./tools/NASM.exe` → (`./tools/`, `nasm`).
fn program_base(p: &str) -> (Option<&str>, String) {
    let (dir, file) = match p.rfind(['/', '\\']) {
        Some(i) => (Some(&p[..=i]), &p[i + 1..]),
        None => (None, p),
    };
    let lower = file.to_ascii_lowercase();
    let base = [".exe", ".bat", ".cmd", ".ps1"]
        .iter()
        .find_map(|ext| lower.strip_suffix(ext))
        .unwrap_or(&lower)
        .to_owned();
    (dir, base)
}

/// `name` or `name` followed by a version (`python3`, `perl5.36`).
fn is_named(base: &str, name: &str) -> bool {
    base == name
        || base
            .strip_prefix(name)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_system_dir(dir: Option<&str>) -> bool {
    matches!(dir, None | Some("/usr/bin/" | "/bin/" | "/usr/local/bin/"))
}

/// A relative path that stays inside the package (`./target/tools/nasm`, `scripts/gen`).
fn package_path(p: &str) -> Option<String> {
    let p = p.replace('\\', "/");
    let rel = p.trim_start_matches("./");
    let bad = rel.is_empty()
        || p.starts_with('/')
        || p.starts_with('~')
        || p.contains(['$', '%', ':'])
        || rel.split('/').any(|c| c == ".." || c.is_empty());
    (!bad).then(|| rel.to_owned())
}

fn classify_literal(p: &str, args: &[Vec<Option<String>>], ctx: &Ctx<'_, '_>) -> Class {
    let p = p.trim();
    let (dir, base) = program_base(p);
    if let Some(runner) = SCRIPT_RUNNERS.iter().find(|r| is_named(&base, r.name))
        && is_system_dir(dir)
    {
        return script_run(p, runner, args, ctx);
    }
    if dir.is_some()
        && let Some(rel) = package_path(p)
    {
        match ctx.files.get(&rel) {
            Some(f) if f.utf8 => {
                return Class::Script(format!("`{p}`, a program the package ships as text"));
            }
            Some(_) => return Class::Other(format!("`{p}`, a binary program the package ships")),
            None => {
                let file = p.rsplit(['/', '\\']).next().unwrap_or(p);
                if let Ok(t) = classify_program(file, args) {
                    return Class::Script(format!(
                        "`{p}`, {t} at a path inside the package (the package does not ship it: it exists only if the build makes it there)"
                    ));
                }
            }
        }
    }
    match classify_program(p, args) {
        Ok(t) => Class::Tool(t),
        Err(o) => Class::Other(o),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Shell,
    Perl,
    Python,
    Node,
    Ruby,
    Lua,
    Php,
}

/// A shell or interpreter that runs script files.
struct ScriptRunner {
    name: &'static str,
    family: Family,
    /// File name endings of its scripts.
    exts: &'static [&'static str],
}

const SCRIPT_RUNNERS: &[ScriptRunner] = &[
    ScriptRunner {
        name: "sh",
        family: Family::Shell,
        exts: &[".sh"],
    },
    ScriptRunner {
        name: "bash",
        family: Family::Shell,
        exts: &[".sh", ".bash"],
    },
    ScriptRunner {
        name: "dash",
        family: Family::Shell,
        exts: &[".sh"],
    },
    ScriptRunner {
        name: "ash",
        family: Family::Shell,
        exts: &[".sh"],
    },
    ScriptRunner {
        name: "ksh",
        family: Family::Shell,
        exts: &[".sh"],
    },
    ScriptRunner {
        name: "zsh",
        family: Family::Shell,
        exts: &[".sh", ".zsh"],
    },
    ScriptRunner {
        name: "perl",
        family: Family::Perl,
        exts: &[".pl", ".pm"],
    },
    ScriptRunner {
        name: "python",
        family: Family::Python,
        exts: &[".py"],
    },
    ScriptRunner {
        name: "py",
        family: Family::Python,
        exts: &[".py"],
    },
    ScriptRunner {
        name: "node",
        family: Family::Node,
        exts: &[".js", ".mjs", ".cjs"],
    },
    ScriptRunner {
        name: "ruby",
        family: Family::Ruby,
        exts: &[".rb"],
    },
    ScriptRunner {
        name: "lua",
        family: Family::Lua,
        exts: &[".lua"],
    },
    ScriptRunner {
        name: "php",
        family: Family::Php,
        exts: &[".php"],
    },
];

/// An argument that gives the runner its program inline, or from standard input, or runs an
/// installed module: `sh -c`, `bash -ec`, `perl -e`/`-ne`, `python -c`/`-m`, `node -e`, `-`.
fn is_inline_flag(family: Family, a: &str) -> bool {
    if a == "-" {
        return true;
    }
    if let Some(long) = a.strip_prefix("--") {
        return ["eval", "print", "command", "exec", "require", "encoded"]
            .iter()
            .any(|w| long.to_ascii_lowercase().starts_with(w));
    }
    let Some(cluster) = a.strip_prefix('-') else {
        return false;
    };
    let Some(first) = cluster.chars().next() else {
        return false;
    };
    // A short cluster of single-letter options (`-ec`, `-lne`); longer words are options of
    // other programs that happen to be in the file (`-Wconversion`, `-nostdlibinc`).
    let letters = cluster.len() <= 4 && cluster.chars().all(|c| c.is_ascii_alphabetic());
    match family {
        // Shell options take no attached values: `-ec`, `-lc`, `-s` (read stdin).
        Family::Shell => letters && cluster.contains(['c', 's']),
        // `-I`, `-M`, `-x`, ... take a value attached (`-Iinclude`); `-e`, `-pe`, `-lne` run
        // code (the code is the next argument, so `e` ends the cluster).
        Family::Perl => {
            (letters && !"IMmxCdDV".contains(first) && cluster.ends_with(['e', 'E']))
                || first == 'e'
                || first == 'E'
        }
        Family::Python => letters && !"WX".contains(first) && cluster.contains(['c', 'm']),
        Family::Node => "epr".contains(first),
        Family::Ruby => {
            first == 'e' || (letters && !"IrC".contains(first) && cluster.contains('e'))
        }
        Family::Lua => "el".contains(first),
        Family::Php => "rBRE".contains(first),
    }
}

/// A version query: `python3 -V`, `py -3 -V`, `perl --version`.
fn is_version_query(args: &[Option<String>]) -> bool {
    let flag = |a: &str| matches!(a, "-V" | "-v" | "--version" | "-version");
    // `py -3`: which installed version to use.
    let selector = |a: &str| {
        a.strip_prefix('-')
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    args.iter().any(|a| a.as_deref().is_some_and(flag))
        && args
            .iter()
            .all(|a| a.as_deref().is_some_and(|a| flag(a) || selector(a)))
}

/// Whether the package file is a text script of this runner: by its name, or by its `#!` line.
fn is_runner_script(runner: &ScriptRunner, path: &str, f: &FileRecord) -> bool {
    if !f.utf8 {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if runner.exts.iter().any(|e| name.ends_with(e)) {
        return true;
    }
    if runner.family == Family::Shell && name == "configure" {
        return true;
    }
    let first_line = f.head.split(|b| *b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    first_line.starts_with("#!")
        && first_line
            .split(['/', ' ', '\t'])
            .any(|w| is_named(w.trim(), runner.name))
}

/// A shell or interpreter: which script it runs decides.
fn script_run(
    p: &str,
    runner: &ScriptRunner,
    args: &[Vec<Option<String>>],
    ctx: &Ctx<'_, '_>,
) -> Class {
    let kind = if runner.family == Family::Shell {
        "a shell"
    } else {
        "an interpreter"
    };
    for a in args.iter().flatten().flatten() {
        if is_inline_flag(runner.family, a) {
            return Class::Other(format!(
                "`{p} {a}`, {kind} given its program inline or on standard input"
            ));
        }
        if a.contains("://") {
            return Class::Other(format!("`{p}`, {kind} given the URL `{a}`"));
        }
    }
    if !args.is_empty() && args.iter().all(|l| is_version_query(l)) {
        let shown: Vec<&str> = args[0].iter().flatten().map(String::as_str).collect();
        return Class::Tool(format!("`{p} {}` (a version query)", shown.join(" ")));
    }
    let mut scripts: Vec<String> = Vec::new();
    let mut untraced = args.is_empty();
    for list in args {
        // The script is the first argument that is not a literal option.
        match list
            .iter()
            .find(|a| !a.as_deref().is_some_and(|x| x.starts_with('-')))
        {
            Some(Some(lit)) => {
                let shipped =
                    package_path(lit).filter(|rel| ctx.files.get(rel).is_some_and(|f| f.utf8));
                match shipped {
                    Some(rel) => scripts.push(format!("`{rel}`, a script the package ships")),
                    None => {
                        return Class::Other(format!(
                            "`{p} {lit}`, {kind} running `{lit}`, which is not a text file of the package"
                        ));
                    }
                }
            }
            _ => untraced = true,
        }
    }
    if untraced {
        if ctx.index.feeds_stdin {
            return Class::Other(format!(
                "`{p}`, {kind}, in a file that writes to a program's standard input"
            ));
        }
        let mut flags: Vec<&String> = ctx
            .index
            .literals
            .iter()
            .filter(|a| is_inline_flag(runner.family, a))
            .collect();
        flags.sort();
        if let Some(flag) = flags.first() {
            return Class::Other(format!(
                "`{p}`, {kind}, in a file that also holds the inline-code option `{flag}`"
            ));
        }
        let shipped: Vec<&str> = ctx
            .files
            .iter()
            .filter(|(path, f)| is_runner_script(runner, path, f))
            .map(|(path, _)| path.as_str())
            .collect();
        if shipped.is_empty() {
            return Class::Other(format!(
                "`{p}`, {kind} whose script could not be traced, and the package ships no script for it"
            ));
        }
        // The scripts the file names (`"xed/mfile.py"`, `.join("configure")`) come first.
        let named = |path: &str| {
            let name = path.rsplit('/').next().unwrap_or(path);
            ctx.index
                .literals
                .iter()
                .any(|l| l == name || l.trim_start_matches("./").ends_with(path))
        };
        let (mut examples, others): (Vec<&str>, Vec<&str>) = shipped.iter().partition(|p| named(p));
        let how = if examples.is_empty() {
            "the package ships"
        } else {
            "the build script names"
        };
        examples.truncate(3);
        if examples.is_empty() {
            examples = others.into_iter().take(3).collect();
        }
        scripts.push(format!(
            "a script the build picks at run time ({how} {}{}; {} script(s) for it in the package)",
            examples.join(", "),
            if shipped.len() > examples.len() {
                ", ..."
            } else {
                ""
            },
            shipped.len(),
        ));
    }
    dedup_keep_order(&mut scripts);
    Class::Script(format!("`{p}` running {}", scripts.join(" or ")))
}

fn classify_program(p: &str, args: &[Vec<Option<String>>]) -> Result<String, String> {
    let p = p.trim();
    if p.is_empty() {
        return Err("an empty program name".to_owned());
    }
    let (dir, base) = program_base(p);
    let base = base.as_str();
    let starts = |list: &[&str]| {
        list.iter().any(|n| {
            base == *n
                || base
                    .strip_prefix(n)
                    .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
    };
    if starts(SHELLS) {
        return Err(format!("`{p}`, a shell or command runner"));
    }
    if starts(NETWORK_TOOLS) {
        return Err(format!("`{p}`, a downloader or network tool"));
    }
    if starts(INTERPRETERS) {
        return Err(format!("`{p}`, an interpreter"));
    }
    if starts(PACKAGE_MANAGERS) {
        // `brew --prefix openssl@3`: where a library is installed, like pkg-config.
        return all_args(args, package_query)
            .map(|q| format!("`{p} {q}` (a read-only query)"))
            .ok_or_else(|| format!("`{p}`, a package manager"));
    }
    let system_dir = matches!(dir, None | Some("/usr/bin/" | "/bin/" | "/usr/local/bin/"));
    if !system_dir {
        return Err(format!("the program at the path `{p}`"));
    }
    if base == "git" {
        return all_args(args, git_query).ok_or_else(|| {
            "`git` with arguments that are not a read-only query (it can fetch, or run configured commands)".to_owned()
        });
    }
    let known = BUILD_TOOLS.contains(&base)
        || base.starts_with("llvm-")
        || base.ends_with("-config")
        || base.ends_with("_config")
        || CROSS_SUFFIXES.iter().any(|s| base.ends_with(s))
        || ["gcc-", "clang-", "clang++-", "g++-"].iter().any(|v| {
            base.strip_prefix(v)
                .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == '.'))
        });
    if known {
        Ok(format!("`{p}`"))
    } else {
        Err(format!("`{p}`, which is not a known build tool"))
    }
}

/// `check` holds for every possible argument list; what it says when they all agree.
fn all_args(
    lists: &[Vec<Option<String>>],
    check: impl Fn(&[Option<String>]) -> Option<String>,
) -> Option<String> {
    let empty = [Vec::new()];
    let lists = if lists.is_empty() { &empty[..] } else { lists };
    let mut said: Vec<String> = Vec::new();
    for l in lists {
        let s = check(l)?;
        if !said.contains(&s) {
            said.push(s);
        }
    }
    Some(said.join(", "))
}

/// `brew --prefix NAME` and the like: the first argument is a literal query option.
fn package_query(args: &[Option<String>]) -> Option<String> {
    let first = args.first()?.as_deref()?;
    ["--prefix", "--cellar", "--version", "--repository"]
        .contains(&first)
        .then(|| first.to_owned())
}

/// `git <query>`: every argument before the subcommand is a literal option (or the value of
/// `-C`), and none of them sets configuration (`-c` can make git run commands).
/// `git submodule update --init` fetches the package's own submodules: it is what `-sys`
/// crates do when their vendored sources are missing (a git checkout of the crate); a
/// packaged crate is not a git checkout, and the URLs come from the package's files, not
/// from the build script.
fn git_query(args: &[Option<String>]) -> Option<String> {
    let mut expect_value = false;
    for a in args {
        if expect_value {
            expect_value = false;
            continue;
        }
        let a = a.as_deref()?;
        if a == "-c" || a.starts_with("--config") || a.starts_with("--exec-path") {
            return None;
        }
        if a == "-C" || a == "--git-dir" || a == "--work-tree" {
            expect_value = true;
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        if a == "submodule" {
            let rest: Option<Vec<&str>> = args
                .iter()
                .skip_while(|x| x.as_deref() != Some("submodule"))
                .skip(1)
                .map(|x| x.as_deref())
                .collect();
            let rest = rest?;
            let ok = matches!(rest.first(), Some(&("update" | "init" | "sync" | "status")))
                && rest.iter().all(|x| !x.contains("://") && !x.contains('@'));
            return ok.then(|| {
                format!(
                    "`git submodule {}` (the package's own submodules)",
                    rest.join(" ")
                )
            });
        }
        return GIT_QUERIES
            .contains(&a)
            .then(|| format!("`git {a}` (a read-only query)"));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::inspect::rust_source::{on_parser_thread, parse_file};

    /// Judges every `Command::new(..)` in `src`, in order.
    fn judge_all(src: &str) -> Vec<Launch> {
        judge_in_package(src, &[])
    }

    /// A package file for the judgements: path and text (`None`: a binary file).
    fn record(path: &str, text: Option<&str>) -> (String, FileRecord) {
        let bytes = text.map_or_else(
            || vec![0x7f, b'E', b'L', b'F', 0, 1],
            |t| t.as_bytes().to_vec(),
        );
        (
            path.to_owned(),
            FileRecord {
                path: path.to_owned(),
                size: bytes.len() as u64,
                head: bytes.clone(),
                content: Some(bytes),
                entropy: 4.0,
                utf8: text.is_some(),
            },
        )
    }

    /// Judges every `Command::new(..)` in `src`, a file of a package with these files.
    fn judge_in_package(src: &str, files: &[(&str, Option<&str>)]) -> Vec<Launch> {
        let src = src.to_owned();
        let files: BTreeMap<String, FileRecord> =
            files.iter().map(|(p, t)| record(p, *t)).collect();
        on_parser_thread(move || {
            let file = parse_file(&src, 100_000).unwrap();
            let index = LaunchIndex::new(&file);
            let mut finder = Finder {
                index: &index,
                current: Vec::new(),
                out: Vec::new(),
                files: &files,
            };
            finder.visit_file(&file);
            finder.out
        })
        .unwrap()
    }

    struct Finder<'i, 'f> {
        index: &'i LaunchIndex<'f>,
        current: Vec<FnKey>,
        out: Vec<Launch>,
        files: &'i BTreeMap<String, FileRecord>,
    }

    impl<'ast> Visit<'ast> for Finder<'_, '_> {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            self.current.push(fn_key(&f.block));
            visit::visit_item_fn(self, f);
            self.current.pop();
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            // `Command::new("git").arg(..)`: literal arguments of the chain, in order.
            let mut args = Vec::new();
            if m.method == "arg" {
                args.push(literal(m.args.first()));
            }
            let mut e: &Expr = &m.receiver;
            while let Expr::MethodCall(mc) = e {
                if mc.method == "arg" {
                    args.insert(0, literal(mc.args.first()));
                }
                e = &mc.receiver;
            }
            if let Expr::Call(c) = e
                && path_is_command_new(&c.func)
            {
                let within = self.current.last().copied();
                self.out.push(
                    self.index
                        .judge(&c.args[0], within, &resolve, &[args], self.files),
                );
                for a in &m.args {
                    self.visit_expr(a);
                }
                return;
            }
            visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if path_is_command_new(&c.func) {
                let within = self.current.last().copied();
                self.out.push(
                    self.index
                        .judge(&c.args[0], within, &resolve, &[], self.files),
                );
            }
            visit::visit_expr_call(self, c);
        }
    }

    fn literal(e: Option<&Expr>) -> Option<String> {
        match e? {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            _ => None,
        }
    }

    fn path_is_command_new(e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if path_text(&p.path).ends_with("Command::new"))
    }

    /// Test resolution: `var`/`var_os` are `std::env`'s, everything else as written.
    fn resolve(p: &syn::Path) -> Vec<String> {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        match segs.as_slice() {
            [one] if one == "var" || one == "var_os" => {
                vec!["std".into(), "env".into(), one.clone()]
            }
            _ => segs,
        }
    }

    fn tool(l: &Launch) -> bool {
        matches!(l, Launch::BuildTool(_))
    }

    #[test]
    fn compiler_probes_of_real_build_scripts_are_build_tools() {
        // Shapes copied from serde, proc-macro2, libc, rustversion, getrandom, crc32fast,
        // rustix and zerocopy build scripts.
        let src = r#"
fn serde() -> Option<u32> {
    let rustc = env::var_os("RUSTC")?;
    let output = Command::new(rustc).arg("--version").output().ok()?;
    None
}
fn proc_macro2() {
    let rustc = cargo_env_var("RUSTC");
    let rustc_wrapper = env::var_os("RUSTC_WRAPPER").filter(|wrapper| !wrapper.is_empty());
    let rustc_workspace_wrapper =
        env::var_os("RUSTC_WORKSPACE_WRAPPER").filter(|wrapper| !wrapper.is_empty());
    let mut rustc = rustc_wrapper
        .into_iter()
        .chain(rustc_workspace_wrapper)
        .chain(iter::once(rustc));
    let mut cmd = Command::new(rustc.next().unwrap());
    cmd.args(rustc);
}
fn cargo_env_var(key: &str) -> OsString {
    env::var_os(key).unwrap_or_else(|| {
        eprintln!("Environment variable ${} is not set during execution of build script", key);
        process::exit(1);
    })
}
fn libc(is_clippy_driver: bool) {
    let rustc = env::var_os("RUSTC").expect("Failed to get rustc version: missing RUSTC env");
    let mut cmd = match env::var_os("RUSTC_WRAPPER") {
        Some(ref wrapper) if wrapper.is_empty() => Command::new(rustc),
        Some(wrapper) => {
            let mut cmd = Command::new(wrapper);
            cmd.arg(rustc);
            cmd
        }
        None => Command::new(rustc),
    };
    let emcc = if cfg!(target_os = "windows") { "emcc.bat" } else { "emcc" };
    let output = Command::new(emcc).arg("-dumpversion").output().ok()?;
    let output = Command::new("freebsd-version").output().ok()?;
}
fn rustversion() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let rustc_wrapper = env::var_os("RUSTC_WRAPPER").filter(|wrapper| !wrapper.is_empty());
    let wrapped_rustc = rustc_wrapper.iter().chain(iter::once(&rustc));
    let mut wrapped_rustc = wrapped_rustc.clone();
    command = Command::new(wrapped_rustc.next().unwrap());
}
fn rustix() {
    let wrapper = var("RUSTC_WRAPPER")
        .ok()
        .and_then(|w| if w.is_empty() { None } else { Some(w) });
    let mut cmd = if let Some(wrapper) = wrapper {
        std::process::Command::new(wrapper)
    } else {
        std::process::Command::new(rustc)
    };
}
fn crc32fast() -> Option<()> {
    Command::new(env::var_os("RUSTC")?).arg("--version").output().ok()?;
    None
}
fn git_version() {
    let rev = Command::new("git").arg("rev-parse").arg("HEAD").output();
    let c = Command::new(format!("CARGO_TARGET_{}_STRIP", 1));
}
fn strip() -> Option<String> {
    let explicit = env::var(format!("CARGO_TARGET_{normalized_target}_STRIP"))
        .ok()
        .or_else(|| env::var("STRIP").ok());
    Command::new(explicit.unwrap()).arg("-x");
    None
}
"#;
        let got = judge_all(src);
        let verdicts: Vec<bool> = got.iter().map(tool).collect();
        // 9: the `rustix` function's `rustc` is not bound in that function (unknown);
        // 12: a program name made with `format!`.
        assert_eq!(
            verdicts,
            [
                true, true, true, true, true, true, true, true, true, false, true, true, false,
                true
            ],
            "{got:#?}"
        );
        assert_eq!(
            got[0],
            Launch::BuildTool("the program in `RUSTC`".to_owned())
        );
        assert_eq!(
            got[7],
            Launch::BuildTool(
                "the program in `RUSTC_WRAPPER` or the program in `RUSTC` or `rustc`".to_owned()
            )
        );
        assert_eq!(
            got[11],
            Launch::BuildTool("`git rev-parse` (a read-only query)".to_owned())
        );
    }

    #[test]
    fn shells_downloaders_interpreters_and_computed_names_are_not() {
        let src = r#"
const SHELL: &str = "sh";
fn main() {
    Command::new("sh").arg("-c").arg("id");
    Command::new("/bin/bash");
    Command::new("curl");
    Command::new("wget.exe");
    Command::new("python3");
    Command::new("perl5.36");
    Command::new("powershell");
    Command::new(SHELL);
    Command::new(format!("{}/x", env::var("OUT_DIR").unwrap()));
    Command::new(env::var("MY_TOOL").unwrap());
    let out = env::var("OUT_DIR").unwrap();
    Command::new(Path::new(&out).join("payload"));
    Command::new(std::fs::read_to_string("prog.txt").unwrap());
    Command::new("./target/tools/nasm");
    Command::new("mystery-tool");
    Command::new("git").arg("clone").arg("https://example.invalid/x");
    Command::new("git").arg("-c").arg("core.fsmonitor=sh").arg("status");
    let mut rustc = env::var("RUSTC").unwrap();
    rustc.push_str("/../../bin/sh");
    Command::new(rustc);
    let p = env::var_os("RUSTC").unwrap_or_else(|| "sh".into());
    Command::new(p);
    run("bash");
    Command::new(self.tool);
}
fn run(p: &str) {
    Command::new(p);
}
"#;
        let got = judge_all(src);
        assert_eq!(got.len(), 20, "{got:#?}");
        for (i, l) in got.iter().enumerate() {
            assert!(!tool(l), "launch {i} judged a build tool: {l:?}");
        }
        let text = |i: usize| match &got[i] {
            Launch::Other(why) => why.clone(),
            Launch::BuildTool(t) | Launch::PackageScript(t) => t.clone(),
        };
        assert!(text(0).contains("shell"), "{}", text(0));
        assert!(text(2).contains("downloader"), "{}", text(2));
        assert!(text(4).contains("interpreter"), "{}", text(4));
        assert!(text(8).contains("format!"), "{}", text(8));
        assert!(text(9).contains("MY_TOOL"), "{}", text(9));
        assert!(text(10).contains(".join()"), "{}", text(10));
        assert!(text(13).contains("not a known build tool"), "{}", text(13));
        assert!(text(16).contains("changed in place"), "{}", text(16));
        assert!(text(17).contains("shell"), "{}", text(17));
        assert!(text(18).contains("struct field"), "{}", text(18));
        assert!(text(19).contains("bash"), "{}", text(19));
    }

    fn script(l: &Launch) -> bool {
        matches!(l, Launch::PackageScript(_))
    }

    #[test]
    fn shells_and_interpreters_running_the_packages_scripts_are_package_scripts() {
        let files = [
            ("configure", Some("#!/bin/sh\necho configuring\n")),
            ("gen/tables.py", Some("print('x')\n")),
            ("tools/payload.sh", None),
            ("bin/tool", None),
        ];
        let src = r#"
fn main() {
    Command::new("sh").arg("configure").arg("--disable-cxx");
    Command::new("/bin/bash").arg("-e").arg("./configure");
    Command::new("python3").arg("-B").arg("gen/tables.py");
    Command::new("python3").arg("-V");
    Command::new("py").arg("-3");
    Command::new("./target/tools/nasm");
}
"#;
        let got = judge_in_package(src, &files);
        let verdicts: Vec<&str> = got
            .iter()
            .map(|l| match l {
                Launch::BuildTool(_) => "tool",
                Launch::PackageScript(_) => "script",
                Launch::Other(_) => "other",
            })
            .collect();
        assert_eq!(
            verdicts,
            ["script", "script", "script", "tool", "script", "script"],
            "{got:#?}"
        );
        assert_eq!(
            got[0],
            Launch::PackageScript(
                "`sh` running `configure`, a script the package ships".to_owned()
            )
        );
        assert_eq!(
            got[3],
            Launch::BuildTool("`python3 -V` (a version query)".to_owned())
        );
        let Launch::PackageScript(untraced) = &got[4] else {
            unreachable!()
        };
        assert!(untraced.contains("gen/tables.py"), "{untraced}");
        let Launch::PackageScript(nasm) = &got[5] else {
            unreachable!()
        };
        assert!(nasm.contains("does not ship it"), "{nasm}");
    }

    #[test]
    fn inline_code_urls_stdin_and_foreign_scripts_stay_processes() {
        let files = [
            ("configure", Some("#!/bin/sh\n")),
            ("gen.py", Some("print(1)\n")),
            ("payload.sh", None),
            ("bin/tool", None),
        ];
        for (line, why) in [
            (r#"Command::new("sh").arg("-c").arg("id");"#, "inline"),
            (
                r#"Command::new("bash").arg("-ec").arg("configure");"#,
                "inline",
            ),
            (r#"Command::new("sh").arg("-s");"#, "inline"),
            (
                r#"Command::new("perl").arg("-e").arg("print 1");"#,
                "inline",
            ),
            (
                r#"Command::new("perl").arg("-lne").arg("print");"#,
                "inline",
            ),
            (r#"Command::new("python3").arg("-m").arg("pip");"#, "inline"),
            (r#"Command::new("python3").arg("-");"#, "inline"),
            (r#"Command::new("node").arg("--eval").arg("1");"#, "inline"),
            (
                r#"Command::new("python3").arg("gen.py").arg("https://example.invalid/x");"#,
                "URL",
            ),
            (
                r#"Command::new("sh").arg("payload.sh");"#,
                "not a text file",
            ),
            (r#"Command::new("sh").arg("/tmp/x.sh");"#, "not a text file"),
            (
                r#"Command::new("sh").arg("../other/configure");"#,
                "not a text file",
            ),
            (r#"Command::new("ruby").arg(script());"#, "ships no script"),
            (r#"Command::new("./bin/tool");"#, "binary"),
            (r#"Command::new("./tools/payload");"#, "path"),
            (
                r#"Command::new("/usr/bin/env").arg("sh").arg("configure");"#,
                "command runner",
            ),
            (
                r#"Command::new("sh").stdin(Stdio::piped());"#,
                "standard input",
            ),
            (r#"Command::new("curl").arg("configure");"#, "downloader"),
        ] {
            let src = format!("fn main() {{\n    {line}\n}}\n");
            let got = judge_in_package(&src, &files);
            assert_eq!(got.len(), 1, "{line}");
            match &got[0] {
                Launch::Other(text) => assert!(text.contains(why), "{line}: {text}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        // An inline-code option anywhere in the file makes a script that cannot be traced
        // a process: the option may reach the launch.
        let src = r#"
fn main() {
    let flag = "-c";
    let mut cmd = Command::new("sh");
    cmd.arg(flag).arg(payload());
}
"#;
        let got = judge_in_package(src, &files);
        assert!(
            matches!(&got[0], Launch::Other(t) if t.contains("`-c`")),
            "{got:?}"
        );
    }

    #[test]
    fn a_variable_named_after_its_fallback_tool_is_the_builders_choice() {
        // Shapes of clang-sys, pq-sys and ring.
        let src = r#"
fn clang() {
    let path = env::var("LLVM_CONFIG_PATH").unwrap_or_else(|_| "llvm-config".into());
    Command::new(path);
}
fn pg_config_path() -> PathBuf {
    if let Ok(target) = env::var("TARGET") {
        let pg_config_for_target = &format!("PG_CONFIG_{}", target.to_ascii_uppercase());
        if let Some(pg_config_path) = env::var_os(pg_config_for_target) {
            let path = PathBuf::from(&pg_config_path);
            return path;
        }
    }
    PathBuf::from("pg_config")
}
fn pq() {
    Command::new(pg_config_path());
}
fn ring() {
    Command::new(get_command("PERL_EXECUTABLE", "perl"));
}
fn get_command(var: &'static str, default: &str) -> PathBuf {
    PathBuf::from(env::var_os(var).unwrap_or_else(|| default.into()))
}
fn not_named_after() {
    Command::new(env::var("SHELL").unwrap_or("cc".into()));
    Command::new(env::var("MY_TOOL").unwrap_or("llvm-config".into()));
    Command::new(env::var("CONFIG").unwrap_or("llvm-config".into()));
}
"#;
        let files = [("crypto/aes.pl", Some("print 1;\n"))];
        let got = judge_in_package(src, &files);
        assert_eq!(
            got[0],
            Launch::BuildTool(
                "the program in `LLVM_CONFIG_PATH` (the builder's own `llvm-config`) or `llvm-config`"
                    .to_owned()
            )
        );
        assert_eq!(
            got[1],
            Launch::BuildTool(
                "the program in `PG_CONFIG_{}` (the builder's own `pg_config`) or `pg_config`"
                    .to_owned()
            )
        );
        assert!(script(&got[2]), "{:?}", got[2]);
        for l in &got[3..] {
            assert!(
                matches!(l, Launch::Other(t) if t.contains("which Cargo does not set")),
                "{l:?}"
            );
        }
        assert!(env_named_after("PERL_EXECUTABLE", "perl"));
        assert!(!env_named_after("SHELL", "sh"));
        assert!(!env_named_after("PERLX", "perl"));
    }

    #[test]
    fn a_macro_of_the_file_around_the_compiler_probe_is_followed() {
        // libc 0.2.152's build script.
        let src = r#"
fn rustc_minor_nightly() -> (u32, bool) {
    macro_rules! otry {
        ($e:expr) => {
            match $e {
                Some(e) => e,
                None => return (0, false),
            }
        };
    }
    let rustc = otry!(env::var_os("RUSTC"));
    let output = Command::new(rustc).arg("--version").output().ok();
    let evil = otry!(Some(format!("{}/x", 1)));
    Command::new(evil);
}
macro_rules! two {
    ($e:expr) => { $e };
    ($e:expr, $f:expr) => { $f };
}
fn other() {
    Command::new(two!("sh", "cc"));
    Command::new(undefined!("cc"));
}
"#;
        let got = judge_all(src);
        assert_eq!(
            got[0],
            Launch::BuildTool("the program in `RUSTC`".to_owned())
        );
        for l in &got[1..] {
            assert!(!tool(l) && !script(l), "{l:?}");
        }
    }

    #[test]
    fn a_helper_used_as_a_value_is_not_followed() {
        let src = r#"
fn main() {
    ["cc"].iter().for_each(run);
    run("cc");
}
fn run(p: &str) {
    Command::new(p);
}
"#;
        let got = judge_all(src);
        assert_eq!(got.len(), 1);
        assert!(!tool(&got[0]), "{got:?}");
    }

    #[test]
    fn helpers_called_only_with_tools_are_followed() {
        let src = r#"
fn main() {
    run("pkg-config", &["--libs", "zlib"]);
    run("cc", &["-v"]);
}
fn run(p: &str, args: &[&str]) {
    Command::new(p).args(args);
}
"#;
        let got = judge_all(src);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], Launch::BuildTool("`pkg-config` or `cc`".to_owned()));
    }

    #[test]
    fn environment_variable_names() {
        for ok in [
            "RUSTC",
            "RUSTC_WRAPPER",
            "CARGO",
            "CC",
            "TARGET_CXX",
            "AR_{}",
            "CARGO_TARGET_{}_LINKER",
            "PKG_CONFIG",
        ] {
            assert!(is_toolchain_var(ok), "{ok}");
        }
        for bad in [
            "MY_TOOL",
            "PATH",
            "SHELL",
            "{}",
            "CARGO_TARGET_{}_RUNNER",
            "HOME",
        ] {
            assert!(!is_toolchain_var(bad), "{bad}");
        }
        assert_eq!(template_holes("CC_{target}"), "CC_{}");
        assert_eq!(template_holes("A{{B}}{}"), "A{B}{}");
    }
}
