//! What the App published to the fake GitHub, read as a story: the check run it
//! completed, the comment it wrote or edited.

use crate::fake_github::Published;
use serde_json::Value;
use std::ops::Deref;

/// Published events, in order.
#[derive(Debug, Clone, Default)]
pub struct Events(pub Vec<Published>);

impl Deref for Events {
    type Target = [Published];
    fn deref(&self) -> &[Published] {
        &self.0
    }
}

impl From<Vec<Published>> for Events {
    fn from(v: Vec<Published>) -> Events {
        Events(v)
    }
}

/// Is this the completion of a check run?
pub fn is_completed(p: &Published) -> bool {
    matches!(
        p,
        Published::CheckRunUpdated {
            conclusion: Some(_),
            ..
        }
    )
}

/// The last completed check run among some events.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub head: String,
    pub conclusion: String,
    pub title: Option<String>,
    pub summary: Option<String>,
    /// Every annotation sent with any update among the events.
    pub annotations: Vec<Value>,
}

impl Events {
    /// The last completed check run; panics (listing the events) when there is none.
    pub fn check(&self) -> Check {
        let mut annotations = Vec::new();
        let mut last = None;
        for e in self.iter() {
            if let Published::CheckRunUpdated {
                head_sha,
                conclusion,
                title,
                summary,
                annotations: a,
                ..
            } = e
            {
                annotations.extend(a.iter().cloned());
                if let Some(c) = conclusion {
                    last = Some((head_sha.clone(), c.clone(), title.clone(), summary.clone()));
                }
            }
        }
        let (head, conclusion, title, summary) =
            last.unwrap_or_else(|| panic!("no completed check run: {self:#?}"));
        Check {
            head,
            conclusion,
            title,
            summary,
            annotations,
        }
    }

    /// The conclusion of the last completed check run.
    pub fn conclusion(&self) -> String {
        self.check().conclusion
    }

    /// The summary of the last completed check run that has one.
    pub fn summary(&self) -> String {
        self.iter()
            .rev()
            .find_map(|e| match e {
                Published::CheckRunUpdated {
                    conclusion: Some(_),
                    summary: Some(s),
                    ..
                } => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no completed check run: {self:#?}"))
    }

    /// Every completed check run: (head, conclusion, title).
    pub fn completions(&self) -> Vec<(String, String, Option<String>)> {
        self.iter()
            .filter_map(|e| match e {
                Published::CheckRunUpdated {
                    head_sha,
                    conclusion: Some(c),
                    title,
                    ..
                } => Some((head_sha.clone(), c.clone(), title.clone())),
                _ => None,
            })
            .collect()
    }

    /// The head SHAs of the check runs created.
    pub fn created_check_runs(&self) -> Vec<String> {
        self.iter()
            .filter_map(|e| match e {
                Published::CheckRunCreated { head_sha, .. } => Some(head_sha.clone()),
                _ => None,
            })
            .collect()
    }

    /// The comments created: (issue, id, body).
    pub fn comments_created(&self) -> Vec<(u64, u64, String)> {
        self.iter()
            .filter_map(|e| match e {
                Published::CommentCreated { issue, id, body } => Some((*issue, *id, body.clone())),
                _ => None,
            })
            .collect()
    }

    /// The body of the first comment created; panics when none was.
    pub fn comment_created(&self) -> String {
        self.comments_created()
            .into_iter()
            .next()
            .map(|(_, _, body)| body)
            .unwrap_or_else(|| panic!("no comment: {self:#?}"))
    }

    /// The new body of comment `id`, if it was edited.
    pub fn comment_edited(&self, id: u64) -> Option<String> {
        self.iter().find_map(|e| match e {
            Published::CommentEdited { id: i, body } if *i == id => Some(body.clone()),
            _ => None,
        })
    }
}

impl Extend<Published> for Events {
    fn extend<I: IntoIterator<Item = Published>>(&mut self, more: I) {
        self.0.extend(more);
    }
}
