//! `bluehome sim improv --stdio`: a simulated Improv Wi-Fi device (`bluehome_core::sim::improv`)
//! on the line protocol.

use std::ffi::OsString;
use std::process::ExitCode;

use bluehome_core::improv::Capabilities;
use bluehome_core::sim::improv::{ImprovDevice, ImprovOptions};
use bluehome_core::sim::line::{Clock, Session};

use super::line;
use crate::args::{self, Parsed};

const USAGE: &str = "\
usage: bluehome sim improv --stdio [--virtual-clock] [options]

options: --no-authorization (start authorized; no button press needed)
         --capabilities N (0..=255, default 7: identify, device info, scan)
         --authorization-ms N (60000)  --connect-ms N (3000)  --connect-timeout-ms N (30000)
         --scan-ms N (2000)  --identify-ms N (10000)
         --redirect URL (repeatable: the result's URLs in order; default http://192.168.1.43/)
         --no-redirect (a result with no URL)
         --read-limit N (bytes a read answers at most; ESPHome before 2026.6: 22)
         --device-info-strings N (4; fewer: a device-info result clients refuse)
         --stop-after-provisioned-ms N (10000; 0: never)
networks: HomeNet (WPA2, password `correct horse`), Guest (open), Neighbour (WPA, `neighbour`)";

/// Everything the command line sets.
#[derive(Debug)]
struct Config {
    clock: Clock,
    options: ImprovOptions,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Parsed<Box<Config>>, String> {
    let mut options = ImprovOptions::default();
    let mut redirects_given = false;
    let clock = line::parse_options(args, |name, p| {
        let o = &mut options;
        let option = format!("--{name}");
        let ms = |p: &mut args::Parser| args::number(p, &option);
        match name {
            "no-authorization" => o.authorization = false,
            "capabilities" => {
                o.capabilities = Capabilities(
                    u8::try_from(ms(p)?).map_err(|_| "--capabilities must be 0..=255")?,
                );
            }
            "authorization-ms" => o.authorization_ms = ms(p)?,
            "connect-ms" => o.connect_ms = ms(p)?,
            "connect-timeout-ms" => o.connect_timeout_ms = ms(p)?,
            "scan-ms" => o.scan_ms = ms(p)?,
            "identify-ms" => o.identify_ms = ms(p)?,
            "redirect" => {
                let url = args::text(p)?;
                if url.len() > 255 {
                    return Err("--redirect: at most 255 bytes fit a result string".into());
                }
                if !redirects_given {
                    o.redirect_urls.clear();
                    redirects_given = true;
                }
                o.redirect_urls.push(url);
            }
            "no-redirect" => o.redirect_urls.clear(),
            "read-limit" => {
                o.read_limit =
                    Some(usize::try_from(ms(p)?).map_err(|_| "--read-limit is too large")?);
            }
            "device-info-strings" => {
                o.device_info_strings =
                    usize::try_from(ms(p)?).map_err(|_| "--device-info-strings is too large")?;
            }
            "stop-after-provisioned-ms" => {
                o.stop_after_provisioned_ms = Some(ms(p)?).filter(|&ms| ms > 0);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(clock.map(|clock| Box::new(Config { clock, options })))
}

/// Entry point: `args` are what follows `sim improv`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    args::serve_parsed("bluehome sim improv", USAGE, parse_args(args), |config| {
        let device = ImprovDevice::new(config.options);
        line::serve(Session::new(device, config.clock), "improv")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Parsed<Box<Config>>, String> {
        parse_args(args.split_whitespace().map(OsString::from))
    }

    #[test]
    fn options_are_checked() {
        assert!(parse("").is_err(), "--stdio is required");
        assert!(parse("--stdio --capabilities 256").is_err());
        assert!(parse("--stdio --scan-ms soon").is_err());
        assert!(parse("--stdio --colour blue").is_err());
        let Ok(Parsed::Run(c)) =
            parse("--stdio --no-authorization --capabilities 1 --connect-ms 10 --no-redirect")
        else {
            panic!("not parsed")
        };
        assert!(!c.options.authorization);
        assert_eq!(c.options.capabilities, Capabilities(1));
        assert_eq!(c.options.connect_ms, 10);
        assert!(c.options.redirect_urls.is_empty());
        let Ok(Parsed::Run(c)) = parse("--stdio --redirect http://a/ --redirect http://b/") else {
            panic!("not parsed")
        };
        assert_eq!(c.options.redirect_urls, ["http://a/", "http://b/"]);
        let Ok(Parsed::Run(c)) =
            parse("--stdio --read-limit 22 --stop-after-provisioned-ms 0 --device-info-strings 3")
        else {
            panic!("not parsed")
        };
        assert_eq!(c.options.read_limit, Some(22));
        assert_eq!(c.options.device_info_strings, 3);
        assert_eq!(c.options.stop_after_provisioned_ms, None);
    }

    #[test]
    fn the_state_is_readable_by_name_or_uuid() {
        let Ok(Parsed::Run(c)) = parse("--stdio --virtual-clock") else {
            panic!("not parsed")
        };
        let mut s = Session::new(ImprovDevice::new(c.options), Clock::Virtual);
        s.handle_line(r#"{"op":"connect"}"#, 0);
        for char in ["state", "00467768-6228-2272-4663-277478268001"] {
            let line = format!(r#"{{"op":"read","char":"{char}"}}"#);
            let answer = serde_json::to_value(s.handle_line(&line, 0)).unwrap();
            assert_eq!(answer["data"], "01", "{char}");
        }
    }
}
