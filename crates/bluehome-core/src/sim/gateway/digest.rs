//! Digest authentication as the device checks it, as firmware 1.x does (the default) or as
//! firmware 2.0 does ([`GatewayOptions::firmware_2_auth`](super::GatewayOptions)).
//!
//! Firmware 1.x (mongoose-os-libs rpc-common `src/mg_rpc.c`): the nonce is the device clock in
//! seconds and the challenge names the next `nc`. A nonce lasts an hour; each use needs a higher
//! `nc` than the last accepted for it (at most 30,000). A `cnonce` must be a number that fits 32
//! bits (closed firmware may read it as one).
//!
//! Firmware 2.0 (shelly-api-docs, Authentication, "Nonce Handling (Firmware 2.0.0+)"; real
//! devices in home-assistant/core#177257 and #178327, openhab-addons#21179, ioBroker.shelly#1543):
//! nonces are base64 text and the challenge has no `nc`; the device keeps at most 32 nonces, each
//! good for an hour and 30,000 uses with a rising `nc`. An answer with the right password to a
//! nonce it no longer keeps gets a new challenge marked `stale`. Failed sign-ins are counted over
//! ten minutes; from the fifth on (the documents give no number: the simulator's choice), and
//! while all 32 nonces are in use and one was dropped less than 2 s ago, whatever would need a new
//! nonce is answered 429 "Too many failed authentication attempts". Requests on a kept nonce still
//! pass.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use litemap::LiteMap;
use sha2::{Digest, Sha256};

use crate::shelly::auth::{AuthParams, Challenge, Nonce};
use crate::shelly::frame::RpcError;
use crate::shelly::methods::ErrorCode;

/// How long a nonce is good for (the Authentication document: an hour).
const NONCE_LIFETIME_MS: u64 = 3_600_000;
/// Requests one nonce may serve (the Authentication document: up to 30,000).
const MAX_NC: u64 = 30_000;
/// Nonces firmware 2.0 keeps at once (openhab-addons#21179, from the Authentication document's
/// "Nonce Tracking and Eviction").
const NONCE_SLOTS: usize = 32;
/// While every slot is taken, how soon after dropping one the device refuses to drop another.
const EVICTION_PAUSE_MS: u64 = 2_000;
/// The window over which failed sign-ins count (aioshelly#1263, citing the document).
const FAILURE_WINDOW_MS: u64 = 600_000;
/// Failed sign-ins in the window from which new nonces are refused (the simulator's choice).
const FAILURES_BEFORE_PAUSE: usize = 5;

/// A firmware 2.0 nonce the device keeps.
#[derive(Debug, Clone)]
struct Kept {
    text: String,
    issued_ms: u64,
    last_nc: u64,
}

/// The device's side of digest authentication.
#[derive(Debug, Clone)]
pub(super) struct DigestAuth {
    /// HA1 of the password; `None`: authentication is off.
    pub ha1: Option<String>,
    firmware_2: bool,
    /// Firmware 1.x: the highest `nc` accepted per clock nonce (those within their hour only).
    counts: LiteMap<u64, u64>,
    /// Firmware 2.0: the nonces kept, oldest first.
    kept: Vec<Kept>,
    issued: u64,
    dropped_at_ms: Option<u64>,
    failures: VecDeque<u64>,
}

impl DigestAuth {
    pub fn new(ha1: Option<String>, firmware_2: bool) -> Self {
        Self {
            ha1,
            firmware_2,
            counts: LiteMap::new(),
            kept: Vec::new(),
            issued: 0,
            dropped_at_ms: None,
            failures: VecDeque::new(),
        }
    }

    /// Lets a request through, or answers it with a challenge (or 429). `clock_s` is the device
    /// clock, the nonce of firmware 1.x; `now_ms` the time since the simulation started.
    pub fn check(
        &mut self,
        realm: &str,
        auth: Option<&AuthParams>,
        clock_s: u64,
        now_ms: u64,
    ) -> Result<(), RpcError> {
        let Some(ha1) = &self.ha1 else {
            return Ok(());
        };
        let signed = auth.filter(|a| a.realm == realm && a.verify(ha1));
        if self.firmware_2 {
            let failed = auth.is_some() && signed.is_none();
            self.check_2(realm, signed, failed, now_ms)
        } else {
            self.check_1(realm, signed, clock_s)
        }
    }

    fn check_1(
        &mut self,
        realm: &str,
        signed: Option<&AuthParams>,
        clock_s: u64,
    ) -> Result<(), RpcError> {
        let lifetime_s = NONCE_LIFETIME_MS / 1000;
        let accepted = signed.and_then(|a| {
            let nonce = a.nonce.seconds()?;
            let last_nc = self.counts.get(&nonce).copied().unwrap_or(0);
            let good = nonce <= clock_s
                && clock_s - nonce < lifetime_s
                && (last_nc + 1..=MAX_NC).contains(&a.nc)
                && matches!(a.cnonce, Nonce::Num(n) if u32::try_from(n).is_ok());
            good.then_some((nonce, a.nc))
        });
        let Some((nonce, nc)) = accepted else {
            let mut challenge = Challenge::new(realm, clock_s);
            challenge.nc = Some(self.counts.get(&clock_s).map_or(1, |nc| nc + 1));
            return Err(unauthorized(&challenge));
        };
        self.counts
            .retain(|&n, _| n <= clock_s && clock_s - n < lifetime_s);
        self.counts.insert(nonce, nc);
        Ok(())
    }

    fn check_2(
        &mut self,
        realm: &str,
        signed: Option<&AuthParams>,
        failed: bool,
        now_ms: u64,
    ) -> Result<(), RpcError> {
        self.kept
            .retain(|k| now_ms.saturating_sub(k.issued_ms) < NONCE_LIFETIME_MS);
        while self
            .failures
            .front()
            .is_some_and(|&t| now_ms.saturating_sub(t) >= FAILURE_WINDOW_MS)
        {
            self.failures.pop_front();
        }
        if failed {
            self.failures.push_back(now_ms);
        }
        let Some(a) = signed else {
            return Err(self.new_nonce(realm, false, now_ms));
        };
        let kept = self
            .kept
            .iter_mut()
            .find(|k| matches!(&a.nonce, Nonce::Text(t) if *t == k.text));
        match kept {
            Some(k) if a.nc > k.last_nc && a.nc <= MAX_NC => {
                k.last_nc = a.nc;
                Ok(())
            }
            // A replayed count: refused, though the password is right.
            Some(_) => Err(self.new_nonce(realm, false, now_ms)),
            None => Err(self.new_nonce(realm, true, now_ms)),
        }
    }

    /// A 401 with a new nonce, or 429 when the device pauses sign-ins.
    fn new_nonce(&mut self, realm: &str, stale: bool, now_ms: u64) -> RpcError {
        let too_many = RpcError {
            code: ErrorCode::TooManyAuthFailures.code(),
            message: "Too many failed authentication attempts".into(),
        };
        if self.failures.len() >= FAILURES_BEFORE_PAUSE {
            return too_many;
        }
        if self.kept.len() >= NONCE_SLOTS {
            if self
                .dropped_at_ms
                .is_some_and(|t| now_ms.saturating_sub(t) < EVICTION_PAUSE_MS)
            {
                return too_many;
            }
            self.kept.remove(0);
            self.dropped_at_ms = Some(now_ms);
        }
        // Sixteen bytes that differ per nonce, in base64 as firmware 2.0 sends them.
        self.issued += 1;
        let seed = Sha256::new()
            .chain_update(realm.as_bytes())
            .chain_update(self.issued.to_be_bytes())
            .chain_update(now_ms.to_be_bytes())
            .finalize();
        let text = STANDARD.encode(seed.get(..16).unwrap_or_default());
        self.kept.push(Kept {
            text: text.clone(),
            issued_ms: now_ms,
            last_nc: 0,
        });
        let challenge = Challenge {
            nc: None,
            stale,
            ..Challenge::new(realm, Nonce::Text(text))
        };
        unauthorized(&challenge)
    }
}

fn unauthorized(challenge: &Challenge) -> RpcError {
    RpcError {
        code: ErrorCode::AuthRequired.code(),
        message: challenge.to_message(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shelly::auth::{self, AuthParams};

    const REALM: &str = "shellyplus1-a8032ab12345";

    fn device(firmware_2: bool) -> DigestAuth {
        DigestAuth::new(Some(auth::ha1(REALM, "pw")), firmware_2)
    }

    /// A request signed with the right password for `nonce` and count `nc`.
    fn signed(nonce: impl Into<Nonce>, nc: u64) -> AuthParams {
        AuthParams::answer(
            &auth::ha1(REALM, "pw"),
            &Challenge::new(REALM, nonce),
            nc,
            7,
        )
    }

    /// The challenge of a 401.
    fn challenge(answer: Result<(), RpcError>) -> Challenge {
        let e = answer.expect_err("a challenge");
        assert_eq!(e.code, 401, "{}", e.message);
        Challenge::parse(&e.message).unwrap()
    }

    /// Firmware 1.x: a clock nonce is good until its hour is over, not a second longer.
    #[test]
    fn a_clock_nonce_lasts_an_hour() {
        let mut d = device(false);
        assert_eq!(
            d.check(REALM, Some(&signed(100u64, 1)), 100 + 3_599, 0),
            Ok(())
        );
        let refused = challenge(d.check(REALM, Some(&signed(100u64, 2)), 100 + 3_600, 0));
        assert_eq!(refused.nonce, Nonce::Num(3_700));
    }

    /// Firmware 1.x: the counts spent on a nonce stay spent while it lives, though a later
    /// nonce has been used since.
    #[test]
    fn a_count_stays_spent_while_its_nonce_lives() {
        // Real time, as after Wi-Fi gave the device its clock.
        let t = 1_700_000_000u64;
        let mut d = device(false);
        assert_eq!(d.check(REALM, Some(&signed(t, 1)), t, 0), Ok(()));
        assert_eq!(d.check(REALM, Some(&signed(t + 2, 1)), t + 2, 0), Ok(()));
        challenge(d.check(REALM, Some(&signed(t, 1)), t + 3, 0));
        assert_eq!(d.check(REALM, Some(&signed(t, 2)), t + 3, 0), Ok(()));
    }

    /// The nonce of a firmware 2.0 challenge, which is text.
    fn text_nonce(d: &mut DigestAuth, now_ms: u64) -> Nonce {
        let nonce = challenge(d.check(REALM, None, 0, now_ms)).nonce;
        assert!(matches!(nonce, Nonce::Text(_)), "{nonce:?}");
        nonce
    }

    /// Firmware 2.0: each use of a kept nonce needs a higher count, at most 30,000; a replay is
    /// refused with a fresh nonce (not stale: the nonce is still kept).
    #[test]
    fn firmware_2_counts_rise_to_30000() {
        let mut d = device(true);
        let nonce = text_nonce(&mut d, 0);
        assert_eq!(
            d.check(REALM, Some(&signed(nonce.clone(), 1)), 0, 1),
            Ok(())
        );
        let replay = challenge(d.check(REALM, Some(&signed(nonce.clone(), 1)), 0, 2));
        assert!(!replay.stale);
        assert_ne!(replay.nonce, nonce);
        assert_eq!(
            d.check(REALM, Some(&signed(nonce.clone(), 30_000)), 0, 3),
            Ok(())
        );
        challenge(d.check(REALM, Some(&signed(nonce.clone(), 30_001)), 0, 4));
    }

    /// Firmware 2.0: a nonce is kept for an hour to the millisecond.
    #[test]
    fn firmware_2_keeps_a_nonce_for_an_hour() {
        let mut d = device(true);
        let nonce = text_nonce(&mut d, 1_000);
        let last = 1_000 + NONCE_LIFETIME_MS - 1;
        assert_eq!(
            d.check(REALM, Some(&signed(nonce.clone(), 1)), 0, last),
            Ok(())
        );
        let expired = challenge(d.check(REALM, Some(&signed(nonce.clone(), 2)), 0, last + 1));
        assert!(expired.stale);
    }

    /// Firmware 2.0: with every slot taken, a nonce is dropped for a new one at most every 2 s;
    /// nonces handed out in the same millisecond still differ.
    #[test]
    fn firmware_2_drops_a_kept_nonce_at_most_every_2_s() {
        let mut d = device(true);
        let nonces: Vec<Nonce> = (0..NONCE_SLOTS).map(|_| text_nonce(&mut d, 0)).collect();
        assert!(
            nonces
                .iter()
                .enumerate()
                .all(|(i, n)| !nonces[..i].contains(n)),
            "{nonces:?}"
        );
        text_nonce(&mut d, 10);
        let paused = d
            .check(REALM, None, 0, 10 + EVICTION_PAUSE_MS - 1)
            .unwrap_err();
        assert_eq!(paused.code, 429);
        text_nonce(&mut d, 10 + EVICTION_PAUSE_MS);
    }
}
