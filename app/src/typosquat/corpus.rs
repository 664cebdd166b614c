//! The list of popular crates shipped with lockwatch (`app/data/popular-crates.tsv`, see
//! `app/data/popular-crates.README.md` for its provenance).

use std::collections::HashSet;

const POPULAR_TSV: &str = include_str!("../../data/popular-crates.tsv");

/// How many of the most popular names are squatting targets (crates.io uses 3,000).
pub const TARGET_RANKS: usize = 3000;

/// Popular crate names: all of them exempt from flagging, the top ones targets.
#[derive(Debug, Clone)]
pub struct PopularCrates {
    /// Every listed name (exempt from being flagged).
    pub all: HashSet<String>,
    /// Names ranked 1..=TARGET_RANKS, most popular first (squatting targets).
    pub targets: Vec<String>,
}

impl PopularCrates {
    /// The list that ships with lockwatch.
    pub fn embedded() -> Self {
        Self::from_tsv(POPULAR_TSV)
    }

    /// Parse `name<TAB>downloads<TAB>rank<TAB>source` lines (header first).
    pub fn from_tsv(tsv: &str) -> Self {
        let mut rows: Vec<(usize, String)> = tsv
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split('\t');
                let name = cols.next()?.trim();
                let rank = cols.nth(1)?.trim().parse().ok()?;
                (!name.is_empty()).then(|| (rank, name.to_string()))
            })
            .collect();
        rows.sort();
        let all = rows.iter().map(|(_, n)| n.clone()).collect();
        let targets = rows
            .into_iter()
            .filter(|(rank, _)| *rank <= TARGET_RANKS)
            .map(|(_, n)| n)
            .collect();
        PopularCrates { all, targets }
    }

    /// A small list for tests.
    pub fn from_names(names: &[&str]) -> Self {
        PopularCrates {
            all: names.iter().map(|s| s.to_string()).collect(),
            targets: names.iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_loads() {
        let p = PopularCrates::embedded();
        assert!(p.all.len() > 5000, "{}", p.all.len());
        assert_eq!(p.targets.len(), TARGET_RANKS);
        assert_eq!(p.targets[0], "syn");
        assert!(p.all.contains("serde_json"));
    }
}
