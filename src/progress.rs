//! What a long scan tells the person watching it: a progress bar on stderr (scopes done out of
//! those known so far, and the gaps among them) when stderr is a terminal, and `tracing` logs
//! for `-v` / `RUST_LOG`. Neither ever touches stdout, where the report goes.
//!
//! The total grows while the scan runs: an organisation's accounts arrive page by page and
//! each account's regions only once DescribeRegions answers, so the bar shows what is known,
//! never a guess.

use crate::model::CoverageRow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The scan's progress, shared by every adapter of the run. A disabled one costs nothing.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    gaps: Arc<AtomicU64>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Progress(shown: {})", self.bar.is_some())
    }
}

impl Progress {
    /// A bar on stderr. Only for a terminal: a bar in a cron job's mail or a CI log is noise.
    pub fn on_stderr() -> Progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} scanning {pos}/{len} scopes, {msg} [{elapsed}]",
            )
            .expect("the template is valid"),
        );
        bar.set_message("0 gaps");
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            gaps: Arc::default(),
        }
    }

    /// `count` more scopes are known and will be reported later.
    pub fn expect(&self, count: usize) {
        if let Some(bar) = &self.bar {
            bar.inc_length(count as u64);
        }
    }

    /// Scopes that were expected are done, with these rows.
    pub fn done(&self, rows: &[CoverageRow]) {
        for row in rows {
            tracing::debug!(
                provider = %row.scope.provider,
                account = row.scope.account.as_deref().unwrap_or("-"),
                region = row.scope.region.as_deref().unwrap_or("-"),
                status = row.status.as_str(),
                detail = row.detail.as_deref().unwrap_or(""),
                "scope finished"
            );
        }
        let Some(bar) = &self.bar else { return };
        let gaps = rows.iter().filter(|row| row.status.is_gap()).count() as u64;
        if gaps > 0 {
            let total = self.gaps.fetch_add(gaps, Ordering::Relaxed) + gaps;
            bar.set_message(format!("{total} gaps"));
        }
        bar.inc(rows.len() as u64);
    }

    /// Rows that were never expected (an account excluded, a role refused): counted as known
    /// and done at once.
    pub fn finished_at_once(&self, rows: &[CoverageRow]) {
        self.expect(rows.len());
        self.done(rows);
    }

    /// Takes the bar off the terminal before the report is written.
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Sends `tracing` events to stderr: `RUST_LOG` when set, else `-v` for mirrorguard's own
/// events (each scope, each account) and `-vv` for the SDKs' too (every API call and retry).
/// Without either, nothing is installed and nothing is logged.
pub fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => EnvFilter::new(value),
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("mirrorguard=debug"),
            _ => EnvFilter::new("debug"),
        },
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
