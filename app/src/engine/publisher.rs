//! Who published the new version of an updated crate, and how, compared with the crate's
//! earlier releases (from the crates.io API, `registry/crates_io_api.rs`): `publisher-new`
//! and `trusted-publishing-dropped`. Pure: everything comes from [`CrateFacts`].

use super::facts::CrateFacts;
use crate::finding::{Code, Evidence, Finding};
use crate::lockfile::{Change, ChangeKind, SourceKind};
use crate::registry::crates_io_api::{PublishHistory, PublishedVersion, same_login};

/// Earlier publishers named in a `publisher-new` finding at most.
const SHOWN_PUBLISHERS: usize = 5;

/// Findings about the publication of one change's new version.
pub fn publisher_findings(path: &str, c: &Change, facts: &CrateFacts, out: &mut Vec<Finding>) {
    if c.kind != ChangeKind::Updated {
        return;
    }
    let (Some(old), Some(new)) = (&c.old, &c.new) else {
        return;
    };
    if old.source != SourceKind::CratesIo || new.source != SourceKind::CratesIo {
        return;
    }
    let Some(history) = facts.publishers.histories.get(&c.name) else {
        return;
    };
    let (old_v, new_v) = (old.version.to_string(), new.version.to_string());
    let Some(released) = history.version(&new_v) else {
        return;
    };
    let at = |f: Finding| {
        f.krate(c.name.clone(), Some(new_v.clone()))
            .at(path, c.line())
    };
    let earlier = history.earlier_than(released);
    if let Some(f) = new_publisher(&c.name, &new_v, released, &earlier, history) {
        out.push(at(f));
    }
    if let Some(f) =
        trusted_publishing_dropped(&c.name, &new_v, &old_v, released, &earlier, history)
    {
        out.push(at(f));
    }
}

/// The new version was published by an account that published none of the earlier
/// releases crates.io has a publisher for.
fn new_publisher(
    name: &str,
    version: &str,
    released: &PublishedVersion,
    earlier: &[&PublishedVersion],
    history: &PublishHistory,
) -> Option<Finding> {
    let login = released.publisher.as_deref()?;
    if released.trusted.is_some() {
        return None;
    }
    // Publishers of earlier releases, with how many each published, most first.
    let mut known: Vec<(&str, usize)> = Vec::new();
    for p in earlier.iter().filter_map(|e| e.publisher.as_deref()) {
        match known.iter_mut().find(|(k, _)| same_login(k, p)) {
            Some((_, n)) => *n += 1,
            None => known.push((p, 1)),
        }
    }
    if known.is_empty() || known.iter().any(|(k, _)| same_login(k, login)) {
        // Nothing to compare with (releases from before crates.io recorded publishers, or
        // only trusted publishing), or a known publisher.
        return None;
    }
    known.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let read = if history.complete {
        format!(
            "none of its {} earlier {}",
            earlier.len(),
            if earlier.len() == 1 {
                "release"
            } else {
                "releases"
            }
        )
    } else {
        format!(
            "none of the {} earlier releases read{}",
            earlier.len(),
            history
                .total
                .map(|t| format!(" (of {t})"))
                .unwrap_or_default()
        )
    };
    let shown: Vec<String> = known
        .iter()
        .take(SHOWN_PUBLISHERS)
        .map(|(k, n)| format!("`{k}` ({n})"))
        .collect();
    let mut f = Finding::new(
        Code::PublisherNew,
        format!(
            "`{name}` {version} was published by the crates.io account `{login}`, which published {read}; they were published by {}{}. A new owner, or an account added for this release, publishes like this: check that the project announced it",
            shown.join(", "),
            if known.len() > SHOWN_PUBLISHERS {
                format!(" and {} more", known.len() - SHOWN_PUBLISHERS)
            } else {
                String::new()
            }
        ),
    );
    f.evidence.push(Evidence {
        file: None,
        line: None,
        text: format!("https://crates.io/users/{login}"),
    });
    Some(f)
}

/// The release before the new one (or the old version) was published through trusted
/// publishing, the new one was not.
fn trusted_publishing_dropped(
    name: &str,
    version: &str,
    old_version: &str,
    released: &PublishedVersion,
    earlier: &[&PublishedVersion],
    history: &PublishHistory,
) -> Option<Finding> {
    if released.trusted.is_some() {
        return None;
    }
    // The newest earlier release (the one the new version follows), else the old version.
    let previous = earlier
        .iter()
        .copied()
        .max_by_key(|e| e.created_at)
        .filter(|e| e.trusted.is_some())
        .or_else(|| history.version(old_version).filter(|o| o.trusted.is_some()))?;
    let trusted = previous.trusted.as_ref()?;
    let by = released.publisher.as_deref().map_or_else(
        || "an API token (crates.io records no publisher)".to_owned(),
        |l| format!("the crates.io account `{l}` with an API token"),
    );
    let mut f = Finding::new(
        Code::TrustedPublishingDropped,
        format!(
            "`{name}` {version} was published by {by}, not through trusted publishing; {} was published through trusted publishing from {}. A stolen or leaked token publishes like this",
            previous.num,
            trusted.describe()
        ),
    );
    if let Some(url) = trusted.run_url() {
        f.evidence.push(Evidence {
            file: None,
            line: None,
            text: format!("{} was published by {url}", previous.num),
        });
    }
    Some(f)
}
