//! Capture files in the page: recording writes capture lines, import reads them back to replay
//! (also `bluehome decode` lines without times, played at a steady rate). The line format and its
//! parser are the core's (`bluehome_core::capture`), shared with `bluehome replay`.
//!
//! What import does with what it reads is decided here: a bad line is skipped and counted (a few
//! are kept, with their line numbers, to show), a time going backwards skips its line, and the
//! records replay at their offsets from the first time, a pause longer than [`MAX_PAUSE_MS`]
//! shortened to it (a capture left running overnight would otherwise replay overnight), at most
//! [`MAX_PER_TICK`] records at a time (the page stays responsive while a burst plays).

pub use bluehome_core::capture::Record;
use bluehome_core::capture::parse_line;
use bluehome_core::{Advertisement, BindKey, DeviceKey};

/// Gap between records of a capture without times.
pub const STEADY_INTERVAL_MS: u64 = 250;

/// Lines read from one file at most (a bound on memory for any file a user picks).
pub const MAX_RECORDS: usize = 200_000;

/// The largest capture file read: [`MAX_RECORDS`] recorded advertisements (a few hundred bytes
/// each) fit well; a larger file is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 128_000_000;

/// The longest pause a replay keeps between two records.
pub const MAX_PAUSE_MS: u64 = 60_000;

/// Records one tick of the replay plays at most; the rest follow on the next ticks.
pub const MAX_PER_TICK: usize = 500;

/// Skipped lines whose number and reason are kept to show; the rest are only counted.
pub const MAX_ERRORS_KEPT: usize = 20;

/// A record ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    /// When to play it, from the start of the replay.
    pub offset_ms: u64,
    /// The device.
    pub key: DeviceKey,
    /// The advertisement.
    pub advertisement: Advertisement,
    /// Its source.
    pub source: String,
    /// Whether it was connectable.
    pub connectable: bool,
    /// A bind key the file carried for the device.
    pub bindkey: Option<BindKey>,
}

/// The lines a capture could not use: how many, and the first few with their line numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Lines skipped in all.
    pub count: usize,
    /// `(line number, reason)` of the first [`MAX_ERRORS_KEPT`].
    pub sample: Vec<(usize, String)>,
}

impl Skipped {
    fn push(&mut self, line: usize, reason: String) {
        self.count += 1;
        if self.sample.len() < MAX_ERRORS_KEPT {
            self.sample.push((line, reason));
        }
    }

    /// A one-line report: the count and the first three reasons.
    pub fn summary(&self) -> Option<String> {
        let first: Vec<String> = self
            .sample
            .iter()
            .take(3)
            .map(|(line, reason)| format!("line {line}: {reason}"))
            .collect();
        (self.count > 0).then(|| {
            let more = if self.count > first.len() {
                "; …"
            } else {
                ""
            };
            format!("{} line(s) skipped; {}{more}", self.count, first.join("; "))
        })
    }
}

/// A parsed capture: what will replay, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capture {
    /// The records, in file order.
    pub records: Vec<Scheduled>,
    /// The lines that were skipped.
    pub errors: Skipped,
    /// Whether the file had times (else it plays at a steady rate).
    pub timed: bool,
    /// Pauses longer than [`MAX_PAUSE_MS`] that replay shortened to it.
    pub pauses_shortened: usize,
}

/// Reads a capture file (or decode-format lines without times). `source` names records that
/// do not say who heard them.
pub fn parse(text: &str, source: &str) -> Capture {
    let mut capture = Capture::default();
    let mut last_ms: Option<u64> = None;
    // Where the replay has got to: the file's times, long pauses shortened.
    let mut replay_ms = 0u64;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if capture.records.len() >= MAX_RECORDS {
            capture.errors.push(
                number,
                format!("more than {MAX_RECORDS} records; the rest is skipped"),
            );
            break;
        }
        let record = match parse_line(line) {
            Ok(r) => r,
            Err(e) => {
                capture.errors.push(number, e.to_string());
                continue;
            }
        };
        let offset_ms = match record.time_ms {
            Some(t) => {
                if let Some(last) = last_ms.filter(|&last| t < last) {
                    capture.errors.push(
                        number,
                        format!(
                            "time goes backwards ({} ms before the line above)",
                            last - t
                        ),
                    );
                    continue;
                }
                let pause = last_ms.map_or(0, |last| t - last);
                if pause > MAX_PAUSE_MS {
                    capture.pauses_shortened += 1;
                }
                last_ms = Some(t);
                capture.timed = true;
                replay_ms = replay_ms.saturating_add(pause.min(MAX_PAUSE_MS));
                replay_ms
            }
            None => capture.records.len() as u64 * STEADY_INTERVAL_MS,
        };
        capture.records.push(Scheduled {
            offset_ms,
            key: record.key,
            advertisement: record.advertisement,
            source: record.source.unwrap_or_else(|| source.to_owned()),
            connectable: record.connectable.unwrap_or(true),
            bindkey: record.bindkey,
        });
    }
    capture
}

/// A capture being replayed against the page's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    records: Vec<Scheduled>,
    start_ms: u64,
    next: usize,
}

impl Replay {
    /// Starts replaying at `start_ms`.
    pub fn new(capture: Capture, start_ms: u64) -> Self {
        Self {
            records: capture.records,
            start_ms,
            next: 0,
        }
    }

    /// The records due by `now_ms`, each with the time it was due.
    pub fn due(&mut self, now_ms: u64) -> Vec<(u64, Scheduled)> {
        let mut out = Vec::new();
        while out.len() < MAX_PER_TICK
            && let Some(record) = self.records.get(self.next)
        {
            let at = self.start_ms.saturating_add(record.offset_ms);
            if at > now_ms {
                break;
            }
            out.push((at, record.clone()));
            self.next += 1;
        }
        out
    }

    /// Whether every record has played.
    pub fn finished(&self) -> bool {
        self.next >= self.records.len()
    }

    /// `(played, total)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.records.len())
    }
}

#[cfg(test)]
mod tests {
    use bluehome_core::Uuid;

    use super::*;

    /// A BTHome v2 temperature 25.06 °C + humidity 50.55 % payload (bthome.io/format example).
    const LINE: &str = r#"{"time":100.5,"address":"A4:C1:38:00:00:01","rssi":-60,"local_name":"ATC","service_data":{"fcd2":"4002ca0903bf13"}}"#;

    #[test]
    fn parses_timed_lines_relative_to_the_first() {
        let text = format!("{LINE}\n\n{}\n", LINE.replace("100.5", "101.75"));
        let capture = parse(&text, "capture");
        assert_eq!(capture.errors, Skipped::default());
        assert!(capture.timed);
        let offsets: Vec<u64> = capture.records.iter().map(|r| r.offset_ms).collect();
        assert_eq!(offsets, [0, 1250]);
        let adv = &capture.records[0].advertisement;
        assert_eq!(
            adv.address.map(|m| m.to_string()).as_deref(),
            Some("A4:C1:38:00:00:01")
        );
        assert_eq!(
            adv.service_data.get(&Uuid::BTHOME_V2).map(Vec::len),
            Some(7)
        );
        assert_eq!(adv.rssi, Some(-60));
    }

    /// A capture left running overnight replays its quiet hours in a minute each, and a burst of
    /// records with one time plays over several ticks, not in one.
    #[test]
    fn long_pauses_are_shortened_and_a_burst_plays_over_ticks() {
        let at = |seconds: f64| LINE.replace("100.5", &seconds.to_string());
        let text = [at(100.0), at(130.0), at(7_330.0), at(7_331.0), at(7_391.0)].join("\n");
        let capture = parse(&text, "capture");
        let offsets: Vec<u64> = capture.records.iter().map(|r| r.offset_ms).collect();
        assert_eq!(
            offsets,
            [
                0,
                30_000,
                30_000 + MAX_PAUSE_MS,
                31_000 + MAX_PAUSE_MS,
                31_000 + 2 * MAX_PAUSE_MS
            ]
        );
        assert_eq!(
            capture.pauses_shortened, 1,
            "a pause of the limit exactly is kept"
        );

        let burst = vec![at(100.0); MAX_PER_TICK * 2 + 1].join("\n");
        let mut replay = Replay::new(parse(&burst, "capture"), 0);
        assert_eq!(replay.due(0).len(), MAX_PER_TICK);
        assert_eq!(replay.due(0).len(), MAX_PER_TICK);
        assert_eq!(replay.due(0).len(), 1);
        assert!(replay.finished());
    }

    #[test]
    fn untimed_lines_play_at_a_steady_rate_and_bad_lines_are_reported() {
        let text =
            "{\"address\":\"x\"}\nnot json\n{\"address\":\"y\",\"rssi\":999}\n{\"address\":\"z\"}";
        let capture = parse(text, "capture");
        assert!(!capture.timed);
        assert_eq!(capture.records.len(), 2);
        assert_eq!(capture.records[1].offset_ms, STEADY_INTERVAL_MS);
        let lines: Vec<usize> = capture.errors.sample.iter().map(|e| e.0).collect();
        assert_eq!(lines, [2, 3]);
        assert_eq!(capture.errors.count, 2);
    }

    /// [`LINE`], then [`LINE`] at `time`: the first is kept, the second refused; its error.
    fn second_time_refused(time: &str) -> String {
        let text = format!("{LINE}\n{}", LINE.replace("100.5", time));
        let capture = parse(&text, "capture");
        assert_eq!(capture.records.len(), 1);
        capture.errors.sample[0].1.clone()
    }

    #[test]
    fn time_going_backwards_is_an_error() {
        assert!(second_time_refused("99").contains("backwards"));
    }

    #[test]
    fn record_round_trips_through_a_line() {
        let capture = parse(LINE, "capture");
        let scheduled = &capture.records[0];
        let record = Record::from_advertisement(
            100_500,
            &scheduled.key,
            &scheduled.advertisement,
            "local",
            bluehome_core::Connectable::Yes,
        );
        let again = parse(&record.to_line(), "capture");
        assert_eq!(again.records[0].advertisement, scheduled.advertisement);
        assert!(!record.to_line().contains("bindkey"));
    }

    #[test]
    fn replay_releases_records_when_due() {
        let text = format!("{LINE}\n{}", LINE.replace("100.5", "102.5"));
        let mut replay = Replay::new(parse(&text, "capture"), 1_000);
        assert_eq!(replay.progress(), (0, 2));
        assert_eq!(replay.due(1_000).len(), 1);
        assert!(replay.due(2_999).is_empty());
        assert_eq!(replay.progress(), (1, 2));
        assert!(!replay.finished());
        let later = replay.due(3_000);
        assert_eq!(later[0].0, 3_000);
        assert_eq!(replay.progress(), (2, 2));
        assert!(replay.finished());
    }

    /// 3 MB of bad lines took 117 MB of wasm memory: every error was kept, one shown.
    #[test]
    fn bad_lines_are_counted_and_only_a_sample_is_kept() {
        let text = "x\n".repeat(100_000);
        let capture = parse(&text, "capture");
        assert_eq!(capture.errors.count, 100_000);
        assert_eq!(capture.errors.sample.len(), MAX_ERRORS_KEPT);
        let summary = capture.errors.summary().unwrap();
        assert!(
            summary.starts_with("100000 line(s) skipped; line 1: not JSON"),
            "{summary}"
        );
    }

    /// The summary names at most three skipped lines, and says so when there were more.
    #[test]
    fn the_summary_names_three_lines_and_marks_the_rest() {
        let skipped = |count| parse(&"x\n".repeat(count), "capture").errors.summary();
        assert_eq!(skipped(0), None);
        for count in [1, 2, 3] {
            let summary = skipped(count).unwrap_or_default();
            assert!(
                summary.starts_with(&format!("{count} line(s) skipped; line 1: not JSON"))
                    && summary.contains(&format!("line {count}: "))
                    && !summary.contains('…'),
                "{summary}"
            );
        }
        let four = skipped(4).unwrap_or_default();
        assert!(four.ends_with("; …") && !four.contains("line 4"), "{four}");
    }

    /// One 50 MB line cost 476 MB; now it is refused by its length, with the cap.
    #[test]
    fn an_overlong_line_is_refused_by_its_length() {
        let line = format!(
            r#"{{"address":"x","service_data":{{"fcd2":"{}"}}}}"#,
            "00".repeat(100_000)
        );
        let capture = parse(&format!("{line}\n{LINE}"), "capture");
        assert_eq!(capture.records.len(), 1);
        assert_eq!(capture.errors.sample[0].0, 1);
        assert!(
            capture.errors.sample[0].1.contains("at most 8192"),
            "{:?}",
            capture.errors
        );
    }

    /// A time of 1.8e16 s saturated to u64::MAX and `start + offset` overflowed.
    #[test]
    fn times_beyond_the_clock_are_skipped_and_replay_never_overflows() {
        assert!(second_time_refused("1.8e16").starts_with("time: "));
        let far = format!(
            "{LINE}\n{}",
            LINE.replace(
                "100.5",
                &(bluehome_core::capture::MAX_TIME_MS / 1000).to_string()
            )
        );
        let mut replay = Replay::new(parse(&far, "capture"), u64::MAX - 10);
        assert_eq!(replay.due(u64::MAX).len(), 2);
    }
}
