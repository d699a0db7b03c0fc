//! The normalized advertisement.
//!
//! Every source of advertisements — raw AD bytes from a capture, the maps a Web Bluetooth
//! `advertisementreceived` event carries, a Shelly gateway's relayed service data, the simulator —
//! becomes one [`Advertisement`]. Everything downstream (BTHome and Shelly decoding, filters, the
//! manager) reads only this type.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;
use litemap::LiteMap;

use crate::uuid::Uuid;

/// A Bluetooth device address, most significant byte first (as an OS prints it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddress(pub [u8; 6]);

/// Why a MAC address string did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MacAddressError {
    /// The text is not six colon-separated pairs of hex digits (`AA:BB:CC:DD:EE:FF`).
    BadFormat,
}

impl fmt::Display for MacAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a MAC address is six pairs of hex digits separated by colons, like AA:BB:CC:DD:EE:FF",
        )
    }
}

impl core::error::Error for MacAddressError {}

impl FromStr for MacAddress {
    type Err = MacAddressError;

    /// Parses `AA:BB:CC:DD:EE:FF` (any case; `-` accepted as the separator too).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        if bytes.len() != 17 {
            return Err(MacAddressError::BadFormat);
        }
        let mut out = [0u8; 6];
        for (i, slot) in out.iter_mut().enumerate() {
            let at = i * 3;
            let pair = text.get(at..at + 2).ok_or(MacAddressError::BadFormat)?;
            if !pair.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(MacAddressError::BadFormat);
            }
            *slot = u8::from_str_radix(pair, 16).map_err(|_| MacAddressError::BadFormat)?;
            if i < 5 && !matches!(bytes.get(at + 2), Some(b':' | b'-')) {
                return Err(MacAddressError::BadFormat);
            }
        }
        Ok(Self(out))
    }
}

impl MacAddress {
    /// Lower case, colon-separated (`3c:2e:f5:71:d5:2a`): how Shelly firmware writes addresses in
    /// its RPC (`config.addr` of `BTHome.AddDevice` in the Shelly API docs, `BTHome` component
    /// page; the paired devices and discovery events), and so the form the app sends it.
    pub fn to_shelly_rpc(&self) -> String {
        let mut text = alloc::format!("{self}");
        text.make_ascii_lowercase();
        text
    }
}

impl fmt::Display for MacAddress {
    /// Upper-case, colon-separated, most significant byte first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

/// Whether a packet was connectable advertising (or a scanner can connect to what it hears).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectable {
    /// Connectable.
    Yes,
    /// Not connectable (a beacon, or a remote scanner that only listens).
    No,
}

impl Connectable {
    /// `true` for [`Connectable::Yes`].
    pub const fn is_yes(self) -> bool {
        matches!(self, Self::Yes)
    }
}

impl From<bool> for Connectable {
    fn from(connectable: bool) -> Self {
        if connectable { Self::Yes } else { Self::No }
    }
}

/// Why text is not a Bluetooth company identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompanyIdError {
    /// Not a number in the notation asked for.
    NotANumber,
    /// A number above 65535 (`0xFFFF`).
    OutOfRange,
}

impl fmt::Display for CompanyIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotANumber => f.write_str("not a company id"),
            Self::OutOfRange => f.write_str("a company id is at most 65535 (0xFFFF)"),
        }
    }
}

impl core::error::Error for CompanyIdError {}

/// Parses a company identifier (Bluetooth Assigned Numbers, "Company Identifiers") as people write
/// it: decimal (`2985`) or hex after `0x` (`0x0BA9`).
pub fn parse_company_id(text: &str) -> Result<u16, CompanyIdError> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(digits) => company_id_digits(digits, 16),
        None => parse_company_id_decimal(text),
    }
}

/// Parses a company identifier in decimal digits only, the notation of the JSON formats (capture
/// lines, `bluehome decode` input) where it is an object key.
pub fn parse_company_id_decimal(text: &str) -> Result<u16, CompanyIdError> {
    company_id_digits(text, 10)
}

fn company_id_digits(digits: &str, radix: u32) -> Result<u16, CompanyIdError> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(CompanyIdError::NotANumber);
    }
    u16::from_str_radix(digits, radix).map_err(|_| CompanyIdError::OutOfRange)
}

/// One received advertisement, normalized.
///
/// Manufacturer data values exclude the two company-id bytes, as Web Bluetooth and Home Assistant
/// hand them over. Service data values exclude the UUID. Both are maps sorted by key, kept as sorted
/// vectors: a packet carries one or two of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertisement {
    /// The device address when the source knows it (browsers hide it).
    pub address: Option<MacAddress>,
    /// The local name (complete, or shortened when that is all there is).
    pub name: Option<String>,
    /// Received signal strength in dBm.
    pub rssi: Option<i8>,
    /// Advertised transmit power in dBm.
    pub tx_power: Option<i8>,
    /// Manufacturer-specific data by company id.
    pub manufacturer_data: LiteMap<u16, Vec<u8>>,
    /// Service data by service UUID.
    pub service_data: LiteMap<Uuid, Vec<u8>>,
    /// Advertised service UUIDs, in the order first seen, without repeats.
    pub service_uuids: Vec<Uuid>,
}

impl Advertisement {
    /// An advertisement with BTHome v2 service data and nothing else yet (the name, signal and
    /// the rest are the caller's to add).
    pub fn bthome(service_data: Vec<u8>) -> Self {
        let mut adv = Self::default();
        adv.service_data.insert(Uuid::BTHOME_V2, service_data);
        adv
    }

    /// Adds a service UUID unless it is already listed.
    pub fn add_service_uuid(&mut self, uuid: Uuid) {
        if !self.service_uuids.contains(&uuid) {
            self.service_uuids.push(uuid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_address_round_trips_through_text() {
        let mac: MacAddress = "a4:c1:38:8d:18:b2".parse().unwrap();
        assert_eq!(mac.0, [0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]);
        assert_eq!(mac.to_string(), "A4:C1:38:8D:18:B2");
        assert_eq!(mac.to_shelly_rpc(), "a4:c1:38:8d:18:b2");
        assert_eq!("A4-C1-38-8D-18-B2".parse(), Ok(mac));
    }

    #[test]
    fn mac_address_rejects_malformed_text() {
        for bad in [
            "",
            "A4:C1:38:8D:18",
            "A4:C1:38:8D:18:B2:00",
            "A4.C1.38.8D.18.B2",
            "G4:C1:38:8D:18:B2",
            "+4:C1:38:8D:18:B2",
        ] {
            assert_eq!(
                bad.parse::<MacAddress>(),
                Err(MacAddressError::BadFormat),
                "{bad}"
            );
        }
        assert_eq!(
            MacAddressError::BadFormat.to_string(),
            "a MAC address is six pairs of hex digits separated by colons, like AA:BB:CC:DD:EE:FF"
        );
    }

    #[test]
    fn company_ids_read_in_decimal_or_0x_hex() {
        assert_eq!(parse_company_id("2985"), Ok(0x0BA9));
        assert_eq!(parse_company_id("0x0BA9"), Ok(0x0BA9));
        assert_eq!(parse_company_id("0X0ba9"), Ok(0x0BA9));
        assert_eq!(parse_company_id("65535"), Ok(0xFFFF));
        assert_eq!(parse_company_id("65536"), Err(CompanyIdError::OutOfRange));
        assert_eq!(parse_company_id("0x10000"), Err(CompanyIdError::OutOfRange));
        for bad in ["", "0x", "+5", "-1", " 5", "0b1", "x12", "12a"] {
            assert_eq!(
                parse_company_id(bad),
                Err(CompanyIdError::NotANumber),
                "{bad:?}"
            );
        }
        assert_eq!(parse_company_id_decimal("2985"), Ok(2985));
        assert_eq!(
            parse_company_id_decimal("0x0BA9"),
            Err(CompanyIdError::NotANumber)
        );
        assert_eq!(CompanyIdError::NotANumber.to_string(), "not a company id");
        assert_eq!(
            CompanyIdError::OutOfRange.to_string(),
            "a company id is at most 65535 (0xFFFF)"
        );
    }

    #[test]
    fn service_uuids_are_kept_once() {
        let mut adv = Advertisement::default();
        adv.add_service_uuid(Uuid::BTHOME_V2);
        adv.add_service_uuid(Uuid::BTHOME_V2);
        assert_eq!(adv.service_uuids, [Uuid::BTHOME_V2]);
    }
}
