//! `/calendar`: the posts of a month or a week on the user's clock, coloured by platform. The
//! view, the date and the filters live in the URL
//! (`?view=week&date=2026-11-23&platform=x&account=<id>&status=scheduled`), so a reload or a
//! shared link opens the same view. The grid is drawn on the server; the board island around
//! it moves posts (drag, or the keyboard) and says what moved where.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike as _, Duration, NaiveDate};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use uuid::Uuid;

use crate::api::connections::load_connections;
use crate::api::posts::load_calendar;
use crate::components::calendar_board::CalendarBoard;
use crate::components::filters::{PlatformSelect, StatusSelect};
use crate::components::notice::{Notice, Tone};
use crate::components::status_badge::status_name;
use crate::types::{
    ApiError, CalendarEntry, CalendarQuery, CalendarShown, CalendarSpan, ClockChange, Connection,
    ConnectionId, Platform, TargetStatus, WEEKDAY_NAMES, day_label, month_name,
};

/// The statuses a post on the calendar can have (drafts are not on it).
const CALENDAR_STATUSES: [TargetStatus; 9] = [
    TargetStatus::Scheduled,
    TargetStatus::Publishing,
    TargetStatus::Processing,
    TargetStatus::Published,
    TargetStatus::Retrying,
    TargetStatus::Failed,
    TargetStatus::Cancelled,
    TargetStatus::WaitingReconnect,
    TargetStatus::Held,
];

/// Posts a month cell lists before it says how many more there are.
const CELL_POSTS: usize = 3;
/// The time a post composed from a month cell starts at.
const DEFAULT_HOUR: &str = "09:00";

/// The page as the URL asks for it. A value that does not parse means the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Asked {
    span: CalendarSpan,
    date: Option<NaiveDate>,
    platform: Option<Platform>,
    account: Option<ConnectionId>,
    status: Option<TargetStatus>,
}

impl Asked {
    fn from_query(query: &ParamsMap) -> Self {
        Self {
            span: query
                .get_str("view")
                .and_then(CalendarSpan::parse)
                .unwrap_or_default(),
            date: query.get_str("date").and_then(|raw| raw.parse().ok()),
            platform: query.get_str("platform").and_then(Platform::parse),
            account: query
                .get_str("account")
                .and_then(|raw| Uuid::parse_str(raw).ok())
                .map(ConnectionId),
            status: query.get_str("status").and_then(TargetStatus::parse),
        }
    }

    /// The filters, with placeholder days the server replaces.
    fn query(&self) -> CalendarQuery {
        CalendarQuery {
            from: NaiveDate::MIN,
            to: NaiveDate::MIN,
            platform: self.platform,
            account: self.account,
            status: self.status,
        }
    }

    /// The page's address for another view or date, keeping the filters. Every value is a
    /// slug, a date or a UUID, none of which needs escaping.
    fn href(&self, span: CalendarSpan, date: NaiveDate) -> String {
        let params: Vec<String> = [
            Some(format!("view={}", span.as_str())),
            Some(format!("date={date}")),
            self.platform
                .map(|platform| format!("platform={}", platform.as_str())),
            self.account.map(|account| format!("account={}", account.0)),
            self.status
                .map(|status| format!("status={}", status.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!("/calendar?{}", params.join("&"))
    }
}

fn title(span: CalendarSpan, date: NaiveDate, from: NaiveDate, to: NaiveDate) -> String {
    match span {
        CalendarSpan::Month => format!("{} {}", month_name(date), date.year()),
        CalendarSpan::Week if from.month() == to.month() => format!(
            "{}\u{2013}{} {} {}",
            from.day(),
            to.day(),
            month_name(to),
            to.year()
        ),
        CalendarSpan::Week => format!(
            "{} {} \u{2013} {} {} {}",
            from.day(),
            month_name(from),
            to.day(),
            month_name(to),
            to.year()
        ),
    }
}

fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |day| *day <= to)
}

#[component]
pub fn Calendar() -> impl IntoView {
    let asked = Asked::from_query(&use_query_map().read_untracked());
    let shown = OnceResource::new(load_calendar(asked.span, asked.date, asked.query()));
    let connections = OnceResource::new(load_connections());
    view! {
        <Suspense fallback=|| view! { <p class="field-hint">"Loading the calendar\u{2026}"</p> }>
            {move || {
                let asked = asked.clone();
                Suspend::new(async move {
                    let loaded = async { Ok::<_, ApiError>((shown.await?, connections.await?)) };
                    match loaded.await {
                        Ok((shown, overview)) => Either::Left(view! {
                            <CalendarPage asked shown accounts=overview.connections />
                        }),
                        Err(error) => Either::Right(view! {
                            <header class="page-header">
                                <h1 class="page-title">"Calendar"</h1>
                            </header>
                            <Notice tone=Tone::Error message=error.to_string() />
                        }),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn CalendarPage(asked: Asked, shown: CalendarShown, accounts: Vec<Connection>) -> impl IntoView {
    let CalendarShown {
        date,
        from,
        to,
        calendar,
    } = shown;
    let span = asked.span;
    let heading = title(span, date, from, to);
    let today = calendar.today;
    let (previous, next) = (
        asked.href(span, span.step(date, -1)),
        asked.href(span, span.step(date, 1)),
    );
    let (month_link, week_link, today_link) = (
        asked.href(CalendarSpan::Month, date),
        asked.href(CalendarSpan::Week, date),
        asked.href(span, today),
    );
    let truncated = calendar.truncated.then(|| {
        view! {
            <Notice
                tone=Tone::Warning
                message="More posts fall in these days than the calendar can show at once; the week view shows them all, a week at a time."
                    .to_owned()
            />
        }
    });
    let grid = match span {
        CalendarSpan::Month => Either::Left(view! {
            <MonthGrid asked=asked.clone() date from to today entries=calendar.entries />
        }),
        CalendarSpan::Week => Either::Right(view! {
            <WeekGrid
                from
                today
                now_local=calendar.now_local
                entries=calendar.entries
                changes=calendar.clock_changes
            />
        }),
    };
    view! {
        <header class="page-header cal-header">
            <div>
                <h1 class="page-title">"Calendar"</h1>
                <p class="page-lead">{heading.clone()} " \u{b7} " {calendar.time_zone}</p>
            </div>
            <nav class="cal-nav" aria-label="Calendar pages">
                <a class="button-secondary" href=previous rel="prev">
                    {match span {
                        CalendarSpan::Month => "\u{2190} Previous month",
                        CalendarSpan::Week => "\u{2190} Previous week",
                    }}
                </a>
                <a class="button-secondary" href=today_link>"Today"</a>
                <a class="button-secondary" href=next rel="next">
                    {match span {
                        CalendarSpan::Month => "Next month \u{2192}",
                        CalendarSpan::Week => "Next week \u{2192}",
                    }}
                </a>
                <span class="cal-views">
                    <a
                        href=month_link
                        class="cal-view"
                        aria-current=(span == CalendarSpan::Month).then_some("page")
                    >
                        "Month"
                    </a>
                    <a
                        href=week_link
                        class="cal-view"
                        aria-current=(span == CalendarSpan::Week).then_some("page")
                    >
                        "Week"
                    </a>
                </span>
            </nav>
        </header>
        <Filters asked date accounts />
        <Legend />
        {truncated}
        <CalendarBoard>
            <h2 class="sr-only">{heading}</h2>
            {grid}
        </CalendarBoard>
    }
}

/// A plain GET form: the filters load the page for the new URL.
#[component]
fn Filters(asked: Asked, date: NaiveDate, accounts: Vec<Connection>) -> impl IntoView {
    let account = asked.account.map(|id| id.0.to_string()).unwrap_or_default();
    view! {
        <form method="get" action="/calendar" class="filters" aria-label="Filter the calendar">
            <input type="hidden" name="view" value=asked.span.as_str() />
            <input type="hidden" name="date" value=date.to_string() />
            <PlatformSelect id="cal-platform" chosen=asked.platform />
            <div class="field">
                <label for="cal-account" class="field-label">"Account"</label>
                <select id="cal-account" name="account" class="field-input">
                    <option value="">"Every account"</option>
                    {accounts
                        .into_iter()
                        .map(|connection| {
                            let id = connection.id.0.to_string();
                            let chosen = id == account;
                            view! {
                                <option value=id selected=chosen>
                                    {format!(
                                        "{} \u{b7} {}",
                                        connection.handle,
                                        connection.platform.display_name(),
                                    )}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <StatusSelect id="cal-status" chosen=asked.status statuses=&CALENDAR_STATUSES />
            <div class="filters-actions">
                <button type="submit" class="button-secondary">"Apply filters"</button>
                <a href=format!("/calendar?view={}&date={date}", asked.span.as_str())>"Clear filters"</a>
            </div>
        </form>
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="cal-legend" aria-label="Platform colours">
            {Platform::ALL
                .into_iter()
                .map(|platform| {
                    view! {
                        <li class=format!("cal-key cal-{}", platform.as_str())>
                            <span class="cal-swatch" aria-hidden="true"></span>
                            {platform.display_name()}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The posts of each day, in time order.
fn by_day(entries: Vec<CalendarEntry>) -> HashMap<String, Vec<CalendarEntry>> {
    let mut days: HashMap<String, Vec<CalendarEntry>> = HashMap::new();
    for entry in entries {
        days.entry(entry.local[..10].to_owned())
            .or_default()
            .push(entry);
    }
    days
}

#[component]
fn MonthGrid(
    asked: Asked,
    date: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    entries: Vec<CalendarEntry>,
) -> impl IntoView {
    let mut posts = by_day(entries);
    let weeks: Vec<Vec<NaiveDate>> = days(from, to)
        .collect::<Vec<_>>()
        .chunks(7)
        .map(<[NaiveDate]>::to_vec)
        .collect();
    view! {
        <table class="cal-grid cal-month">
            <thead>
                <tr>
                    {WEEKDAY_NAMES
                        .into_iter()
                        .map(|name| view! { <th scope="col" abbr=name>{&name[..3]}</th> })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {weeks
                    .into_iter()
                    .map(|week| {
                        view! {
                            <tr>
                                {week
                                    .into_iter()
                                    .map(|day| {
                                        let entries = posts.remove(&day.to_string()).unwrap_or_default();
                                        let more = asked.href(CalendarSpan::Week, day);
                                        view! {
                                            <MonthCell
                                                day
                                                outside=day.month() != date.month()
                                                today
                                                entries
                                                more
                                            />
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
fn MonthCell(
    day: NaiveDate,
    outside: bool,
    today: NaiveDate,
    entries: Vec<CalendarEntry>,
    /// The week view of the day, for the posts the cell has no room for.
    more: String,
) -> impl IntoView {
    let label = day_label(day);
    let class = format!(
        "cal-cell{}{}",
        if outside { " cal-outside" } else { "" },
        if day == today { " cal-today" } else { "" }
    );
    let compose = (day >= today).then(|| {
        view! {
            <a
                class="cal-add"
                href=format!("/compose?at={day}T{DEFAULT_HOUR}")
                aria-label=format!("New post on {label}")
                title=format!("New post on {label}")
            ></a>
        }
    });
    let hidden = entries.len().saturating_sub(CELL_POSTS);
    let overflow = (hidden > 0).then(|| {
        view! {
            <a class="cal-more" href=more aria-label=format!("{hidden} more posts on {label}")>
                {format!("+{hidden} more")}
            </a>
        }
    });
    view! {
        <td class=class data-slot=day.to_string() data-label=label.clone()>
            {compose}
            <div class="cal-day">
                <span class="cal-date">{day.day()}</span>
                {(day == today).then(|| view! { <span class="cal-today-mark">"Today"</span> })}
            </div>
            <ul class="cal-posts" data-list="">
                {entries
                    .into_iter()
                    .take(CELL_POSTS)
                    .map(|entry| view! { <PostChip entry /> })
                    .collect_view()}
            </ul>
            {overflow}
        </td>
    }
}

#[component]
fn WeekGrid(
    from: NaiveDate,
    today: NaiveDate,
    now_local: String,
    entries: Vec<CalendarEntry>,
    changes: Vec<ClockChange>,
) -> impl IntoView {
    let week: Vec<NaiveDate> = days(from, from + Duration::days(6)).collect();
    // `2026-11-03T09` -> the posts of that hour.
    let mut posts: BTreeMap<String, Vec<CalendarEntry>> = BTreeMap::new();
    for entry in entries {
        posts
            .entry(entry.local[..13].to_owned())
            .or_default()
            .push(entry);
    }
    let change_of = move |day: NaiveDate, hour: u32| {
        changes
            .iter()
            .find(|change| change.day == day && change.hour == hour)
            .map(|change| change.skipped)
    };
    view! {
        <table class="cal-grid cal-week">
            <thead>
                <tr>
                    <td></td>
                    {week
                        .iter()
                        .map(|day| {
                            let current = *day == today;
                            view! {
                                <th scope="col" class:cal-today=current>
                                    {day_label(*day)}
                                    {current.then(|| view! { <span class="cal-today-mark">"Today"</span> })}
                                </th>
                            }
                        })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {(0..24_u32)
                    .map(|hour| {
                        let hour_label = format!("{hour:02}:00");
                        view! {
                            <tr>
                                <th scope="row" class="cal-hour">{hour_label.clone()}</th>
                                {week
                                    .iter()
                                    .map(|day| {
                                        let slot = format!("{day}T{hour:02}");
                                        let entries = posts.remove(&slot).unwrap_or_default();
                                        let label = format!("{}, {hour_label}", day_label(*day));
                                        // Slots end on the hour after; one that ended is past.
                                        let past = format!("{slot}:59") < now_local;
                                        view! {
                                            <WeekSlot
                                                hour_of=slot
                                                label
                                                change=change_of(*day, hour)
                                                past
                                                entries
                                                hour_label=hour_label.clone()
                                            />
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
fn WeekSlot(
    /// `2026-11-03T09`.
    hour_of: String,
    label: String,
    /// `Some(true)` when the clocks skip this hour, `Some(false)` when it happens twice.
    change: Option<bool>,
    past: bool,
    entries: Vec<CalendarEntry>,
    hour_label: String,
) -> impl IntoView {
    let (class, note) = match change {
        Some(true) => (
            "cal-slot cal-skipped",
            Some("The clocks skip this hour: nothing can be scheduled in it."),
        ),
        Some(false) => (
            "cal-slot cal-repeated",
            Some("This hour happens twice: the clocks go back at its end."),
        ),
        None => ("cal-slot", None),
    };
    let compose = (!past && change != Some(true)).then(|| {
        let date = &hour_of[..10];
        view! {
            <a
                class="cal-add"
                href=format!("/compose?at={date}T{hour_label}")
                aria-label=format!("New post on {label}")
                title=format!("New post on {label}")
            ></a>
        }
    });
    view! {
        <td class=class data-slot=hour_of data-label=label title=note>
            {compose}
            {note.map(|note| view! { <span class="sr-only">{note}</span> })}
            <ul class="cal-posts" data-list="">
                {entries.into_iter().map(|entry| view! { <PostChip entry /> }).collect_view()}
            </ul>
        </td>
    }
}

/// A post on the grid: its time, its accounts' platforms and the start of its text. It opens
/// the post; one that has not started can be dragged, or moved with the keyboard.
#[component]
fn PostChip(entry: CalendarEntry) -> impl IntoView {
    let platform = entry
        .targets
        .first()
        .map_or("none", |target| target.platform.as_str());
    let time = entry.local[11..16].to_owned();
    let accounts = entry
        .targets
        .iter()
        .map(|target| {
            format!(
                "{} {} ({})",
                target.platform.display_name(),
                target.account_handle,
                status_name(target.status)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let published = entry
        .targets
        .iter()
        .any(|target| target.status == TargetStatus::Published);
    let class = format!(
        "cal-post cal-{platform}{}",
        if published { " cal-published" } else { "" }
    );
    let movable = entry.movable;
    let excerpt_data = entry.excerpt.clone();
    let excerpt = entry.excerpt;
    view! {
        <li>
            <a
                class=class
                href=format!("/posts/{}", entry.post_id.0)
                draggable=if movable { "true" } else { "false" }
                data-post=entry.post_id.0.to_string()
                data-local=entry.local
                data-movable=if movable { "true" } else { "false" }
                data-excerpt=excerpt_data
                title=accounts.clone()
            >
                <span class="cal-time" data-time="">{time}</span>
                <span class="cal-marks" aria-hidden="true">
                    {entry
                        .targets
                        .iter()
                        .map(|target| view! { <span class=format!("cal-mark cal-{}", target.platform.as_str())></span> })
                        .collect_view()}
                </span>
                <span class="cal-text">{excerpt}</span>
                <span class="sr-only">{format!(" \u{2014} {accounts}")}</span>
            </a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_keeps_the_filters() {
        let query: ParamsMap = [("view", "week"), ("platform", "x"), ("status", "nonsense")]
            .into_iter()
            .collect();
        let asked = Asked::from_query(&query);
        assert_eq!(asked.span, CalendarSpan::Week);
        assert_eq!(asked.status, None);
        let date: NaiveDate = "2026-11-23".parse().unwrap();
        assert_eq!(
            asked.href(CalendarSpan::Month, date),
            "/calendar?view=month&date=2026-11-23&platform=x"
        );
    }

    #[test]
    fn titles_name_the_month_or_the_week() {
        let day = |raw: &str| raw.parse::<NaiveDate>().unwrap();
        assert_eq!(
            title(
                CalendarSpan::Month,
                day("2026-11-17"),
                day("2026-10-26"),
                day("2026-12-06")
            ),
            "November 2026"
        );
        assert_eq!(
            title(
                CalendarSpan::Week,
                day("2026-11-25"),
                day("2026-11-23"),
                day("2026-11-29")
            ),
            "23\u{2013}29 November 2026"
        );
        assert_eq!(day_label(day("2026-11-03")), "Tuesday 3 November");
    }
}
