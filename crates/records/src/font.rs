//! The font the PDF is set in: a CJK sans-serif found on the system (Noto Sans CJK, Debian's
//! `fonts-noto-cjk`) or named by `LIFEBUOY_PDF_FONT`. The face for Simplified or Traditional Chinese is picked
//! from a collection by its family name.

use skrifa::raw::FileRef;
use skrifa::{FontRef, MetadataProvider, string::StringId};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment variable naming a font file (`.ttf`, `.otf`, `.ttc`) to set the PDF in.
pub const FONT_ENV: &str = "LIFEBUOY_PDF_FONT";

/// Where the common systems put Noto Sans CJK (or a font with the same coverage), in order of preference.
pub const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/local/share/fonts/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
];

/// Why a readable form could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no CJK font for the PDF: none of {tried} exists. Install the Debian package fonts-noto-cjk \
         (apt-get install fonts-noto-cjk) or set {FONT_ENV} to a font file with Chinese glyphs"
    )]
    NoFont { tried: String },
    #[error("cannot read the font file {path}: {why}")]
    FontFile { path: PathBuf, why: String },
    #[error("the font cannot set Chinese text: {0}")]
    BadFont(String),
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
}

/// Font data for the PDF: a regular weight and, where there is one beside it, a bold one for headings.
/// Cloning is cheap; keep one for the life of a process rather than reading the files per document.
#[derive(Clone)]
pub struct FontSource {
    pub(crate) regular: Arc<Vec<u8>>,
    pub(crate) bold: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for FontSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FontSource({} bytes, bold: {})", self.regular.len(), self.bold.is_some())
    }
}

impl FontSource {
    /// The font named by `LIFEBUOY_PDF_FONT`, else the first of [`FONT_PATHS`] that exists.
    pub fn find() -> Result<FontSource, RenderError> {
        if let Some(path) = std::env::var_os(FONT_ENV).filter(|p| !p.is_empty()) {
            return FontSource::from_path(Path::new(&path));
        }
        match FONT_PATHS.iter().map(Path::new).find(|p| p.is_file()) {
            Some(path) => FontSource::from_path(path),
            None => Err(RenderError::NoFont { tried: format!("${FONT_ENV}, {}", FONT_PATHS.join(", ")) }),
        }
    }

    /// The font in `path`, with its bold weight if the file beside it is named alike (`…-Regular.ttc` →
    /// `…-Bold.ttc`).
    pub fn from_path(path: &Path) -> Result<FontSource, RenderError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| RenderError::FontFile { path: p.to_path_buf(), why: e.to_string() })
        };
        let regular = read(path)?;
        let bold = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| n.contains("Regular"))
            .map(|n| path.with_file_name(n.replace("Regular", "Bold")))
            .filter(|p| p.is_file())
            .and_then(|p| read(&p).ok());
        FontSource::from_bytes(regular, bold)
    }

    /// Fonts given as bytes (a `.ttf`, `.otf` or `.ttc`).
    pub fn from_bytes(regular: Vec<u8>, bold: Option<Vec<u8>>) -> Result<FontSource, RenderError> {
        FileRef::new(&regular).map_err(|e| RenderError::BadFont(e.to_string()))?;
        let bold = bold.filter(|b| FileRef::new(b).is_ok());
        Ok(FontSource { regular: Arc::new(regular), bold: bold.map(Arc::new) })
    }
}

/// The face of `data` to use for `traditional` or Simplified Chinese: in a collection, the first whose family
/// name ends in ` TC` or ` SC` (not a monospaced one), else the first face.
pub(crate) fn face_index(data: &[u8], traditional: bool) -> Result<u32, RenderError> {
    let file = FileRef::new(data).map_err(|e| RenderError::BadFont(e.to_string()))?;
    let FileRef::Collection(faces) = file else { return Ok(0) };
    let suffix = if traditional { " TC" } else { " SC" };
    let wanted = |f: &FontRef| {
        f.localized_strings(StringId::FAMILY_NAME)
            .english_or_first()
            .map(|n| n.to_string())
            .is_some_and(|n| n.ends_with(suffix) && !n.contains("Mono"))
    };
    Ok((0..faces.len()).find(|&i| faces.get(i).is_ok_and(|f| wanted(&f))).unwrap_or(0))
}
