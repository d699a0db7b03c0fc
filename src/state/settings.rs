//! What the user prefers: units, clock, sorting, thresholds. Persisted by `persist`.

use serde::{Deserialize, Serialize};

/// How the device list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Most recently heard first.
    LastSeen,
    /// Strongest signal first, in 10 dB steps (by name within a step), so rows do not trade
    /// places on every packet.
    Rssi,
    /// By label or name, A to Z: stable, the default.
    #[default]
    Name,
    /// First heard first (a stable order).
    FirstSeen,
}

impl SortKey {
    /// Every key, in menu order.
    pub const ALL: [SortKey; 4] = [Self::Name, Self::Rssi, Self::FirstSeen, Self::LastSeen];

    /// Menu text.
    pub fn label(self) -> &'static str {
        match self {
            Self::LastSeen => "Last seen",
            Self::Rssi => "Signal",
            Self::Name => "Name",
            Self::FirstSeen => "First seen",
        }
    }

    /// The stable identifier used in forms.
    pub fn id(self) -> &'static str {
        match self {
            Self::LastSeen => "last_seen",
            Self::Rssi => "rssi",
            Self::Name => "name",
            Self::FirstSeen => "first_seen",
        }
    }

    /// Reads [`SortKey::id`] back.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// The user's preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Show temperatures in °F.
    pub fahrenheit: bool,
    /// Show times in the local zone (else UTC).
    pub local_time: bool,
    /// Hide devices weaker than this (dBm).
    pub rssi_threshold: Option<i8>,
    /// List order.
    pub sort: SortKey,
    /// The filter set in Shelly's JSON form (`[{"name":"SB*"}]`); empty means all.
    pub filter_json: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            fahrenheit: false,
            local_time: true,
            rssi_threshold: None,
            sort: SortKey::Name,
            filter_json: String::new(),
        }
    }
}

impl Settings {
    /// A value in the unit the user prefers: converts °C to °F when asked; other units unchanged.
    pub fn display_value(
        &self,
        value: f64,
        unit: Option<&'static str>,
    ) -> (f64, Option<&'static str>) {
        match unit {
            Some("°C") if self.fahrenheit => (value * 9.0 / 5.0 + 32.0, Some("°F")),
            _ => (value, unit),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD HH:MM:SS` of a unix time in ms, shifted by `offset_minutes` east of UTC.
pub fn format_datetime(ms: u64, offset_minutes: i32) -> String {
    let secs = (ms / 1000) as i64 + i64::from(offset_minutes) * 60;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `HH:MM:SS` of a unix time in ms, shifted by `offset_minutes` east of UTC.
pub fn format_time(ms: u64, offset_minutes: i32) -> String {
    format_datetime(ms, offset_minutes)
        .split_once(' ')
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

/// RFC 3339 UTC (`2026-11-21T05:15:19.250Z`), for exports.
pub fn format_rfc3339(ms: u64) -> String {
    let date_time = format_datetime(ms, 0).replacen(' ', "T", 1);
    format!("{date_time}.{:03}Z", ms % 1000)
}

/// "3 s ago", "5 min ago", "2 h ago".
pub fn format_age(now_ms: u64, then_ms: u64) -> String {
    let s = now_ms.saturating_sub(then_ms) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2009-02-13 23:31:30 UTC is unix time 1234567890 (a widely quoted reference instant).
        assert_eq!(format_datetime(1_234_567_890_000, 0), "2009-02-13 23:31:30");
        assert_eq!(
            format_rfc3339(1_234_567_890_250),
            "2009-02-13T23:31:30.250Z"
        );
        // One hour east crosses midnight.
        assert_eq!(
            format_datetime(1_234_567_890_000, 60),
            "2009-02-14 00:31:30"
        );
        // Leap day 2024-02-29 12:00:00 UTC = 1709208000.
        assert_eq!(format_datetime(1_709_208_000_000, 0), "2024-02-29 12:00:00");
        assert_eq!(format_time(1_234_567_890_000, -300), "18:31:30");
    }

    /// The calendar's edges, each a second (or a day) either side of where a month, a year, a
    /// century or a 400-year era turns (unix times from Python's `calendar.timegm`).
    #[test]
    fn formats_the_calendars_edges() {
        for (ms, offset, expected) in [
            // An offset west of UTC before the epoch's first hour.
            (0, -60, "1969-12-31 23:00:00"),
            (489_319_200_000, 0, "1985-07-04 10:00:00"),
            (946_684_799_000, 0, "1999-12-31 23:59:59"),
            // The last day of a 400-year era: 2000 is a leap year.
            (951_825_600_000, 0, "2000-02-29 12:00:00"),
            (1_768_464_550_000, 0, "2026-01-15 08:09:10"),
            (1_777_593_600_000, 0, "2026-05-01 00:00:00"),
            // 2100 is not a leap year; 2400 is.
            (4_107_542_399_000, 0, "2100-02-28 23:59:59"),
            (4_107_542_400_000, 0, "2100-03-01 00:00:00"),
            (13_574_563_200_000, 0, "2400-02-29 00:00:00"),
        ] {
            assert_eq!(format_datetime(ms, offset), expected, "{ms} {offset}");
        }
    }

    #[test]
    fn sort_keys_read_back_from_their_ids_which_are_their_saved_names() {
        for key in SortKey::ALL {
            assert_eq!(SortKey::from_id(key.id()), Some(key));
            assert_eq!(
                serde_json::to_value(key).unwrap(),
                serde_json::Value::from(key.id())
            );
        }
        assert_eq!(SortKey::from_id("signal"), None);
        let labels: std::collections::BTreeSet<_> = SortKey::ALL.map(SortKey::label).into();
        assert_eq!(labels.len(), SortKey::ALL.len(), "one label each");
        assert_eq!(SortKey::Rssi.label(), "Signal");
    }

    #[test]
    fn converts_celsius_to_fahrenheit_only_when_asked() {
        let mut settings = Settings::default();
        assert_eq!(settings.display_value(25.0, Some("°C")), (25.0, Some("°C")));
        settings.fahrenheit = true;
        assert_eq!(settings.display_value(25.0, Some("°C")), (77.0, Some("°F")));
        assert_eq!(settings.display_value(50.0, Some("%")), (50.0, Some("%")));
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(format_age(10_000, 7_000), "3 s ago");
        assert_eq!(format_age(400_000, 100_000), "5 min ago");
        assert_eq!(format_age(0, 5_000), "0 s ago");
    }
}
