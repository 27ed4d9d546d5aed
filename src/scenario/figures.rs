//! The figure and movie keys of a dorsal-horn scenario's `[output]` table (`figures`,
//! `figure_*`, `movie`, `movie_fps`), resolved into [`FigureOptions`] with errors that name the
//! key, the value and what is allowed (docs/scenario-format.md, "Figures and movies").

use crate::error::ScenarioError;
use crate::model::network::state::{DEFAULT_VIEW_FIELDS, RATE_NAMES, STATE_NAMES};
use crate::scenario::dorsal_horn::RawTissueOutput;
use crate::scenario::keys::{choice, err, int_range, range};

/// How a panel's colour range is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeMode {
    /// Each figure's own finite min and max (colours are not comparable between figures).
    Frame,
    /// The min and max over every figure of the run (the default: a movie's colours mean the
    /// same value throughout).
    Run,
    /// A fixed (low, high).
    Fixed(f32, f32),
}

/// The figures' colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// The window's dark theme (the default).
    Dark,
    /// Dark text on white, for print.
    Light,
}

/// A movie's container and codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieFormat {
    /// Animated GIF, encoded in-process (no external tool).
    Gif,
    /// H.264 in MP4, through `ffmpeg` when it is installed.
    Mp4,
    /// VP9 in WebM, through `ffmpeg` when it is installed.
    Webm,
}

impl MovieFormat {
    pub fn extension(self) -> &'static str {
        match self {
            MovieFormat::Gif => "gif",
            MovieFormat::Mp4 => "mp4",
            MovieFormat::Webm => "webm",
        }
    }
}

/// Resolved figure and movie options.
#[derive(Debug, Clone)]
pub struct FigureOptions {
    pub enabled: bool,
    /// A figure at the first read-out at or after each multiple of this (s).
    pub every_s: f64,
    /// Field indices (into `STATE_NAMES` then `RATE_NAMES`), one panel each.
    pub fields: Vec<usize>,
    /// Panels across and down (`None`: "auto", the grid that draws the cells largest).
    pub layout: Option<(usize, usize)>,
    /// Pixels (width, height).
    pub size: [u32; 2],
    /// One per field.
    pub ranges: Vec<RangeMode>,
    pub theme: Theme,
    /// The pain-index strip under the panels.
    pub plot: bool,
    pub outlines: bool,
    pub movie: Option<MovieFormat>,
    pub fps: u32,
}

/// Figures: at most this many panels.
pub const MAX_PANELS: usize = 9;

/// Resolves the figure keys; `every_s` and `duration_s` are the scenario's read-out interval and
/// length, which set the default figure interval (one figure per read-out, at most about 85).
pub fn resolve_figures(
    o: &str,
    raw: &RawTissueOutput,
    every_s: f64,
    duration_s: f64,
) -> Result<FigureOptions, ScenarioError> {
    let default_every_h = (every_s / 3600.0).max(duration_s / 3600.0 / 84.0);
    let every_s = 3600.0
        * range(
            o,
            "output.figure_every_h",
            raw.figure_every_h.unwrap_or(default_every_h),
            0.01,
            (duration_s / 3600.0).max(24.0),
            "h",
        )?;
    let field_names: Vec<String> = raw
        .figure_fields
        .clone()
        .unwrap_or_else(|| DEFAULT_VIEW_FIELDS.iter().map(|s| s.to_string()).collect());
    if field_names.is_empty() || field_names.len() > MAX_PANELS {
        return Err(err(
            o,
            "output.figure_fields",
            format!(
                "{} fields given: a figure has 1 to {MAX_PANELS} panels",
                field_names.len()
            ),
        ));
    }
    let fields = field_indices(o, "output.figure_fields", &field_names)?;
    let n = fields.len();
    let layout = parse_layout(
        o,
        "output.figure_layout",
        raw.figure_layout.as_deref(),
        n,
        "output.figure_fields",
    )?;
    let size = match raw.figure_size.as_deref() {
        None => [1600, 900],
        Some([w, h]) => [
            int_range(o, "output.figure_size", *w, 320, 8192)? as u32,
            int_range(o, "output.figure_size", *h, 240, 8192)? as u32,
        ],
        Some(other) => {
            return Err(err(
                o,
                "output.figure_size",
                format!(
                    "{other:?} is not allowed: give [width, height] in pixels, for example [1600, 900]"
                ),
            ));
        }
    };
    let ranges = parse_ranges(
        o,
        "output.figure_range",
        raw.figure_range.as_ref(),
        &field_names,
        "output.figure_fields",
    )?;
    let theme = match choice(
        o,
        "output.figure_theme",
        raw.figure_theme.as_deref().unwrap_or("dark"),
        &["dark", "light"],
    )? {
        "dark" => Theme::Dark,
        _ => Theme::Light,
    };
    let movie = match choice(
        o,
        "output.movie",
        raw.movie.as_deref().unwrap_or("gif"),
        &["gif", "mp4", "webm", "none"],
    )? {
        "gif" => Some(MovieFormat::Gif),
        "mp4" => Some(MovieFormat::Mp4),
        "webm" => Some(MovieFormat::Webm),
        _ => None,
    };
    let enabled = raw.figures.unwrap_or(true);
    if !enabled && raw.movie.as_deref().is_some_and(|m| m != "none") {
        return Err(err(
            o,
            "output.movie",
            "a movie is made of the figures, and output.figures = false: set output.figures = true \
             or output.movie = \"none\"",
        ));
    }
    Ok(FigureOptions {
        enabled,
        every_s,
        fields,
        layout,
        size,
        ranges,
        theme,
        plot: raw.figure_plot.unwrap_or(true),
        outlines: raw.figure_outlines.unwrap_or(true),
        movie: if enabled { movie } else { None },
        fps: int_range(o, "output.movie_fps", raw.movie_fps.unwrap_or(8), 1, 60)? as u32,
    })
}

/// A colour-range table (`output.figure_range`, a demo step's `range`, the table's `key`): per
/// field of `field_names` (the list `fields_key`) "run", "frame" or [low, high]; "run" where not
/// given.
pub(crate) fn parse_ranges(
    o: &str,
    key: &str,
    table: Option<&toml::Table>,
    field_names: &[String],
    fields_key: &str,
) -> Result<Vec<RangeMode>, ScenarioError> {
    let mut ranges = vec![RangeMode::Run; field_names.len()];
    if let Some(table) = table {
        for (name, v) in table {
            let key_path = format!("{key}.{name}");
            let Some(k) = field_names.iter().position(|f| f == name) else {
                return Err(err(
                    o,
                    &key_path,
                    format!(
                        "`{name}` is not one of {fields_key} ({})",
                        field_names.join(", ")
                    ),
                ));
            };
            ranges[k] = match v {
                toml::Value::String(s) => match choice(o, &key_path, s, &["run", "frame"])? {
                    "run" => RangeMode::Run,
                    _ => RangeMode::Frame,
                },
                toml::Value::Array(a) => {
                    let nums: Vec<f64> = a
                        .iter()
                        .filter_map(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)))
                        .collect();
                    match nums[..] {
                        [lo, hi] if a.len() == 2 && lo.is_finite() && hi.is_finite() && hi > lo => {
                            RangeMode::Fixed(lo as f32, hi as f32)
                        }
                        _ => {
                            return Err(err(
                                o,
                                &key_path,
                                format!(
                                    "{v} is not allowed: give [low, high] with low < high, \"run\" or \"frame\""
                                ),
                            ));
                        }
                    }
                }
                _ => {
                    return Err(err(
                        o,
                        &key_path,
                        format!("{v} is not allowed: give [low, high], \"run\" or \"frame\""),
                    ));
                }
            };
        }
    }
    Ok(ranges)
}

/// A panel layout (`output.figure_layout`, a demo step's `layout`, the key `key`): "auto" (None)
/// or "COLSxROWS" with room for the `n` fields of the list `fields_key`.
pub(crate) fn parse_layout(
    o: &str,
    key: &str,
    layout: Option<&str>,
    n: usize,
    fields_key: &str,
) -> Result<Option<(usize, usize)>, ScenarioError> {
    let layout = match layout.unwrap_or("auto") {
        "auto" => None,
        s => {
            let parsed = s
                .split_once('x')
                .and_then(|(c, r)| Some((c.parse::<usize>().ok()?, r.parse::<usize>().ok()?)));
            match parsed {
                Some((c, r)) if c >= 1 && r >= 1 && c * r >= n && c * r <= MAX_PANELS => {
                    Some((c, r))
                }
                _ => {
                    return Err(err(
                        o,
                        key,
                        format!(
                            "`{s}` is not allowed: use \"auto\" or \"COLSxROWS\" (for example \"2x2\", \
                             \"4x1\") with room for the {n} fields of {fields_key} and at most \
                             {MAX_PANELS} panels"
                        ),
                    ));
                }
            }
        }
    };
    Ok(layout)
}

/// The field indices (into `STATE_NAMES` then `RATE_NAMES`) of `names`, for the list `key`.
pub(crate) fn field_indices(
    o: &str,
    key: &str,
    names: &[String],
) -> Result<Vec<usize>, ScenarioError> {
    let all: Vec<&str> = STATE_NAMES
        .iter()
        .chain(RATE_NAMES.iter())
        .copied()
        .collect();
    names
        .iter()
        .map(|f| {
            all.iter().position(|n| n == f).ok_or_else(|| {
                err(
                    o,
                    key,
                    format!("`{f}` is not a field or state: use {}", all.join(", ")),
                )
            })
        })
        .collect()
}
