//! Markdown → plain text, and → blocks (the passages of the answer engine).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A top-level block of an article: a paragraph, a whole list, a table, a
/// quote or a code block, with the heading it sits under.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Text of the nearest heading above the block ("" before any heading).
    pub heading: String,
    /// Plain text of the block (list items on their own lines).
    pub text: String,
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Renders Markdown as plain text: headings and blocks separated by blank
/// lines, list items on their own lines prefixed with `- ` or `1. `.
pub fn to_plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut last_heading = String::new();
    for b in blocks_with_headings(markdown, true) {
        if b.heading != last_heading && b.text.is_empty() {
            // heading marker
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&b.text);
        last_heading = b.heading;
    }
    out
}

/// Splits Markdown into top-level [`Block`]s (headings are not blocks of
/// their own; they label the blocks under them). A short paragraph that
/// ends with a colon is joined with the block that follows it ("Do this:"
/// followed by a list).
pub fn blocks(markdown: &str) -> Vec<Block> {
    let raw = blocks_with_headings(markdown, false);
    let mut out: Vec<Block> = Vec::new();
    let mut pending: Option<Block> = None;
    for b in raw {
        if let Some(mut p) = pending.take() {
            if p.heading == b.heading {
                p.text.push('\n');
                p.text.push_str(&b.text);
                if ends_with_colon(&b.text) {
                    pending = Some(p);
                } else {
                    out.push(p);
                }
                continue;
            }
            out.push(p);
        }
        if ends_with_colon(&b.text) {
            pending = Some(b);
        } else {
            out.push(b);
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

fn ends_with_colon(s: &str) -> bool {
    let t = s.trim_end();
    (t.ends_with(':') || t.ends_with('：')) && !t.contains('\n')
}

/// Blocks in order; with `include_headings`, each heading is also emitted as
/// a block of its own (used for the plain-text rendering).
fn blocks_with_headings(markdown: &str, include_headings: bool) -> Vec<Block> {
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut depth = 0usize; // container nesting below top level
    let mut cur = String::new();
    let mut in_heading = false;
    let mut head_buf = String::new();
    // list numbering stack: Some(n) ordered, None bullet
    let mut lists: Vec<Option<u64>> = Vec::new();

    let push_text = |buf: &mut String, s: &str| buf.push_str(s);

    for ev in Parser::new_ext(markdown, options()) {
        match ev {
            Event::Start(tag) => {
                match &tag {
                    Tag::Heading { .. } if depth == 0 => {
                        in_heading = true;
                        head_buf.clear();
                        continue;
                    }
                    Tag::List(start) => {
                        if !lists.is_empty() && !cur.is_empty() && !cur.ends_with('\n') {
                            cur.push('\n');
                        }
                        lists.push(*start);
                    }
                    Tag::Item => {
                        if !cur.is_empty() && !cur.ends_with('\n') {
                            cur.push('\n');
                        }
                        let indent = "  ".repeat(lists.len().saturating_sub(1));
                        cur.push_str(&indent);
                        match lists.last_mut() {
                            Some(Some(n)) => {
                                cur.push_str(&format!("{n}. "));
                                *n += 1;
                            }
                            _ => cur.push_str("- "),
                        }
                    }
                    Tag::Paragraph
                        if depth > 0
                            && !cur.is_empty()
                            && !cur.ends_with('\n')
                            && !cur.ends_with(". ")
                            && !cur.ends_with("- ") =>
                    {
                        cur.push('\n');
                    }
                    Tag::CodeBlock(_) => {}
                    Tag::TableCell if !cur.is_empty() && !cur.ends_with('\n') => {
                        cur.push_str(" | ");
                    }
                    _ => {}
                }
                if is_block(&tag) {
                    depth += 1;
                }
            }
            Event::End(end) => {
                match end {
                    TagEnd::Heading(_) if in_heading => {
                        in_heading = false;
                        heading = head_buf.trim().to_string();
                        if include_headings && !heading.is_empty() {
                            out.push(Block { heading: heading.clone(), text: heading.clone() });
                        }
                        continue;
                    }
                    TagEnd::List(_) => {
                        lists.pop();
                    }
                    TagEnd::CodeBlock => {}
                    TagEnd::TableRow | TagEnd::TableHead if !cur.ends_with('\n') => {
                        cur.push('\n');
                    }
                    _ => {}
                }
                if is_block_end(&end) {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let text = tidy(&cur);
                        if !text.is_empty() {
                            out.push(Block { heading: heading.clone(), text });
                        }
                        cur.clear();
                    }
                }
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                if in_heading {
                    head_buf.push_str(&t);
                } else {
                    push_text(&mut cur, &t);
                }
            }
            Event::SoftBreak => {
                if in_heading {
                    head_buf.push(' ');
                } else {
                    soft_break(&mut cur);
                }
            }
            Event::HardBreak => {
                if !in_heading {
                    cur.push('\n');
                }
            }
            Event::TaskListMarker(done) => cur.push_str(if done { "[x] " } else { "[ ] " }),
            Event::Rule | Event::Html(_) | Event::InlineHtml(_) | Event::FootnoteReference(_) => {}
        }
    }
    let text = tidy(&cur);
    if !text.is_empty() {
        out.push(Block { heading, text });
    }
    out
}

/// A soft line break joins lines with a space, except between CJK text
/// (Chinese has no spaces between words).
fn soft_break(cur: &mut String) {
    if cur.chars().last().map(crate::fold::is_cjk).unwrap_or(false) {
        return;
    }
    cur.push(' ');
}

fn is_block(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::BlockQuote(_)
            | Tag::CodeBlock(_)
            | Tag::HtmlBlock
            | Tag::List(_)
            | Tag::Table(_)
            | Tag::FootnoteDefinition(_)
            | Tag::Heading { .. }
            | Tag::DefinitionList
    )
}

fn is_block_end(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Paragraph
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::List(_)
            | TagEnd::Table
            | TagEnd::FootnoteDefinition
            | TagEnd::Heading(_)
            | TagEnd::DefinitionList
    )
}

fn tidy(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(|l| l.trim_end()).filter(|l| !l.trim().is_empty()).collect();
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = "Intro **bold** text\nsecond line.\n\n## Steps\n\nDo this:\n\n1. One `code`\n2. Two\n   - nested\n\n## Notes\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";

    #[test]
    fn plain_text() {
        let t = to_plain_text(MD);
        assert!(t.contains("Intro bold text second line."), "{t}");
        assert!(t.contains("Steps"));
        assert!(t.contains("1. One code\n2. Two\n  - nested"), "{t}");
        assert!(!t.contains("**"));
        assert!(t.contains("a | b"), "{t}");
    }

    #[test]
    fn blocks_have_headings_and_colon_join() {
        let b = blocks(MD);
        assert_eq!(b[0].heading, "");
        assert_eq!(b[1].heading, "Steps");
        assert!(b[1].text.starts_with("Do this:\n1. One code"), "{:?}", b[1]);
        assert_eq!(b[2].heading, "Notes");
        assert_eq!(b[2].text, "quoted");
    }

    #[test]
    fn cjk_soft_break_has_no_space() {
        let t = to_plain_text("提币\n到账");
        assert_eq!(t, "提币到账");
    }
}
