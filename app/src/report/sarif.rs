//! SARIF 2.1.0, with results on the `Cargo.lock` line of each package.

use crate::engine::{Code, Level, Review};
use serde_json::{Value, json};

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    }
}

/// Render a SARIF log with one run.
pub fn render_sarif(review: &Review) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": { "text": c.description() },
                "defaultConfiguration": { "level": sarif_level(c.default_level()) },
                "helpUri": format!("https://github.com/lockwatch/lockwatch#{}", c.as_str()),
            })
        })
        .collect();
    let fallback = review
        .lockfiles
        .first()
        .map(|l| l.path.clone())
        .unwrap_or_else(|| "Cargo.lock".into());
    let results: Vec<Value> = review
        .findings
        .iter()
        .map(|f| {
            let index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
            let uri = f.lockfile.clone().unwrap_or_else(|| fallback.clone());
            let mut result = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": index,
                "level": sarif_level(f.level),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": { "startLine": f.line.unwrap_or(1).max(1) }
                    }
                }],
                "partialFingerprints": {
                    "lockwatch/v1": format!("{}:{}:{}:{}", f.code, f.krate.as_deref().unwrap_or(""), f.version.as_deref().unwrap_or(""), f.advisory.as_ref().map(|a| a.id.as_str()).unwrap_or(""))
                },
            });
            if let Some(a) = &f.advisory {
                result["properties"] = json!({ "advisory": a.id, "status": a.status, "url": a.url });
            }
            if f.level == Level::Allow {
                result["suppressions"] = json!([{ "kind": "external", "justification": f.policy_note.clone().unwrap_or_default() }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "lockwatch",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/lockwatch/lockwatch",
                "rules": rules,
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}
