//! `/analytics`: what the person's published posts did (`?range=7|30|90` days): totals per
//! platform, engagement over time per platform as a line chart, the best posts, and a "best
//! time to post" grid of weekday by hour from their own posts. Every chart is an SVG or a grid
//! drawn on the server from Rust, coloured with the theme's variables (so it reads in both
//! themes), with its numbers in a table beside it for screen readers and anyone who wants
//! them. No island: the page adds no script.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::analytics::load_analytics;
use crate::components::notice::{Notice, Tone};
use crate::components::timestamp::Timestamp;
use crate::types::{
    AnalyticsOverview, BestPost, MetricTotals, Platform, PlatformSeries, WEEKDAY_NAMES, short_day,
};

/// The chart's drawing box, in SVG units.
const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 240.0;
const PAD_LEFT: f64 = 52.0;
const PAD_RIGHT: f64 = 12.0;
const PAD_TOP: f64 = 12.0;
const PAD_BOTTOM: f64 = 28.0;

/// The weekdays as the grid's rows say them.
fn weekday_short(index: u8) -> &'static str {
    &WEEKDAY_NAMES[usize::from(index)][..3]
}

/// `1234567` -> `1,234,567`; unknown -> an en dash.
fn figure(value: Option<i64>) -> String {
    let Some(value) = value else {
        return "\u{2013}".to_owned();
    };
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 { format!("-{out}") } else { out }
}

/// The smallest of 1, 2 or 5 times a power of ten at or above `max`: the chart's top line.
fn nice_ceiling(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1_i64;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max {
                return step * factor;
            }
        }
        step *= 10;
    }
}

#[component]
pub fn Analytics() -> impl IntoView {
    let range = use_query_map()
        .read_untracked()
        .get_str("range")
        .and_then(|raw| raw.parse::<u32>().ok())
        .filter(|days| (1..=AnalyticsOverview::MAX_RANGE_DAYS).contains(days))
        .unwrap_or(AnalyticsOverview::DEFAULT_RANGE_DAYS);
    let overview = OnceResource::new(load_analytics(range));
    view! {
        <header class="page-header">
            <h1 class="page-title">"Analytics"</h1>
            <p class="page-lead">"What your published posts did, as each platform reports it."</p>
        </header>
        <nav class="range-nav" aria-label="Period">
            {AnalyticsOverview::RANGES
                .into_iter()
                .map(|days| {
                    view! {
                        <a
                            href=format!("/analytics?range={days}")
                            class="cal-view"
                            aria-current=(days == range).then_some("page")
                        >
                            {format!("Last {days} days")}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <Suspense fallback=|| view! { <p class="field-hint">"Loading analytics\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) if overview.totals.is_empty() => Either::Left(Either::Left(view! {
                        <p class="empty">
                            "No numbers yet: they arrive within an hour of a post going out, for posts up to 30 days old. "
                            <a href="/compose">"Publish a post"</a>
                        </p>
                    })),
                    Ok(overview) => Either::Left(Either::Right(view! { <Report overview /> })),
                    Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Report(overview: AnalyticsOverview) -> impl IntoView {
    let grand = overview.grand_total();
    let period = format!(
        "{} to {} \u{b7} {}",
        short_day(overview.first_day),
        short_day(overview.last_day),
        overview.time_zone.as_str()
    );
    view! {
        <p class="field-hint">{period}</p>
        <Totals grand totals=overview.totals.clone() />
        <EngagementChart series=overview.series.clone() />
        <BestPosts posts=overview.best_posts.clone() />
        <HeatMap overview />
    }
}

#[component]
fn Totals(grand: MetricTotals, totals: Vec<crate::types::PlatformTotals>) -> impl IntoView {
    let cards = [
        ("Posts", Some(i64::from(grand.posts))),
        ("Impressions", grand.impressions),
        ("Engagement", Some(grand.engagement)),
        ("Likes", grand.likes),
        ("Replies", grand.replies),
        ("Reposts", grand.reposts),
        ("Link clicks", grand.link_clicks),
    ];
    view! {
        <section aria-labelledby="totals-title" class="analytics-section">
            <h2 id="totals-title" class="panel-title">"Totals"</h2>
            <ul class="stat-cards">
                {cards
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <li class="stat-card">
                                <span class="stat-value">{figure(value)}</span>
                                <span class="stat-label">{label}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <table class="data-table" id="totals-table">
                <caption class="sr-only">"Totals per platform"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Platform"</th>
                        <th scope="col">"Posts"</th>
                        <th scope="col">"Impressions"</th>
                        <th scope="col">"Likes"</th>
                        <th scope="col">"Replies"</th>
                        <th scope="col">"Reposts"</th>
                        <th scope="col">"Link clicks"</th>
                        <th scope="col">"Engagement"</th>
                    </tr>
                </thead>
                <tbody>
                    {totals
                        .into_iter()
                        .map(|row| {
                            let t = row.totals;
                            view! {
                                <tr>
                                    <th scope="row">
                                        <span class=format!("cal-key cal-{}", row.platform.as_str())>
                                            <span class="cal-swatch" aria-hidden="true"></span>
                                            {row.platform.display_name()}
                                        </span>
                                    </th>
                                    <td>{figure(Some(i64::from(t.posts)))}</td>
                                    <td>{figure(t.impressions)}</td>
                                    <td>{figure(t.likes)}</td>
                                    <td>{figure(t.replies)}</td>
                                    <td>{figure(t.reposts)}</td>
                                    <td>{figure(t.link_clicks)}</td>
                                    <td>{figure(Some(t.engagement))}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <p class="field-hint">"\u{2013} means the platform does not report that number."</p>
        </section>
    }
}

/// Where a day's point sits: `(x, y)` in the chart's box.
fn point(index: usize, days: usize, value: i64, ceiling: i64) -> (f64, f64) {
    let span = (days.max(2) - 1) as f64;
    let x = PAD_LEFT + (CHART_WIDTH - PAD_LEFT - PAD_RIGHT) * index as f64 / span;
    let y = CHART_HEIGHT
        - PAD_BOTTOM
        - (CHART_HEIGHT - PAD_TOP - PAD_BOTTOM) * value as f64 / ceiling as f64;
    (x, y)
}

/// Engagement per day of publishing, a line per platform, and the same numbers as a table.
#[component]
fn EngagementChart(series: Vec<PlatformSeries>) -> impl IntoView {
    let days: Vec<chrono::NaiveDate> = series
        .first()
        .map(|first| first.days.iter().map(|point| point.day).collect())
        .unwrap_or_default();
    let count = days.len();
    let ceiling = nice_ceiling(
        series
            .iter()
            .flat_map(|line| line.days.iter().map(|point| point.totals.engagement))
            .max()
            .unwrap_or(0),
    );
    let grid = [0, ceiling / 2, ceiling]
        .into_iter()
        .map(|value| {
            let (_, y) = point(0, count, value, ceiling);
            view! {
                <g class="chart-grid">
                    <line x1=PAD_LEFT x2=CHART_WIDTH - PAD_RIGHT y1=y y2=y />
                    <text x=PAD_LEFT - 6.0 y=y + 4.0 text-anchor="end">{figure(Some(value))}</text>
                </g>
            }
        })
        .collect_view();
    let ticks = [0, count / 2, count.saturating_sub(1)]
        .into_iter()
        .filter_map(|index| days.get(index).map(|day| (index, *day)))
        .map(|(index, day)| {
            let (x, _) = point(index, count, 0, ceiling);
            view! {
                <text class="chart-tick" x=x y=CHART_HEIGHT - 8.0 text-anchor="middle">{short_day(day)}</text>
            }
        })
        .collect_view();
    let lines = series
        .iter()
        .map(|line| {
            let platform = line.platform.as_str();
            let points = line
                .days
                .iter()
                .enumerate()
                .map(|(index, day)| {
                    let (x, y) = point(index, count, day.totals.engagement, ceiling);
                    format!("{x:.1},{y:.1}")
                })
                .collect::<Vec<_>>()
                .join(" ");
            let dots = line
                .days
                .iter()
                .enumerate()
                .filter(|(_, day)| day.totals.posts > 0)
                .map(|(index, day)| {
                    let (x, y) = point(index, count, day.totals.engagement, ceiling);
                    view! {
                        <circle
                            cx=format!("{x:.1}")
                            cy=format!("{y:.1}")
                            r="3"
                            data-platform=platform
                            data-day=day.day.to_string()
                            data-value=day.totals.engagement.to_string()
                        >
                            <title>
                                {format!(
                                    "{}, {}: {}",
                                    line.platform.display_name(),
                                    short_day(day.day),
                                    figure(Some(day.totals.engagement)),
                                )}
                            </title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <g class=format!("chart-series cal-{platform}")>
                    <polyline points=points />
                    {dots}
                </g>
            }
        })
        .collect_view();
    let legend = series
        .iter()
        .map(|line| {
            view! {
                <li class=format!("cal-key cal-{}", line.platform.as_str())>
                    <span class="cal-swatch" aria-hidden="true"></span>
                    {line.platform.display_name()}
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="chart-title" class="analytics-section">
            <h2 id="chart-title" class="panel-title">"Engagement by day of publishing"</h2>
            <ul class="cal-legend">{legend}</ul>
            <svg
                class="chart"
                viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")
                role="img"
                aria-labelledby="chart-title chart-desc"
            >
                <desc id="chart-desc">
                    "Likes, replies, reposts and link clicks of the posts published each day, a line per platform. The same numbers are in the table below."
                </desc>
                {grid}
                {ticks}
                {lines}
            </svg>
            <details class="chart-data">
                <summary>"The chart's numbers"</summary>
                <ChartTable days series />
            </details>
        </section>
    }
}

#[component]
fn ChartTable(days: Vec<chrono::NaiveDate>, series: Vec<PlatformSeries>) -> impl IntoView {
    view! {
        <table class="data-table" id="chart-table">
            <caption class="sr-only">"Engagement by day of publishing, per platform"</caption>
            <thead>
                <tr>
                    <th scope="col">"Day"</th>
                    {series
                        .iter()
                        .map(|line| view! { <th scope="col">{line.platform.display_name()}</th> })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {days
                    .iter()
                    .enumerate()
                    .map(|(index, day)| {
                        view! {
                            <tr>
                                <th scope="row">{short_day(*day)}</th>
                                {series
                                    .iter()
                                    .map(|line| {
                                        let value = line.days.get(index).map(|point| point.totals.engagement);
                                        view! {
                                            <td
                                                data-platform=line.platform.as_str()
                                                data-day=day.to_string()
                                            >
                                                {figure(value)}
                                            </td>
                                        }
                                    })
                                    .collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn BestPosts(posts: Vec<BestPost>) -> impl IntoView {
    view! {
        <section aria-labelledby="best-title" class="analytics-section">
            <h2 id="best-title" class="panel-title">"Best posts"</h2>
            <ol class="best-posts">
                {posts
                    .into_iter()
                    .map(|post| {
                        let platform: Platform = post.platform;
                        view! {
                            <li class="best-post">
                                <a href=format!("/posts/{}", post.post_id.0)>{post.excerpt}</a>
                                <span class="post-meta">
                                    <span class=format!("cal-key cal-{}", platform.as_str())>
                                        <span class="cal-swatch" aria-hidden="true"></span>
                                        {format!("{} @{}", platform.display_name(), post.account_handle)}
                                    </span>
                                    " \u{b7} " <Timestamp at=post.published_at />
                                    " \u{b7} " {format!("{} engagement", figure(Some(post.engagement)))}
                                    {post.latest.impressions.map(|seen| format!(" \u{b7} {} impressions", figure(Some(seen))))}
                                </span>
                                {post.url.map(|url| view! { <a href=url rel="noopener" target="_blank">"View on the platform"</a> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}

/// Weekday by hour: how much engagement the person's posts published then found on average.
/// A table, so it reads cell by cell; the shade says the same as the number.
#[component]
fn HeatMap(overview: AnalyticsOverview) -> impl IntoView {
    let max = overview
        .heat_map
        .iter()
        .filter_map(|cell| cell.average_engagement)
        .fold(0.0_f64, f64::max);
    let best = overview
        .heat_map
        .iter()
        .filter(|cell| cell.average_engagement.is_some())
        .max_by(|a, b| {
            a.average_engagement
                .partial_cmp(&b.average_engagement)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|cell| {
            format!(
                "Your posts found the most engagement on {} at {:02}:00 (an average of {:.1}, from {}).",
                weekday_short(cell.weekday),
                cell.hour,
                cell.average_engagement.unwrap_or(0.0),
                crate::pages::products::count_of(u64::from(cell.posts), "post"),
            )
        });
    view! {
        <section aria-labelledby="heat-title" class="analytics-section">
            <h2 id="heat-title" class="panel-title">"Best time to post"</h2>
            {best.map(|best| view! { <p>{best}</p> })}
            <div class="heat-scroll">
                <table class="heat-map">
                    <caption class="sr-only">
                        {format!(
                            "Average engagement of your posts by weekday and hour of publishing, in {}",
                            overview.time_zone.as_str()
                        )}
                    </caption>
                    <thead>
                        <tr>
                            <td></td>
                            {(0..24_u8).map(|hour| view! { <th scope="col">{format!("{hour:02}")}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {(0..7_u8)
                            .map(|weekday| {
                                view! {
                                    <tr>
                                        <th scope="row">{weekday_short(weekday)}</th>
                                        {(0..24_u8)
                                            .map(|hour| {
                                                let cell = overview.cell(weekday, hour);
                                                let average = cell.and_then(|cell| cell.average_engagement);
                                                let posts = cell.map_or(0, |cell| cell.posts);
                                                let class = heat_class(average, max);
                                                let label = match average {
                                                    Some(value) => format!(
                                                        "{} {hour:02}:00: {value:.1} average from {}",
                                                        weekday_short(weekday),
                                                        crate::pages::products::count_of(u64::from(posts), "post"),
                                                    ),
                                                    None => format!("{} {hour:02}:00: no posts", weekday_short(weekday)),
                                                };
                                                let title = label.clone();
                                                view! {
                                                    <td
                                                        class=class
                                                        title=title
                                                    >
                                                        <span class="sr-only">{label}</span>
                                                    </td>
                                                }
                                            })
                                            .collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The shade of a heat-map cell: five steps of the accent by the share of the best cell, a
/// classed step rather than a computed colour because the page's CSP allows no inline style.
fn heat_class(average: Option<f64>, max: f64) -> &'static str {
    const STEPS: [&str; 6] = [
        "heat-cell heat-0",
        "heat-cell heat-1",
        "heat-cell heat-2",
        "heat-cell heat-3",
        "heat-cell heat-4",
        "heat-cell heat-5",
    ];
    match average {
        None => "heat-cell heat-empty",
        Some(value) if value <= 0.0 || max <= 0.0 => STEPS[0],
        Some(value) => STEPS[((value / max) * 5.0).ceil().clamp(1.0, 5.0) as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_shade_by_their_share_of_the_best() {
        assert_eq!(heat_class(None, 10.0), "heat-cell heat-empty");
        assert_eq!(heat_class(Some(0.0), 10.0), "heat-cell heat-0");
        assert_eq!(heat_class(Some(0.5), 10.0), "heat-cell heat-1");
        assert_eq!(heat_class(Some(10.0), 10.0), "heat-cell heat-5");
        assert_eq!(heat_class(Some(6.1), 10.0), "heat-cell heat-4");
    }

    #[test]
    fn figures_group_thousands_and_mark_the_unknown() {
        assert_eq!(figure(Some(1_234_567)), "1,234,567");
        assert_eq!(figure(Some(999)), "999");
        assert_eq!(figure(Some(-1_000)), "-1,000");
        assert_eq!(figure(None), "\u{2013}");
    }

    #[test]
    fn the_top_line_is_a_round_number_above_the_most() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(480), 500);
        assert_eq!(nice_ceiling(5_000), 5_000);
    }

    #[test]
    fn points_span_the_box() {
        let (x, y) = point(0, 30, 0, 100);
        assert_eq!((x, y), (PAD_LEFT, CHART_HEIGHT - PAD_BOTTOM));
        let (x, y) = point(29, 30, 100, 100);
        assert_eq!((x, y), (CHART_WIDTH - PAD_RIGHT, PAD_TOP));
    }
}
