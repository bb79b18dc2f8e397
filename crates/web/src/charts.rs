//! Server-side SVG charts for the supervisors' dashboards.
//!
//! Every chart is one self-contained `<svg>` string: no JavaScript, no external stylesheet, presentation
//! attributes only. Each bar and each line point carries `data-label`, `data-series` and `data-value`
//! attributes and a `<title>` tooltip, so pages can be tested by searching the markup and screen readers
//! get the numbers too. All text that comes from data is escaped.
//!
//! The module uses the standard library only, so it can be tested alone with
//! `rustc --edition 2024 --test charts.rs`.

use std::fmt::Write as _;

/// Width of every chart's view box.
const WIDTH: f64 = 640.0;
/// Height of the vertical-bar and line charts' view box.
const HEIGHT: f64 = 240.0;
/// Height of one row of a horizontal-bar chart.
const ROW_HEIGHT: f64 = 28.0;
/// Thickness of one horizontal bar.
const HBAR_THICKNESS: f64 = 16.0;
/// Space above and below the rows of a horizontal-bar chart.
const HBAR_MARGIN: f64 = 8.0;
/// Series colours, in order; they repeat after the eighth series.
const PALETTE: [&str; 8] = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
const GRID: &str = "#e5e7eb";
const AXIS: &str = "#9ca3af";
const TEXT: &str = "#4b5563";
const NOTE: &str = "#9ca3af";
const GOOD: &str = "#16a34a";
const FAIR: &str = "#f59e0b";
const POOR: &str = "#dc2626";
const FONT_FAMILY: &str = "system-ui, sans-serif";
const FONT_SIZE: &str = "11";
/// Estimated advance of one narrow glyph at font size 11 (a wide CJK glyph counts twice).
const CHAR_PX: f64 = 6.2;
/// At most this many labels are written along the x axis; the others are skipped.
const MAX_X_LABELS: usize = 16;
/// At most this many intervals on the value axis.
const MAX_INTERVALS: f64 = 6.0;
/// No vertical bar is wider than this.
const MAX_BAR_WIDTH: f64 = 56.0;
/// Longest label (in narrow-glyph units) written beside a horizontal bar or in a legend.
const MAX_LABEL_UNITS: usize = 26;

/// One named series of values (one per label).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Shown in the legend and tooltips, and written as `data-series`.
    pub name: String,
    /// One value per label; missing or non-finite values are not drawn.
    pub values: Vec<f64>,
}

/// How a value is written in labels and tooltips.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    /// A number of things: `1,234`, or `12.5` when fractional.
    Count,
    /// A percentage: `97.5%`.
    Percent,
    /// A duration in minutes: `3.5 min`, from 120 minutes on in hours: `2.0 h`.
    Minutes,
    /// A score with two decimals: `4.62`.
    Score,
}

/// Vertical bars: one group per label; several series are stacked when `stacked`, side by side otherwise.
pub fn bars(aria_label: &str, labels: &[String], series: &[Series], unit: Unit, stacked: bool) -> String {
    cartesian(aria_label, labels, series, unit, Kind::Bars { stacked }, WIDTH)
}

/// [`bars`] twice as wide (for a chart across the page: a month of days), text the same size.
pub fn bars_wide(aria_label: &str, labels: &[String], series: &[Series], unit: Unit, stacked: bool) -> String {
    cartesian(aria_label, labels, series, unit, Kind::Bars { stacked }, 2.0 * WIDTH)
}

/// [`lines`] twice as wide.
pub fn lines_wide(aria_label: &str, labels: &[String], series: &[Series], unit: Unit) -> String {
    cartesian(aria_label, labels, series, unit, Kind::Lines, 2.0 * WIDTH)
}

/// Lines over labels (time), one polyline per series, a dot per point.
pub fn lines(aria_label: &str, labels: &[String], series: &[Series], unit: Unit) -> String {
    cartesian(aria_label, labels, series, unit, Kind::Lines, WIDTH)
}

/// Horizontal bars, one row per label (e.g. per agent), value written at the end of the bar; `notes[i]`
/// (may be empty string) is small grey text after the value, e.g. "n=42". `max`: the scale's end
/// (Some(100.0) for percent), else the largest value.
///
/// With [`Unit::Percent`] a bar is green from 95, amber from 80, red below. The bars' `data-series` is
/// empty. With an explicit `max`, all-zero values are still drawn (0% compliance is data, not absence).
pub fn hbars(
    aria_label: &str,
    labels: &[String],
    values: &[f64],
    notes: &[String],
    unit: Unit,
    max: Option<f64>,
) -> String {
    let rows = labels.len();
    let height = rows.max(1) as f64 * ROW_HEIGHT + 2.0 * HBAR_MARGIN;
    let value = |i: usize| values.get(i).copied().filter(|v| v.is_finite());
    let scale = match max {
        Some(m) if m.is_finite() && m > 0.0 => m,
        _ => (0..rows).filter_map(value).fold(0.0, f64::max),
    };
    if rows == 0 || !(scale.is_finite() && scale > 0.0) {
        return empty_chart(aria_label, WIDTH, height);
    }

    let shown: Vec<String> = labels.iter().map(|l| truncate(l, MAX_LABEL_UNITS)).collect();
    let notes: Vec<String> = (0..rows).map(|i| notes.get(i).map(|n| truncate(n, 20)).unwrap_or_default()).collect();
    let texts: Vec<String> =
        (0..rows).map(|i| value(i).map_or_else(|| "—".to_owned(), |v| format_value(v, unit))).collect();

    let label_w = shown.iter().map(|l| text_px(l)).fold(0.0, f64::max).clamp(24.0, 170.0);
    let x0 = HBAR_MARGIN + label_w + 8.0;
    let reserve = (0..rows)
        .map(|i| {
            let note = if notes[i].is_empty() { 0.0 } else { 6.0 + text_px(&notes[i]) * 10.0 / 11.0 };
            text_px(&texts[i]) + note
        })
        .fold(0.0, f64::max);
    let track = WIDTH - x0 - (reserve + 14.0).clamp(40.0, 260.0);

    let mut out = String::new();
    open_svg(&mut out, aria_label, WIDTH, height);
    for i in 0..rows {
        let mid = HBAR_MARGIN + ROW_HEIGHT * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<text class="y-label" x="{}" y="{}" dy="0.35em" text-anchor="end" fill="{TEXT}">{}</text>"#,
            num(x0 - 8.0),
            num(mid),
            escape(&shown[i]),
        );
        let mut end = x0;
        if let Some(v) = value(i) {
            let len = v.max(0.0).min(scale) / scale * track;
            end = x0 + len;
            let fill = match unit {
                Unit::Percent if v >= 95.0 => GOOD,
                Unit::Percent if v >= 80.0 => FAIR,
                Unit::Percent => POOR,
                _ => PALETTE[0],
            };
            let datum = Datum { label: &labels[i], series: "", value: v, unit, note: &notes[i] };
            let _ = write!(
                out,
                r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{fill}"{}><title>{}</title></rect>"#,
                num(x0),
                num(mid - HBAR_THICKNESS / 2.0),
                num(len),
                num(HBAR_THICKNESS),
                datum.attrs(),
                datum.title(),
            );
        }
        let _ = write!(
            out,
            r#"<text class="value" x="{}" y="{}" dy="0.35em" fill="{TEXT}">{}"#,
            num(end + 6.0),
            num(mid),
            escape(&texts[i]),
        );
        if !notes[i].is_empty() {
            let _ =
                write!(out, r#"<tspan class="note" dx="6" fill="{NOTE}" font-size="10">{}</tspan>"#, escape(&notes[i]));
        }
        out.push_str("</text>");
    }
    let _ = write!(
        out,
        r#"<line class="baseline" x1="{x}" x2="{x}" y1="{}" y2="{}" stroke="{AXIS}" shape-rendering="crispEdges"/></svg>"#,
        num(HBAR_MARGIN),
        num(height - HBAR_MARGIN),
        x = num(x0),
    );
    out
}

/// Formats a value as the chart writes it.
///
/// Count: `1,234,567` (`12.5` when fractional); Percent: `97.5%`; Minutes: `3.5 min`, from 120 minutes on
/// `2.0 h`; Score: `4.62`. A non-finite value is written `—`.
pub fn format_value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return "—".to_owned();
    }
    match unit {
        Unit::Count => group_thousands(&trimmed(fixed(v, 1))),
        Unit::Percent => format!("{}%", trimmed(fixed(v, 1))),
        Unit::Minutes if v.abs() >= 120.0 => format!("{} h", fixed(v / 60.0, 1)),
        Unit::Minutes => format!("{} min", fixed(v, 1)),
        Unit::Score => fixed(v, 2),
    }
}

/// Which chart a cartesian plan draws.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Bars { stacked: bool },
    Lines,
}

/// The value axis: from 0 to `max` in steps of `step`.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Axis {
    max: f64,
    step: f64,
    /// Minutes shown in hours on the axis (the data reach 120 minutes).
    hours: bool,
}

impl Axis {
    /// A "nice" axis (steps of 1, 2 or 5 × 10ⁿ, at most [`MAX_INTERVALS`]) covering `data_max`; `None`
    /// when there is nothing to draw (`data_max` not positive, or not finite).
    fn new(data_max: f64, unit: Unit) -> Option<Axis> {
        if !(data_max.is_finite() && data_max > 0.0) {
            return None;
        }
        let hours = unit == Unit::Minutes && data_max >= 120.0;
        let scale = if hours { 60.0 } else { 1.0 };
        let target = data_max / scale;
        let magnitude = 10f64.powf((target / MAX_INTERVALS).log10().floor());
        let mut step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|&s| (target / s - 1e-9).ceil() <= MAX_INTERVALS)
            .unwrap_or(10.0 * magnitude);
        if unit == Unit::Count && step < 1.0 {
            step = 1.0;
        }
        let intervals = (target / step - 1e-9).ceil().max(1.0);
        let axis = Axis { max: intervals * step * scale, step: step * scale, hours };
        (axis.max.is_finite() && axis.step > 0.0 && axis.max >= data_max).then_some(axis)
    }

    /// Tick values from 0 to `max`.
    fn ticks(&self) -> Vec<f64> {
        let n = (self.max / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// A tick's label: like [`format_value`] but without needless decimals, and in one unit throughout.
    fn label(&self, v: f64, unit: Unit) -> String {
        match unit {
            Unit::Count | Unit::Percent => format_value(v, unit),
            Unit::Minutes if self.hours => format!("{} h", trimmed(fixed(v / 60.0, 2))),
            Unit::Minutes => format!("{} min", trimmed(fixed(v, 1))),
            Unit::Score => trimmed(fixed(v, 2)),
        }
    }
}

/// The plot area of a bar or line chart, and its bands (one per label).
#[derive(Clone, Copy, PartialEq, Debug)]
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    /// The baseline's y.
    bottom: f64,
    bands: usize,
}

impl Frame {
    fn band(&self) -> f64 {
        (self.right - self.left) / self.bands as f64
    }

    fn center(&self, i: usize) -> f64 {
        self.left + self.band() * (i as f64 + 0.5)
    }

    /// Pixel length of a value on `axis` (negative values count as 0).
    fn length(&self, v: f64, axis: &Axis) -> f64 {
        v.max(0.0).min(axis.max) / axis.max * (self.bottom - self.top)
    }

    fn y(&self, v: f64, axis: &Axis) -> f64 {
        self.bottom - self.length(v, axis)
    }
}

/// One legend entry: series index, swatch position and the (shortened) name.
struct LegendItem {
    index: usize,
    x: f64,
    y: f64,
    name: String,
}

/// Everything a bar or line chart needs before drawing.
struct Plan {
    axis: Axis,
    frame: Frame,
    legend: Vec<LegendItem>,
}

/// The finite value of `series` at label `i`, if any.
fn value_at(series: &Series, i: usize) -> Option<f64> {
    series.values.get(i).copied().filter(|v| v.is_finite())
}

/// Lays out a bar or line chart; `None` when there is nothing to draw.
fn plan(labels: &[String], series: &[Series], unit: Unit, kind: Kind, width: f64) -> Option<Plan> {
    let n = labels.len();
    if n == 0 {
        return None;
    }
    let data_max = match kind {
        Kind::Bars { stacked: true } => (0..n)
            .map(|i| series.iter().filter_map(|s| value_at(s, i)).map(|v| v.max(0.0)).sum::<f64>())
            .fold(0.0, f64::max),
        _ => series.iter().flat_map(|s| (0..n).filter_map(|i| value_at(s, i))).fold(0.0, f64::max),
    };
    let axis = Axis::new(data_max, unit)?;
    let widest_tick = axis.ticks().iter().map(|&t| text_px(&axis.label(t, unit))).fold(0.0, f64::max);
    let left = (widest_tick + 14.0).clamp(32.0, 120.0);
    let right = width - 12.0;

    let mut legend = Vec::new();
    let mut legend_height = 0.0;
    if series.len() > 1 {
        let (mut x, mut y) = (left, 14.0);
        for (index, s) in series.iter().enumerate() {
            let name = truncate(&s.name, MAX_LABEL_UNITS);
            let width = 14.0 + text_px(&name) + 16.0;
            if x > left && x + width > right {
                x = left;
                y += 18.0;
            }
            legend.push(LegendItem { index, x, y, name });
            x += width;
        }
        legend_height = y + 4.0;
    }
    let top = 12.0 + legend_height;
    let frame = Frame { left, right, top, bottom: HEIGHT - 28.0, bands: n };
    Some(Plan { axis, frame, legend })
}

/// Draws a vertical-bar or line chart.
fn cartesian(aria_label: &str, labels: &[String], series: &[Series], unit: Unit, kind: Kind, width: f64) -> String {
    let Some(Plan { axis, frame, legend }) = plan(labels, series, unit, kind, width) else {
        return empty_chart(aria_label, width, HEIGHT);
    };
    let mut out = String::new();
    open_svg(&mut out, aria_label, width, HEIGHT);

    // Gridlines and the value axis' labels.
    let _ = write!(out, r#"<g class="grid" fill="{TEXT}">"#);
    for t in axis.ticks() {
        let y = num(frame.y(t, &axis));
        if t > 0.0 {
            let _ = write!(
                out,
                r#"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="{GRID}" shape-rendering="crispEdges"/>"#,
                num(frame.left),
                num(frame.right),
            );
        }
        let _ = write!(
            out,
            r#"<text class="y-label" x="{}" y="{y}" dy="0.35em" text-anchor="end">{}</text>"#,
            num(frame.left - 6.0),
            escape(&axis.label(t, unit)),
        );
    }
    out.push_str("</g>");

    match kind {
        Kind::Bars { stacked } => draw_bars(&mut out, labels, series, unit, stacked, &axis, &frame),
        Kind::Lines => draw_lines(&mut out, labels, series, unit, &axis, &frame),
    }

    let _ = write!(
        out,
        r#"<line class="baseline" x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="{AXIS}" shape-rendering="crispEdges"/>"#,
        num(frame.left),
        num(frame.right),
        y = num(frame.bottom),
    );

    // Labels along the x axis: every k-th when there are many, each shortened to its room.
    let step = labels.len().div_ceil(MAX_X_LABELS).max(1);
    let _ = write!(out, r#"<g class="x-axis" fill="{TEXT}" text-anchor="middle">"#);
    for (i, label) in labels.iter().enumerate().step_by(step) {
        let x = frame.center(i);
        let room = (frame.band() * step as f64).min(2.0 * x).min(2.0 * (width - x)) - 6.0;
        let units = (room / CHAR_PX).floor().max(0.0) as usize;
        let _ = write!(
            out,
            r#"<text class="x-label" x="{}" y="{}">{}</text>"#,
            num(x),
            num(frame.bottom + 17.0),
            escape(&truncate(label, units)),
        );
    }
    out.push_str("</g>");

    if !legend.is_empty() {
        let _ = write!(out, r#"<g class="legend" fill="{TEXT}">"#);
        for item in &legend {
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="10" height="10" rx="2" fill="{}"/><text x="{}" y="{}" dy="0.35em">{}</text>"#,
                num(item.x),
                num(item.y - 5.0),
                colour(item.index),
                num(item.x + 14.0),
                num(item.y),
                escape(&item.name),
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

fn draw_bars(
    out: &mut String,
    labels: &[String],
    series: &[Series],
    unit: Unit,
    stacked: bool,
    axis: &Axis,
    frame: &Frame,
) {
    let band = frame.band();
    let count = series.len().max(1) as f64;
    out.push_str(r#"<g class="bars">"#);
    for (i, label) in labels.iter().enumerate() {
        let center = frame.center(i);
        let mut cursor = frame.bottom;
        for (j, s) in series.iter().enumerate() {
            let Some(v) = value_at(s, i) else { continue };
            let height = frame.length(v, axis);
            let (x, y, width) = if stacked {
                let width = (band * 0.7).min(MAX_BAR_WIDTH);
                cursor -= height;
                (center - width / 2.0, cursor, width)
            } else {
                let group = (band * 0.8).min(MAX_BAR_WIDTH * count);
                let slot = group / count;
                let gap = (slot * 0.15).min(2.0);
                (center - group / 2.0 + slot * j as f64 + gap / 2.0, frame.bottom - height, slot - gap)
            };
            let datum = Datum { label, series: &s.name, value: v, unit, note: "" };
            let _ = write!(
                out,
                r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"{}><title>{}</title></rect>"#,
                num(x),
                num(y),
                num(width),
                num(height),
                colour(j),
                datum.attrs(),
                datum.title(),
            );
        }
    }
    out.push_str("</g>");
}

fn draw_lines(out: &mut String, labels: &[String], series: &[Series], unit: Unit, axis: &Axis, frame: &Frame) {
    let radius = if labels.len() > 60 { 2.0 } else { 3.0 };
    let points: Vec<Vec<Option<(f64, f64)>>> = series
        .iter()
        .map(|s| (0..labels.len()).map(|i| value_at(s, i).map(|v| (frame.center(i), frame.y(v, axis)))).collect())
        .collect();

    // Lines first (broken where a value is missing), then the dots on top of all of them.
    out.push_str(r#"<g class="lines" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">"#);
    for (j, series_points) in points.iter().enumerate() {
        for run in series_points.split(Option::is_none) {
            if run.len() < 2 {
                continue;
            }
            let coords: Vec<String> = run.iter().flatten().map(|&(x, y)| format!("{},{}", num(x), num(y))).collect();
            let _ = write!(out, r#"<polyline class="line" stroke="{}" points="{}"/>"#, colour(j), coords.join(" "));
        }
    }
    out.push_str("</g>");

    out.push_str(r##"<g class="dots" stroke="#fff" stroke-width="1">"##);
    for (j, s) in series.iter().enumerate() {
        for (i, label) in labels.iter().enumerate() {
            let (Some(v), Some((x, y))) = (value_at(s, i), points[j][i]) else { continue };
            let datum = Datum { label, series: &s.name, value: v, unit, note: "" };
            let _ = write!(
                out,
                r#"<circle class="dot" cx="{}" cy="{}" r="{}" fill="{}"{}><title>{}</title></circle>"#,
                num(x),
                num(y),
                num(radius),
                colour(j),
                datum.attrs(),
                datum.title(),
            );
        }
    }
    out.push_str("</g>");
}

/// One drawn value: its data attributes and tooltip.
struct Datum<'a> {
    label: &'a str,
    series: &'a str,
    value: f64,
    unit: Unit,
    note: &'a str,
}

impl Datum<'_> {
    /// ` data-label="…" data-series="…" data-value="…"`, escaped.
    fn attrs(&self) -> String {
        format!(
            r#" data-label="{}" data-series="{}" data-value="{}""#,
            escape(self.label),
            escape(self.series),
            num(self.value),
        )
    }

    /// The tooltip text, escaped: `label · series: value`.
    fn title(&self) -> String {
        let mut text = self.label.to_owned();
        if !self.series.is_empty() {
            let _ = write!(text, " · {}", self.series);
        }
        let _ = write!(text, ": {}", format_value(self.value, self.unit));
        if !self.note.is_empty() {
            let _ = write!(text, " · {}", self.note);
        }
        escape(&text)
    }
}

fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

fn open_svg(out: &mut String, aria_label: &str, width: f64, height: f64) {
    let label = escape(aria_label);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" viewBox="0 0 {} {}" class="chart" width="100%" preserveAspectRatio="xMidYMid meet" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}"><title>{label}</title>"#,
        num(width),
        num(height),
    );
}

/// A chart with nothing to show: the frame and a centred dash.
fn empty_chart(aria_label: &str, width: f64, height: f64) -> String {
    let mut out = String::new();
    open_svg(&mut out, aria_label, width, height);
    let _ = write!(
        out,
        r#"<text class="chart-empty" x="{}" y="{}" dy="0.35em" text-anchor="middle" fill="{TEXT}" font-size="16">—</text></svg>"#,
        num(width / 2.0),
        num(height / 2.0),
    );
    out
}

/// A number as written in attributes: integers without `.0`, otherwise at most two decimals; never NaN
/// or inf (a non-finite value is written 0).
fn num(v: f64) -> String {
    if !v.is_finite() {
        "0".to_owned()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{:.0}", positive_zero(v))
    } else {
        trimmed(fixed(v, 2))
    }
}

/// `v` rounded to `decimals` places and written with exactly that many (never `-0`).
fn fixed(v: f64, decimals: i32) -> String {
    let factor = 10f64.powi(decimals);
    let scaled = (v * factor).round();
    let rounded = if scaled.is_finite() { scaled / factor } else { v };
    format!("{:.*}", decimals.max(0) as usize, positive_zero(rounded))
}

/// Turns `-0.0` into `0.0` so it is not written `-0`.
fn positive_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

/// Drops trailing zeros after a decimal point, and the point itself when nothing follows it.
fn trimmed(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

/// Inserts thousands separators into a plain decimal number (`-1234567.5` → `-1,234,567.5`).
fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Escapes text for SVG content and attribute values; control characters become spaces or are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether a character is drawn about twice as wide as a Latin letter (CJK, Hangul, full-width forms,
/// most emoji).
fn is_wide(c: char) -> bool {
    matches!(
        c as u32,
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD
    )
}

fn char_units(c: char) -> usize {
    if is_wide(c) { 2 } else { 1 }
}

fn text_units(s: &str) -> usize {
    s.chars().map(char_units).sum()
}

/// Estimated width in pixels of `s` at font size 11.
fn text_px(s: &str) -> f64 {
    text_units(s) as f64 * CHAR_PX
}

/// Shortens `s` to at most `max_units` narrow-glyph units (a wide glyph counts two), ending it with `…`
/// when cut. Works on whole characters, so the result is always valid text.
fn truncate(s: &str, max_units: usize) -> String {
    if text_units(s) <= max_units {
        return s.to_owned();
    }
    let budget = max_units.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        used += char_units(c);
        if used > budget {
            break;
        }
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn series(name: &str, values: &[f64]) -> Series {
        Series { name: name.to_owned(), values: values.to_vec() }
    }

    /// The opening tags (up to `>`) that start with `prefix`.
    fn tags<'a>(svg: &'a str, prefix: &str) -> Vec<&'a str> {
        svg.match_indices(prefix)
            .map(|(at, _)| {
                let rest = &svg[at..];
                &rest[..rest.find('>').unwrap_or(rest.len())]
            })
            .collect()
    }

    fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let len = tag[start..].find('"')?;
        Some(&tag[start..start + len])
    }

    fn attr_f64(tag: &str, name: &str) -> f64 {
        attr(tag, name).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    fn assert_clean(svg: &str) {
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        for bad in ["NaN", "inf", "-0\"", "-0,"] {
            assert!(!svg.contains(bad), "{bad} in {svg}");
        }
    }

    #[test]
    fn root_element_and_title() {
        let svg = bars("Tickets per day", &strings(&["Mon"]), &[series("Opened", &[3.0])], Unit::Count, false);
        assert!(svg.contains(r#"aria-label="Tickets per day" viewBox="0 0 640 240" class="chart" width="100%""#));
        assert!(svg.contains("<title>Tickets per day</title>"));
        assert!(svg.contains(r#"font-family="system-ui, sans-serif" font-size="11""#));
        assert_clean(&svg);
        let svg = hbars("SLA", &strings(&["a", "b", "c"]), &[1.0, 2.0, 3.0], &[], Unit::Count, None);
        assert!(svg.contains(r#"viewBox="0 0 640 100""#), "3 rows * 28 + 16: {svg}");
    }

    #[test]
    fn values_are_written_as_data_attributes() {
        let labels = strings(&["Mon", "Tue", "Wed"]);
        let data = [series("Opened", &[12.0, 97.5, 1.0 / 3.0]), series("Closed", &[1234.0, 0.0, 7.0])];
        for svg in [
            bars("x", &labels, &data, Unit::Count, false),
            bars("x", &labels, &data, Unit::Count, true),
            lines("x", &labels, &data, Unit::Count),
        ] {
            assert_clean(&svg);
            for v in ["12", "97.5", "0.33", "1234", "0", "7"] {
                assert!(svg.contains(&format!(r#"data-value="{v}""#)), "{v} missing: {svg}");
            }
            assert!(svg.contains(r#"data-label="Tue" data-series="Opened" data-value="97.5""#));
            assert!(svg.contains("<title>Wed · Closed: 7</title>"));
            assert!(svg.contains("<title>Mon · Closed: 1,234</title>"));
            assert_eq!(tags(&svg, r#" data-value=""#).len(), 6);
        }
        let svg =
            hbars("SLA", &strings(&["Ann", "Bo"]), &[97.5, 12.0], &strings(&["n=42", ""]), Unit::Percent, Some(100.0));
        assert!(svg.contains(r#"data-label="Ann" data-series="" data-value="97.5""#));
        assert!(svg.contains(r#"data-value="12""#));
        assert!(svg.contains("<title>Ann: 97.5% · n=42</title>"));
        assert!(svg.contains(">n=42</tspan>"));
        assert_clean(&svg);
    }

    #[test]
    fn raw_numbers() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(97.5), "97.5");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(-3.0), "-3");
        assert_eq!(num(2.999), "3");
        assert_eq!(num(1e20), "100000000000000000000");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
    }

    #[test]
    fn text_is_escaped() {
        let evil = r#"<script>alert('x')</script> & "q""#;
        let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;";
        let labels = strings(&[evil, "ok"]);
        let data = [series(evil, &[1.0, 2.0]), series("b", &[3.0, 4.0])];
        for svg in [
            bars(evil, &labels, &data, Unit::Count, false),
            lines(evil, &labels, &data, Unit::Count),
            hbars(evil, &labels, &[1.0, 2.0], &strings(&[evil, ""]), Unit::Count, None),
        ] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("'x'"), "{svg}");
            assert!(svg.contains(&format!(r#"aria-label="{escaped}""#)));
            assert!(svg.contains(&format!(r#"data-label="{escaped}""#)));
        }
        assert_eq!(escape("a\u{0}b\nc"), "ab c");
    }

    #[test]
    fn empty_and_zero_data_draw_a_dash() {
        let none: Vec<String> = Vec::new();
        let labels = strings(&["a", "b"]);
        let zeros = [series("s", &[0.0, 0.0])];
        let odd = [series("s", &[f64::NAN, -5.0])];
        for svg in [
            bars("e", &none, &[], Unit::Count, false),
            bars("e", &labels, &[], Unit::Count, true),
            bars("e", &labels, &zeros, Unit::Percent, true),
            bars("e", &labels, &odd, Unit::Percent, false),
            lines("e", &none, &zeros, Unit::Minutes),
            lines("e", &labels, &zeros, Unit::Score),
            hbars("e", &none, &[], &[], Unit::Count, None),
            hbars("e", &labels, &[0.0, 0.0], &[], Unit::Count, None),
            hbars("e", &labels, &[f64::NAN, f64::INFINITY], &[], Unit::Count, None),
        ] {
            assert_clean(&svg);
            assert!(svg.contains(r#"class="chart-empty""#), "{svg}");
            assert!(svg.contains(">—</text>"));
        }
        // With an explicit scale, 0% is data and is drawn.
        let svg = hbars("e", &labels, &[0.0, 0.0], &[], Unit::Percent, Some(100.0));
        assert!(!svg.contains("chart-empty"));
        assert_eq!(tags(&svg, r#"<rect class="bar""#).len(), 2);
        assert!(svg.contains(r##"fill="#dc2626""##));
    }

    #[test]
    fn non_finite_and_negative_values() {
        let labels = strings(&["a", "b", "c", "d"]);
        let data = [series("s", &[f64::NAN, 5.0, f64::INFINITY, -3.0])];
        for svg in [bars("x", &labels, &data, Unit::Count, false), lines("x", &labels, &data, Unit::Count)] {
            assert_clean(&svg);
            assert_eq!(tags(&svg, " data-value=").len(), 2, "{svg}");
            assert!(svg.contains(r#"data-value="-3""#));
        }
        let svg = bars("x", &labels, &data, Unit::Count, false);
        let negative = tags(&svg, "<rect class=\"bar\"").into_iter().find(|t| t.contains("data-value=\"-3\""));
        assert_eq!(negative.map(|t| attr_f64(t, "height")), Some(0.0));
        let svg = hbars("x", &labels, &[f64::NAN, 5.0, f64::INFINITY, -3.0], &[], Unit::Count, None);
        assert_clean(&svg);
        assert!(svg.contains(r#"data-value="-3""#));
    }

    #[test]
    fn stacked_heights_add_up() {
        let labels = strings(&["A", "B", "C"]);
        let data = [
            series("Email", &[30.0, 20.0, 13.3]),
            series("Chat", &[50.0, 80.0, -4.0]),
            series("Phone", &[7.7, 0.0, 40.1]),
        ];
        let svg = bars("x", &labels, &data, Unit::Count, true);
        assert_clean(&svg);
        let Some(Plan { axis, frame, .. }) = plan(&labels, &data, Unit::Count, Kind::Bars { stacked: true }, WIDTH)
        else {
            panic!("no plan");
        };
        assert_eq!(axis.max, 100.0);
        for (label, total) in [("A", 87.7), ("B", 100.0), ("C", 53.4)] {
            let rects: Vec<&str> = tags(&svg, "<rect class=\"bar\"")
                .into_iter()
                .filter(|t| attr(t, "data-label") == Some(label))
                .collect();
            assert_eq!(rects.len(), 3);
            let sum: f64 = rects.iter().map(|t| attr_f64(t, "height")).sum();
            let expected = frame.length(total, &axis);
            assert!((sum - expected).abs() < 0.5, "{label}: {sum} vs {expected}");
            // Segments touch: the lowest sits on the baseline, the top ends at the total.
            let bottom = rects.iter().map(|t| attr_f64(t, "y") + attr_f64(t, "height")).fold(0.0, f64::max);
            let top = rects.iter().map(|t| attr_f64(t, "y")).fold(f64::MAX, f64::min);
            assert!((bottom - frame.bottom).abs() < 0.5);
            assert!((top - frame.y(total, &axis)).abs() < 0.5);
        }
    }

    #[test]
    fn side_by_side_bars_do_not_overlap() {
        let labels = strings(&["A", "B"]);
        let data = [series("x", &[1.0, 2.0]), series("y", &[3.0, 4.0]), series("z", &[5.0, 6.0])];
        let svg = bars("x", &labels, &data, Unit::Count, false);
        let rects = tags(&svg, "<rect class=\"bar\"");
        assert_eq!(rects.len(), 6);
        let mut spans: Vec<(f64, f64)> =
            rects.iter().map(|t| (attr_f64(t, "x"), attr_f64(t, "x") + attr_f64(t, "width"))).collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0 + 1e-6), "{spans:?}");
    }

    #[test]
    fn nice_ticks() {
        let ticks = |max: f64, unit: Unit| Axis::new(max, unit).map(|a| a.ticks()).unwrap_or_default();
        assert_eq!(ticks(87.0, Unit::Count), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(100.0, Unit::Percent), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(5.0, Unit::Count), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ticks(0.3, Unit::Count), [0.0, 1.0]);
        assert_eq!(ticks(4.62, Unit::Score), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ticks(1234.0, Unit::Count), [0.0, 500.0, 1000.0, 1500.0]);
        assert_eq!(ticks(130.0, Unit::Minutes), [0.0, 30.0, 60.0, 90.0, 120.0, 150.0]);
        assert!(ticks(0.0, Unit::Count).is_empty());
        assert!(ticks(f64::INFINITY, Unit::Count).is_empty());
        for max in [0.07, 1.0, 3.3, 9.99, 61.0, 101.0, 777.0, 54_321.0, 2.5e9] {
            let axis = Axis::new(max, Unit::Score).unwrap_or(Axis { max: 0.0, step: 1.0, hours: false });
            let mantissa = axis.step / 10f64.powf(axis.step.log10().floor());
            assert!([1.0, 2.0, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-9), "{max}: {axis:?}");
            let n = axis.ticks().len() - 1;
            assert!((2..=6).contains(&n) && axis.max >= max, "{max}: {axis:?}");
        }

        let svg = bars("x", &strings(&["a"]), &[series("s", &[87.0])], Unit::Count, false);
        let labels: Vec<&str> = svg
            .split(r#"<text class="y-label""#)
            .skip(1)
            .filter_map(|t| t.split('>').nth(1)?.split('<').next())
            .collect();
        assert_eq!(labels, ["0", "20", "40", "60", "80", "100"]);
        let svg = lines("x", &strings(&["a", "b"]), &[series("s", &[20.0, 130.0])], Unit::Minutes);
        assert!(svg.contains(">2.5 h</text>") && svg.contains(">0.5 h</text>"), "{svg}");
        let svg = bars("x", &strings(&["a"]), &[series("s", &[97.0])], Unit::Percent, false);
        assert!(svg.contains(">100%</text>"));
    }

    #[test]
    fn many_labels_are_thinned() {
        let labels: Vec<String> = (1..=48).map(|d| format!("2025-03-{d:02}")).collect();
        let values: Vec<f64> = (1..=48).map(f64::from).collect();
        for svg in [
            bars("x", &labels, &[series("s", &values)], Unit::Count, false),
            lines("x", &labels, &[series("s", &values)], Unit::Count),
        ] {
            assert_clean(&svg);
            let written = tags(&svg, r#"<text class="x-label""#);
            assert_eq!(written.len(), 16);
            for label in &labels {
                assert!(svg.contains(&format!(r#"data-label="{label}""#)), "{label}");
            }
        }
        let svg = bars("x", &labels[..10], &[series("s", &values[..10])], Unit::Count, false);
        assert_eq!(tags(&svg, r#"<text class="x-label""#).len(), 10);
    }

    #[test]
    fn chinese_labels_are_truncated_by_character() {
        let long = "风控合规部门季度质量考核";
        assert_eq!(truncate(long, 10), "风控合规…");
        assert_eq!(truncate("风控合规部", 10), "风控合规部");
        assert_eq!(truncate("Customer Success", 9), "Customer…");
        assert_eq!(truncate("abc", 0), "…");
        for units in 0..30 {
            let cut = truncate(long, units);
            assert!(text_units(&cut) <= units.max(1), "{units}: {cut}");
            let kept = cut.trim_end_matches('…');
            assert!(long.starts_with(kept));
        }

        let labels: Vec<String> = (0..20).map(|i| format!("{long}{long}{i}")).collect();
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        let svg = hbars("组", &labels, &values, &[], Unit::Count, None);
        assert_clean(&svg);
        assert!(svg.contains(&format!(r#"data-label="{long}{long}7""#)));
        assert!(svg.contains(">风控合规部门季度质量考核…</text>"), "{svg}");
        let svg = bars("组", &labels, &[series("工单", &values)], Unit::Count, false);
        for tag in svg.split(r#"<text class="x-label""#).skip(1) {
            let text = tag.split('>').nth(1).and_then(|t| t.split('<').next()).unwrap_or("");
            assert!(text.ends_with('…') && long.starts_with(text.trim_end_matches('…')), "{text}");
        }
    }

    #[test]
    fn legend_only_for_several_series() {
        let labels = strings(&["a", "b"]);
        let one = bars("x", &labels, &[series("Solo", &[1.0, 2.0])], Unit::Count, false);
        assert!(!one.contains(r#"class="legend""#));
        let two = lines("x", &labels, &[series("Email", &[1.0, 2.0]), series("Chat", &[2.0, 1.0])], Unit::Count);
        assert!(two.contains(r#"class="legend""#));
        assert!(two.contains(">Email</text>") && two.contains(">Chat</text>"));
        assert!(two.contains(r##"stroke="#2563eb""##) && two.contains(r##"stroke="#16a34a""##));
        assert_eq!(tags(&two, "<polyline").len(), 2);
        // Many long names wrap onto several legend rows and push the plot down, still inside the chart.
        let many: Vec<Series> = (0..12).map(|i| series(&format!("Queue number {i}"), &[1.0, 2.0])).collect();
        let svg = bars("x", &labels, &many, Unit::Count, true);
        assert_clean(&svg);
        assert!(svg.contains(r##"fill="#2563eb""##) && svg.contains(r##"fill="#65a30d""##));
    }

    #[test]
    fn hbar_colours() {
        let labels = strings(&["a", "b", "c", "d"]);
        let svg = hbars("SLA", &labels, &[99.0, 95.0, 80.0, 79.9], &[], Unit::Percent, Some(100.0));
        let fills: Vec<&str> = tags(&svg, r#"<rect class="bar""#).iter().filter_map(|t| attr(t, "fill")).collect();
        assert_eq!(fills, ["#16a34a", "#16a34a", "#f59e0b", "#dc2626"]);
        let widths: Vec<f64> = tags(&svg, r#"<rect class="bar""#).iter().map(|t| attr_f64(t, "width")).collect();
        assert!(widths[0] > widths[2] && widths[2] > widths[3] && widths[3] > 0.0);
        let svg = hbars("Load", &labels, &[9.0, 5.0, 80.0, 7.0], &[], Unit::Count, None);
        assert!(tags(&svg, r#"<rect class="bar""#).iter().all(|t| attr(t, "fill") == Some("#2563eb")));
        // Values past the scale's end are drawn at the end and keep their real value.
        let svg = hbars("x", &labels[..1], &[120.0], &[], Unit::Percent, Some(100.0));
        assert!(svg.contains(r#"data-value="120""#) && svg.contains(">120%"));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_value(1234.0, Unit::Count), "1,234");
        assert_eq!(format_value(1_234_567.0, Unit::Count), "1,234,567");
        assert_eq!(format_value(-1_234_567.25, Unit::Count), "-1,234,567.3");
        assert_eq!(format_value(999.0, Unit::Count), "999");
        assert_eq!(format_value(12.5, Unit::Count), "12.5");
        assert_eq!(format_value(0.0, Unit::Count), "0");
        assert_eq!(format_value(-0.01, Unit::Count), "0");
        assert_eq!(format_value(97.5, Unit::Percent), "97.5%");
        assert_eq!(format_value(97.54, Unit::Percent), "97.5%");
        assert_eq!(format_value(100.0, Unit::Percent), "100%");
        assert_eq!(format_value(3.5, Unit::Minutes), "3.5 min");
        assert_eq!(format_value(45.0, Unit::Minutes), "45.0 min");
        assert_eq!(format_value(119.9, Unit::Minutes), "119.9 min");
        assert_eq!(format_value(120.0, Unit::Minutes), "2.0 h");
        assert_eq!(format_value(150.0, Unit::Minutes), "2.5 h");
        assert_eq!(format_value(4.6234, Unit::Score), "4.62");
        assert_eq!(format_value(4.0, Unit::Score), "4.00");
        assert_eq!(format_value(f64::NAN, Unit::Score), "—");
        assert_eq!(format_value(f64::NEG_INFINITY, Unit::Count), "—");
    }
}
