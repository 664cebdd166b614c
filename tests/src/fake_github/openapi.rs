//! Checks requests against GitHub's own OpenAPI description (the subset lockwatch uses):
//! operation (method + path template), parameters, and the JSON body schema.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Param { name: String, multi: bool },
}

/// One operation of the description.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: String,
    pub template: String,
    pub id: String,
    segs: Vec<Seg>,
    params: Vec<Value>,
    body: Option<(Value, bool)>,
}

/// The loaded description.
pub struct Spec {
    doc: Value,
    ops: Vec<Op>,
}

/// Path of the copied description.
pub fn spec_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/github/openapi-subset.json")
}

impl Spec {
    pub fn load() -> Spec {
        let text = std::fs::read(spec_path()).expect("read openapi-subset.json");
        let doc: Value = serde_json::from_slice(&text).expect("openapi JSON");
        let mut ops = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("paths") {
            let shared: Vec<Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for method in ["get", "post", "patch", "put", "delete"] {
                let Some(op) = item.get(method) else { continue };
                let mut params: Vec<Value> = shared.clone();
                params.extend(
                    op.get("parameters")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
                let params: Vec<Value> = params.iter().map(|p| resolve(&doc, p).clone()).collect();
                let multi = |name: &str| {
                    params
                        .iter()
                        .any(|p| p["name"] == name && p["x-multi-segment"] == true)
                };
                let segs = template
                    .trim_start_matches('/')
                    .split('/')
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Seg::Param {
                                name: name.to_string(),
                                multi: multi(name),
                            },
                            None => Seg::Lit(s.to_string()),
                        },
                    )
                    .collect();
                let body = op.get("requestBody").map(|rb| {
                    let rb = resolve(&doc, rb);
                    (
                        rb["content"]["application/json"]["schema"].clone(),
                        rb["required"] == true,
                    )
                });
                ops.push(Op {
                    method: method.to_uppercase(),
                    template: template.clone(),
                    id: op["operationId"].as_str().unwrap_or_default().to_string(),
                    segs,
                    params,
                    body,
                });
            }
        }
        Spec { doc, ops }
    }

    /// The operation for a request, with its path parameters.
    pub fn find(&self, method: &str, path: &str) -> Option<(&Op, HashMap<String, String>)> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.ops
            .iter()
            .filter(|o| o.method == method)
            .find_map(|o| {
                let mut out = HashMap::new();
                match_segs(&o.segs, &parts, &mut out).then_some((o, out))
            })
    }

    /// Every way the request breaks the description.
    pub fn validate(
        &self,
        op: &Op,
        path_params: &HashMap<String, String>,
        query: &HashMap<String, String>,
        body: &[u8],
    ) -> Vec<String> {
        let mut errs = Vec::new();
        for p in &op.params {
            let name = p["name"].as_str().unwrap_or_default();
            let value = match p["in"].as_str() {
                Some("path") => path_params.get(name),
                Some("query") => query.get(name),
                _ => continue,
            };
            match value {
                None if p["required"] == true => {
                    errs.push(format!("missing required parameter {name}"))
                }
                None => {}
                Some(v) => {
                    let schema = resolve(&self.doc, &p["schema"]);
                    match schema["type"].as_str() {
                        Some("integer") if v.parse::<i64>().is_err() => {
                            errs.push(format!("parameter {name}={v} is not an integer"))
                        }
                        _ => {}
                    }
                    if let Some(e) = schema["enum"].as_array() {
                        if !e.iter().any(|x| x == v.as_str()) {
                            errs.push(format!("parameter {name}={v} is not one of {e:?}"));
                        }
                    }
                    if name == "per_page" && v.parse::<i64>().is_ok_and(|n| !(1..=100).contains(&n))
                    {
                        errs.push(format!("per_page={v} is outside 1..=100"));
                    }
                }
            }
        }
        for k in query.keys() {
            if !op
                .params
                .iter()
                .any(|p| p["in"] == "query" && p["name"] == k.as_str())
            {
                errs.push(format!("unknown query parameter {k}"));
            }
        }
        match &op.body {
            Some((schema, required)) => {
                if body.is_empty() {
                    if *required {
                        errs.push("request body is required".into());
                    }
                } else {
                    match serde_json::from_slice::<Value>(body) {
                        Ok(v) => self.check(schema, &v, "body", &mut errs),
                        Err(e) => errs.push(format!("body is not JSON: {e}")),
                    }
                }
            }
            None if !body.is_empty() => errs.push("this operation takes no body".into()),
            None => {}
        }
        errs
    }

    /// The subset of JSON Schema (OpenAPI 3.0 flavour) GitHub's request bodies use.
    pub fn check(&self, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
        let s = resolve(&self.doc, schema);
        if v.is_null() && s["nullable"] == true {
            return;
        }
        if let Some(all) = s["allOf"].as_array() {
            for sub in all {
                self.check(sub, v, at, errs);
            }
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            if let Some(alts) = s[key].as_array() {
                let passing = alts
                    .iter()
                    .filter(|sub| {
                        let mut e = Vec::new();
                        self.check(sub, v, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                if passing == 0 || (exactly_one && passing != 1) {
                    errs.push(format!("{at}: matches {passing} of the {key} alternatives"));
                }
            }
        }
        if let Some(t) = s["type"].as_str() {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                _ => true,
            };
            if !ok {
                errs.push(format!("{at}: expected {t}, got {v}"));
                return;
            }
        }
        if let Some(e) = s["enum"].as_array() {
            if !e.contains(v) {
                errs.push(format!("{at}: {v} is not one of {e:?}"));
            }
        }
        if let (Some(max), Some(text)) = (s["maxLength"].as_u64(), v.as_str()) {
            if text.chars().count() as u64 > max {
                errs.push(format!("{at}: longer than {max} characters"));
            }
        }
        if let (Some(max), Some(items)) = (s["maxItems"].as_u64(), v.as_array()) {
            if items.len() as u64 > max {
                errs.push(format!("{at}: more than {max} items"));
            }
        }
        if let (Some(req), Some(obj)) = (s["required"].as_array(), v.as_object()) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errs.push(format!("{at}: missing required property {r}"));
                }
            }
        }
        if let (Some(props), Some(obj)) = (s["properties"].as_object(), v.as_object()) {
            for (k, val) in obj {
                if let Some(ps) = props.get(k) {
                    self.check(ps, val, &format!("{at}.{k}"), errs);
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                self.check(items, x, &format!("{at}[{i}]"), errs);
            }
        }
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut cur = doc;
            for part in r.trim_start_matches("#/").split('/') {
                cur = &cur[part];
            }
            resolve(doc, cur)
        }
        None => v,
    }
}

fn match_segs(segs: &[Seg], parts: &[&str], out: &mut HashMap<String, String>) -> bool {
    match (segs.first(), parts.first()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(Seg::Lit(l)), Some(p)) => l == p && match_segs(&segs[1..], &parts[1..], out),
        (Some(Seg::Param { name, multi: false }), Some(p)) => {
            !p.is_empty() && {
                out.insert(name.clone(), (*p).to_string());
                match_segs(&segs[1..], &parts[1..], out)
            }
        }
        (Some(Seg::Param { name, multi: true }), Some(_)) => {
            // Greedy: take as many segments as leave a match for the rest.
            for take in (1..=parts.len()).rev() {
                let mut trial = out.clone();
                trial.insert(name.clone(), parts[..take].join("/"));
                if match_segs(&segs[1..], &parts[take..], &mut trial) {
                    *out = trial;
                    return true;
                }
            }
            false
        }
    }
}
