//! Shelly model ids: the `0x0B` block of Shelly manufacturer data (and, for BLU devices, BTHome
//! object `0xF0`), with each model's code and product name. BLU devices have ids below `0x1000`;
//! Gen2 and later Wi-Fi devices have ids from `0x1000` up (aioshelly reads the same block to offer
//! Bluetooth provisioning).

/// A Shelly model: its id, model code and product name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// The model id.
    pub id: u16,
    /// The model code (`SBBT-002C`, `S3GW-1DBT001`); BLU devices also use it as their local name.
    pub code: &'static str,
    /// The product name.
    pub name: &'static str,
}

impl Model {
    /// Whether this is a Shelly BLU device (a battery sensor or button, not a Wi-Fi device).
    pub fn is_blu(&self) -> bool {
        self.id < 0x1000
    }
}

const fn m(id: u16, code: &'static str, name: &'static str) -> Model {
    Model { id, code, name }
}

/// Known models, by id. BLU devices: Shelly's BLU API documents, ShellyUSA/Hubitat-Drivers
/// `Scripts/HubitatBLEHelper.js`; `0x0004` is disputed between sources (one third-party table
/// says BLU Distance, which ShellyUSA lists as `0x000A`), so it is left out.
pub static MODELS: [Model; 105] = [
    m(0x0001, "SBBT-002C", "Shelly BLU Button1"),
    m(0x0002, "SBDW-002C", "Shelly BLU Door/Window"),
    m(0x0003, "SBHT-003C", "Shelly BLU H&T"),
    m(0x0005, "SBMO-003Z", "Shelly BLU Motion"),
    m(0x0006, "SBBT-004CEU", "Shelly BLU Wall Switch 4"),
    m(0x0007, "SBBT-004CUS", "Shelly BLU RC Button 4"),
    m(0x0008, "SBTR-001AEU", "Shelly BLU TRV"),
    m(0x0009, "SBRC-005B", "Shelly BLU Remote Control ZB"),
    m(0x000A, "SBDI-003E", "Shelly BLU Distance"),
    m(0x000B, "SBWS-90CM", "Shelly BLU Weather Station"),
    m(0x000C, "SBHT-103C", "Shelly BLU H&T Display ZB"),
    m(0x0011, "SBHT-203C", "Shelly BLU H&T ZB"),
    m(0x0013, "SBMO-103Z", "Shelly BLU Motion ZB"),
    m(0x0014, "SBDW-103C", "Shelly BLU Door/Window ZB"),
    m(0x0015, "SBBT-104CEU", "Shelly BLU Wall Switch 4 ZB"),
    m(0x0016, "SBBT-104CUS", "Shelly BLU RC Button 4 ZB"),
    m(0x0017, "SBBT-102C", "Shelly BLU Button Tough 1 ZB"),
    // Gen2+ Wi-Fi devices: aioshelly `aioshelly/const.py` (`DEVICES`, `model_id`).
    m(0x1000, "SNSW-001X16EU", "Shelly Plus 1"),
    m(0x1001, "SNSW-001P16EU", "Shelly Plus 1PM"),
    m(0x1002, "SNSW-002P16EU", "Shelly Plus 2PM"),
    m(0x1003, "SNDM-0013US", "Shelly Plus Wall Dimmer"),
    m(0x1005, "S3SW-002P16EU", "Shelly 2PM Gen3"),
    m(0x1007, "SNSN-0024X", "Shelly Plus I4"),
    m(0x1008, "SNSN-0D24X", "Shelly Plus I4DC"),
    m(0x1009, "SNDC-0D4P10WW", "Shelly Plus RGBW PM"),
    m(0x1010, "SNSW-001X8EU", "Shelly Plus 1 Mini"),
    m(0x1011, "SNSW-001P8EU", "Shelly Plus 1PM Mini"),
    m(0x1012, "SNSN-0043X", "Shelly Plus Uni"),
    m(0x1013, "S3SW-0A2X4EUL", "Shelly 2L Gen3"),
    m(0x1014, "S3SW-0A1X1EUL", "Shelly 1L Gen3"),
    m(0x1015, "S3SW-001X8EU", "Shelly 1 Mini Gen3"),
    m(0x1016, "S3SW-001P8EU", "Shelly 1PM Mini Gen3"),
    m(0x1018, "S3SW-001X16EU", "Shelly 1 Gen3"),
    m(0x1019, "S3SW-001P16EU", "Shelly 1PM Gen3"),
    m(0x1020, "SNPM-001PCEU16", "Shelly Plus PM Mini"),
    m(0x1023, "S3PM-001PCEU16", "Shelly PM Mini Gen3"),
    m(0x1024, "SPEM-003CEBEU", "Shelly Pro 3EM"),
    m(0x1025, "SPEM-003CEBEU63", "Shelly Pro 3EM 3CT63"),
    m(0x1026, "S3EM-003CXCEU63", "Shelly 3EM-63 Gen3"),
    m(0x1027, "S3EM-002CXCEU", "Shelly EM Gen3"),
    m(0x1028, "S4SW-001X16EU", "Shelly 1 Gen4"),
    m(0x1029, "S4SW-001P16EU", "Shelly 1PM Gen4"),
    m(0x1030, "S4SW-001X8EU", "Shelly 1 Mini Gen4"),
    m(0x1031, "S4SW-001P8EU", "Shelly 1PM Mini Gen4"),
    m(0x1032, "S4SW-002P16EU", "Shelly 2PM Gen4"),
    m(0x1033, "S4EM-001PXCEU16", "Shelly EM Mini Gen4"),
    m(0x1034, "S4SW-0A2X4EUL", "Shelly 2L Gen4"),
    m(0x1035, "S4SW-0A1X1EUL", "Shelly 1L Gen4"),
    m(0x1039, "S3SH-0A2P4EU", "Shelly Shutter"),
    m(0x103D, "S4EM-001CXCEU63", "Shelly EM-63 Gen4"),
    m(0x1070, "SNDM-00100WW", "Shelly Plus 0-10V Dimmer"),
    m(0x1071, "S3DM-0A1WW", "Shelly DALI Dimmer Gen3"),
    m(0x1072, "S3DM-0010WW", "Shelly Dimmer 0/1-10V PM Gen3"),
    m(0x1073, "S3DM-0A101WWL", "Shelly Dimmer Gen3"),
    m(0x1075, "S4DM-0A101WWL", "Shelly Dimmer Gen4"),
    m(0x1111, "S4PB-00CU000002", "Shelly Cury"),
    m(0x1800, "SNPL-00112EU", "Shelly Plus Plug S"),
    m(0x1801, "SNPL-00112UK", "Shelly Plus Plug UK"),
    m(0x1803, "SNPL-00110IT", "Shelly Plus Plug IT"),
    m(0x1804, "SNPL-00116US", "Shelly Plus Plug US"),
    m(0x1805, "S3PL-00112EU", "Shelly Plug S Gen3"),
    m(0x1806, "SNSN-0013A", "Shelly Plus H&T"),
    m(0x1807, "SNSN-0031Z", "Shelly Plus Smoke"),
    m(0x1808, "SNGW-BT01", "Shelly BLU Gateway"),
    m(0x1809, "S3SN-0U12A", "Shelly H&T Gen3"),
    m(0x1812, "S3SN-0024X", "Shelly I4 Gen3"),
    m(0x1814, "S3BL-D010009AEU", "Shelly Duo Bulb Gen3"),
    m(0x1815, "S3BL-C010007AEU", "Shelly Multicolor Bulb Gen3"),
    m(0x1816, "S3SN-1U12A", "Shelly AZ H&T"),
    m(0x1817, "S3GW-1DBT001", "Shelly BLU Gateway Gen3"),
    m(0x1819, "S4SN-0A24X", "Shelly I4 Gen4"),
    m(0x1821, "S4SN-0U61X", "Shelly Presence Gen4"),
    m(0x1822, "S4SN-0071A", "Shelly Flood Gen4"),
    m(0x1826, "S4SN-0071Z", "Shelly Flood S Gen4"),
    m(0x1829, "S3SN-0U53X", "Shelly Pill"),
    m(0x1850, "S3PL-10112EU", "Shelly AZ Plug"),
    m(0x1851, "S4PL-00416EU", "Shelly Power Strip 4 Gen4"),
    m(0x1852, "S4PL-00116US", "Shelly Plug US Gen4"),
    m(0x1853, "S3PL-20112EU", "Shelly Outdoor Plug S Gen3"),
    m(0x1854, "S3PL-30116EU", "Shelly Plug PM Gen3"),
    m(0x1862, "S4PL-00415US", "Shelly Power Strip 4 US Gen4"),
    m(0x1865, "S3PL-30110EU", "Shelly Plug M Gen3"),
    m(0x2000, "SPSW-001XE16EU", "Shelly Pro 1"),
    m(0x2001, "SPSW-001PE16EU", "Shelly Pro 1PM"),
    m(0x2002, "SPSW-002XE16EU", "Shelly Pro 2"),
    m(0x2003, "SPSW-002PE16EU", "Shelly Pro 2PM"),
    m(0x2004, "SPSW-003XE16EU", "Shelly Pro 3"),
    m(0x2005, "SPSW-004PE16EU", "Shelly Pro 4PM"),
    m(0x2006, "SPEM-002CEBEU50", "Shelly Pro EM"),
    m(0x200C, "SPSH-002PE16EU", "Shelly Pro Dual Cover PM"),
    m(0x200D, "SPDM-001PE01EU", "Shelly Pro Dimmer 1PM"),
    m(0x200E, "SPDM-002PE01EU", "Shelly Pro Dimmer 2PM"),
    m(0x200F, "SPEM-003CEBEU400", "Shelly Pro 3EM-400"),
    m(0x2011, "SPCC-001PE10EU", "Shelly Pro Dimmer 0/1-10V PM"),
    m(0x2012, "SPDC-0D5PE16EU", "Shelly Pro RGBWW PM"),
    m(0x2013, "SPCB-01VENEU", "Shelly Pro 1CB"),
    m(0x2014, "SPCB-02VENEU", "Shelly Pro 2CB"),
    m(0x2015, "SPCB-03VENEU", "Shelly Pro 3CB"),
    m(0x2016, "SPCB-04VENEU", "Shelly Pro 4CB"),
    m(0x3002, "SAWD-2A1XX10EU1", "Shelly Wall Display X2"),
    m(0x3003, "SAWD-3A1XE10EU2", "Shelly Wall Display XL"),
    m(0x3005, "SAWD-5A1XX10EU0", "Shelly Wall Display X2i"),
    m(0x3006, "SAWD-6A1XX10EU0", "Shelly Wall Display X1i"),
    m(0x4000, "S3MX-0A", "Shelly X MOD1"),
    m(0x5000, "S1CM-0DXW00", "Shelly Camera"),
];

/// The model with this id, if known.
pub fn model(id: u16) -> Option<&'static Model> {
    MODELS
        .binary_search_by_key(&id, |m| m.id)
        .ok()
        .and_then(|at| MODELS.get(at))
}

/// The model with this code (`SBMO-103Z`, also a BLU device's local name), case-insensitive.
pub fn model_by_code(code: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`model`] searches by id: the ids must be sorted and unique.
    #[test]
    fn ids_are_sorted_and_unique() {
        assert!(MODELS.windows(2).all(|w| w[0].id < w[1].id));
    }

    /// Every BLU model's code is an `SB…` code, and no Wi-Fi device's is.
    #[test]
    fn blu_models_are_the_sb_codes() {
        for m in &MODELS {
            assert_eq!(m.is_blu(), m.code.starts_with("SB"), "{m:?}");
        }
    }

    #[test]
    fn models_are_found_by_id_and_code() {
        assert_eq!(model(0x0003).map(|m| m.code), Some("SBHT-003C"));
        // The BLU Gateway Gen3 advertises its MAC as its name; its model says what it is.
        let gateway = model(0x1817).unwrap();
        assert_eq!(
            (gateway.code, gateway.name),
            ("S3GW-1DBT001", "Shelly BLU Gateway Gen3")
        );
        assert!(!gateway.is_blu());
        assert_eq!(model(0x0004), None);
        assert_eq!(model(0xFFFF), None);
        assert_eq!(model_by_code("sbmo-103z").map(|m| m.id), Some(0x0013));
    }
}
