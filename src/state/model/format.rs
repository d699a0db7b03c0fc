//! Readings and devices as the Scan page writes them: values in the user's units, reading keys,
//! numbers, kinds.

use bluehome_core::DeviceKind;
use bluehome_core::bthome::Value;
use bluehome_core::text::printable;

use crate::state::hex;
use crate::state::settings::{Settings, format_rfc3339};

/// A decoded value as text: numbers in the user's unit (with it), events by name.
pub fn value_text(value: &Value, unit: Option<&'static str>, settings: &Settings) -> String {
    match value {
        Value::Int(_) | Value::Float(_) => {
            let raw = value.as_f64().unwrap_or_default();
            let (value, unit) = settings.display_value(raw, unit);
            let text = format_number(value);
            match unit {
                Some(unit) => format!("{text} {unit}"),
                None => text,
            }
        }
        Value::Bool(on) => if *on { "on" } else { "off" }.to_owned(),
        Value::Text(text) => printable(text).into_owned(),
        Value::InvalidText(bytes) | Value::Unreadable(bytes) | Value::Raw(bytes) => {
            hex::encode(bytes)
        }
        Value::Timestamp(s) => format_rfc3339(s.saturating_mul(1000)),
        Value::DeviceTypeId(id) => format!("{id:#06x}"),
        Value::Firmware(v) => v.to_string(),
        Value::Dimmer { steps, .. } => {
            format!("{} ({steps} steps)", value.event().unwrap_or("none"))
        }
        Value::Command { args, .. } => {
            let name = value.event().unwrap_or("unknown");
            if args.is_empty() {
                name.to_owned()
            } else {
                format!("{name} (args {})", hex::encode(args))
            }
        }
        other => other.event().unwrap_or("none").to_owned(),
    }
}

/// An object's value as text: binary sensors in the words of their object (`open`, `detected`),
/// anything else as [`value_text`] writes it.
pub fn object_text(
    id: u8,
    value: &Value,
    unit: Option<&'static str>,
    settings: &Settings,
) -> String {
    match (value, bluehome_core::bthome::binary_words(id)) {
        (Value::Bool(on), Some([off_word, on_word])) => {
            (if *on { on_word } else { off_word }).to_owned()
        }
        (value, _) => value_text(value, unit, settings),
    }
}

/// The detail of an event object for the timeline: dimmer steps, command arguments.
pub fn event_detail(value: &Value) -> String {
    match value {
        Value::Dimmer { steps, .. } => format!("{steps} steps"),
        Value::Command { args, .. } if !args.is_empty() => {
            format!("args {}", hex::encode(args))
        }
        _ => String::new(),
    }
}

/// The key of a reading within its device (`"2"`, `"2.1"` for a second temperature).
pub fn reading_key(id: u8, index: u8) -> String {
    if index == 0 {
        id.to_string()
    } else {
        format!("{id}.{index}")
    }
}

/// A number with at most 3 decimals and no trailing zeros.
pub fn format_number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// A short class name for styling a device's kind.
pub fn kind_class(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::BthomeV1 | DeviceKind::BthomeV2 => "bthome",
        DeviceKind::ShellyBlu(_) => "blu",
        DeviceKind::Shelly(_) => "shelly",
        DeviceKind::Improv(_) => "improv",
        DeviceKind::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_trailing_zeros_and_negative_zero() {
        assert_eq!(format_number(25.060), "25.06");
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-0.0001), "0");
    }

    /// Bytes no one can read as a value are shown as they came, in hex, not as "none".
    #[test]
    fn unreadable_values_show_their_bytes() {
        let settings = Settings::default();
        for value in [
            Value::Unreadable(vec![0xca, 0x09]),
            Value::InvalidText(vec![0xca, 0x09]),
            Value::Raw(vec![0xca, 0x09]),
        ] {
            assert_eq!(value_text(&value, Some("°C"), &settings), "ca09");
        }
    }

    /// Dimmer and command events (BTHome objects 0x3C and 0x3B) name their steps and arguments;
    /// a command without arguments says only what it is, and an opcode no one named is unknown
    /// (with arguments or without).
    #[test]
    fn dimmer_steps_and_command_arguments_are_written_out() {
        let settings = Settings::default();
        let dimmer = Value::Dimmer { event: 1, steps: 3 };
        let command = |opcode, args: &[u8]| Value::Command {
            opcode,
            args: args.to_vec(),
        };
        let texts = |value: &Value| (value_text(value, None, &settings), event_detail(value));
        assert_eq!(
            texts(&dimmer),
            ("rotate_left (3 steps)".into(), "3 steps".into())
        );
        assert_eq!(
            texts(&command(0x03, &[0x0a, 0x01])),
            ("step_up (args 0a01)".into(), "args 0a01".into())
        );
        assert_eq!(texts(&command(0x02, &[])), ("toggle".into(), String::new()));
        assert_eq!(
            texts(&command(0x7f, &[0x01])),
            ("unknown (args 01)".into(), "args 01".into())
        );
        assert_eq!(texts(&command(0x7f, &[])).0, "unknown");
    }

    #[test]
    fn reading_keys_number_repeated_objects() {
        assert_eq!(reading_key(2, 0), "2");
        assert_eq!(reading_key(2, 1), "2.1");
    }
}
