//! Digest authentication (SHA-256) as Shelly Gen2+ devices run it (the Authentication document,
//! <https://shelly-api-docs.shelly.cloud/gen2/General/Authentication>; mongoose-os-libs/rpc-common
//! `src/mg_rpc.c`, `mg_rpc_check_digest_auth`).
//!
//! ```text
//! HA1      = hex(SHA256("admin:" + realm + ":" + password))
//! HA2      = hex(SHA256("dummy_method:dummy_uri"))
//! response = hex(SHA256(HA1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + HA2))
//! ```
//!
//! The clear password is needed only to make [`ha1`]; store HA1, never the password. The client
//! nonce (`cnonce`) is passed in: this module never draws random numbers. Ours is a `u32`: upstream
//! mongoose echoes it as text, but closed firmware 1.x may read it as a 32-bit number; other
//! clients send text (aioshelly 16 random bytes in base64 since its PR #1118), which firmware 2.0
//! takes. Nonces are kept exactly as they were sent ([`Nonce`]): the digest covers their text, so
//! `"0042"` must not become `42`.
//!
//! Firmware 2.0 (the Authentication document, "Nonce Handling (Firmware 2.0.0+)") issues text
//! nonces and leaves `nc` out of the challenge; a nonce then serves up to 30,000 requests for an
//! hour, each with a higher `nc`.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

/// The only user name Shelly devices know.
pub const USERNAME: &str = "admin";
/// The algorithm name in challenges and responses.
pub const ALGORITHM: &str = "SHA-256";
/// `hex(SHA256("dummy_method:dummy_uri"))`, the fixed HA2 of Shelly's RPC digest auth.
pub const HA2: &str = "6370ec69915103833b5222b368555393393f098bfbfbb59f47e0590af135f062";

/// Why a challenge or auth object was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The 401 message is not the JSON challenge object; `column` of the JSON error (0 if it parsed
    /// but had the wrong shape).
    BadChallenge {
        /// Where the JSON went wrong.
        column: usize,
    },
    /// The challenge asks for something else than digest with SHA-256.
    UnsupportedChallenge {
        /// The `auth_type` or `algorithm` that was offered.
        offered: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadChallenge { column } => write!(
                f,
                "401 message is not a digest challenge object (JSON column {column})"
            ),
            Self::UnsupportedChallenge { offered } => {
                write!(f, "401 challenge offers {offered:?}, not digest SHA-256")
            }
        }
    }
}

impl core::error::Error for Error {}

/// Lower-case hex of the SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// HA1 = hex(SHA256("admin:realm:password")). The realm is the device id (or `auth_domain`).
pub fn ha1(realm: &str, password: &str) -> String {
    sha256_hex(format!("{USERNAME}:{realm}:{password}").as_bytes())
}

/// Accepts a number or a string holding a number (the Wall Display sends `nc` as a string), when
/// present.
fn optional_number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    number_or_string(d).map(Some)
}

/// Accepts a number or a string holding a number (the Wall Display sends `nc` as a string).
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Num(u64),
        Str(String),
    }
    match Either::deserialize(d)? {
        Either::Num(n) => Ok(n),
        Either::Str(s) => s
            .parse()
            .map_err(|_| serde::de::Error::custom("not a decimal number")),
    }
}

fn default_nc() -> u64 {
    1
}

fn sha_256() -> String {
    ALGORITHM.into()
}

/// A nonce as its sender wrote it: a JSON number (mongoose prints the Unix time with `%llu`) or a
/// string (firmware 2.0's base64 nonces, other clients' `cnonce`; kept verbatim, never parsed). It
/// goes back in the same JSON form, and the digest covers its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Nonce {
    /// A number.
    Num(u64),
    /// A string.
    Text(String),
}

impl Nonce {
    /// The nonce as a number of seconds, when it is one (server side: its age).
    pub fn seconds(&self) -> Option<u64> {
        match self {
            Self::Num(n) => Some(*n),
            Self::Text(t) => t.parse().ok(),
        }
    }
}

impl From<u64> for Nonce {
    fn from(n: u64) -> Self {
        Self::Num(n)
    }
}

impl fmt::Display for Nonce {
    /// The text the digest covers: the digits of a number, the content of a string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

/// The challenge a 401 error carries in its `message`:
/// `{"auth_type":"digest","nonce":1700000000,"nc":1,"realm":"shellyplus1-…","algorithm":"SHA-256"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// `digest`.
    pub auth_type: String,
    /// Server nonce (a Unix time upstream), as sent.
    pub nonce: Nonce,
    /// Nonce count the server expects next; firmware 2.0 leaves it out (it is then 1).
    #[serde(
        default,
        deserialize_with = "optional_number_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub nc: Option<u64>,
    /// Realm: the device id.
    pub realm: String,
    /// `SHA-256`, the only algorithm Shelly devices use: a challenge that leaves it out means it.
    #[serde(default = "sha_256")]
    pub algorithm: String,
    /// The request was refused because its nonce expired, not because of the password (RFC 7616
    /// 3.3 `stale`; firmware 2.0 sets it, ioBroker.shelly#1543, aioshelly#1268): answer the new
    /// nonce.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stale: bool,
}

fn is_false(flag: &bool) -> bool {
    !flag
}

impl Challenge {
    /// Reads the challenge from a 401 error message.
    pub fn parse(message: &str) -> Result<Self, Error> {
        let challenge: Self = serde_json::from_str(message)
            .map_err(|e| Error::BadChallenge { column: e.column() })?;
        if challenge.auth_type != "digest" {
            return Err(Error::UnsupportedChallenge {
                offered: challenge.auth_type,
            });
        }
        if challenge.algorithm != ALGORITHM {
            return Err(Error::UnsupportedChallenge {
                offered: challenge.algorithm,
            });
        }
        Ok(challenge)
    }

    /// The challenge as a 401 error message, printed the way firmware prints it: mongoose's
    /// printf-style JSON formatter puts a space after every `:` and `,` (mongoose-os-libs
    /// rpc-common `mgos_rpc.c`, `mg_rpc_send_error_jsonf(ri, 401, "{auth_type: %Q, nonce: %llu,
    /// nc: %d, realm: %Q, algorithm: %Q}", …)`).
    pub fn to_message(&self) -> String {
        let text = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let nonce = serde_json::to_string(&self.nonce).unwrap_or_default();
        let nc = self
            .nc
            .map(|nc| format!(", \"nc\": {nc}"))
            .unwrap_or_default();
        let stale = if self.stale { ", \"stale\": true" } else { "" };
        format!(
            "{{\"auth_type\": {}, \"nonce\": {nonce}{nc}, \"realm\": {}, \"algorithm\": {}{stale}}}",
            text(&self.auth_type),
            text(&self.realm),
            text(&self.algorithm)
        )
    }

    /// A challenge for `realm` with nonce `nonce` (server side).
    pub fn new(realm: &str, nonce: impl Into<Nonce>) -> Self {
        Self {
            auth_type: "digest".into(),
            nonce: nonce.into(),
            nc: Some(1),
            realm: realm.to_string(),
            algorithm: ALGORITHM.into(),
            stale: false,
        }
    }
}

/// The `auth` member of a request frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthParams {
    /// The challenge's realm.
    pub realm: String,
    /// Always `admin`.
    pub username: String,
    /// The challenge's nonce, as the device sent it.
    pub nonce: Nonce,
    /// The client nonce, as the client wrote it.
    pub cnonce: Nonce,
    /// hex(SHA256(HA1:nonce:nc:cnonce:auth:HA2)).
    pub response: String,
    /// `SHA-256`.
    pub algorithm: String,
    /// Nonce count.
    #[serde(default = "default_nc", deserialize_with = "number_or_string")]
    pub nc: u64,
}

/// The digest response for one request.
pub fn response_hash(ha1: &str, nonce: &Nonce, nc: u64, cnonce: &Nonce) -> String {
    sha256_hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{HA2}").as_bytes())
}

impl AuthParams {
    /// Answers `challenge` with nonce count `nc` and client nonce `cnonce`.
    pub fn answer(ha1: &str, challenge: &Challenge, nc: u64, cnonce: u32) -> Self {
        let cnonce = Nonce::Num(u64::from(cnonce));
        Self {
            realm: challenge.realm.clone(),
            username: USERNAME.into(),
            nonce: challenge.nonce.clone(),
            response: response_hash(ha1, &challenge.nonce, nc, &cnonce),
            cnonce,
            algorithm: ALGORITHM.into(),
            nc,
        }
    }

    /// Server side: is this a correct answer for a user whose HA1 is `ha1`? (Nonce freshness is the
    /// caller's business.)
    pub fn verify(&self, ha1: &str) -> bool {
        self.username == USERNAME
            && self.algorithm == ALGORITHM
            && self.response == response_hash(ha1, &self.nonce, self.nc, &self.cnonce)
    }
}

/// Parameters of `Shelly.SetAuth`: `{"user":"admin","realm":…,"ha1":…|null}` (`null` disables auth).
/// Its `Debug` hides the HA1, which would let anyone who reads it sign in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAuthParams {
    /// Always `admin`.
    pub user: String,
    /// The device id.
    pub realm: String,
    /// HA1, or `None` to disable authentication.
    pub ha1: Option<String>,
}

impl SetAuthParams {
    /// Enables auth with `password` (or disables it with `None`) on the device whose realm is `realm`.
    pub fn new(realm: &str, password: Option<&str>) -> Self {
        Self::with_ha1(realm, password.map(|p| ha1(realm, p)))
    }

    /// Enables auth with the digest `ha1` of a password (or disables it with `None`).
    pub fn with_ha1(realm: &str, ha1: Option<String>) -> Self {
        Self {
            user: USERNAME.into(),
            realm: realm.to_string(),
            ha1,
        }
    }
}

/// Client-side credentials: HA1 and the last challenge with its running nonce count. Its
/// `Debug` hides the HA1.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    ha1: String,
    challenge: Option<Challenge>,
    nc: u64,
}

impl fmt::Debug for SetAuthParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetAuthParams")
            .field("user", &self.user)
            .field("realm", &self.realm)
            .field("ha1", &self.ha1.as_ref().map(|_| "…"))
            .finish()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("ha1", &"…")
            .field("challenge", &self.challenge)
            .field("nc", &self.nc)
            .finish()
    }
}

impl Credentials {
    /// Credentials from a stored HA1.
    pub fn from_ha1(ha1: String) -> Self {
        Self {
            ha1,
            challenge: None,
            nc: 1,
        }
    }

    /// Credentials from a password (HA1 is computed; the password is not kept).
    pub fn from_password(realm: &str, password: &str) -> Self {
        Self::from_ha1(ha1(realm, password))
    }

    /// HA1 (to store in a profile).
    pub fn ha1(&self) -> &str {
        &self.ha1
    }

    /// Remembers a new challenge; the nonce count restarts at the challenge's `nc`.
    pub fn accept_challenge(&mut self, challenge: Challenge) {
        self.nc = challenge.nc.unwrap_or(1).max(1);
        self.challenge = Some(challenge);
    }

    /// Forgets the challenge, so that the next request goes without `auth` and the device hands
    /// out a new nonce: after a 429 the old one is dead, and answering it again only counts as
    /// one more failed sign-in (aioshelly#1263).
    pub fn forget_challenge(&mut self) {
        self.challenge = None;
    }

    /// The `auth` member for the next request, incrementing the nonce count; `None` before any
    /// challenge was seen.
    pub fn next_auth(&mut self, cnonce: u32) -> Option<AuthParams> {
        let challenge = self.challenge.as_ref()?;
        let auth = AuthParams::answer(&self.ha1, challenge, self.nc, cnonce);
        self.nc = self.nc.saturating_add(1);
        Some(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HA2 is the SHA-256 of the fixed string `dummy_method:dummy_uri` (mongoose-os-libs/rpc-common
    /// `src/mg_rpc.c`; the constant was copied from a third-party client and is checked here
    /// against the hash function).
    #[test]
    fn ha2_is_the_hash_of_the_dummy_method_and_uri() {
        assert_eq!(sha256_hex(b"dummy_method:dummy_uri"), HA2);
    }

    /// Neither the credentials nor `Shelly.SetAuth`'s params print their HA1.
    #[test]
    fn debug_never_prints_the_ha1() {
        let params = SetAuthParams::new("shellyplus1-a8032ab12345", Some("secret"));
        let ha1 = params.ha1.clone().unwrap();
        let printed = format!("{params:?} {:?}", Credentials::from_ha1(ha1.clone()));
        assert!(!printed.contains(&ha1), "{printed}");
        assert!(printed.contains("shellyplus1-a8032ab12345"), "{printed}");
        assert!(printed.contains("Credentials { ha1: \"…\""), "{printed}");
    }

    /// SHA-256 of "abc", FIPS 180-2 appendix B.1.
    #[test]
    fn sha256_matches_the_fips_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// HA1 is the hash of the "admin:realm:password" string, built independently here.
    #[test]
    fn ha1_hashes_user_realm_and_password() {
        let realm = "shellyplus1-a8032ab12345";
        assert_eq!(
            ha1(realm, "secret"),
            sha256_hex(b"admin:shellyplus1-a8032ab12345:secret")
        );
        assert_ne!(ha1(realm, "secret"), ha1(realm, "Secret"));
    }

    /// The challenge format generated by mongoose-os-libs/rpc-common (`src/mgos_rpc.c`).
    #[test]
    fn parses_a_challenge_and_the_string_nc_variant() {
        let c = Challenge::parse(r#"{"auth_type":"digest","nonce":1700000000,"nc":1,"realm":"shellyplus1-a8032ab12345","algorithm":"SHA-256"}"#).unwrap();
        assert_eq!(c.nonce, Nonce::Num(1_700_000_000));
        assert_eq!(c.nc, Some(1));
        assert_eq!(c.realm, "shellyplus1-a8032ab12345");
        let c = Challenge::parse(
            r#"{"auth_type":"digest","nonce":"5","nc":"2","realm":"r","algorithm":"SHA-256"}"#,
        )
        .unwrap();
        assert_eq!((c.nonce, c.nc), (Nonce::Text("5".into()), Some(2)));
        assert!(matches!(
            Challenge::parse("not json"),
            Err(Error::BadChallenge { .. })
        ));
        assert!(matches!(
            Challenge::parse(r#"{"auth_type":"digest","nonce":1,"realm":"r","algorithm":"MD5"}"#),
            Err(Error::UnsupportedChallenge { .. })
        ));
        let without = Challenge::parse(r#"{"auth_type":"digest","nonce":"n","realm":"r"}"#);
        assert_eq!(without.map(|c| c.algorithm), Ok(ALGORITHM.to_owned()));
    }

    #[test]
    fn answer_verifies_and_wrong_password_does_not() {
        let realm = "dev-1";
        let challenge = Challenge::new(realm, 1_700_000_000);
        let good = ha1(realm, "pw");
        let auth = AuthParams::answer(&good, &challenge, 1, 42);
        // The response string is the documented concatenation, computed independently.
        let expected = sha256_hex(format!("{good}:1700000000:1:42:auth:{HA2}").as_bytes());
        assert_eq!(auth.nonce, Nonce::Num(1_700_000_000));
        assert_eq!(auth.response, expected);
        assert!(auth.verify(&good));
        assert!(!auth.verify(&ha1(realm, "other")));
        let mut tampered = auth.clone();
        tampered.nc = 2;
        assert!(!tampered.verify(&good));
    }

    /// The 401 message as firmware prints it (mongoose's printf-style JSON formatter, as a real BLU
    /// Gateway Gen3's dump in Luligu/matterbridge-shelly `src/mock/` shows): spaces after
    /// every `:` and `,`. It is read as JSON, not by position.
    #[test]
    fn challenges_are_printed_with_spaces_and_read_back() {
        let c = Challenge::new("shellyblugwg3-ccba970d5e01", 1_732_960_000);
        let message = c.to_message();
        assert_eq!(
            message,
            r#"{"auth_type": "digest", "nonce": 1732960000, "nc": 1, "realm": "shellyblugwg3-ccba970d5e01", "algorithm": "SHA-256"}"#
        );
        assert_eq!(Challenge::parse(&message), Ok(c));
    }

    /// Firmware 2.0: a base64 text nonce and no `nc` in the challenge (a real EM Mini Gen4's,
    /// 2.0.0-beta1, in Luligu/matterbridge-shelly `src/auth.ts`, nonce shortened); the first answer
    /// counts 1. Clients that send a text `cnonce` (aioshelly) are verified over its text.
    #[test]
    fn a_firmware_2_challenge_has_a_text_nonce_and_no_nc() {
        let message = r#"{"auth_type": "digest", "nonce": "AAAAAGoN/xP+1w==", "realm": "shellyemmini-0123", "algorithm": "SHA-256"}"#;
        let c = Challenge::parse(message).unwrap();
        assert_eq!(c.nc, None);
        assert_eq!(c.to_message(), message);
        let mut creds = Credentials::from_password(&c.realm, "pw");
        creds.accept_challenge(c.clone());
        assert_eq!(creds.next_auth(5).unwrap().nc, 1);
        let mut theirs = AuthParams::answer(creds.ha1(), &c, 1, 0);
        theirs.cnonce = Nonce::Text("q83vEjRWeJA=".into());
        assert!(
            !theirs.verify(creds.ha1()),
            "the response covers the cnonce"
        );
        theirs.response = sha256_hex(
            format!("{}:AAAAAGoN/xP+1w==:1:q83vEjRWeJA=:auth:{HA2}", creds.ha1()).as_bytes(),
        );
        assert!(theirs.verify(creds.ha1()));
        let json: AuthParams =
            serde_json::from_value(serde_json::to_value(&theirs).unwrap()).unwrap();
        assert_eq!(json, theirs, "the text cnonce survives a round trip");
    }

    /// The digest covers the nonce's text, so a nonce is answered exactly as the device sent it:
    /// a string stays a string, leading zeros and all, and one that is no number at all works.
    #[test]
    fn a_nonce_is_answered_as_the_device_sent_it() {
        for (sent, text) in [
            (r#""0042""#, "0042"),
            (r#""5f1c9a""#, "5f1c9a"),
            ("77", "77"),
        ] {
            let message = format!(
                r#"{{"auth_type":"digest","nonce":{sent},"nc":1,"realm":"r","algorithm":"SHA-256"}}"#
            );
            let mut creds = Credentials::from_password("r", "pw");
            creds.accept_challenge(Challenge::parse(&message).unwrap());
            let auth = creds.next_auth(9).unwrap();
            let json = serde_json::to_value(&auth).unwrap();
            assert_eq!(
                json["nonce"].to_string(),
                sent,
                "echoed in the same JSON form"
            );
            let expected =
                sha256_hex(format!("{}:{text}:1:9:auth:{HA2}", ha1("r", "pw")).as_bytes());
            assert_eq!(auth.response, expected, "{sent}");
            assert!(auth.verify(&ha1("r", "pw")));
        }
    }

    #[test]
    fn credentials_count_nonce_uses() {
        let mut creds = Credentials::from_password("r", "pw");
        assert_eq!(creds.ha1(), ha1("r", "pw"), "the HA1 a profile stores");
        assert_eq!(creds.next_auth(1), None);
        creds.accept_challenge(Challenge::new("r", 10));
        assert_eq!(creds.next_auth(1).unwrap().nc, 1);
        assert_eq!(creds.next_auth(2).unwrap().nc, 2);
        creds.accept_challenge(Challenge::new("r", 11));
        assert_eq!(creds.next_auth(3).unwrap().nc, 1);
    }

    /// `stale` is written only when set (RFC 7616 3.3: a missing `stale` means false), as serde
    /// JSON and as the firmware-style message, and read back either way.
    #[test]
    fn stale_is_written_only_when_set() {
        let fresh = Challenge::new("r", 5);
        let json = serde_json::to_string(&fresh).unwrap();
        assert!(!json.contains("stale"), "{json}");
        let stale = Challenge {
            stale: true,
            ..fresh
        };
        let json = serde_json::to_string(&stale).unwrap();
        assert!(json.contains(r#""stale":true"#), "{json}");
        assert_eq!(serde_json::from_str::<Challenge>(&json).unwrap(), stale);
        assert!(stale.to_message().ends_with(r#", "stale": true}"#));
        assert_eq!(Challenge::parse(&stale.to_message()), Ok(stale));
    }

    /// An `auth` object without `nc` counts as the first use of its nonce (firmware 2.0's
    /// challenges leave `nc` out), and the Wall Display's string `nc` reads as its number.
    #[test]
    fn an_answer_without_nc_counts_one() {
        let challenge = Challenge::new("r", 7);
        let good = ha1("r", "pw");
        let answer = AuthParams::answer(&good, &challenge, 1, 3);
        let mut json = serde_json::to_value(&answer).unwrap();
        json.as_object_mut().unwrap().remove("nc");
        let read: AuthParams = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(read.nc, 1);
        assert!(read.verify(&good));
        json["nc"] = "1".into();
        assert_eq!(serde_json::from_value::<AuthParams>(json).unwrap(), answer);
    }

    /// What a log shows for a challenge the client cannot use.
    #[test]
    fn errors_say_what_was_offered() {
        let bad = Challenge::parse("{\"auth_type\":").unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("401 message is not a digest challenge object (JSON column "),
            "{bad}"
        );
        let md5 =
            Challenge::parse(r#"{"auth_type":"digest","nonce":1,"realm":"r","algorithm":"MD5"}"#);
        assert_eq!(
            md5.unwrap_err().to_string(),
            r#"401 challenge offers "MD5", not digest SHA-256"#
        );
    }

    #[test]
    fn set_auth_params_carry_ha1_or_null() {
        let p = SetAuthParams::new("dev-1", Some("pw"));
        assert_eq!(p.user, "admin");
        assert_eq!(p.ha1.as_deref(), Some(ha1("dev-1", "pw").as_str()));
        let off = serde_json::to_string(&SetAuthParams::new("dev-1", None)).unwrap();
        assert_eq!(off, r#"{"user":"admin","realm":"dev-1","ha1":null}"#);
    }
}
