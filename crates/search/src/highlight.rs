//! Highlighted snippets: an excerpt of the original text with the matched
//! words wrapped in `<mark>`, everything else HTML-escaped.

use std::collections::HashSet;

use tantivy::tokenizer::{Language, SimpleTokenizer, Stemmer, TextAnalyzer};

use crate::fold::fold_with_offsets;

/// What to highlight.
#[derive(Debug, Default, Clone)]
pub(crate) struct Needles {
    /// `lb_text` tokens (folded, stemmed) to mark wherever the analyser
    /// produces them.
    pub tokens: HashSet<String>,
    /// Folded CJK strings to mark wherever they occur as substrings.
    pub substrings: Vec<String>,
    /// English tokens matched with a Levenshtein distance.
    pub fuzzy: Vec<(String, usize)>,
}

/// Escapes `&`, `<`, `>`, `"` and `'`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Levenshtein distance, bounded: returns `max + 1` as soon as it is
/// certain that the distance exceeds `max`.
pub(crate) fn levenshtein_within(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Byte ranges of `text` (original) that match the needles, sorted and
/// merged.
pub(crate) fn match_ranges(text: &str, needles: &Needles) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let folded = fold_with_offsets(text);
    if !needles.tokens.is_empty() || !needles.fuzzy.is_empty() {
        // Latin needles only: a plain word splitter + stemmer over the
        // folded text is much cheaper than segmenting it with jieba.
        thread_local! {
            static LATIN: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(
                TextAnalyzer::builder(SimpleTokenizer::default())
                    .filter(Stemmer::new(Language::English))
                    .build(),
            );
        }
        LATIN.with(|a| {
            let mut a = a.borrow_mut();
            let mut s = a.token_stream(&folded.text);
            while let Some(t) = s.next() {
                if !t.text.is_ascii() {
                    continue;
                }
                let hit = needles.tokens.contains(&t.text)
                    || needles.fuzzy.iter().any(|(f, d)| levenshtein_within(&t.text, f, *d) <= *d);
                if hit {
                    ranges.push(folded.original_range(t.offset_from, t.offset_to));
                }
            }
        });
    }
    if !needles.substrings.is_empty() {
        for n in &needles.substrings {
            if n.is_empty() {
                continue;
            }
            for (i, _) in folded.text.match_indices(n.as_str()) {
                ranges.push(folded.original_range(i, i + n.len()));
            }
        }
    }
    ranges.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    merged
}

fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Byte offset `n` characters after `from` (or the end).
fn advance_chars(text: &str, from: usize, n: usize) -> usize {
    text[from..].char_indices().nth(n).map(|(i, _)| from + i).unwrap_or(text.len())
}

/// Byte offset `n` characters before `from` (or 0).
fn back_chars(text: &str, from: usize, n: usize) -> usize {
    let mut i = from;
    for _ in 0..n {
        if i == 0 {
            break;
        }
        i = floor_char(text, i - 1);
    }
    i
}

/// Builds an HTML snippet of at most about `max_chars` characters of
/// `text`, centred on the densest group of matches, with matches wrapped in
/// `<mark>`. Without matches, the beginning of the text.
pub(crate) fn snippet_html(text: &str, needles: &Needles, max_chars: usize) -> String {
    let ranges = match_ranges(text, needles);
    let text_chars = text.chars().count();
    if ranges.is_empty() {
        let end = advance_chars(text, 0, max_chars);
        let mut s = escape_html(&text[..end]);
        if end < text.len() {
            s.push('…');
        }
        return s;
    }
    // choose the window start (at a match) that covers the most matches
    let mut best = (0usize, 0usize); // (count, index of first range)
    for (i, r) in ranges.iter().enumerate() {
        let window_end = advance_chars(text, r.0, max_chars);
        let count = ranges[i..].iter().take_while(|x| x.1 <= window_end).count();
        if count > best.0 {
            best = (count, i);
        }
    }
    let first = ranges[best.1];
    // start a little before the first match, preferably at a line start
    let lead = (max_chars / 5).min(30);
    let mut start = back_chars(text, first.0, lead);
    if let Some(nl) = text[start..first.0].rfind('\n') {
        start += nl + 1;
    }
    let mut end = advance_chars(text, start, max_chars);
    if text_chars <= max_chars {
        start = 0;
        end = text.len();
    }
    let mut html = String::new();
    if start > 0 {
        html.push('…');
    }
    let mut pos = start;
    for &(s, e) in &ranges {
        if e <= start || s >= end {
            continue;
        }
        let s = s.max(start);
        let e = e.min(end);
        html.push_str(&escape_html(&text[pos..s]));
        html.push_str("<mark>");
        html.push_str(&escape_html(&text[s..e]));
        html.push_str("</mark>");
        pos = e;
    }
    html.push_str(&escape_html(&text[pos..end]));
    if end < text.len() {
        html.push('…');
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lev() {
        assert_eq!(levenshtein_within("withdrawl", "withdraw", 2), 1);
        assert_eq!(levenshtein_within("abc", "xyz", 1), 2);
    }

    #[test]
    fn snippet_escapes_and_marks() {
        let mut n = Needles::default();
        n.tokens.insert("withdraw".into());
        n.substrings.push("到账".into());
        let html = snippet_html("<b>Withdrawals</b> & 提幣到帳", &n, 100);
        assert_eq!(html, "&lt;b&gt;<mark>Withdrawals</mark>&lt;/b&gt; &amp; 提幣<mark>到帳</mark>");
    }
}
