//! Scan requests from several clients, merged into one effective scan (Shelly's scan manager).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Event, Manager};
use crate::filter::{FilterSet, ScanOptions};

/// One client's live request.
#[derive(Debug, Clone)]
pub(crate) struct ScanRequest {
    pub(crate) client: Arc<str>,
    pub(crate) options: ScanOptions,
    /// When the request ends; `None` for perpetual.
    pub(crate) expires_ms: Option<u64>,
}

impl ScanRequest {
    pub(crate) fn live_at(&self, now_ms: u64) -> bool {
        self.expires_ms.is_none_or(|e| now_ms < e)
    }
}

/// The effective scan, with its end as an absolute time so that a request expiring does not by
/// itself count as a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effective {
    /// Options with `duration_ms` meaningless (recomputed when reported).
    pub(crate) options: ScanOptions,
    /// `None` for perpetual.
    pub(crate) end_ms: Option<u64>,
}

impl Effective {
    /// The options as reported at `now_ms`: `duration_ms` is the time left, or -1.
    pub(crate) fn at(&self, now_ms: u64) -> ScanOptions {
        let mut o = self.options.clone();
        o.duration_ms = match self.end_ms {
            None => ScanOptions::PERPETUAL,
            Some(end) => i64::try_from(end.saturating_sub(now_ms)).unwrap_or(i64::MAX),
        };
        o
    }
}

/// The most aggressive combination of the requests: active if any is, perpetual if any is (else
/// the latest end), the shortest interval, the longest window but not above that interval, the
/// lowest RSSI threshold (0, "no filtering", counts as the lowest), and the union of the filters
/// (a request without filters accepts everything, so then the union is "no filters").
pub(crate) fn combine(requests: &[ScanRequest]) -> Option<Effective> {
    let first = requests.first()?;
    let mut o = first.options.clone();
    let mut end = first.expires_ms;
    let mut accept_all = o.filters.accepts_all();
    for r in requests.get(1..).unwrap_or_default() {
        let x = &r.options;
        o.active |= x.active;
        end = match (end, r.expires_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        o.interval_ms = o.interval_ms.min(x.interval_ms);
        o.window_ms = o.window_ms.max(x.window_ms);
        o.rssi_thr = if o.rssi_thr == 0 || x.rssi_thr == 0 {
            0
        } else {
            o.rssi_thr.min(x.rssi_thr)
        };
        accept_all |= x.filters.accepts_all();
        for f in &x.filters.filters {
            if !o.filters.filters.contains(f) {
                o.filters.filters.push(f.clone());
            }
        }
    }
    o.window_ms = o.window_ms.min(o.interval_ms);
    if accept_all {
        o.filters = FilterSet::default();
    }
    o.duration_ms = 0;
    Some(Effective {
        options: o,
        end_ms: end,
    })
}

/// All live requests, in submission order.
#[derive(Debug, Default)]
pub(crate) struct ScanRequests {
    pub(crate) requests: Vec<ScanRequest>,
    pub(crate) effective: Option<Effective>,
}

impl ScanRequests {
    /// The earliest expiry.
    pub(crate) fn next_expiry(&self) -> Option<u64> {
        self.requests.iter().filter_map(|r| r.expires_ms).min()
    }
}

impl Manager {
    /// Submits (or replaces) a client's scan request. Emits [`Event::ScanChanged`] when the
    /// effective scan changes.
    pub fn submit_scan(&mut self, now_ms: u64, client: &str, options: ScanOptions) {
        self.submit_scans(now_ms, [(client, options)]);
    }

    /// Submits several requests at once: the effective scan is computed (and reported) once.
    pub fn submit_scans<'a>(
        &mut self,
        now_ms: u64,
        requests: impl IntoIterator<Item = (&'a str, ScanOptions)>,
    ) {
        self.catch_up(now_ms);
        for (client, options) in requests {
            self.scan.requests.retain(|r| &*r.client != client);
            let expires_ms = u64::try_from(options.duration_ms)
                .ok()
                .map(|d| now_ms.saturating_add(d));
            self.scan.requests.push(ScanRequest {
                client: client.into(),
                options,
                expires_ms,
            });
        }
        self.recompute_scan(now_ms);
    }

    /// Withdraws a client's scan request.
    pub fn cancel_scan(&mut self, now_ms: u64, client: &str) {
        self.catch_up(now_ms);
        self.scan.requests.retain(|r| &*r.client != client);
        self.recompute_scan(now_ms);
    }

    pub(crate) fn expire_scans(&mut self, t: u64) {
        self.scan
            .requests
            .retain(|r| r.expires_ms.is_none_or(|e| e > t));
        self.recompute_scan(t);
    }

    fn recompute_scan(&mut self, now_ms: u64) {
        let next: Option<Effective> = combine(&self.scan.requests);
        if next != self.scan.effective {
            let options = next.as_ref().map(|e| e.at(now_ms));
            self.scan.effective = next;
            self.emit(now_ms, Event::ScanChanged { options });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: &str, json: &str, expires: Option<u64>) -> ScanRequest {
        ScanRequest {
            client: client.into(),
            options: ScanOptions::from_json(json).unwrap(),
            expires_ms: expires,
        }
    }

    #[test]
    fn no_requests_no_scan() {
        assert_eq!(combine(&[]), None);
    }

    #[test]
    fn active_if_any_is_active() {
        let e = combine(&[
            req("a", r#"{"active":false}"#, Some(5000)),
            req("b", r#"{"active":true}"#, Some(5000)),
        ])
        .unwrap();
        assert!(e.options.active);
    }

    #[test]
    fn perpetual_if_any_is_perpetual_else_latest_end() {
        let e = combine(&[req("a", "{}", Some(5000)), req("b", "{}", None)]).unwrap();
        assert_eq!(e.end_ms, None);
        assert_eq!(e.at(1000).duration_ms, -1);
        let e = combine(&[req("a", "{}", Some(5000)), req("b", "{}", Some(9000))]).unwrap();
        assert_eq!(e.end_ms, Some(9000));
        assert_eq!(e.at(1000).duration_ms, 8000);
    }

    #[test]
    fn shortest_interval_and_longest_window_not_above_it() {
        let e = combine(&[
            req("a", r#"{"interval_ms":100,"window_ms":90}"#, None),
            req("b", r#"{"interval_ms":300,"window_ms":250}"#, None),
        ])
        .unwrap();
        assert_eq!((e.options.interval_ms, e.options.window_ms), (100, 100));
        let e = combine(&[
            req("a", r#"{"interval_ms":200,"window_ms":30}"#, None),
            req("b", r#"{"interval_ms":300,"window_ms":150}"#, None),
        ])
        .unwrap();
        assert_eq!((e.options.interval_ms, e.options.window_ms), (200, 150));
    }

    #[test]
    fn lowest_rssi_threshold_with_zero_as_no_filtering() {
        let e = combine(&[
            req("a", r#"{"rssi_thr":-60}"#, None),
            req("b", r#"{"rssi_thr":-80}"#, None),
        ])
        .unwrap();
        assert_eq!(e.options.rssi_thr, -80);
        let e = combine(&[req("a", r#"{"rssi_thr":-60}"#, None), req("b", "{}", None)]).unwrap();
        assert_eq!(e.options.rssi_thr, 0);
    }

    #[test]
    fn filters_are_united_and_no_filters_wins() {
        let e = combine(&[
            req("a", r#"{"filters":[{"name":"a"}]}"#, None),
            req("b", r#"{"filters":[{"name":"b"},{"name":"a"}]}"#, None),
        ])
        .unwrap();
        let each_once = FilterSet::from_json(r#"[{"name":"a"},{"name":"b"}]"#).unwrap();
        assert_eq!(e.options.filters, each_once);
        let e = combine(&[
            req("a", r#"{"filters":[{"name":"a"}]}"#, None),
            req("b", "{}", None),
        ])
        .unwrap();
        assert!(e.options.filters.accepts_all());
    }

    #[test]
    fn request_is_live_until_its_end() {
        let r = req("a", "{}", Some(5000));
        assert!(r.live_at(4999));
        assert!(!r.live_at(5000));
    }
}
