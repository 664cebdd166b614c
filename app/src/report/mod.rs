//! Renderers: they format a `Review` and decide nothing.

mod escape;
mod markdown;
pub mod publication;
mod sarif;
mod terminal;

pub use escape::{code_span, fenced, inline};
pub use markdown::{COMMENT_MARKER, MAX_COMMENT_CHARS, render_markdown};
pub use sarif::render_sarif;
pub use terminal::render_terminal;

use crate::engine::Review;

/// The stable machine output (see the README for the schema).
pub fn render_json(review: &Review) -> String {
    serde_json::to_string_pretty(review).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
