//! When a failed delivery is tried again, and what an answer means.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The delays before each attempt, the first included: the Standard Webhooks schedule
/// (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: ten attempts over
/// about three days and three hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        RetrySchedule(vec![
            Duration::ZERO,
            Duration::from_secs(5),
            Duration::from_secs(5 * 60),
            Duration::from_secs(30 * 60),
            hours(2),
            hours(5),
            hours(10),
            hours(14),
            hours(20),
            hours(24),
        ])
    }
}

impl RetrySchedule {
    /// A schedule written as seconds, comma-separated (`0,1,2`): the delay before each
    /// attempt, the first included.
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(|part| part.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0))
            .map(|seconds| seconds.map(Duration::from_secs_f64))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{text:?} is not a list of seconds, comma-separated (0,5,300)"))?;
        Ok(RetrySchedule(delays))
    }

    /// How many attempts a delivery gets.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    /// The delay before the attempt after `made` attempts, with jitter (`unit` is a random
    /// number in [0, 1): ±10%); `None` once the schedule is spent.
    pub fn delay_after(&self, made: u32, unit: f64) -> Option<Duration> {
        let delay = *self.0.get(usize::try_from(made).ok()?)?;
        Some(delay.mul_f64(0.9 + 0.2 * unit.clamp(0.0, 1.0)))
    }
}

/// What an attempt's answer means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: delivered.
    Delivered,
    /// 410 Gone: the receiver wants no more; the endpoint is disabled.
    Gone,
    /// Anything else: tried again on the schedule, and not before `not_before` when the
    /// answer said (`Retry-After` on a 429 or 503).
    Failed { not_before: Option<OffsetDateTime> },
}

/// Judges an answer with `status`, and its `Retry-After` header, received at `now`.
pub fn judge(status: u16, retry_after: Option<&str>, now: OffsetDateTime) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        410 => Verdict::Gone,
        429 | 503 => Verdict::Failed { not_before: retry_after.and_then(|value| retry_at(value, now)) },
        _ => Verdict::Failed { not_before: None },
    }
}

/// When a `Retry-After` value says to come back: a number of seconds, or an HTTP date.
/// Capped at a day, so a receiver cannot park a delivery for ever.
fn retry_at(value: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let value = value.trim();
    let at = match value.parse::<u64>() {
        Ok(seconds) => now + Duration::from_secs(seconds),
        Err(_) => OffsetDateTime::parse(value, &Rfc2822).ok()?,
    };
    Some(at.min(now + Duration::from_secs(24 * 3600)))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_default_schedule_is_the_specifications_ten_attempts_over_about_three_days() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 10);
        let total: Duration = (0..10).filter_map(|n| schedule.delay_after(n, 0.5)).sum();
        assert_eq!(total, Duration::from_secs(75 * 3600 + 35 * 60 + 5));
        assert_eq!(schedule.delay_after(10, 0.5), None);
        assert_eq!(schedule.delay_after(0, 0.9), Some(Duration::ZERO));
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let schedule = RetrySchedule::default();
        let five = Duration::from_secs(5);
        assert_eq!(schedule.delay_after(1, 0.0), Some(five.mul_f64(0.9)));
        assert_eq!(schedule.delay_after(1, 1.0), Some(five.mul_f64(1.1)));
    }

    #[test]
    fn a_schedule_can_be_written_in_seconds() {
        let schedule = RetrySchedule::parse("0, 0.5,2").unwrap();
        assert_eq!(schedule.attempts(), 3);
        assert_eq!(schedule.delay_after(2, 0.5), Some(Duration::from_secs(2)));
        assert!(RetrySchedule::parse("1,x").is_err());
        assert!(RetrySchedule::parse("-1").is_err());
    }

    #[test]
    fn answers_are_judged_as_the_specification_says() {
        let now = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(judge(200, None, now), Verdict::Delivered);
        assert_eq!(judge(204, None, now), Verdict::Delivered);
        assert_eq!(judge(410, None, now), Verdict::Gone);
        assert_eq!(judge(301, None, now), Verdict::Failed { not_before: None });
        assert_eq!(judge(500, Some("30"), now), Verdict::Failed { not_before: None });
        let later = Some(now + Duration::from_secs(30));
        assert_eq!(judge(429, Some("30"), now), Verdict::Failed { not_before: later });
        let date = "Thu, 01 Jan 2026 00:02:00 GMT";
        let at = Some(datetime!(2026-01-01 00:02 UTC));
        assert_eq!(judge(503, Some(date), now), Verdict::Failed { not_before: at });
        let capped = Some(now + Duration::from_secs(24 * 3600));
        assert_eq!(judge(429, Some("9999999"), now), Verdict::Failed { not_before: capped });
        assert_eq!(judge(429, Some("soon"), now), Verdict::Failed { not_before: None });
    }
}
