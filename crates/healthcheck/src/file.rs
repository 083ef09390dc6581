//! FILE_CHECK: a real server's state and weight from a number in a file (keepalived's
//! `track_file`), read again at every attempt.
//!
//! keepalived's rule (keepalived.conf(5), "Track files"): the file holds a number in text (an
//! empty, unreadable or missing file counts as 0). With weight 0, any value but 0 is a failure.
//! Otherwise the value times the weight (negated by `reverse`) is added to the real server's
//! configured weight, and a result of 0 or below is a failure.
//!
//! keepalived reads the file when inotify says it changed; this checker reads it every
//! `delay_loop` instead (a few bytes, no process), so a change shows within one period.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{CheckFuture, Checker, Outcome};

/// The value of a track file as keepalived reads it: the trimmed text as a signed number, 0
/// when it is missing, unreadable or not a number.
pub fn read_track_value(path: &Path) -> i64 {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().parse().unwrap_or(0),
        Err(_) => 0,
    }
}

/// FILE_CHECK of one real server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileCheck {
    /// The `file` of the `track_file` the checker names.
    pub path: PathBuf,
    /// The multiplier: FILE_CHECK's `weight`, else the track_file's, else 1; negated for
    /// `reverse`.
    pub weight: i64,
    /// The real server's configured weight, to which `value × weight` is added.
    pub base_weight: u32,
}

impl FileCheck {
    /// A FILE_CHECK of `path` with weight 1 on a real server of weight `base_weight`.
    pub fn new(path: impl Into<PathBuf>, base_weight: u32) -> Self {
        Self {
            path: path.into(),
            weight: 1,
            base_weight,
        }
    }

    /// The outcome for a value read from the file.
    pub fn judge(&self, value: i64) -> Outcome {
        let path = self.path.display();
        if self.weight == 0 {
            return if value == 0 {
                Outcome::up(format!("{path}: 0"))
            } else {
                Outcome::down(format!("{path}: {value}, not 0"))
            };
        }
        let weight = i64::from(self.base_weight).saturating_add(value.saturating_mul(self.weight));
        if weight <= 0 {
            Outcome::down(format!("{path}: {value} gives weight {weight}"))
        } else {
            let weight = u32::try_from(weight.min(i64::from(i32::MAX))).unwrap_or(u32::MAX);
            Outcome::up(format!("{path}: {value} gives weight {weight}")).with_weight(weight)
        }
    }
}

impl Checker for FileCheck {
    fn check(&self) -> CheckFuture<'_> {
        // A track file is a few bytes: reading it does not hold the runtime up.
        let value = read_track_value(&self.path);
        Box::pin(std::future::ready(self.judge(value)))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_zero_fails_on_any_value_but_zero() {
        let mut check = FileCheck::new("/nonexistent/lbfig", 3);
        check.weight = 0;
        assert!(check.judge(0).healthy);
        assert_eq!(check.judge(0).weight, None);
        assert!(!check.judge(1).healthy);
        assert!(!check.judge(-5).healthy);
    }

    #[test]
    fn value_times_weight_is_added_to_the_configured_weight() {
        let mut check = FileCheck::new("/nonexistent/lbfig", 3);
        check.weight = 2;
        assert_eq!(check.judge(0).weight, Some(3));
        assert_eq!(check.judge(5).weight, Some(13));
        let low = check.judge(-1);
        assert!(low.healthy);
        assert_eq!(low.weight, Some(1));
        assert!(!check.judge(-2).healthy, "3 - 4 is below 1");
        check.weight = -1; // reverse
        assert_eq!(check.judge(-7).weight, Some(10));
        assert!(!check.judge(3).healthy);
    }

    #[tokio::test]
    async fn reads_the_file_at_every_attempt() {
        let dir = std::env::temp_dir().join(format!("hc-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("value");
        let check = FileCheck::new(&path, 1);
        // Missing: 0, up at the configured weight.
        assert_eq!(check.check().await.weight, Some(1));
        std::fs::write(&path, "4\n").unwrap();
        assert_eq!(check.check().await.weight, Some(5));
        std::fs::write(&path, "-1").unwrap();
        assert!(!check.check().await.healthy);
        std::fs::write(&path, "junk").unwrap();
        assert_eq!(check.check().await.weight, Some(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
