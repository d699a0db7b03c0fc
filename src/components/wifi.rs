//! A Wi-Fi network as the set-up forms list it, the same in the Shelly and the Improv flows.

/// Signal bars for an RSSI (dBm).
fn bars(rssi: i32) -> &'static str {
    match rssi {
        r if r >= -55 => "▂▄▆█",
        r if r >= -67 => "▂▄▆",
        r if r >= -78 => "▂▄",
        _ => "▂",
    }
}

/// A scanned network's line: its name (already made printable), its signal as bars and dBm, its
/// security, and its channel where the device names one ("HomeNet — ▂▄▆█ -52 dBm, WPA2-PSK,
/// channel 6"). What the device did not say is said to be unknown.
pub fn network_label(
    name: &str,
    rssi: Option<i32>,
    security: Option<&str>,
    channel: Option<u8>,
) -> String {
    let signal = rssi.map_or_else(
        || "signal unknown".to_owned(),
        |r| format!("{} {r} dBm", bars(r)),
    );
    let security = security.unwrap_or("security unknown");
    let channel = channel
        .map(|c| format!(", channel {c}"))
        .unwrap_or_default();
    format!("{name} — {signal}, {security}{channel}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_listed_with_what_the_device_said_of_it() {
        assert_eq!(
            network_label("HomeNet", Some(-52), Some("WPA2-PSK"), Some(6)),
            "HomeNet — ▂▄▆█ -52 dBm, WPA2-PSK, channel 6"
        );
        assert_eq!(
            network_label("Guest", Some(-61), Some("open"), None),
            "Guest — ▂▄▆ -61 dBm, open"
        );
        assert_eq!(
            network_label("Far", Some(-90), None, None),
            "Far — ▂ -90 dBm, security unknown"
        );
        assert_eq!(
            network_label("Cut", None, None, None),
            "Cut — signal unknown, security unknown"
        );
    }
}
