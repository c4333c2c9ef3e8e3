//! The HTML of the dashboard: the overview (pipelines, previews, releases, DORA, drift) and a
//! page per app and environment, server-rendered with maud (escaped, checked when compiled).
//! Works without JavaScript; `/dashboard.js` only swaps in the fresh page on a server event.

use glueops::board::{Board, DoraCard, Pipeline, ReleaseEntry, Stage};
use maud::{DOCTYPE, Markup, html};

use super::chart::{ago, per_day, short, stamp};

/// Apps per page of the overview.
pub(crate) const PAGE: usize = 50;

/// What the URL asks for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct Filter {
    /// Only this app.
    pub(crate) app: Option<String>,
    /// Only this environment.
    pub(crate) env: Option<String>,
    /// The page of apps (from 1).
    pub(crate) page: Option<usize>,
}

impl Filter {
    fn app_ok(&self, app: &str) -> bool {
        self.app.as_deref().is_none_or(|a| a.is_empty() || a == app)
    }

    fn env_ok(&self, env: &str) -> bool {
        self.env.as_deref().is_none_or(|e| e.is_empty() || e == env)
    }

    fn query(&self, page: usize) -> String {
        let mut q = vec![format!("page={page}")];
        for (k, v) in [("app", &self.app), ("env", &self.env)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.push(format!("{k}={}", encode(v)));
            }
        }
        format!("?{}", q.join("&"))
    }
}

/// Percent-encoding of a query value (names are DNS labels; anything else is encoded).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn layout(board: &Board, version: u64, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · glueops" }
                link rel="stylesheet" href="/dashboard.css";
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                noscript { meta http-equiv="refresh" content="5"; }
                script src="/dashboard.js" defer {}
            }
            body {
                header {
                    a href="/" class="brand" { "glueops" }
                    span { (board.platform) }
                    span class="meta" {
                        "config " code { (board.config.as_deref().map_or("-", short)) }
                        " · manifests " code { (board.manifests.as_deref().map_or("-", short)) }
                        " · read " time datetime=(stamp(board.now)) { (stamp(board.now)) }
                    }
                }
                main id="board" data-version=(version) { (body) }
            }
        }
    }
}

/// The overview: pipelines (filtered and paged), previews, releases, DORA.
pub(crate) fn overview(board: &Board, version: u64, filter: &Filter, drift: &[String]) -> String {
    let apps: Vec<&Pipeline> = board
        .pipelines
        .iter()
        .filter(|p| filter.app_ok(&p.app))
        .collect();
    let pages = apps.len().div_ceil(PAGE).max(1);
    let page = filter.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<&&Pipeline> = apps.iter().skip((page - 1) * PAGE).take(PAGE).collect();
    let on_page = |app: &str| shown.iter().any(|p| p.app == app);
    let envs: Vec<&str> = {
        let mut e: Vec<&str> = board
            .pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(|s| s.env.as_str()))
            .collect();
        e.sort_unstable();
        e.dedup();
        e
    };
    let body = html! {
        form class="filters" method="get" action="/" {
            label { "App " input type="search" name="app" value=(filter.app.as_deref().unwrap_or("")) list="apps"; }
            datalist id="apps" { @for p in &board.pipelines { option value=(p.app) {} } }
            label { "Environment "
                select name="env" {
                    option value="" { "all" }
                    @for e in &envs { option value=(e) selected[filter.env.as_deref() == Some(*e)] { (e) } }
                }
            }
            button type="submit" { "Filter" }
        }
        section aria-labelledby="pipelines" {
            h1 id="pipelines" { "Pipelines" }
            @if apps.is_empty() { p { "No app matches." } }
            @for p in &shown { (pipeline(board, p, filter)) }
            @if pages > 1 {
                nav class="pages" aria-label="Pages of apps" {
                    @if page > 1 { a href=(filter.query(page - 1)) rel="prev" { "Previous" } }
                    span { "Page " (page) " of " (pages) " (" (apps.len()) " apps)" }
                    @if page < pages { a href=(filter.query(page + 1)) rel="next" { "Next" } }
                }
            }
        }
        (previews(board, filter))
        (releases(board, &board.releases, filter, "Latest releases"))
        @if !drift.is_empty() {
            section aria-labelledby="drift" {
                h2 id="drift" { "Drift" }
                p { "Files someone else changed on the manifest branch, put back by the last sync:" }
                ul { @for path in drift { li { code { (path) } } } }
            }
        }
        // The figures of the apps on this page.
        (dora(board, &board.dora.iter().filter(|d| on_page(&d.metrics.app) && filter.env_ok(&d.metrics.env)).collect::<Vec<_>>()))
    };
    layout(board, version, "Platform", body).into_string()
}

fn pipeline(board: &Board, p: &Pipeline, filter: &Filter) -> Markup {
    html! {
        article class="pipeline" aria-labelledby=(format!("app-{}", p.app)) {
            h2 id=(format!("app-{}", p.app)) { (p.app) }
            ol class="stages" {
                @for s in p.stages.iter().filter(|s| filter.env_ok(&s.env)) { li { (stage(board, &p.app, s)) } }
            }
        }
    }
}

fn stage(board: &Board, app: &str, s: &Stage) -> Markup {
    let held = !s.holds.is_empty();
    html! {
        div class={ "stage" @if held { " held" } } data-env=(s.env) {
            h3 { a href=(format!("/apps/{app}/{}", s.env)) { (s.env) } }
            p class="tag" { @match &s.tag { Some(t) => code { (t) }, None => span class="muted" { "not released" } } }
            @if let Some(at) = s.released_at {
                p class="when" {
                    (s.cause) " · " time datetime=(stamp(at)) { (ago(board.now, at)) }
                    @if let Some(c) = &s.config { " · config " code { (short(c)) } }
                }
            }
            @if let Some(w) = &s.waiting { p class="waiting" { "waiting: " code { (w) } } }
            @if held {
                ul class="holds" aria-label=(format!("What holds {app} in {}", s.env)) {
                    @for h in &s.holds { li { (h.to_string()) } }
                }
            }
        }
    }
}

fn previews(board: &Board, filter: &Filter) -> Markup {
    let open: Vec<_> = board
        .previews
        .iter()
        .filter(|p| filter.app_ok(&p.app))
        .collect();
    html! {
        section aria-labelledby="previews" {
            h2 id="previews" { "Previews" }
            @if open.is_empty() { p { "No preview is open." } } @else {
                table {
                    thead { tr { th scope="col" { "Preview" } th scope="col" { "Pull request" } th scope="col" { "Head" } th scope="col" { "URL" } th scope="col" { "Updated" } th scope="col" { "Closes" } } }
                    tbody {
                        @for p in open {
                            tr {
                                th scope="row" { (p.name) }
                                td data-label="Pull request" { "#" (p.number) }
                                td data-label="Head" { code { (p.head.as_deref().map_or("-", short)) } }
                                td data-label="URL" { @if p.hosts.is_empty() { "no ingress" } @for h in &p.hosts { a href=(format!("https://{h}")) { (h) } " " } }
                                td data-label="Updated" { time datetime=(stamp(p.updated_at)) { (ago(board.now, p.updated_at)) } }
                                td data-label="Closes" { @match p.closes_at { Some(at) => time datetime=(stamp(at)) { (ago(board.now, at)) }, None => "when closed" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn releases(board: &Board, list: &[ReleaseEntry], filter: &Filter, title: &str) -> Markup {
    let shown: Vec<&ReleaseEntry> = list
        .iter()
        .filter(|r| {
            r.deployments
                .iter()
                .any(|(a, e, _)| filter.app_ok(a) && filter.env_ok(e))
        })
        .take(20)
        .collect();
    html! {
        section aria-labelledby="releases" {
            h2 id="releases" { (title) }
            @if shown.is_empty() { p { "No release yet." } } @else {
                table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Released" } th scope="col" { "Commit" } } }
                    tbody {
                        @for r in shown {
                            tr class={ @if r.rollback { "rollback" } } {
                                td { time datetime=(stamp(r.time)) { (ago(board.now, r.time)) } }
                                td {
                                    @if r.rollback { strong class="badge" { "rollback" } " " }
                                    @for (a, e, t) in r.deployments.iter().filter(|(a, e, _)| filter.app_ok(a) && filter.env_ok(e)).take(8) {
                                        span class="release" { (a) "/" (e) " " code { (t.as_deref().unwrap_or("-")) } } " "
                                    }
                                }
                                td {
                                    @match &board.manifests_web {
                                        Some(web) => a href=(format!("{web}/commit/{}", r.commit)) { code { (short(&r.commit)) } },
                                        None => code { (short(&r.commit)) },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn dora(board: &Board, cards: &[&DoraCard]) -> Markup {
    let _ = board;
    let days = glueops::board::DAYS;
    html! {
        section aria-labelledby="dora" {
            h2 id="dora" { "DORA, last " (days) " days" }
            p class="muted" { "A bar per day; the figure beside it is the whole period's." }
            @if cards.is_empty() { p { "No release in the period." } } @else {
                table class="dora" {
                    thead { tr { th scope="col" { "Deployment" } th scope="col" { "Deployment frequency" } th scope="col" { "Lead time" } th scope="col" { "Change failure rate" } th scope="col" { "Time to restore" } } }
                    tbody {
                        @for c in cards {
                            @let m = &c.metrics;
                            @let label = format!("{}/{}", m.app, m.env);
                            @let series = |f: &dyn Fn(&glueops::board::DayFigures) -> Option<f64>| c.days.iter().map(f).collect::<Vec<_>>();
                            tr {
                                th scope="row" { a href=(format!("/apps/{}/{}", m.app, m.env)) { (label) } }
                                td data-label="Deployment frequency" {
                                    (per_day(&series(&|d| Some(d.releases as f64)), &format!("{label}: releases per day, {} in {days} days", m.releases)))
                                    " " span class="figure" { (format!("{:.2}/day", m.per_day)) }
                                }
                                td data-label="Lead time" {
                                    (per_day(&series(&|d| d.lead_time.map(|s| s as f64)), &format!("{label}: median lead time per day")))
                                    " " span class="figure" { (m.median_lead_time.map_or("-".into(), glueops::dora::human)) }
                                }
                                td data-label="Change failure rate" {
                                    (per_day(&series(&|d| d.failure_rate), &format!("{label}: change failure rate per day")))
                                    " " span class="figure" { (m.change_failure_rate.map_or("-".into(), |r| format!("{:.0}%", r * 100.0))) }
                                }
                                td data-label="Time to restore" {
                                    (per_day(&series(&|d| d.time_to_restore.map(|s| s as f64)), &format!("{label}: median time to restore per day")))
                                    " " span class="figure" { (m.median_time_to_restore.map_or("-".into(), glueops::dora::human)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The page of one app in one environment: its stage, its releases, its DORA figures.
pub(crate) fn deployment(board: &Board, version: u64, app: &str, env: &str) -> Option<String> {
    let stage = board
        .pipelines
        .iter()
        .find(|p| p.app == app)?
        .stages
        .iter()
        .find(|s| s.env == env)?;
    let filter = Filter {
        app: Some(app.into()),
        env: Some(env.into()),
        page: None,
    };
    let history: Vec<ReleaseEntry> = board
        .history
        .iter()
        .filter(|r| r.deployments.iter().any(|(a, e, _)| a == app && e == env))
        .cloned()
        .collect();
    let cards: Vec<&DoraCard> = board
        .dora
        .iter()
        .filter(|d| d.metrics.app == app && d.metrics.env == env)
        .collect();
    let body = html! {
        nav aria-label="Breadcrumb" { a href="/" { "All apps" } " / " a href=(filter.query(1)) { (app) " in " (env) } }
        h1 { (app) " in " (env) }
        (self::stage(board, app, stage))
        (releases(board, &history, &filter, "History"))
        (dora(board, &cards))
    };
    Some(layout(board, version, &format!("{app} in {env}"), body).into_string())
}
