//! "Did you mean …?" for names, attributes and keywords.

/// The candidate nearest to `word`, when it is near enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| {
            let score = strsim::jaro_winkler(&word_lower, &candidate.to_ascii_lowercase());
            (score, candidate)
        })
        .filter(|(score, candidate)| {
            *score >= 0.8
                || strsim::damerau_levenshtein(&word_lower, &candidate.to_ascii_lowercase()) <= 1.max(word.len() / 4)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn finds_typos_but_not_strangers() {
        let names = ["task-definition", "desired-count", "max-percent"];
        assert_eq!(nearest("task-defintion", names), Some("task-definition"));
        assert_eq!(nearest("desired", names), Some("desired-count"));
        assert_eq!(nearest("zzz", names), None);
        assert_eq!(nearest("tdd", ["td", "web"]), Some("td"));
    }
}
