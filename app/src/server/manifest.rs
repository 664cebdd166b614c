//! What the App's registration (`deploy/app-manifest.json`) must grant: the events the App
//! handles (`events::SUBSCRIBED_EVENTS`) and the permissions its GitHub calls need, and
//! nothing more.

use super::events::SUBSCRIBED_EVENTS;

/// Repository permissions the App's API calls need (`github::RepoClient`).
pub const API_PERMISSIONS: &[(&str, &str)] = &[
    // Contents API (lock files, manifests, the policy) and the compare API (merge groups).
    ("contents", "read"),
    // The sticky comment (issue comments of a pull request) and the pull request itself.
    ("pull_requests", "write"),
    // Check runs with annotations.
    ("checks", "write"),
    // Every App has it; GitHub adds it if missing.
    ("metadata", "read"),
];

/// The permissions the manifest must ask for: the API's, and at least `read` for each
/// subscribed event's permission.
pub fn required_permissions() -> std::collections::BTreeMap<&'static str, &'static str> {
    let mut out: std::collections::BTreeMap<_, _> = API_PERMISSIONS.iter().copied().collect();
    for (_, permission) in SUBSCRIBED_EVENTS {
        out.entry(*permission).or_insert("read");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn manifest() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/app-manifest.json");
        serde_json::from_slice(&std::fs::read(path).expect("deploy/app-manifest.json"))
            .expect("the manifest is JSON")
    }

    #[test]
    fn the_app_manifest_subscribes_to_the_events_the_app_handles_and_asks_for_no_more() {
        let m = manifest();
        let events: BTreeSet<&str> = m["default_events"]
            .as_array()
            .expect("default_events")
            .iter()
            .map(|e| e.as_str().expect("an event name"))
            .collect();
        let handled: BTreeSet<&str> = SUBSCRIBED_EVENTS.iter().map(|(e, _)| *e).collect();
        assert_eq!(events, handled, "deploy/app-manifest.json default_events");
        let permissions: BTreeMap<&str, &str> = m["default_permissions"]
            .as_object()
            .expect("default_permissions")
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().expect("a level")))
            .collect();
        assert_eq!(
            permissions,
            required_permissions(),
            "deploy/app-manifest.json default_permissions"
        );
        assert_eq!(m["hook_attributes"]["active"], true);
        assert!(
            m["hook_attributes"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/webhook"))
        );
    }

    #[test]
    fn merge_groups_need_the_merge_queues_permission() {
        assert_eq!(required_permissions().get("merge_queues"), Some(&"read"));
        assert_eq!(required_permissions().get("checks"), Some(&"write"));
    }
}
