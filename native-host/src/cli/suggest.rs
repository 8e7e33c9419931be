//! "Did you mean": the known word nearest to a mistyped one, as cargo and git offer it.

/// The candidate nearest to `typed`, if one is near enough to be what was meant: at most one
/// edit for words of up to four letters, two up to eight, three beyond (an edit is a letter
/// added, removed, changed, or two neighbours swapped). Case is ignored; ties go to the first.
pub(super) fn nearest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed = typed.to_ascii_lowercase();
    let allowed = match typed.chars().count() {
        0 => return None,
        1..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&typed, &c.to_ascii_lowercase()), c))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// ` (did you mean `<word>`?)` for the nearest candidate, or nothing.
pub(super) fn did_you_mean<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    nearest(typed, candidates)
        .map(|word| format!("; did you mean `{word}`?"))
        .unwrap_or_default()
}

/// Edits from `a` to `b`, counting a swap of two neighbouring letters as one (optimal string
/// alignment distance).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: edits from a[..i] to b[..j]; three rows are kept (the swap looks two back).
    let mut before = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let change = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + change);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: [&str; 5] = ["status", "store", "import", "tests", "call"];

    #[test]
    fn distances_count_added_removed_changed_and_swapped_letters() {
        assert_eq!(edit_distance("status", "status"), 0);
        assert_eq!(edit_distance("stats", "status"), 1);
        assert_eq!(edit_distance("stauts", "status"), 1);
        assert_eq!(edit_distance("statuss", "status"), 1);
        assert_eq!(edit_distance("stAtus", "status"), 1);
        assert_eq!(edit_distance("", "call"), 4);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_nearest_word_is_offered_when_it_is_near_enough() {
        assert_eq!(nearest("stats", COMMANDS), Some("status"));
        assert_eq!(nearest("STATUS", COMMANDS), Some("status"));
        assert_eq!(nearest("imprt", COMMANDS), Some("import"));
        assert_eq!(nearest("cal", COMMANDS), Some("call"));
        // A tie goes to the first candidate: "stor" is one edit from "store" only.
        assert_eq!(nearest("stor", COMMANDS), Some("store"));
    }

    #[test]
    fn nothing_is_offered_for_a_word_that_is_not_near_any() {
        assert_eq!(nearest("x", COMMANDS), None);
        assert_eq!(nearest("lol", COMMANDS), None);
        assert_eq!(nearest("", COMMANDS), None);
        assert_eq!(nearest("renewal", COMMANDS), None);
        assert_eq!(did_you_mean("renewal", COMMANDS), "");
        assert_eq!(did_you_mean("stats", COMMANDS), "; did you mean `status`?");
    }
}
