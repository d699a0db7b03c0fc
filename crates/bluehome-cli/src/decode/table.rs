//! `bluehome decode --table`: a record as lines for a person at a terminal. Every text that came
//! from a device is shown with its control and bidi characters escaped.

use std::fmt;

use bluehome_core::bthome::Value;
use bluehome_core::text::printable;

use super::Record;

/// The readable form for a terminal.
pub(super) struct Table<'a, 'b>(pub(super) &'a Record<'b>);

impl fmt::Display for Table<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = self.0;
        if record.bthome.is_none() && record.shelly.is_none() {
            writeln!(f, "no BTHome service data and no Shelly manufacturer data")?;
        }
        if let Some(p) = &record.bthome {
            match p.header {
                Some(h) => writeln!(
                    f,
                    "BTHome v{}  encrypted: {}  MAC included: {}  trigger based: {}{}",
                    h.version,
                    yes(h.encrypted),
                    yes(h.mac_included),
                    yes(h.trigger_based),
                    p.counter
                        .map(|c| format!("  counter: {c}"))
                        .unwrap_or_default()
                )?,
                None => writeln!(f, "BTHome (unusable device-info byte)")?,
            }
            if !p.objects.is_empty() {
                writeln!(f, "  {:<6} {:<28} value", "id", "name")?;
            }
            for o in &p.objects {
                let value = match &o.value {
                    Value::Button(_) | Value::Dimmer { .. } | Value::Command { .. } => {
                        let mut s = o.value.event().unwrap_or("(no event)").to_string();
                        if let Value::Dimmer { steps, .. } = o.value {
                            s += &format!(", {steps} steps");
                        }
                        if let Value::Command { args, .. } = &o.value
                            && !args.is_empty()
                        {
                            s += &format!(
                                ", args {}",
                                args.iter().map(|b| format!("{b:02x}")).collect::<String>()
                            );
                        }
                        s
                    }
                    _ => {
                        let json = serde_json::to_value(o).unwrap_or_default();
                        let v = match json.get("value") {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            other => other.unwrap_or(&serde_json::Value::Null).to_string(),
                        };
                        match o.unit() {
                            Some(u) => format!("{v} {u}"),
                            None => v,
                        }
                    }
                };
                // Text objects are the device's words: shown, never sent to the terminal as is.
                writeln!(
                    f,
                    "  {:<6} {:<28} {}",
                    format!("{:#04x}", o.id),
                    o.name(),
                    printable(&value)
                )?;
            }
            if let Some(e) = &p.error {
                writeln!(f, "  error ({}, byte {}): {}", e.kind(), e.offset(), e)?;
            }
        }
        if let Some(s) = &record.shelly {
            write!(f, "Shelly")?;
            if let Some(id) = s.model_id {
                write!(f, "  model {id:#06x}")?;
                if let Some(m) = s.model() {
                    write!(f, " {} ({})", m.code, m.name)?;
                }
            }
            if let Some(mac) = s.mac {
                write!(f, "  MAC {mac}")?;
            }
            if let Some(flags) = s.flags {
                write!(f, "  flags {:#06x}", flags.0)?;
                for flag in flags.set() {
                    write!(f, " {}", flag.key())?;
                }
            }
            writeln!(f)?;
            if let Some(b) = &s.beacon {
                writeln!(
                    f,
                    "  time beacon: unix {}  UTC offset {} s  DST {}..{} shift {} s",
                    b.unix_time, b.utc_offset, b.dst_start, b.dst_end, b.dst_shift
                )?;
            }
            if let Some(e) = &s.error {
                writeln!(f, "  error ({}, byte {}): {}", e.kind(), e.offset(), e)?;
            }
        }
        Ok(())
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
