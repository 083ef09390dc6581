//! The plot of a lab run (SVG, with `plotters`): requests per 100 ms by real server, failures in
//! red, each step and each VRRP transition as a labelled vertical line.
//!
//! Text is drawn as SVG `<text>` elements and the chart has no automatic axis labels, so no font
//! is needed at build or run time.

use std::time::Duration;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::scenario::{StepReport, Transition};
use super::{Answer, DIRECTOR_NAMES, Sample};

/// The bucket width.
pub const BUCKET: Duration = Duration::from_millis(100);

/// Counts per bucket: `[rs1, rs2, failed]`.
pub fn buckets(samples: &[Sample]) -> Vec<[u32; 3]> {
    let len = samples
        .iter()
        .map(|s| s.at.as_millis() / BUCKET.as_millis() + 1)
        .max()
        .unwrap_or(0);
    let mut out = vec![[0u32; 3]; usize::try_from(len).unwrap_or(0)];
    for s in samples {
        let b = usize::try_from(s.at.as_millis() / BUCKET.as_millis()).unwrap_or(0);
        let k = match s.answer {
            Answer::Server(i) => i,
            Answer::Failed(_) => 2,
        };
        out[b][k] += 1;
    }
    out
}

/// Renders the plot as an SVG document.
pub fn svg(
    title: &str,
    samples: &[Sample],
    steps: &[StepReport],
    transitions: &[Transition],
) -> Result<String> {
    let counts = buckets(samples);
    let seconds = counts.len() as f64 * BUCKET.as_secs_f64();
    let top = counts
        .iter()
        .flat_map(|c| c.iter().copied())
        .max()
        .unwrap_or(1)
        .max(1);
    let y_max = f64::from(top) * 1.9 + 1.0;
    let (width, height) = (1400u32, 560u32);
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
        let err = |e: DrawingAreaErrorKind<_>| anyhow!("plot: {e:?}");
        root.fill(&WHITE).map_err(err)?;
        let font = ("sans-serif", 13).into_font();
        root.draw(&Text::new(
            format!("{title}: requests per 100 ms by real server (failures in red)"),
            (60, 8),
            ("sans-serif", 16).into_font(),
        ))
        .map_err(err)?;
        let area = root.margin(30, 40, 60, 20);
        let mut chart = ChartBuilder::on(&area)
            .build_cartesian_2d(0f64..seconds.max(1.0), 0f64..y_max)
            .map_err(|e| anyhow!("plot: {e:?}"))?;
        let err2 = |e: DrawingAreaErrorKind<_>| anyhow!("plot: {e:?}");
        // Axes and ticks, drawn by hand (no font metrics needed).
        let axis = BLACK.stroke_width(1);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (seconds, 0.0)],
                axis,
            )))
            .map_err(err2)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (0.0, y_max)],
                axis,
            )))
            .map_err(err2)?;
        let step = if seconds > 120.0 { 20.0 } else { 10.0 };
        let mut t = 0.0;
        while t <= seconds {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{t:.0} s"),
                    (t, -y_max * 0.06),
                    font.clone(),
                )))
                .map_err(err2)?;
            t += step;
        }
        for y in 0..=top {
            chart
                .draw_series(std::iter::once(Text::new(
                    y.to_string(),
                    (-seconds * 0.02, f64::from(y)),
                    font.clone(),
                )))
                .map_err(err2)?;
        }
        let x = |b: usize| b as f64 * BUCKET.as_secs_f64();
        let colours = [RGBColor(31, 119, 180), RGBColor(44, 160, 44)];
        for (k, colour) in colours.iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    counts
                        .iter()
                        .enumerate()
                        .map(|(b, c)| (x(b), f64::from(c[k]))),
                    colour.stroke_width(1),
                ))
                .map_err(err2)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("rs{}", k + 1),
                    (seconds * 0.01 + k as f64 * seconds * 0.05, y_max * 0.97),
                    ("sans-serif", 14).into_font().color(colour),
                )))
                .map_err(err2)?;
        }
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c[2] > 0)
                    .map(|(b, c)| {
                        Rectangle::new(
                            [(x(b), 0.0), (x(b) + BUCKET.as_secs_f64(), f64::from(c[2]))],
                            RED.filled(),
                        )
                    }),
            )
            .map_err(err2)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "failed",
                (seconds * 0.11, y_max * 0.97),
                ("sans-serif", 14).into_font().color(&RED),
            )))
            .map_err(err2)?;
        // Steps: grey lines, labels staggered so neighbours do not overlap.
        for (n, s) in steps.iter().enumerate() {
            let at = s.start.as_secs_f64();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at, 0.0), (at, y_max * 0.92)],
                    RGBColor(120, 120, 120).stroke_width(1),
                )))
                .map_err(err2)?;
            let y = y_max * (0.9 - 0.05 * (n % 4) as f64);
            let mark = if s.ok() { "" } else { " [FAILED]" };
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{}. {}{mark}", n + 1, s.name),
                    (at + seconds * 0.003, y),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )))
                .map_err(err2)?;
        }
        // VRRP transitions: dashed purple lines, labelled low.
        for (n, t) in transitions.iter().enumerate() {
            let at = t.at.as_secs_f64();
            let purple = RGBColor(148, 103, 189);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(at, 0.0), (at, y_max * 0.6)],
                    4,
                    3,
                    purple.stroke_width(1),
                ))
                .map_err(err2)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{} {}", DIRECTOR_NAMES[t.director], t.state),
                    (at + seconds * 0.003, y_max * (0.55 - 0.05 * (n % 3) as f64)),
                    ("sans-serif", 11).into_font().color(&purple),
                )))
                .map_err(err2)?;
        }
        root.present().map_err(err)?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_by_server_and_failure() {
        let s = |ms, answer| Sample {
            at: Duration::from_millis(ms),
            answer,
        };
        let samples = [
            s(10, Answer::Server(0)),
            s(60, Answer::Server(1)),
            s(150, Answer::Failed("timeout".into())),
            s(190, Answer::Server(0)),
        ];
        assert_eq!(buckets(&samples), [[1, 1, 0], [1, 0, 1]]);
        let text = svg("t", &samples, &[], &[]).unwrap();
        assert!(text.starts_with("<svg") && text.contains("rs2") && text.contains("failed"));
    }
}
