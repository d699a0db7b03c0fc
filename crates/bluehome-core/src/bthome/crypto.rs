//! AES-128-CCM as BTHome uses it: 4-byte MIC; v2 nonce `MAC ‖ D2 FC ‖ device-info ‖ counter` (13
//! bytes, no associated data); v1 nonce `MAC ‖ 1E 18 ‖ counter` (12 bytes, associated data `0x11`).
//! Sources: bthome.io `encryption.html`, bthome-ble `bthome_v1_encryption.py` / `parser.py`.

use aes::Aes128;
use ccm::aead::AeadInOut;
use ccm::consts::{U4, U12, U13};
use ccm::{Ccm, KeyInit};

use crate::advertisement::MacAddress;

type CcmV2 = Ccm<Aes128, U4, U13>;
type CcmV1 = Ccm<Aes128, U4, U12>;

/// The v1 associated data (a single `0x11`, inherited from Xiaomi's MiBeacon).
const V1_AAD: [u8; 1] = [0x11];

/// The 13-byte v2 nonce.
pub(crate) fn nonce_v2(mac: MacAddress, info: u8, counter: [u8; 4]) -> [u8; 13] {
    let [a, b, c, d, e, f] = mac.0;
    let [c0, c1, c2, c3] = counter;
    [a, b, c, d, e, f, 0xD2, 0xFC, info, c0, c1, c2, c3]
}

/// The 12-byte v1 nonce.
pub(crate) fn nonce_v1(mac: MacAddress, counter: [u8; 4]) -> [u8; 12] {
    let [a, b, c, d, e, f] = mac.0;
    let [c0, c1, c2, c3] = counter;
    [a, b, c, d, e, f, 0x1E, 0x18, c0, c1, c2, c3]
}

/// Decrypts `buffer` in place; `false` when the MIC does not verify (the buffer is then garbage).
pub(crate) fn decrypt_v2(
    key: &[u8; 16],
    nonce: &[u8; 13],
    buffer: &mut [u8],
    mic: [u8; 4],
) -> bool {
    let cipher = CcmV2::new(&(*key).into());
    cipher
        .decrypt_inout_detached(&(*nonce).into(), &[], buffer.into(), &mic.into())
        .is_ok()
}

/// Decrypts a v1 payload in place; `false` when the MIC does not verify.
pub(crate) fn decrypt_v1(
    key: &[u8; 16],
    nonce: &[u8; 12],
    buffer: &mut [u8],
    mic: [u8; 4],
) -> bool {
    let cipher = CcmV1::new(&(*key).into());
    cipher
        .decrypt_inout_detached(&(*nonce).into(), &V1_AAD, buffer.into(), &mic.into())
        .is_ok()
}

/// Encrypts `buffer` in place and returns the MIC (v2).
pub(crate) fn encrypt_v2(key: &[u8; 16], nonce: &[u8; 13], buffer: &mut [u8]) -> [u8; 4] {
    let cipher = CcmV2::new(&(*key).into());
    // CCM with a 13-byte nonce limits messages to 2^16 bytes; callers pass at most a few hundred.
    cipher
        .encrypt_inout_detached(&(*nonce).into(), &[], buffer.into())
        .map(Into::into)
        .unwrap_or([0; 4])
}

/// Encrypts `buffer` in place and returns the MIC (v1).
pub(crate) fn encrypt_v1(key: &[u8; 16], nonce: &[u8; 12], buffer: &mut [u8]) -> [u8; 4] {
    let cipher = CcmV1::new(&(*key).into());
    cipher
        .encrypt_inout_detached(&(*nonce).into(), &V1_AAD, buffer.into())
        .map(Into::into)
        .unwrap_or([0; 4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bthome::spec_example::{KEY, MAC};
    use crate::hex::fixture as hex;

    /// bthome.io encryption page worked example (bthome.io `encryption.html`): plaintext
    /// `02CA09 03BF13`, counter `33221100` → `41 e445f3c9962b 33221100 6c7c4519`.
    #[test]
    fn v2_matches_the_spec_worked_example() {
        let nonce = nonce_v2(MAC, 0x41, [0x33, 0x22, 0x11, 0x00]);
        assert_eq!(nonce.to_vec(), hex("5448e68f80a5d2fc4133221100"));
        let mut buf = hex("02ca0903bf13");
        let mic = encrypt_v2(KEY.as_bytes(), &nonce, &mut buf);
        assert_eq!(buf, hex("e445f3c9962b"));
        assert_eq!(mic.to_vec(), hex("6c7c4519"));
        assert!(decrypt_v2(KEY.as_bytes(), &nonce, &mut buf, mic));
        assert_eq!(buf, hex("02ca0903bf13"));
    }

    /// bthome-ble `test_parser_v1.py::test_bindkey_correct`: `fba435e4d3c312fb 00112233 57d90a99`.
    #[test]
    fn v1_matches_bthome_ble() {
        let nonce = nonce_v1(MAC, [0x00, 0x11, 0x22, 0x33]);
        let mut buf = hex("fba435e4d3c312fb");
        assert!(decrypt_v1(
            KEY.as_bytes(),
            &nonce,
            &mut buf,
            [0x57, 0xd9, 0x0a, 0x99]
        ));
        assert_eq!(buf, hex("2302ca090303bf13"));
    }

    #[test]
    fn a_flipped_mic_bit_fails() {
        let nonce = nonce_v2(MAC, 0x41, [0x33, 0x22, 0x11, 0x00]);
        let mut buf = hex("e445f3c9962b");
        assert!(!decrypt_v2(
            KEY.as_bytes(),
            &nonce,
            &mut buf,
            [0x6c, 0x7c, 0x45, 0x18]
        ));
    }
}
