//! What a Wi-Fi network's name and password can be, checked before either is sent to a device.
//!
//! A device given a password its network cannot take does not say so: it tries to join for a
//! minute and reports only "disconnected". The rules here are the standard's, so that a typo
//! is refused at once, with what a password of that kind looks like:
//! - an SSID is 1 to 32 bytes (IEEE 802.11-2020 §9.4.2.2, the SSID element; an empty one is the
//!   wildcard a station scans with, not a network);
//! - a WPA/WPA2-Personal password is a passphrase of 8 to 63 characters, or the pre-shared key
//!   itself as 64 hex digits (IEEE 802.11-2020 Annex J.4.1);
//! - a WEP key is 5 or 13 characters, or 10 or 26 hex digits (40- and 104-bit keys);
//! - whatever the security, a station takes at most 64 bytes, and 64 only as hex digits (ESP-IDF's
//!   `wifi_sta_config_t.password[64]`, `esp_wifi_types.h`, which Shelly's and ESPHome's firmware
//!   build on).
//!
//! Lengths are counted in bytes, as a station sends them; a passphrase in other than ASCII is
//! not refused for that (access points differ).

use core::fmt;

/// The most bytes an SSID has (IEEE 802.11-2020 §9.4.2.2).
pub const MAX_SSID_BYTES: usize = 32;

/// The most bytes of password a station takes (ESP-IDF `wifi_sta_config_t`); 64 only as hex
/// digits, the pre-shared key itself.
pub const MAX_PASSWORD_BYTES: usize = 64;

/// A network's security as far as a device's scan tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Open: joined without a password.
    Open,
    /// WEP.
    Wep,
    /// WPA- or WPA2-Personal (a pre-shared key), WPA2/WPA3 transition mode included.
    Personal,
    /// Secured in another way (WPA3-only, Enterprise, WAPI, or "a password is needed"): a
    /// password is needed, its form is not checked here.
    OtherSecured,
    /// Not in the scan (a hidden network, or no scan yet) or listed without its security.
    Unknown,
}

/// A WEP key in words.
const WEP_RULE: &str = "5 or 13 characters, or 10 or 26 hex digits";
/// A WPA/WPA2-Personal password in words.
const PERSONAL_RULE: &str = "8 to 63 characters, or the key as 64 hex digits";

impl Security {
    /// What a password for this security is, in words, where the standard fixes its form
    /// (`"8 to 63 characters, or the key as 64 hex digits"`).
    pub fn password_rule(self) -> Option<&'static str> {
        match self {
            Self::Wep => Some(WEP_RULE),
            Self::Personal => Some(PERSONAL_RULE),
            Self::Open | Self::OtherSecured | Self::Unknown => None,
        }
    }
}

/// Why a network name or password cannot be what a device is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsError {
    /// The SSID is empty or longer than [`MAX_SSID_BYTES`].
    SsidLength {
        /// Its length in bytes.
        bytes: usize,
    },
    /// A secured network and no password.
    PasswordMissing,
    /// An open network and a password.
    PasswordForOpenNetwork,
    /// A WPA/WPA2-Personal password that is neither 8 to 63 bytes nor 64 hex digits.
    PersonalPassword {
        /// Its length in bytes.
        bytes: usize,
    },
    /// A WEP key that is neither 5 or 13 bytes nor 10 or 26 hex digits.
    WepKey {
        /// Its length in bytes.
        bytes: usize,
    },
    /// Longer than a station takes, or 64 bytes that are not all hex digits.
    PasswordTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::SsidLength { bytes: 0 } => f.write_str("the network name is empty"),
            Self::SsidLength { bytes } => write!(
                f,
                "a network name has at most {MAX_SSID_BYTES} bytes; this one has {bytes}"
            ),
            Self::PasswordMissing => f.write_str("the network is secured: it needs a password"),
            Self::PasswordForOpenNetwork => {
                f.write_str("the network is open: leave the password empty")
            }
            Self::PersonalPassword { bytes } => write!(
                f,
                "a WPA/WPA2 password is {PERSONAL_RULE}; this one has {bytes}"
            ),
            Self::WepKey { bytes } => {
                write!(f, "a WEP key is {WEP_RULE}; this one has {bytes}")
            }
            Self::PasswordTooLong { bytes } => write!(
                f,
                "a device takes at most {MAX_PASSWORD_BYTES} characters of password, and \
                 {MAX_PASSWORD_BYTES} only as hex digits; this one has {bytes}"
            ),
        }
    }
}

impl core::error::Error for CredentialsError {}

/// Checks a network name: 1 to [`MAX_SSID_BYTES`] bytes.
pub fn check_ssid(ssid: &[u8]) -> Result<(), CredentialsError> {
    if ssid.is_empty() || ssid.len() > MAX_SSID_BYTES {
        return Err(CredentialsError::SsidLength { bytes: ssid.len() });
    }
    Ok(())
}

/// Checks a password for a network of `security` (empty: none).
pub fn check_password(password: &[u8], security: Security) -> Result<(), CredentialsError> {
    let bytes = password.len();
    let hex = password.iter().all(u8::is_ascii_hexdigit);
    if bytes > MAX_PASSWORD_BYTES || (bytes == MAX_PASSWORD_BYTES && !hex) {
        return Err(CredentialsError::PasswordTooLong { bytes });
    }
    match security {
        Security::Open if bytes > 0 => Err(CredentialsError::PasswordForOpenNetwork),
        Security::Wep | Security::Personal | Security::OtherSecured if bytes == 0 => {
            Err(CredentialsError::PasswordMissing)
        }
        Security::Wep if !matches!((bytes, hex), (5 | 13, _) | (10 | 26, true)) => {
            Err(CredentialsError::WepKey { bytes })
        }
        Security::Personal if !(8..=63).contains(&bytes) && bytes != MAX_PASSWORD_BYTES => {
            Err(CredentialsError::PersonalPassword { bytes })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn an_ssid_is_one_to_32_bytes() {
        assert_eq!(check_ssid(b"HomeNet"), Ok(()));
        assert_eq!(check_ssid(&[b'a'; 32]), Ok(()));
        assert_eq!(
            check_ssid(&[b'a'; 33]),
            Err(CredentialsError::SsidLength { bytes: 33 })
        );
        assert_eq!(
            check_ssid(b"").unwrap_err().to_string(),
            "the network name is empty"
        );
    }

    #[test]
    fn a_personal_password_is_a_passphrase_of_8_to_63_or_the_key_in_hex() {
        for good in [
            &b"12345678"[..],
            &[b'x'; 63],
            &[b'a'; 64],
            "Grüße-aus-Köln".as_bytes(),
        ] {
            assert_eq!(check_password(good, Security::Personal), Ok(()), "{good:?}");
        }
        assert_eq!(
            check_password(b"1234567", Security::Personal),
            Err(CredentialsError::PersonalPassword { bytes: 7 })
        );
        // 64 characters are the key itself, so hex digits only.
        assert_eq!(
            check_password(&[b'x'; 64], Security::Personal),
            Err(CredentialsError::PasswordTooLong { bytes: 64 })
        );
        assert_eq!(
            check_password(&[b'a'; 65], Security::Personal),
            Err(CredentialsError::PasswordTooLong { bytes: 65 })
        );
        assert_eq!(
            check_password(b"", Security::Personal),
            Err(CredentialsError::PasswordMissing)
        );
        assert_eq!(
            CredentialsError::PersonalPassword { bytes: 7 }.to_string(),
            "a WPA/WPA2 password is 8 to 63 characters, or the key as 64 hex digits; \
             this one has 7"
        );
        assert_eq!(
            Security::Personal.password_rule(),
            Some("8 to 63 characters, or the key as 64 hex digits")
        );
        assert_eq!(Security::OtherSecured.password_rule(), None);
    }

    #[test]
    fn a_wep_key_is_40_or_104_bits() {
        for good in [&b"abcde"[..], b"abcdefghijklm", b"0123456789", &[b'f'; 26]] {
            assert_eq!(check_password(good, Security::Wep), Ok(()), "{good:?}");
        }
        for (bad, bytes) in [(&b"abcdef"[..], 6), (b"abcdefghij", 10), (b"12345678", 8)] {
            assert_eq!(
                check_password(bad, Security::Wep),
                Err(CredentialsError::WepKey { bytes }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn open_other_and_unknown_networks() {
        assert_eq!(check_password(b"", Security::Open), Ok(()));
        assert_eq!(
            check_password(b"secret12", Security::Open),
            Err(CredentialsError::PasswordForOpenNetwork)
        );
        // WPA3-only (SAE) and Enterprise passwords have no fixed length.
        assert_eq!(check_password(b"short", Security::OtherSecured), Ok(()));
        assert_eq!(
            check_password(b"", Security::OtherSecured),
            Err(CredentialsError::PasswordMissing)
        );
        // A hidden network may be any of them: only what no station takes is refused.
        for fine in [&b""[..], b"abc", &[b'0'; 64]] {
            assert_eq!(check_password(fine, Security::Unknown), Ok(()));
        }
        assert_eq!(
            check_password(&[b'z'; 64], Security::Unknown),
            Err(CredentialsError::PasswordTooLong { bytes: 64 })
        );
    }
}
