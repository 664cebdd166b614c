//! Renderers: they format a `Review` and decide nothing. See `docs/reports.md`.

mod escape;
mod markdown;
pub mod publication;
mod sarif;
mod terminal;

pub use escape::{clean_block, clean_line, code_span, fenced, inline, text};
pub use markdown::{
    CHECK_SUMMARY_RESERVE, COMMENT_MARKER, CheckReport, MAX_COMMENT_CHARS, ReportContext, Subject,
    headline_text, render_check, render_markdown,
};
pub use sarif::render_sarif;
pub use terminal::{render_terminal, use_color};

use crate::engine::Review;

/// The stable machine output (see `docs/json.md` for the schema).
pub fn render_json(review: &Review) -> String {
    serde_json::to_string_pretty(review).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
