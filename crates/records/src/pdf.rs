//! The records as a PDF (A4) with krilla: the same content as the HTML ([`crate::readable`]), set in a CJK font
//! that is embedded (subset), so the text prints anywhere and can be searched and copied.
//!
//! Two passes: the layout breaks lines (Chinese between any two characters, other text at spaces) and pages,
//! then the pages are drawn, each with its number out of the total.

use crate::export::Export;
use crate::font::{FontSource, RenderError, face_index};
use crate::readable::{EntryKind, Readable, ReadableConversation, ReadableEntry, ReadableVerification};
use crate::words::Lang;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::raw::TableProvider;
use skrifa::{FontRef, MetadataProvider};
use std::sync::Arc;

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = 56.0;
/// Where the text of a page ends; the footer is below.
const BOTTOM: f32 = PAGE_H - 64.0;
const FOOTER_BASELINE: f32 = PAGE_H - 34.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.5;
/// Where an entry's body starts, right of its number.
const INDENT: f32 = 30.0;
/// Where the value of a labelled row starts.
const LABEL_W: f32 = 112.0;

const INK: (u8, u8, u8) = (17, 24, 39);
const MUTED: (u8, u8, u8) = (107, 114, 128);
const ACCENT: (u8, u8, u8) = (29, 78, 216);
const HAIRLINE: (u8, u8, u8) = (209, 213, 219);

/// Renders `export` as a PDF in its language, set in `font`.
pub fn pdf(export: &Export, font: &FontSource) -> Result<Vec<u8>, RenderError> {
    let r = Readable::of(export);
    let fonts = Fonts::new(font, r.lang == Lang::Hant)?;
    let faces = Faces::new(&fonts)?;
    let mut l = Layout::new(&faces);
    l.document(&r, &export.issuer);
    let pages = l.finish();

    let footer = format!("{} · {}", r.title, customer_label(export));
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new().title(footer.clone()).language(r.lang.tag().to_string()).creator("Lifebuoy".to_string()),
    );
    let total = pages.len();
    for (i, items) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| RenderError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut s = page.surface();
        for item in items {
            draw(&mut s, &fonts, item);
        }
        let number = r.lang.page(i + 1, total);
        let w = faces.regular.width(&number, 8.0);
        draw(&mut s, &fonts, &Item::text(LEFT, FOOTER_BASELINE, 8.0, false, MUTED, footer.clone()));
        draw(&mut s, &fonts, &Item::text(RIGHT - w, FOOTER_BASELINE, 8.0, false, MUTED, number));
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

/// The customer as the footer names them: name, else UID.
fn customer_label(export: &Export) -> String {
    let c = &export.customer;
    c.name.clone().or_else(|| c.external_id.clone()).unwrap_or_else(|| c.id.clone())
}

/// The fonts as krilla embeds them.
struct Fonts {
    regular: Font,
    bold: Font,
    regular_data: (Arc<Vec<u8>>, u32),
    bold_data: (Arc<Vec<u8>>, u32),
}

impl Fonts {
    fn new(source: &FontSource, traditional: bool) -> Result<Fonts, RenderError> {
        let load = |data: &Arc<Vec<u8>>| -> Result<(Font, (Arc<Vec<u8>>, u32)), RenderError> {
            let index = face_index(data, traditional)?;
            let font = Font::new(data.clone().into(), index)
                .ok_or_else(|| RenderError::BadFont(format!("face {index} cannot be read")))?;
            Ok((font, (data.clone(), index)))
        };
        let (regular, regular_data) = load(&source.regular)?;
        let (bold, bold_data) = match &source.bold {
            Some(b) => load(b)?,
            None => (regular.clone(), regular_data.clone()),
        };
        Ok(Fonts { regular, bold, regular_data, bold_data })
    }
}

/// A face's glyph advances, for measuring text.
struct Face<'a> {
    font: FontRef<'a>,
    metrics: GlyphMetrics<'a>,
    units_per_em: f32,
}

impl<'a> Face<'a> {
    fn new(data: &'a [u8], index: u32) -> Result<Face<'a>, RenderError> {
        let font = FontRef::from_index(data, index).map_err(|e| RenderError::BadFont(e.to_string()))?;
        if font.charmap().map('中').is_none() {
            return Err(RenderError::BadFont("it has no Chinese glyphs (use Noto Sans CJK)".into()));
        }
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let units_per_em = f32::from(font.head().map_err(|e| RenderError::BadFont(e.to_string()))?.units_per_em());
        Ok(Face { font, metrics, units_per_em })
    }

    /// The advance of `c` at `size` points.
    fn advance(&self, c: char, size: f32) -> f32 {
        let glyph = self.font.charmap().map(c).unwrap_or_default();
        self.metrics.advance_width(glyph).unwrap_or(0.0) * size / self.units_per_em
    }

    /// The width of `text` at `size` points (no kerning: what the PDF draws is within a hair of it).
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }
}

struct Faces<'a> {
    regular: Face<'a>,
    bold: Face<'a>,
}

impl<'a> Faces<'a> {
    fn new(fonts: &'a Fonts) -> Result<Faces<'a>, RenderError> {
        Ok(Faces {
            regular: Face::new(&fonts.regular_data.0, fonts.regular_data.1)?,
            bold: Face::new(&fonts.bold_data.0, fonts.bold_data.1)?,
        })
    }

    fn get(&self, bold: bool) -> &Face<'a> {
        if bold { &self.bold } else { &self.regular }
    }
}

/// Something drawn on a page.
enum Item {
    /// One line of text; `y` is its baseline.
    Text { x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: String },
    /// A horizontal line.
    Rule { x: f32, y: f32, width: f32, thickness: f32, color: (u8, u8, u8) },
}

impl Item {
    fn text(x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: String) -> Item {
        Item::Text { x, y, size, bold, color, text }
    }
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn draw(s: &mut Surface, fonts: &Fonts, item: &Item) {
    match item {
        Item::Text { x, y, size, bold, color, text } => {
            s.set_fill(Some(fill(*color)));
            let font = if *bold { fonts.bold.clone() } else { fonts.regular.clone() };
            s.draw_text(Point::from_xy(*x, *y), font, *size, text, false, TextDirection::LeftToRight);
        }
        Item::Rule { x, y, width, thickness, color } => {
            let mut pb = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(*x, *y, *width, *thickness) {
                pb.push_rect(rect);
            }
            if let Some(path) = pb.finish() {
                s.set_fill(Some(fill(*color)));
                s.draw_path(&path);
            }
        }
    }
}

/// The text style of a run of lines.
#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    color: (u8, u8, u8),
}

const fn style(size: f32, bold: bool, color: (u8, u8, u8)) -> Style {
    Style { size, bold, color }
}

const BODY: Style = style(10.0, false, INK);
const SMALL: Style = style(8.5, false, MUTED);

/// Places lines on pages, top to bottom.
struct Layout<'a> {
    faces: &'a Faces<'a>,
    pages: Vec<Vec<Item>>,
    /// The top of the next line on the current page.
    y: f32,
}

impl<'a> Layout<'a> {
    fn new(faces: &'a Faces<'a>) -> Layout<'a> {
        Layout { faces, pages: vec![Vec::new()], y: TOP }
    }

    fn finish(self) -> Vec<Vec<Item>> {
        self.pages
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn keep(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    fn rule(&mut self, thickness: f32, color: (u8, u8, u8)) {
        self.keep(thickness);
        self.push(Item::Rule { x: LEFT, y: self.y, width: RIGHT - LEFT, thickness, color });
        self.y += thickness;
    }

    /// The height of one line in `style`.
    fn line_height(style: Style) -> f32 {
        style.size * LEADING
    }

    /// One line at `x`, on a new page if it does not fit.
    fn line(&mut self, x: f32, style: Style, text: String) {
        let h = Self::line_height(style);
        self.keep(h);
        let baseline = self.y + style.size * 1.15;
        self.push(Item::text(x, baseline, style.size, style.bold, style.color, text));
        self.y += h;
    }

    /// `text` wrapped to the width between `x` and the right margin, its line breaks kept.
    fn paragraph(&mut self, x: f32, style: Style, text: &str) {
        for line in wrap(self.faces.get(style.bold), text, style.size, RIGHT - x) {
            self.line(x, style, line);
        }
    }

    /// A label and its value beside it.
    fn labelled(&mut self, label: &str, value: &str, value_style: Style) {
        let lines = wrap(self.faces.get(value_style.bold), value, value_style.size, RIGHT - LEFT - LABEL_W);
        let h = Self::line_height(value_style);
        self.keep(h);
        let baseline = self.y + value_style.size * 1.15;
        self.push(Item::text(LEFT, baseline, BODY.size, false, MUTED, label.to_string()));
        for line in lines {
            self.line(LEFT + LABEL_W, value_style, line);
        }
    }

    fn document(&mut self, r: &Readable, issuer: &str) {
        self.line(LEFT, SMALL, issuer.to_string());
        self.line(LEFT, style(20.0, true, INK), r.title.clone());
        self.gap(4.0);
        for (label, value) in &r.meta {
            self.labelled(label, value, BODY);
        }
        self.gap(6.0);
        self.rule(1.5, INK);
        for c in &r.conversations {
            self.conversation(r.lang, c);
        }
        self.verification(&r.verification);
    }

    fn conversation(&mut self, lang: Lang, c: &ReadableConversation) {
        // A case's heading and fields stay together, with its first entry's first line.
        self.keep(13.0 * LEADING + (c.fields.len() as f32 + 3.0) * Self::line_height(BODY));
        self.gap(14.0);
        self.paragraph(LEFT, style(13.0, true, INK), &c.heading);
        self.gap(2.0);
        for (label, value) in &c.fields {
            self.labelled(label, value, BODY);
        }
        self.line(LEFT, SMALL, c.count.clone());
        self.rule(0.75, MUTED);
        for e in &c.entries {
            self.entry(lang, e);
        }
    }

    fn entry(&mut self, lang: Lang, e: &ReadableEntry) {
        self.gap(5.0);
        // The entry's heading stays with the first line of its body.
        self.keep(Self::line_height(SMALL) + Self::line_height(BODY));
        let baseline = self.y + SMALL.size * 1.15;
        self.push(Item::text(LEFT, baseline, SMALL.size, false, MUTED, format!("#{}", e.seq)));
        let who_x = LEFT + INDENT + self.faces.regular.width(&e.time, SMALL.size) + 12.0;
        self.push(Item::text(LEFT + INDENT, baseline, SMALL.size, false, MUTED, e.time.clone()));
        let who_style = match (e.kind, e.by_customer) {
            (EntryKind::Message, true) => style(9.0, true, ACCENT),
            (EntryKind::Message, false) => style(9.0, true, INK),
            _ => style(9.0, false, MUTED),
        };
        if e.who.is_empty() {
            self.y += Self::line_height(SMALL);
        } else {
            self.paragraph(who_x, who_style, &e.who);
        }
        let text_style = match e.kind {
            EntryKind::Message => BODY,
            EntryKind::Event | EntryKind::Withheld => style(10.0, false, MUTED),
        };
        self.paragraph(LEFT + INDENT, text_style, &e.text);
        for a in &e.attachments {
            self.gap(2.0);
            let w = lang.words();
            let sep = if lang.is_cjk() { "：" } else { ": " };
            self.paragraph(
                LEFT + INDENT,
                style(9.0, false, INK),
                &format!("{}{sep}{} · {}", w.attachment, a.filename, a.size),
            );
            self.paragraph(LEFT + INDENT, SMALL, &format!("SHA-256 {}", a.sha256));
        }
        self.gap(4.0);
        self.rule(0.5, HAIRLINE);
    }

    fn verification(&mut self, v: &ReadableVerification) {
        self.keep(120.0);
        self.gap(18.0);
        self.rule(1.5, INK);
        self.gap(6.0);
        self.paragraph(LEFT, style(13.0, true, INK), &v.heading);
        self.gap(2.0);
        self.paragraph(LEFT, BODY, &v.intro);
        for row in &v.seals {
            self.gap(8.0);
            self.keep(5.0 * Self::line_height(BODY));
            for (label, value) in v.columns.iter().zip(row) {
                self.labelled(label, value, BODY);
            }
        }
        self.gap(8.0);
        self.paragraph(LEFT, BODY, &v.document_key);
        self.gap(6.0);
        for p in &v.how {
            self.paragraph(LEFT, BODY, p);
        }
    }
}

/// Whether `c` belongs to a script written without spaces (Chinese, Japanese kana, Korean, and their
/// punctuation and full-width forms): a line may break before or after it.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x2FFF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x312F
        | 0x3190..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Punctuation that may not start a line.
const NO_LINE_START: &str = "，。、；：？！）」』”’》〉】〕…%,.;:!?)]}";
/// Punctuation that may not end a line.
const NO_LINE_END: &str = "（「『“‘《〈【〔([{";

/// Whether a line may break between `prev` and `c`.
fn may_break(prev: char, c: char) -> bool {
    if NO_LINE_START.contains(c) || NO_LINE_END.contains(prev) {
        return false;
    }
    prev.is_whitespace() || is_cjk(prev) || is_cjk(c)
}

/// Breaks `text` into lines no wider than `max` at `size` points: at its line breaks, between Chinese
/// characters, at spaces, and inside a word only when the word alone is wider than a line.
fn wrap(face: &Face, text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let para: String = para.chars().map(|c| if c == '\t' { ' ' } else { c }).filter(|c| !c.is_control()).collect();
        let mut start = 0;
        let mut width = 0.0;
        let mut last_break: Option<usize> = None;
        let mut prev: Option<char> = None;
        for (i, c) in para.char_indices() {
            if i > start && prev.is_some_and(|p| may_break(p, c)) {
                last_break = Some(i);
            }
            let w = face.advance(c, size);
            if width + w > max && i > start && !c.is_whitespace() {
                let cut = last_break.filter(|&b| b > start).unwrap_or(i);
                lines.push(para[start..cut].trim_end().to_string());
                start = cut;
                width = face.width(&para[start..i], size);
                last_break = None;
            }
            width += w;
            prev = Some(c);
        }
        lines.push(para[start..].trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_allowed_between_chinese_characters_and_at_spaces_only() {
        assert!(may_break('充', '值'));
        assert!(may_break(' ', 'w'));
        assert!(!may_break('a', 'b'));
        assert!(!may_break('值', '，'), "a comma never starts a line");
        assert!(!may_break('「', '值'), "an opening bracket never ends a line");
        assert!(may_break('a', '值'));
    }
}
