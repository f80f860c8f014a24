//! The two plots of docs/performance.md, as SVG: the warm-latency
//! histograms of every function beside the echo baseline, and throughput
//! (and p99) against the number of concurrent clients.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use crate::measure::load::LoadResult;
use crate::report::Results;
use crate::{CUSTOM, CUSTOM_LRT};

const COLORS: [RGBColor; 7] = [
    RGBColor(0x44, 0x44, 0x44),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// Renders both plots of `results` into `dir` (warm-latency.svg, and
/// throughput.svg when there were throughput runs).
pub fn render(results: &Results, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let mut series = vec![(results.echo_warm.label.clone(), results.echo_warm.samples_ms.clone())];
    for w in &results.warm {
        series.push((w.label.clone(), w.samples_ms.clone()));
    }
    if let Some(c) = &results.cargo_lambda {
        series.push(("lambda_runtime fn, cargo lambda watch".into(), c.samples_ms.clone()));
    }
    let histogram = dir.join("warm-latency.svg");
    latency_histogram(&histogram, &series)?;
    let mut load_series = Vec::new();
    if !results.echo_load.is_empty() {
        load_series.push(("loopback HTTP echo (hyper)".to_owned(), results.echo_load.clone()));
    }
    if !results.load.is_empty() {
        load_series.push((format!("Lambdabox, {CUSTOM}"), results.load.clone()));
    }
    if let Some(c) = &results.cargo_lambda {
        if !c.lambdabox_load.is_empty() {
            load_series.push((format!("Lambdabox, {CUSTOM_LRT}"), c.lambdabox_load.clone()));
        }
        if !c.load.is_empty() {
            load_series.push(("cargo lambda watch, lambda_runtime".to_owned(), c.load.clone()));
        }
    }
    if !load_series.is_empty() {
        throughput(&dir.join("throughput.svg"), &load_series)?;
    }
    eprintln!("wrote plots to {}", dir.display());
    Ok(())
}

/// Share of samples per logarithmic bin, as an outline per series.
pub fn latency_histogram(path: &Path, series: &[(String, Vec<f64>)]) -> anyhow::Result<()> {
    let all: Vec<f64> = series.iter().flat_map(|(_, s)| s.iter().copied()).filter(|v| *v > 0.0).collect();
    anyhow::ensure!(!all.is_empty(), "no latency samples to plot");
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min).max(1e-3);
    // Up to the largest p99.9 of any series: the far tail is in the table.
    let hi = series
        .iter()
        .map(|(_, s)| {
            let mut s = s.clone();
            s.sort_by(f64::total_cmp);
            crate::stats::percentile(&s, 99.9)
        })
        .fold(0.0, f64::max)
        .max(lo * 10.0);
    let (x_lo, x_hi) = (lo / 1.2, hi * 1.2);
    let bins = 80usize;
    let edge = |i: usize| x_lo * (x_hi / x_lo).powf(i as f64 / bins as f64);
    let mut curves = Vec::new();
    let mut y_max: f64 = 0.0;
    for (label, samples) in series {
        let mut counts = vec![0usize; bins];
        for v in samples {
            if *v >= x_lo && *v < x_hi {
                let i = ((v / x_lo).ln() / (x_hi / x_lo).ln() * bins as f64) as usize;
                counts[i.min(bins - 1)] += 1;
            }
        }
        let n = samples.len().max(1) as f64;
        let mut points = vec![(edge(0), 0.0)];
        for (i, c) in counts.iter().enumerate() {
            let share = 100.0 * *c as f64 / n;
            y_max = y_max.max(share);
            points.push((edge(i), share));
            points.push((edge(i + 1), share));
        }
        points.push((edge(bins), 0.0));
        curves.push((label.clone(), points));
    }
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Warm invoke latency (sequential requests, one keep-alive connection)", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..y_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("share of requests per bin (%)")
        .x_label_formatter(&|v| format!("{v}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (i, (label, points)) in curves.into_iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present().with_context(|| format!("write {}", path.display()))?;
    Ok(())
}

/// The throughput target at 64 clients.
const TARGET_RPS: f64 = 10_000.0;

/// Requests per second and p99 latency against concurrent clients, per series.
pub fn throughput(path: &Path, series: &[(String, Vec<LoadResult>)]) -> anyhow::Result<()> {
    let points: Vec<&LoadResult> = series.iter().flat_map(|(_, s)| s.iter()).collect();
    anyhow::ensure!(!points.is_empty(), "no throughput results to plot");
    let c_max = points.iter().map(|l| l.concurrency).max().unwrap_or(1).max(2) as f64;
    let rps_max = points.iter().map(|l| l.requests_per_second).fold(TARGET_RPS, f64::max) * 1.15;
    let p99_max = points.iter().map(|l| l.latency.p99_ms).fold(0.0, f64::max).max(1e-3);
    let p99_min = points.iter().map(|l| l.latency.p99_ms).fold(f64::INFINITY, f64::min).max(1e-3);
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(560);
    let mut keys: Vec<f64> = points.iter().map(|l| l.concurrency as f64).collect();
    keys.sort_by(f64::total_cmp);
    keys.dedup();
    let x_range = || (0.8..c_max * 1.25).log_scale().with_key_points(keys.clone());
    let mut rps_chart = ChartBuilder::on(&left)
        .caption("Throughput vs concurrent clients", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range(), 0.0..rps_max.max(1.0))?;
    rps_chart
        .configure_mesh()
        .x_desc("concurrent clients (log scale)")
        .y_desc("requests per second")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let mut p99_chart = ChartBuilder::on(&right)
        .caption("p99 latency under that load", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range(), (p99_min / 1.5..p99_max * 1.5).log_scale())?;
    p99_chart
        .configure_mesh()
        .x_desc("concurrent clients (log scale)")
        .y_desc("p99 latency (ms, log scale)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    let target = RGBColor(0x99, 0x99, 0x99);
    rps_chart
        .draw_series(LineSeries::new(
            [(0.8, TARGET_RPS), (c_max * 1.25, TARGET_RPS)],
            ShapeStyle::from(&target).stroke_width(1),
        ))?
        .label("target: 10,000/s at 64 clients")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], target.stroke_width(1)));
    for (i, (label, results)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let rps: Vec<(f64, f64)> = results.iter().map(|l| (l.concurrency as f64, l.requests_per_second)).collect();
        let p99: Vec<(f64, f64)> = results.iter().map(|l| (l.concurrency as f64, l.latency.p99_ms)).collect();
        rps_chart
            .draw_series(LineSeries::new(rps.clone(), color.stroke_width(2)))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        rps_chart.draw_series(rps.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
        p99_chart.draw_series(LineSeries::new(p99.clone(), color.stroke_width(2)))?;
        p99_chart.draw_series(p99.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
    }
    rps_chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present().with_context(|| format!("write {}", path.display()))?;
    Ok(())
}
