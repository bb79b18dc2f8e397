//! Knowledge-base articles as files: `<dir>/<slug>/<lang>.md`, Markdown
//! with a small front matter:
//!
//! ```text
//! ---
//! slug: withdrawal-delayed
//! lang: zh-Hans
//! category: withdrawal
//! title: 提币一直未到账，怎么办？
//! keywords: [提币, 提现, 出金, 未到账]
//! status: published
//! ---
//! Markdown body
//! ```
//!
//! The front matter is a flat `key: value` list; `keywords` is an inline
//! list (`[a, b]`) or a block list (`- a` lines). Values may be quoted with
//! `"…"` (with `\"` and `\\` escapes) or `'…'`.

use std::path::{Path, PathBuf};

use crate::error::{Result, SearchError};
use crate::index::ArticleDoc;

fn err(path: &Path, line: usize, message: impl Into<String>) -> SearchError {
    SearchError::KbFile { path: path.to_path_buf(), line, message: message.into() }
}

fn io(path: &Path, source: std::io::Error) -> SearchError {
    SearchError::Io { path: path.to_path_buf(), source }
}

/// Parses a scalar value: trims, and unquotes `"…"` or `'…'`.
fn scalar(v: &str, path: &Path, line: usize) -> Result<String> {
    let v = v.trim();
    if let Some(rest) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        loop {
            match chars.next() {
                None => return Err(err(path, line, "unterminated double-quoted value")),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => return Err(err(path, line, "dangling backslash")),
                },
                Some(c) => out.push(c),
            }
        }
        if !chars.as_str().trim().is_empty() && !chars.as_str().trim().starts_with('#') {
            return Err(err(path, line, "text after closing quote"));
        }
        return Ok(out);
    }
    if let Some(rest) = v.strip_prefix('\'') {
        let Some(end) = rest.find('\'') else {
            return Err(err(path, line, "unterminated single-quoted value"));
        };
        return Ok(rest[..end].to_string());
    }
    Ok(v.to_string())
}

/// Parses an inline list `[a, "b, c", d]`.
fn inline_list(v: &str, path: &Path, line: usize) -> Result<Vec<String>> {
    let v = v.trim();
    let Some(inner) = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return Err(err(path, line, "expected an inline list like [a, b]"));
    };
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in inner.chars() {
        match quote {
            Some(q) => {
                cur.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' if cur.trim().is_empty() => {
                    quote = Some(c);
                    cur.push(c);
                }
                ',' => {
                    items.push(std::mem::take(&mut cur));
                }
                _ => cur.push(c),
            },
        }
    }
    if quote.is_some() {
        return Err(err(path, line, "unterminated quote in list"));
    }
    items.push(cur);
    let mut out = Vec::new();
    for it in items {
        if it.trim().is_empty() {
            continue;
        }
        out.push(scalar(&it, path, line)?);
    }
    Ok(out)
}

/// Parses one article file's text. `path` is used in error messages and to
/// default `slug` (directory name) and `lang` (file stem).
pub fn parse_article(text: &str, path: &Path) -> Result<ArticleDoc> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n').enumerate();
    let mut offset = match lines.next() {
        Some((_, l)) if l.trim_end() == "---" => l.len(),
        _ => return Err(err(path, 1, "missing front matter: the file must start with a line `---`")),
    };
    let mut slug = None;
    let mut lang = None;
    let mut category = None;
    let mut title = None;
    let mut status = None;
    let mut keywords: Option<Vec<String>> = None;
    let mut in_block_list = false;
    let mut closed_at = None;
    let mut body_start = text.len();
    for (i, raw) in lines {
        let line_no = i + 1;
        let next_offset = offset + raw.len();
        let l = raw.trim_end_matches(['\n', '\r']);
        if l.trim_end() == "---" {
            closed_at = Some(line_no);
            body_start = next_offset.min(text.len());
            break;
        }
        offset = next_offset;
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if in_block_list {
            if let Some(item) = l.trim_start().strip_prefix("- ") {
                keywords.get_or_insert_with(Vec::new).push(scalar(item, path, line_no)?);
                continue;
            }
            in_block_list = false;
        }
        let Some((key, value)) = l.split_once(':') else {
            return Err(err(path, line_no, format!("expected `key: value`, found {l:?}")));
        };
        let key = key.trim();
        match key {
            "slug" => slug = Some(scalar(value, path, line_no)?),
            "lang" => lang = Some(scalar(value, path, line_no)?),
            "category" => category = Some(scalar(value, path, line_no)?),
            "title" => title = Some(scalar(value, path, line_no)?),
            "status" => status = Some(scalar(value, path, line_no)?),
            "keywords" => {
                if value.trim().is_empty() {
                    in_block_list = true;
                    keywords = Some(Vec::new());
                } else {
                    keywords = Some(inline_list(value, path, line_no)?);
                }
            }
            // unknown keys (author, updated, …) are tolerated
            _ if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !key.is_empty() => {}
            _ => return Err(err(path, line_no, format!("invalid key {key:?}"))),
        }
    }
    if closed_at.is_none() {
        return Err(err(path, 1, "front matter is not closed by a line `---`"));
    }
    let dir_name = path.parent().and_then(|p| p.file_name()).and_then(|s| s.to_str()).map(str::to_string);
    let stem = path.file_stem().and_then(|s| s.to_str()).map(str::to_string);
    let slug = slug.or(dir_name).ok_or_else(|| err(path, 1, "missing `slug`"))?;
    let lang = lang.or(stem).ok_or_else(|| err(path, 1, "missing `lang`"))?;
    let title = title.ok_or_else(|| err(path, 1, "missing `title`"))?;
    let body = text[body_start..].trim_start_matches(['\r', '\n']).to_string();
    let doc = ArticleDoc {
        article_id: slug.clone(),
        slug,
        lang,
        title,
        body_markdown: body,
        category: category.unwrap_or_default(),
        keywords: keywords.unwrap_or_default(),
        status: status.unwrap_or_else(|| "published".to_string()),
    };
    doc.validate().map_err(|e| err(path, 1, e.to_string()))?;
    Ok(doc)
}

/// Loads every `<dir>/<slug>/<lang>.md`, sorted by slug then language.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<ArticleDoc>> {
    let dir = dir.as_ref();
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let p = entry.path();
        if !p.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&p).map_err(|e| io(&p, e))? {
            let f = f.map_err(|e| io(&p, e))?.path();
            if f.extension().and_then(|e| e.to_str()) == Some("md") && f.is_file() {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| io(&f, e))?;
        out.push(parse_article(&text, &f)?);
    }
    out.sort_by(|a, b| (&a.slug, &a.lang).cmp(&(&b.slug, &b.lang)));
    Ok(out)
}

fn needs_quotes(v: &str) -> bool {
    v.is_empty()
        || v != v.trim()
        || v.starts_with(['"', '\'', '[', '{', '#', '-', '|', '>', '&', '*', '!'])
        || v.contains(['\n', '\r', '\t'])
        || v.contains(" #")
}

fn quote(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

fn value(v: &str) -> String {
    if needs_quotes(v) { quote(v) } else { v.to_string() }
}

fn list_item(v: &str) -> String {
    if needs_quotes(v) || v.contains([',', ']', '[']) { quote(v) } else { v.to_string() }
}

/// Renders one article as file text (front matter + body).
pub fn render_article(a: &ArticleDoc) -> String {
    let kws: Vec<String> = a.keywords.iter().map(|k| list_item(k)).collect();
    let mut s = String::new();
    s.push_str("---\n");
    s.push_str(&format!("slug: {}\n", value(&a.slug)));
    s.push_str(&format!("lang: {}\n", value(&a.lang)));
    s.push_str(&format!("category: {}\n", value(&a.category)));
    s.push_str(&format!("title: {}\n", value(&a.title)));
    s.push_str(&format!("keywords: [{}]\n", kws.join(", ")));
    s.push_str(&format!("status: {}\n", value(&a.status)));
    s.push_str("---\n");
    s.push_str(&a.body_markdown);
    if !a.body_markdown.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Writes each article to `<dir>/<slug>/<lang>.md` (creating directories).
/// [`load_dir`] reads them back equal (bodies gain a final newline).
pub fn write_dir(dir: impl AsRef<Path>, articles: &[ArticleDoc]) -> Result<()> {
    let dir = dir.as_ref();
    for a in articles {
        a.validate()?;
        if a.slug.contains(['/', '\\']) || a.slug.starts_with('.') {
            return Err(SearchError::InvalidArticle(format!("slug {:?} is not a valid directory name", a.slug)));
        }
        let d = dir.join(&a.slug);
        std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        let f = d.join(format!("{}.md", a.lang));
        std::fs::write(&f, render_article(a)).map_err(|e| io(&f, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_example() {
        let t = "---\nslug: withdrawal-delayed\nlang: zh-Hans\ncategory: withdrawal\ntitle: 提币一直未到账，怎么办？\nkeywords: [提币, 提现, \"a, b\", won't, 未到账]\nstatus: published\n---\n正文\n";
        let a = parse_article(t, Path::new("kb/withdrawal-delayed/zh-Hans.md")).unwrap();
        assert_eq!(a.slug, "withdrawal-delayed");
        assert_eq!(a.article_id, "withdrawal-delayed");
        assert_eq!(a.title, "提币一直未到账，怎么办？");
        assert_eq!(a.keywords, vec!["提币", "提现", "a, b", "won't", "未到账"]);
        assert_eq!(a.body_markdown, "正文\n");
    }

    #[test]
    fn block_list_and_errors_name_line() {
        let t = "---\nslug: s\nlang: en\ntitle: T\nkeywords:\n  - one\n  - two\n---\nbody";
        let a = parse_article(t, Path::new("x/s/en.md")).unwrap();
        assert_eq!(a.keywords, vec!["one", "two"]);
        let bad = "---\nslug: s\nlang: en\ntitle T\n---\n";
        let e = parse_article(bad, Path::new("x/s/en.md")).unwrap_err().to_string();
        assert!(e.starts_with("x/s/en.md:4:"), "{e}");
        let bad = "---\nslug: s\nlang: fr\ntitle: T\n---\n";
        let e = parse_article(bad, Path::new("x/s/fr.md")).unwrap_err().to_string();
        assert!(e.contains("unknown lang"), "{e}");
        let e = parse_article("no front matter", Path::new("y.md")).unwrap_err().to_string();
        assert!(e.starts_with("y.md:1:"), "{e}");
    }
}
