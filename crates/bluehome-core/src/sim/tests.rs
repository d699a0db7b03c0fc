//! Every method against the simulator, through the real client and the GATT transport.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use serde_json::json;

use super::*;
use crate::shelly::auth::{Credentials, SetAuthParams};
use crate::shelly::frame::Notification;
use crate::shelly::methods::events::Event;
use crate::shelly::methods::{
    Error as MethodError, ErrorCode, Method, Paged, Pager, ble, bthome, shelly, wifi,
};
use crate::shelly::rpc::client::{self, Call, Client};
use crate::shelly::rpc::{AttError, Characteristic};

struct Bench {
    p: Peripheral,
    now: u64,
    client: Client,
    ops: usize,
}

fn fleet() -> Vec<SimSensor> {
    SensorSpec::parse_list("button,ht,dw+enc,motion,rc4,thermo,ht")
        .unwrap()
        .into_iter()
        .map(SimSensor::new)
        .collect()
}

impl Bench {
    fn with(options: GatewayOptions, faults: Faults) -> Self {
        let mut p = Peripheral::new(Gateway::new(options, fleet()), 247, faults);
        p.connect("11:22:33:44:55:66", 0);
        Self {
            p,
            now: 0,
            client: Client::new("bluehome-test", 100),
            ops: 0,
        }
    }

    fn new() -> Self {
        Self::with(GatewayOptions::default(), Faults::default())
    }

    /// A gateway with `change` made to the default options, no faults.
    fn configured(change: impl FnOnce(&mut GatewayOptions)) -> Self {
        let mut options = GatewayOptions::default();
        change(&mut options);
        Self::with(options, Faults::default())
    }

    /// A gateway that reports its provisioning state in `BLE.GetStatus`.
    fn reporting_provisioning() -> Self {
        Self::configured(|o| o.report_provisioning = true)
    }

    fn drive(&mut self, call: &mut Call) {
        let ops = self.p.run_call(call, &mut self.now, 1, 1_000_000);
        self.ops += ops.expect("call did not finish");
    }

    fn call<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, MethodError> {
        let mut call = self.client.call_method::<M>(params, 4242, self.now);
        self.drive(&mut call);
        self.client.finish_method::<M>(call)
    }

    fn ok<M: Method>(&mut self, params: &M::Params) -> M::Result {
        match self.call::<M>(params) {
            Ok(r) => r,
            Err(e) => panic!("{} failed: {e}", M::NAME),
        }
    }

    /// The result as JSON, for tests that look at members the typed result keeps as JSON.
    fn json<M: Method>(&mut self, params: &M::Params) -> serde_json::Value {
        serde_json::to_value(self.ok::<M>(params)).unwrap()
    }

    fn rpc_code<M: Method>(&mut self, params: &M::Params) -> ErrorCode
    where
        M::Result: core::fmt::Debug,
    {
        match self.call::<M>(params) {
            Err(MethodError::Rpc { code, .. }) => code,
            other => panic!("{} should fail with an RPC error: {other:?}", M::NAME),
        }
    }

    /// The outcome exactly as the simulator sent it.
    fn raw(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, crate::shelly::frame::RpcError> {
        let mut call = self.client.call(method, Some(params), 7, self.now);
        self.drive(&mut call);
        self.client.finish(call).unwrap().outcome
    }

    fn all_pages<M: Paged>(&mut self, params: M::Params) -> Vec<M::Item> {
        let mut pager = Pager::<M>::new(params, 100);
        while let Some(p) = pager.next_params() {
            let result = self.ok::<M>(&p);
            pager.add(result).unwrap();
        }
        pager.into_items()
    }

    fn listen(&mut self) -> Vec<Notification> {
        let mut call = self.client.listen(self.now);
        self.drive(&mut call);
        self.client.finish_listen(call).unwrap();
        self.client.take_notifications()
    }

    fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// Adds the BTHome device at `addr` (no name, no key); its component id.
    fn add_device(&mut self, addr: &str) -> u16 {
        self.ok::<bthome::AddDevice>(&bthome::AddDeviceParams {
            config: bthome::DeviceConfig {
                addr: Some(addr.into()),
                ..Default::default()
            },
            id: None,
        })
        .id()
        .unwrap()
    }
}

fn events(notifications: &[Notification]) -> Vec<Event> {
    notifications
        .iter()
        .flat_map(Event::from_notification)
        .collect()
}

#[test]
fn device_info_names_the_gateway() {
    let mut b = Bench::new();
    let info = b.ok::<shelly::GetDeviceInfo>(&Default::default());
    assert_eq!(info.id, "shellyblugwg3-ccba970d5e01");
    assert_eq!(info.realm(), info.id);
    assert_eq!(info.r#gen, 3);
    assert_eq!(info.mac, "CCBA970D5E01");
    assert!(!info.auth_en);
    // Where real firmware (1.7, 2.0) reports the provisioning state.
    assert_eq!(info.provision.as_deref(), Some("pending"));
    assert_eq!(info.provisioning(), Some(ble::Provisioning::Pending));
}

#[test]
fn status_and_config_list_every_component() {
    let mut b = Bench::new();
    let status = b.json::<shelly::GetStatus>(&());
    for key in ["ble", "bthome", "wifi", "sys"] {
        assert!(status.get(key).is_some(), "{key} missing from {status}");
    }
    // Firmware documents no provisioning member; the simulator adds one only when asked.
    assert_eq!(status["ble"].get("provisioning"), None);
    assert_eq!(
        Bench::reporting_provisioning().json::<shelly::GetStatus>(&())["ble"]["provisioning"],
        "pending"
    );
    let config = b.json::<shelly::GetConfig>(&());
    assert_eq!(config["ble"]["rpc"]["enable"], true);
    assert_eq!(config["wifi"]["ap"]["enable"], true);
}

#[test]
fn wifi_scan_join_and_ip() {
    let mut b = Bench::reporting_provisioning();
    let scan = b.ok::<wifi::Scan>(&());
    assert_eq!(scan.results.len(), 3);
    assert_eq!(scan.results[0].ssid.as_deref(), Some("HomeNet"));
    let r = b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    assert!(!r.restart_required);
    let s = b.ok::<wifi::GetStatus>(&());
    assert_eq!(
        (s.status.as_str(), s.sta_ip.as_deref()),
        ("connecting", None)
    );
    assert_eq!(
        b.ok::<ble::GetStatus>(&()).provisioning,
        Some(ble::Provisioning::Confirmed)
    );
    b.advance(3_000);
    let s = b.ok::<wifi::GetStatus>(&());
    assert_eq!(s.status, "got ip");
    assert_eq!(s.sta_ip.as_deref(), Some("192.168.1.42"));
    assert_eq!(s.ssid.as_deref(), Some("HomeNet"));
    let status = b.json::<shelly::GetStatus>(&());
    assert_eq!(status["wifi"]["sta_ip"], "192.168.1.42");
    // The connection result also went out as a status notification.
    assert!(
        b.listen()
            .iter()
            .any(|n| n.method == Notification::STATUS && n.params.get("wifi").is_some())
    );
    // Turning the access point off is kept.
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::access_point(false));
    assert_eq!(
        b.json::<shelly::GetConfig>(&())["wifi"]["ap"]["enable"],
        false
    );
}

/// Real stations retry: `WiFi.GetStatus` falls back to `disconnected` between attempts before
/// `got ip` (an ESP32 station backs off between attempts); `wifi_steady` keeps the old steady
/// `connecting`.
#[test]
fn wifi_status_swings_while_the_station_retries() {
    let mut seen = Vec::new();
    let mut b = Bench::new();
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    let start = b.now;
    while b.now < start + 3_500 {
        let s = b.ok::<wifi::GetStatus>(&());
        if seen.last() != Some(&s.status) {
            seen.push(s.status.clone());
        }
        b.advance(250);
    }
    assert_eq!(
        seen,
        [
            "connecting",
            "disconnected",
            "connecting",
            "connected",
            "got ip"
        ],
        "{seen:?}"
    );
    let steady = GatewayOptions {
        wifi_steady: true,
        ..GatewayOptions::default()
    };
    let mut b = Bench::with(steady, Faults::default());
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    b.advance(1_500);
    assert_eq!(b.ok::<wifi::GetStatus>(&()).status, "connecting");
}

/// The station is `connected` (associated, no address) before `got ip`, `sta_ip` null until then
/// (shelly-api-docs WiFi).
#[test]
fn wifi_is_connected_without_an_ip_before_got_ip() {
    let mut b = Bench::new();
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    b.advance(2_500);
    let s = b.raw("WiFi.GetStatus", json!({})).unwrap();
    assert_eq!(s["status"], "connected");
    assert_eq!(s["sta_ip"], serde_json::Value::Null);
    b.advance(500);
    let s = b.raw("WiFi.GetStatus", json!({})).unwrap();
    assert_eq!(
        (&s["status"], &s["sta_ip"]),
        (&json!("got ip"), &json!("192.168.1.42"))
    );
    // A wrong password never gets that far.
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join("HomeNet", Some("wrong")));
    let mut seen = Vec::new();
    for _ in 0..20 {
        seen.push(b.ok::<wifi::GetStatus>(&()).status);
        b.advance(250);
    }
    assert!(!seen.iter().any(|s| s == "connected"), "{seen:?}");
}

/// With `wifi_restart_required`, `WiFi.SetConfig` answers `restart_required: true`; the station
/// joins only after `Shelly.Reboot`, which drops the link.
#[test]
fn restart_required_settings_apply_after_a_reboot() {
    let mut b = Bench::configured(|o| o.wifi_restart_required = true);
    let r = b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    assert!(r.restart_required);
    b.advance(5_000);
    assert_eq!(b.ok::<wifi::GetStatus>(&()).status, "disconnected");
    b.ok::<shelly::Reboot>(&shelly::RebootParams {
        delay_ms: Some(1_000),
    });
    b.advance(1_000);
    assert!(
        matches!(
            b.call::<wifi::GetStatus>(&()),
            Err(MethodError::Transport(client::Error::Gatt {
                error: AttError::Disconnected,
                ..
            }))
        ),
        "the reboot dropped the link"
    );
    b.p.connect("11:22:33:44:55:66", b.now);
    b.advance(3_000);
    let s = b.ok::<wifi::GetStatus>(&());
    assert_eq!(
        (s.status.as_str(), s.sta_ip.as_deref()),
        ("got ip", Some("192.168.1.42"))
    );
}

/// With `wifi_restart_required`, the access point's switch waits for the restart too.
#[test]
fn an_access_point_switch_that_needs_a_restart_applies_after_it() {
    let mut b = Bench::configured(|o| o.wifi_restart_required = true);
    let ap_enabled =
        |b: &mut Bench| b.json::<shelly::GetConfig>(&())["wifi"]["ap"]["enable"].clone();
    let r = b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::access_point(false));
    assert!(r.restart_required);
    assert_eq!(ap_enabled(&mut b), true, "applied before the restart");
    b.ok::<shelly::Reboot>(&shelly::RebootParams {
        delay_ms: Some(1_000),
    });
    b.advance(1_000);
    b.p.connect("11:22:33:44:55:66", b.now);
    assert_eq!(ap_enabled(&mut b), false);
}

#[test]
fn wrong_wifi_password_never_gets_an_ip() {
    let mut b = Bench::new();
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join("HomeNet", Some("wrong")));
    b.advance(10_000);
    let s = b.ok::<wifi::GetStatus>(&());
    assert_eq!((s.status.as_str(), s.sta_ip), ("disconnected", None));
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join("Guest", None));
    b.advance(3_000);
    assert_eq!(b.ok::<wifi::GetStatus>(&()).status, "got ip");
}

#[test]
fn provisioning_completes_after_wifi_and_then_pairing_is_required() {
    let mut b = Bench::reporting_provisioning();
    // Bond this client during the set-up window.
    b.p.pair(None, b.now).unwrap();
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    b.advance(5_000);
    b.ok::<wifi::GetStatus>(&());
    b.p.disconnect(b.now);
    assert_eq!(b.p.gateway().provisioning(), ble::Provisioning::Complete);
    // A stranger is refused at the first GATT operation.
    b.p.connect("99:99:99:99:99:99", b.now);
    match b.call::<shelly::GetDeviceInfo>(&Default::default()) {
        Err(MethodError::Transport(client::Error::Gatt { error, .. })) => {
            assert_eq!(error, AttError::InsufficientAuthentication)
        }
        other => panic!("{other:?}"),
    }
    // It cannot bond outside a pairing window.
    assert_eq!(
        b.p.pair(None, b.now),
        Err(AttError::InsufficientAuthentication)
    );
    // The bonded client can, and opens a pairing window for the stranger.
    b.p.connect("11:22:33:44:55:66", b.now);
    assert_eq!(
        b.ok::<ble::GetStatus>(&()).provisioning,
        Some(ble::Provisioning::Complete)
    );
    assert_eq!(
        b.ok::<shelly::GetDeviceInfo>(&Default::default())
            .provisioning(),
        Some(ble::Provisioning::Complete)
    );
    let r = b.ok::<ble::StartPairing>(&ble::StartPairingParams { timeout: Some(60) });
    assert_eq!(r.timeout, Some(60));
    b.p.connect("99:99:99:99:99:99", b.now);
    b.p.pair(None, b.now).unwrap();
    b.ok::<shelly::GetDeviceInfo>(&Default::default());
}

#[test]
fn locked_state_requires_pairing_from_the_start() {
    let mut b = Bench::configured(|o| o.provisioning = ble::Provisioning::Locked);
    assert!(matches!(
        b.call::<shelly::GetDeviceInfo>(&Default::default()),
        Err(MethodError::Transport(client::Error::Gatt {
            error: AttError::InsufficientAuthentication,
            ..
        }))
    ));
}

#[test]
fn pairing_window_bonds_and_the_21st_bond_fails() {
    let mut b = Bench::new();
    b.ok::<ble::StartPairing>(&Default::default());
    let st = b.ok::<ble::GetStatus>(&());
    assert_eq!(st.pairing.unwrap().duration, 180);
    let mut added = 0;
    for i in 0..20u8 {
        b.p.connect(&alloc::format!("AA:00:00:00:00:{i:02X}"), b.now);
        b.p.pair(None, b.now).unwrap();
        // Each client hears of its bond on its own link: the next connection starts empty.
        added += events(&b.listen())
            .into_iter()
            .filter(|e| matches!(e, Event::PairedDeviceAdded(_)))
            .count();
    }
    assert_eq!(added, 20);
    b.p.connect("AA:00:00:00:00:FF", b.now);
    assert_eq!(b.p.pair(None, b.now), Err(AttError::InsufficientResources));
    let bonds = b.ok::<ble::ListPairedDevices>(&()).0;
    assert_eq!(bonds.len(), 20);
    b.ok::<ble::DeletePairedDevice>(&ble::DeletePairedDeviceParams {
        addr: bonds[3].addr.clone(),
    });
    assert!(
        events(&b.listen())
            .iter()
            .any(|e| matches!(e, Event::PairedDeviceRemoved(d) if d.addr == bonds[3].addr))
    );
    assert_eq!(
        b.rpc_code::<ble::DeletePairedDevice>(&ble::DeletePairedDeviceParams {
            addr: "00:00:00:00:00:00".into()
        }),
        ErrorCode::NotFound
    );
    b.p.pair(None, b.now).unwrap();
    b.ok::<ble::StopPairing>(&());
    assert_eq!(b.ok::<ble::GetStatus>(&()).pairing, None);
}

#[test]
fn set_auth_turns_on_401_challenges_and_the_client_answers_them() {
    let mut b = Bench::new();
    let realm = b.p.gateway().id().to_string();
    b.ok::<shelly::SetAuth>(&SetAuthParams::new(&realm, Some("s3cret")));
    assert!(b.ok::<shelly::GetDeviceInfo>(&Default::default()).auth_en);
    // Without credentials: 401.
    assert_eq!(
        b.rpc_code::<shelly::GetStatus>(&()),
        ErrorCode::AuthRequired
    );
    // Wrong password: 401 after the retry.
    b.client
        .set_credentials(Some(Credentials::from_password(&realm, "nope")));
    assert_eq!(
        b.rpc_code::<shelly::GetStatus>(&()),
        ErrorCode::AuthRequired
    );
    // Right password: works, and keeps working with nc counting up.
    b.client
        .set_credentials(Some(Credentials::from_password(&realm, "s3cret")));
    b.json::<shelly::GetStatus>(&());
    b.ok::<wifi::GetStatus>(&());
    // GetDeviceInfo never needs auth.
    let mut anon = Client::new("anon", 1);
    core::mem::swap(&mut anon, &mut b.client);
    b.ok::<shelly::GetDeviceInfo>(&Default::default());
    core::mem::swap(&mut anon, &mut b.client);
    // Disable auth again.
    b.ok::<shelly::SetAuth>(&SetAuthParams::new(&realm, None));
    b.client.set_credentials(None);
    b.json::<shelly::GetStatus>(&());
    // Bad SetAuth parameters.
    assert_eq!(
        b.rpc_code::<shelly::SetAuth>(&SetAuthParams::new("other-realm", Some("x"))),
        ErrorCode::InvalidArgument
    );
}

/// `Shelly.SetAuth` takes an HA1 of exactly 64 hex digits, and the password then signs in.
#[test]
fn set_auth_takes_64_hex_digits() {
    let mut b = Bench::new();
    let realm = b.p.gateway().id().to_string();
    let ha1 = crate::shelly::auth::ha1(&realm, "pw");
    let with = |ha1: String| SetAuthParams {
        ha1: Some(ha1),
        ..SetAuthParams::new(&realm, None)
    };
    for bad in [ha1[1..].to_string(), format!("{ha1}0"), "g".repeat(64)] {
        assert_eq!(
            b.rpc_code::<shelly::SetAuth>(&with(bad.clone())),
            ErrorCode::InvalidArgument,
            "{bad}"
        );
    }
    assert!(!b.ok::<shelly::GetDeviceInfo>(&Default::default()).auth_en);
    b.ok::<shelly::SetAuth>(&with(ha1));
    b.client
        .set_credentials(Some(Credentials::from_password(&realm, "pw")));
    b.json::<shelly::GetStatus>(&());
    assert!(b.ok::<shelly::GetDeviceInfo>(&Default::default()).auth_en);
}

/// A gateway protected by password `pw`, with a client that knows it.
fn authed_bench() -> Bench {
    let mut b = Bench::configured(|o| o.password = Some("pw".into()));
    let realm = b.p.gateway().id().to_string();
    b.client
        .set_credentials(Some(Credentials::from_password(&realm, "pw")));
    b
}

/// The 401 goes out as firmware prints it (spaces after `:` and `,`), with the device clock as
/// nonce: seconds since boot before Wi-Fi. When Wi-Fi joins the clock jumps to real time and the
/// old nonce is refused with a new 401, which the client answers by itself.
#[test]
fn the_nonce_is_the_device_clock_and_jumps_when_wifi_joins() {
    let mut b = authed_bench();
    b.advance(5_000);
    let mut anon = Client::new("anon", 1);
    let mut call = anon.call("Shelly.GetStatus", None, 1, b.now);
    b.drive(&mut call);
    let message = anon.finish(call).unwrap().outcome.unwrap_err().message;
    assert!(
        message.starts_with(r#"{"auth_type": "digest", "nonce": 5, "nc": 1, "realm": ""#),
        "{message}"
    );
    b.json::<shelly::GetStatus>(&());
    let before = b.client.credentials().unwrap().clone();
    b.ok::<wifi::SetConfig>(&wifi::SetConfigParams::join(
        "HomeNet",
        Some("correct horse"),
    ));
    b.advance(4_000);
    let status = b.json::<shelly::GetStatus>(&());
    assert!(status["sys"]["unixtime"].as_u64().unwrap() >= 1_700_000_000);
    let after = b.client.credentials().unwrap().clone();
    assert_ne!(
        before, after,
        "the old nonce was refused and the new one answered"
    );
    assert_eq!(b.ok::<wifi::GetStatus>(&()).status, "got ip");
}

/// Sends one request with this `auth` through the GATT service by hand; the answer's outcome.
fn send_with_auth(
    b: &mut Bench,
    auth: crate::shelly::auth::AuthParams,
) -> Result<serde_json::Value, crate::shelly::frame::RpcError> {
    use crate::shelly::frame::{Frame, Id, Request};
    let request = Request {
        id: Id::Num(9),
        src: Some("by-hand".into()),
        method: "Shelly.GetStatus".into(),
        params: None,
        auth: Some(auth),
    };
    let bytes = request.to_bytes();
    let len = u32::try_from(bytes.len()).unwrap();
    b.p.write(Characteristic::TxCtl, &len.to_be_bytes(), b.now)
        .unwrap();
    b.p.write(Characteristic::Data, &bytes, b.now).unwrap();
    let announced = b.p.read(Characteristic::RxCtl, b.now).unwrap();
    let announced = usize::try_from(u32::from_be_bytes(announced.try_into().unwrap())).unwrap();
    let mut frame = Vec::new();
    while frame.len() < announced {
        frame.extend(b.p.read(Characteristic::Data, b.now).unwrap());
    }
    match Frame::parse(&frame).unwrap() {
        Frame::Response(r) => r.outcome,
        other => panic!("{other:?}"),
    }
}

/// Each use of a nonce needs a higher `nc` than the last: a replay is refused with a 401 naming
/// the next `nc`. A `cnonce` above 32 bits is refused too.
#[test]
fn nonce_counts_must_increase_and_cnonces_fit_32_bits() {
    use crate::shelly::auth::{Challenge, Nonce, response_hash};
    let mut b = authed_bench();
    b.json::<shelly::GetStatus>(&());
    let mut creds = b.client.credentials().unwrap().clone();
    let fresh = creds.next_auth(7).unwrap();
    let mut replay = fresh.clone();
    replay.nc -= 1;
    replay.response = response_hash(creds.ha1(), &replay.nonce, replay.nc, &replay.cnonce);
    let refused = send_with_auth(&mut b, replay).unwrap_err();
    assert_eq!(refused.code, 401);
    assert_eq!(
        Challenge::parse(&refused.message).unwrap().nc,
        Some(fresh.nc)
    );
    assert!(send_with_auth(&mut b, fresh.clone()).is_ok());
    assert_eq!(
        send_with_auth(&mut b, fresh).unwrap_err().code,
        401,
        "the same nc twice"
    );
    let mut wide = creds.next_auth(7).unwrap();
    wide.cnonce = Nonce::Num(1 << 32);
    wide.response = response_hash(creds.ha1(), &wide.nonce, wide.nc, &wide.cnonce);
    assert_eq!(send_with_auth(&mut b, wide).unwrap_err().code, 401);
}

/// A gateway checking sign-ins as firmware 2.0 does, password "pw", and a client that knows it.
fn firmware_2_bench() -> Bench {
    let mut b = Bench::configured(|o| {
        o.password = Some("pw".into());
        o.firmware_2_auth = true;
    });
    let realm = b.p.gateway().id().to_string();
    b.client
        .set_credentials(Some(Credentials::from_password(&realm, "pw")));
    b
}

/// What the device answers a request without `auth`.
fn anonymous_answer(b: &mut Bench) -> crate::shelly::frame::RpcError {
    let mut anon = Client::new("anon", 1);
    let mut call = anon.call("Shelly.GetStatus", None, 1, b.now);
    b.drive(&mut call);
    anon.finish(call).unwrap().outcome.unwrap_err()
}

/// Firmware 2.0: a base64 text nonce, no `nc` in the challenge; the client signs in by itself
/// and then reuses the nonce with a rising `nc`.
#[test]
fn firmware_2_nonces_are_text_without_nc() {
    use crate::shelly::auth::{Challenge, Nonce};
    let mut b = firmware_2_bench();
    let refused = anonymous_answer(&mut b);
    assert_eq!(refused.code, 401);
    let challenge = Challenge::parse(&refused.message).unwrap();
    assert_eq!(challenge.nc, None);
    assert!(!refused.message.contains("\"nc\""), "{}", refused.message);
    let Nonce::Text(text) = &challenge.nonce else {
        panic!("a text nonce: {challenge:?}")
    };
    assert_eq!(text.len(), 24, "16 bytes in base64: {text}");
    b.json::<shelly::GetStatus>(&());
    b.json::<shelly::GetStatus>(&());
    // The client's own sign-in got a nonce of its own, which served both calls.
    let mut creds = b.client.credentials().unwrap().clone();
    let next = creds.next_auth(0).unwrap();
    assert!(matches!(next.nonce, Nonce::Text(_)), "{next:?}");
    assert_eq!(next.nc, 3);
}

/// A right answer to a nonce the device no longer keeps (an hour has passed) gets a new nonce
/// marked `stale`, which the client answers by itself.
#[test]
fn firmware_2_answers_an_expired_nonce_as_stale() {
    use crate::shelly::auth::Challenge;
    let mut b = firmware_2_bench();
    b.json::<shelly::GetStatus>(&());
    b.advance(3_600_000);
    let mut creds = b.client.credentials().unwrap().clone();
    let refused = send_with_auth(&mut b, creds.next_auth(7).unwrap()).unwrap_err();
    assert_eq!(refused.code, 401);
    assert!(Challenge::parse(&refused.message).unwrap().stale);
    b.json::<shelly::GetStatus>(&());
}

/// Failed sign-ins count over ten minutes; from the fifth, nothing that needs a new nonce is
/// answered but with 429, while a kept nonce still works. Ten minutes later a nonce is handed out
/// again.
#[test]
fn firmware_2_pauses_sign_ins_after_five_failures() {
    use crate::shelly::auth::Credentials;
    let mut b = firmware_2_bench();
    b.json::<shelly::GetStatus>(&());
    let realm = b.p.gateway().id().to_string();
    let mut good = b.client.credentials().unwrap().clone();
    let mut wrong = good.clone();
    let wrong_ha1 = Credentials::from_password(&realm, "nope").ha1().to_string();
    let codes: Vec<i64> = (0..5)
        .map(|i| {
            let mut auth = wrong.next_auth(i).unwrap();
            auth.response =
                crate::shelly::auth::response_hash(&wrong_ha1, &auth.nonce, auth.nc, &auth.cnonce);
            send_with_auth(&mut b, auth).unwrap_err().code
        })
        .collect();
    assert_eq!(codes, [401, 401, 401, 401, 429]);
    assert_eq!(anonymous_answer(&mut b).code, 429);
    let kept = send_with_auth(&mut b, good.next_auth(9).unwrap());
    assert!(kept.is_ok(), "a kept nonce still works: {kept:?}");
    b.advance(600_000);
    assert_eq!(anonymous_answer(&mut b).code, 401);
}

/// The device keeps 32 nonces. Once all are taken it drops the oldest for a new one, but not
/// twice within 2 s: then the request is answered 429.
#[test]
fn firmware_2_keeps_32_nonces() {
    let mut b = firmware_2_bench();
    let codes: Vec<i64> = (0..34).map(|_| anonymous_answer(&mut b).code).collect();
    assert!(codes[..33].iter().all(|&c| c == 401), "{codes:?}");
    assert_eq!(codes[33], 429);
    b.advance(2_000);
    assert_eq!(anonymous_answer(&mut b).code, 401);
}

#[test]
fn option_password_starts_with_auth_on() {
    let mut b = Bench::configured(|o| o.password = Some("pw".into()));
    let info = b.ok::<shelly::GetDeviceInfo>(&Default::default());
    assert!(info.auth_en);
    b.client
        .set_credentials(Some(Credentials::from_password(info.realm(), "pw")));
    b.json::<shelly::GetConfig>(&());
}

#[test]
fn sys_name_and_reboot() {
    let mut b = Bench::new();
    let r = b.ok::<shelly::SysSetConfig>(&shelly::SysSetConfigParams::device_name("Hall gateway"));
    assert!(!r.restart_required);
    assert_eq!(
        b.ok::<shelly::GetDeviceInfo>(&Default::default())
            .name
            .as_deref(),
        Some("Hall gateway")
    );
    assert_eq!(
        b.json::<shelly::GetConfig>(&())["sys"]["device"]["name"],
        "Hall gateway"
    );
    b.ok::<shelly::Reboot>(&shelly::RebootParams {
        delay_ms: Some(1000),
    });
    b.advance(1_000);
    assert!(
        b.call::<shelly::GetDeviceInfo>(&Default::default())
            .is_err(),
        "rebooted"
    );
    b.p.connect("11:22:33:44:55:66", b.now);
    assert_eq!(
        b.ok::<shelly::GetDeviceInfo>(&Default::default())
            .name
            .as_deref(),
        Some("Hall gateway"),
        "the name survives the restart"
    );
}

#[test]
fn sys_config_and_status_read_the_device_part() {
    let mut b = Bench::new();
    b.ok::<shelly::SysSetConfig>(&shelly::SysSetConfigParams::device_name("Hall gateway"));
    let device = b.ok::<shelly::SysGetConfig>(&()).device.unwrap();
    assert_eq!(device.name.as_deref(), Some("Hall gateway"));
    assert_eq!(device.mac.as_deref(), Some("CCBA970D5E01"));
    b.advance(42_000);
    let status = b.ok::<shelly::SysGetStatus>(&());
    assert_eq!(status.uptime, Some(42));
    assert_eq!(
        b.ok::<shelly::GetStatus>(&())
            .get::<shelly::SysStatus>("sys"),
        Some(status),
        "the same as in Shelly.GetStatus"
    );
}

/// `Shelly.GetComponents` pages through every component, with what `include` asks for;
/// `dynamic_only` keeps the BTHome components (ids 200..299).
#[test]
fn get_components_pages_through_status_and_config() {
    let mut b = Bench::new();
    let add = |b: &mut Bench, addr: &str| {
        b.ok::<bthome::AddDevice>(&bthome::AddDeviceParams {
            config: bthome::DeviceConfig {
                addr: Some(addr.into()),
                ..Default::default()
            },
            id: None,
        })
    };
    add(&mut b, "3c:2e:f5:5b:01:01");
    add(&mut b, "3c:2e:f5:5b:02:01");
    let everything = b.all_pages::<shelly::GetComponents>(shelly::GetComponentsParams {
        include: vec![shelly::Include::Config],
        ..Default::default()
    });
    let keys: Vec<&str> = everything.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ble",
            "bthome",
            "bthomedevice:200",
            "bthomedevice:201",
            "sys",
            "wifi"
        ],
        "more than one page (5 per page), each key once"
    );
    assert!(
        everything
            .iter()
            .all(|c| c.config.is_some() && c.status.is_none())
    );
    let dynamic = b.all_pages::<shelly::GetComponents>(shelly::GetComponentsParams {
        include: vec![shelly::Include::Status],
        dynamic_only: Some(true),
        ..Default::default()
    });
    assert_eq!(dynamic.len(), 2);
    assert_eq!(dynamic[0].status.as_ref().unwrap()["id"], 200);
    let one = b.all_pages::<shelly::GetComponents>(shelly::GetComponentsParams {
        keys: vec!["wifi".into()],
        ..Default::default()
    });
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].status.as_ref(), one[0].config.as_ref()),
        (None, None)
    );
}

/// A BTHome device's `attrs` in `Shelly.GetComponents` are a real gateway's (`flags` 17, the
/// BLU `model_id`) where its sensor is a Shelly BLU model, and absent otherwise: the generic
/// thermometer, an address no simulated sensor has, and every sensor component.
#[test]
fn get_components_gives_a_blu_device_its_model_in_attrs() {
    let mut b = Bench::new();
    // The fleet's H&T, Door/Window, thermometer (MAC byte 5: kind, byte 6: place in the list + 1),
    // and an address no simulated sensor has.
    for addr in [
        "3c:2e:f5:5b:01:02",
        "3c:2e:f5:5b:02:03",
        "3c:2e:f5:5b:05:06",
        "3c:2e:f5:00:00:01",
    ] {
        b.ok::<bthome::AddDevice>(&bthome::AddDeviceParams {
            config: bthome::DeviceConfig {
                addr: Some(addr.into()),
                ..Default::default()
            },
            id: None,
        });
    }
    b.ok::<bthome::AddSensor>(&bthome::AddSensorParams {
        config: bthome::NewSensor {
            addr: "3c:2e:f5:5b:01:02".into(),
            obj_id: 2,
            obj_idx: 0,
            ..Default::default()
        },
        id: None,
    });
    let dynamic = b.all_pages::<shelly::GetComponents>(shelly::GetComponentsParams {
        dynamic_only: Some(true),
        ..Default::default()
    });
    let attrs: Vec<(&str, Option<&serde_json::Value>)> = dynamic
        .iter()
        .map(|c| (c.key.as_str(), c.attrs.as_ref()))
        .collect();
    assert_eq!(
        attrs,
        [
            (
                "bthomedevice:200",
                Some(&json!({"flags": 17, "model_id": 3}))
            ),
            (
                "bthomedevice:201",
                Some(&json!({"flags": 17, "model_id": 2}))
            ),
            ("bthomedevice:202", None),
            ("bthomedevice:203", None),
            ("bthomesensor:200", None),
        ]
    );
    let h_t = dynamic[0].device_attrs().model().unwrap();
    assert_eq!(h_t.code, "SBHT-003C");
}

/// RPC over Bluetooth is off: the request frame's length is refused on `tx_ctl`.
#[track_caller]
fn assert_rpc_refused(b: &mut Bench) {
    assert!(matches!(
        b.call::<ble::GetConfig>(&()),
        Err(MethodError::Transport(client::Error::Gatt {
            characteristic: Characteristic::TxCtl,
            error: AttError::WriteNotPermitted
        }))
    ));
}

/// `BLE.SetConfig {"rpc":{"enable":false}}`: saved at once, in effect after the restart it asks
/// for; from then on the device refuses RPC writes.
#[test]
fn ble_rpc_off_applies_after_the_restart_it_asks_for() {
    let mut b = Bench::new();
    assert!(b.ok::<ble::GetConfig>(&()).rpc.unwrap().enable);
    let answer = b.ok::<ble::SetConfig>(&ble::SetConfigParams::rpc(false));
    assert!(answer.restart_required);
    assert!(!b.ok::<ble::GetConfig>(&()).rpc.unwrap().enable, "saved");
    assert!(
        b.p.gateway().rpc_enabled(),
        "still in effect until the restart"
    );
    b.ok::<shelly::Reboot>(&shelly::RebootParams {
        delay_ms: Some(1_000),
    });
    b.advance(1_000);
    b.p.connect("11:22:33:44:55:66", b.now);
    assert_rpc_refused(&mut b);
}

/// Without `ble_restart_required` the switch applies at once.
#[test]
fn ble_rpc_off_at_once_refuses_further_writes() {
    let mut b = Bench::configured(|o| o.ble_restart_required = false);
    let answer = b.ok::<ble::SetConfig>(&ble::SetConfigParams::rpc(false));
    assert!(!answer.restart_required);
    assert_rpc_refused(&mut b);
}

#[test]
fn advertise_once_is_validated_and_goes_on_air() {
    let mut b = Bench::new();
    let p = ble::AdvertiseOnceParams::new(b"\x07\x09Shelly", None).unwrap();
    b.ok::<ble::AdvertiseOnce>(&p);
    let on_air = b.p.gateway_advertisements(b.now);
    assert!(on_air.iter().any(|a| a.name.as_deref() == Some("Shelly")));
    b.advance(3_500);
    assert!(
        !b.p.gateway_advertisements(b.now)
            .iter()
            .any(|a| a.name.as_deref() == Some("Shelly"))
    );
    let flags = ble::AdvertiseOnceParams {
        adv_data: "020106".into(),
        scan_rsp: None,
    };
    assert_eq!(
        b.rpc_code::<ble::AdvertiseOnce>(&flags),
        ErrorCode::InvalidArgument
    );
    let long = ble::AdvertiseOnceParams {
        adv_data: "00".repeat(29),
        scan_rsp: None,
    };
    assert_eq!(
        b.rpc_code::<ble::AdvertiseOnce>(&long),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn start_associations_runs_for_its_duration() {
    let mut b = Bench::new();
    b.ok::<ble::StartAssociations>(&ble::StartAssociationsParams {
        target: 8,
        duration: Some(5),
        ..Default::default()
    });
    let bad = ble::StartAssociationsParams {
        target: 77,
        ..Default::default()
    };
    assert_eq!(
        b.rpc_code::<ble::StartAssociations>(&bad),
        ErrorCode::InvalidArgument
    );
    b.advance(6_000);
    let n = b.listen();
    assert!(
        n.iter()
            .any(|n| n.params.get("ble") == Some(&json!({"ble_assoc": null})))
    );
}

#[test]
fn cloud_relay_lists_blu_devices_with_base64_service_data() {
    let mut b = Bench::new();
    b.advance(70_000); // every sensor has emitted
    let list = b.ok::<ble::CloudRelayList>(&());
    assert_eq!(
        list.addrs.len(),
        6,
        "the generic thermometer is not a BLU device"
    );
    let items = b.all_pages::<ble::CloudRelayListInfos>(Default::default());
    assert_eq!(items.len(), 6);
    for (addr, info) in &items {
        let (adv, skipped) = info.to_advertisement(addr);
        assert_eq!(skipped, 0);
        let data = &adv.service_data[&crate::uuid::Uuid::BTHOME_V2];
        let encrypted = data[0] & 0x01 != 0;
        let key = encrypted.then_some(&sensors::SIM_KEY);
        let packet = crate::bthome::decode(crate::uuid::Uuid::BTHOME_V2, data, adv.address, key);
        assert!(packet.is_ok(), "{addr}: {packet:?}");
        assert!(
            packet.objects.iter().any(|o| o.id == 0x01),
            "battery in {addr}"
        );
        let mfd = crate::shelly::manufacturer::parse(&adv.manufacturer_data[&0x0BA9]);
        assert_eq!(mfd.mac, adv.address);
    }
}

#[test]
fn bthome_components_take_ids_200_to_299() {
    let mut b = Bench::new();
    assert_eq!(b.ok::<bthome::GetConfig>(&()), json!({}));
    b.ok::<bthome::SetConfig>(&Default::default());
    assert_eq!(b.ok::<bthome::GetStatus>(&()).discovery, None);
    let add = |addr: &str, id: Option<u16>| bthome::AddDeviceParams {
        config: bthome::DeviceConfig {
            addr: Some(addr.into()),
            name: Some("x".into()),
            ..Default::default()
        },
        id,
    };
    assert_eq!(
        b.ok::<bthome::AddDevice>(&add("3c:2e:f5:5b:00:01", None))
            .key,
        "bthomedevice:200"
    );
    // Real firmware names the new component in `added` (the BTHome document's examples).
    let mut call = b.client.call(
        "BTHome.AddDevice",
        Some(json!({"config": {"addr": "3c:2e:f5:5b:00:09"}})),
        1,
        b.now,
    );
    b.drive(&mut call);
    assert_eq!(
        b.client.finish(call).unwrap().outcome.unwrap(),
        json!({"added": "bthomedevice:201"})
    );
    b.ok::<bthome::DeleteDevice>(&bthome::IdParams { id: 201 });
    assert_eq!(
        b.ok::<bthome::AddDevice>(&add("3c:2e:f5:5b:01:02", Some(205)))
            .key,
        "bthomedevice:205"
    );
    assert_eq!(
        b.ok::<bthome::AddDevice>(&add("3c:2e:f5:5b:02:03", None))
            .id(),
        Some(201)
    );
    assert_eq!(
        b.rpc_code::<bthome::AddDevice>(&add("aa:aa:aa:aa:aa:aa", Some(205))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        b.rpc_code::<bthome::AddDevice>(&add("aa:aa:aa:aa:aa:aa", Some(300))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        b.rpc_code::<bthome::AddDevice>(&add("3c:2e:f5:5b:00:01", None)),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        b.rpc_code::<bthome::AddDevice>(&add("not-a-mac", None)),
        ErrorCode::InvalidArgument
    );
    b.ok::<bthome::DeleteDevice>(&bthome::IdParams { id: 201 });
    assert_eq!(
        b.rpc_code::<bthome::DeleteDevice>(&bthome::IdParams { id: 201 }),
        ErrorCode::NotFound
    );
    // Fill the range: 98 more fit (200 and 205 are taken), the next fails.
    for i in 0..98u16 {
        let addr = alloc::format!("aa:bb:cc:dd:{:02x}:{:02x}", i >> 8, i & 0xff);
        b.ok::<bthome::AddDevice>(&add(&addr, None));
    }
    assert_eq!(
        b.rpc_code::<bthome::AddDevice>(&add("aa:bb:cc:ee:00:00", None)),
        ErrorCode::ResourceExhausted
    );
}

#[test]
fn bthome_device_and_sensor_components_read_the_simulated_sensor() {
    let mut b = Bench::new();
    b.advance(70_000);
    b.p.sync(b.now);
    // The H&T (second in the fleet).
    let ht = b.p.gateway().sensors()[1].clone();
    let addr = ht.mac().to_shelly_rpc();
    let dev = b.ok::<bthome::AddDevice>(&bthome::AddDeviceParams {
        config: bthome::DeviceConfig {
            addr: Some(addr.clone()),
            ..Default::default()
        },
        id: None,
    });
    let id = dev.id().unwrap();
    let cfg = b.ok::<bthome::DeviceGetConfig>(&bthome::IdParams { id });
    assert_eq!(cfg.addr.as_deref(), Some(addr.as_str()));
    b.ok::<bthome::DeviceSetConfig>(&bthome::DeviceSetConfigParams {
        id,
        config: bthome::DeviceConfig {
            name: Some("Bedroom".into()),
            ..Default::default()
        },
    });
    assert_eq!(
        b.ok::<bthome::DeviceGetConfig>(&bthome::IdParams { id })
            .name
            .as_deref(),
        Some("Bedroom")
    );
    // Nothing is known until the gateway hears the device's next packet (about a minute for an
    // H&T), then a `new_objects` event goes out.
    let none = b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id });
    assert!(none.objects.is_empty(), "{none:?}");
    assert_eq!(
        b.ok::<bthome::DeviceGetStatus>(&bthome::IdParams { id })
            .rssi,
        None
    );
    b.advance(30_000);
    assert!(
        b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id })
            .objects
            .is_empty()
    );
    b.advance(25_000);
    assert!(events(&b.listen()).contains(&Event::NewObjects { id }));
    let ht = b.p.gateway().sensors()[1].clone();
    let st = b.ok::<bthome::DeviceGetStatus>(&bthome::IdParams { id });
    assert_eq!(st.rssi, Some(i32::from(ht.rssi())));
    assert_eq!(st.battery, ht.battery());
    // Temperature is object 0x45, index 0.
    let sensor = b.ok::<bthome::AddSensor>(&bthome::AddSensorParams {
        config: bthome::NewSensor {
            addr: addr.clone(),
            obj_id: 0x45,
            obj_idx: 0,
            ..Default::default()
        },
        id: Some(210),
    });
    assert_eq!(sensor.key, "bthomesensor:210");
    let st = b.ok::<bthome::SensorGetStatus>(&bthome::IdParams { id: 210 });
    let expected = ht.value(0x45, 0).unwrap();
    assert_eq!(st.value, expected);
    assert!(st.value.as_f64().unwrap() >= 20.0);
    let known = b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id });
    let temp = known.objects.iter().find(|o| o.obj_id == 0x45).unwrap();
    assert_eq!(temp.component.as_deref(), Some("bthomesensor:210"));
    assert!(
        known
            .objects
            .iter()
            .any(|o| o.obj_id == 0x2E && o.component.is_none())
    );
    b.ok::<bthome::SensorSetConfig>(&bthome::SensorSetConfigParams {
        id: 210,
        config: bthome::SensorConfig {
            name: Some("Temp".into()),
            ..Default::default()
        },
    });
    let cfg = b.ok::<bthome::SensorGetConfig>(&bthome::IdParams { id: 210 });
    assert_eq!((cfg.name.as_deref(), cfg.idx), (Some("Temp"), Some(0)));
    // As on real firmware, the dynamic components are listed by Shelly.GetComponents only.
    let status = b.json::<shelly::GetStatus>(&());
    assert!(status.get("bthomesensor:210").is_none(), "{status}");
    assert!(status.get("wifi").is_some());
    let listed = b
        .raw(
            "Shelly.GetComponents",
            json!({"include": ["status"], "dynamic_only": true}),
        )
        .unwrap();
    let keys: Vec<&str> = listed["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let device = alloc::format!("bthomedevice:{id}");
    assert_eq!(keys, [device.as_str(), "bthomesensor:210"]);
    // Missing obj_idx and unknown ids.
    let missing = json!({"config": {"addr": addr, "obj_id": 2}});
    let err = b.raw("BTHome.AddSensor", missing).unwrap_err();
    assert_eq!(ErrorCode::from(err.code), ErrorCode::InvalidArgument);
    assert!(err.message.contains("obj_idx"), "{}", err.message);
    assert_eq!(
        b.rpc_code::<bthome::SensorGetStatus>(&bthome::IdParams { id: 299 }),
        ErrorCode::NotFound
    );
    b.ok::<bthome::DeleteSensor>(&bthome::IdParams { id: 210 });
    assert_eq!(
        b.rpc_code::<bthome::DeleteSensor>(&bthome::IdParams { id: 210 }),
        ErrorCode::NotFound
    );
}

/// An encrypted sensor the gateway has no key for, or the wrong one, stays unread: its objects
/// stay unknown and `BTHomeDevice.GetStatus` names the problem in `errors` once it has sent
/// (taulfsime/shelly-rpc-ts `BTHomeDevice.ts`: `key_missing_or_bad`, `decrypt_failed`,
/// `unencrypted_data`). With its own key the next packet teaches the gateway its objects.
#[test]
fn an_encrypted_device_without_its_key_stays_unread() {
    let mut b = Bench::new();
    // The Door/Window, third in the fleet, encrypts.
    let dw = b.p.gateway().sensors()[2].clone();
    assert!(dw.spec().encrypted);
    let addr = dw.mac().to_shelly_rpc();
    let id = b.add_device(&addr);
    let status = |b: &mut Bench| {
        b.ok::<bthome::DeviceGetStatus>(&bthome::IdParams { id })
            .errors
    };
    assert_eq!(status(&mut b), None, "nothing heard yet");
    b.advance(50_000);
    b.p.sync(b.now);
    assert_eq!(status(&mut b), Some(vec!["key_missing_or_bad".to_owned()]));
    let known = |b: &mut Bench| b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id });
    assert!(known(&mut b).objects.is_empty());
    let set_key = |b: &mut Bench, key: &str| {
        b.ok::<bthome::DeviceSetConfig>(&bthome::DeviceSetConfigParams {
            id,
            config: bthome::DeviceConfig {
                key: Some(key.into()),
                ..Default::default()
            },
        });
    };
    set_key(&mut b, "00112233445566778899aabbccddeeff");
    assert_eq!(status(&mut b), Some(vec!["decrypt_failed".to_owned()]));
    assert!(known(&mut b).objects.is_empty());
    set_key(&mut b, &crate::hex::encode(sensors::SIM_KEY.as_bytes()));
    b.advance(50_000);
    b.p.sync(b.now);
    assert_eq!(status(&mut b), None);
    assert!(!known(&mut b).objects.is_empty());
}

/// A key set for a sensor that does not encrypt is reported as firmware does.
#[test]
fn a_key_for_a_plain_sensor_is_reported() {
    let mut b = Bench::new();
    // The H&T, second in the fleet, sends in the clear.
    let ht = b.p.gateway().sensors()[1].clone();
    assert!(!ht.spec().encrypted);
    let key = crate::hex::encode(sensors::SIM_KEY.as_bytes());
    b.raw(
        "BTHome.AddDevice",
        json!({"config": {"addr": ht.mac().to_shelly_rpc(), "key": key}}),
    )
    .unwrap();
    b.advance(50_000);
    b.p.sync(b.now);
    let status = b.ok::<bthome::DeviceGetStatus>(&bthome::IdParams { id: 200 });
    assert_eq!(status.errors, Some(vec!["unencrypted_data".to_owned()]));
}

/// `BTHome.AddDevice` refuses a key that is not 32 hex digits and an address already added (in
/// any spelling); what it adds reads back with its id and the address as firmware writes it.
#[test]
fn add_device_checks_its_key_and_address() {
    let mut b = Bench::new();
    let add = |b: &mut Bench, config: serde_json::Value| {
        b.raw("BTHome.AddDevice", json!({ "config": config }))
    };
    for key in [
        "00112233445566778899aabbccddee",
        "00112233445566778899aabbccddeeff00",
        "zz112233445566778899aabbccddeeff",
    ] {
        let refused = add(&mut b, json!({"addr": "3c:2e:f5:5b:00:01", "key": key})).unwrap_err();
        assert_eq!(
            ErrorCode::from(refused.code),
            ErrorCode::InvalidArgument,
            "{key}"
        );
        assert!(
            refused.message.contains("32 hex digits"),
            "{}",
            refused.message
        );
    }
    let key = "00112233445566778899AABBCCDDEEFF";
    assert_eq!(
        add(&mut b, json!({"addr": "3C:2E:F5:5B:00:01", "key": key})),
        Ok(json!({"added": "bthomedevice:200"}))
    );
    let again = add(&mut b, json!({"addr": "3c:2e:f5:5b:00:01"})).unwrap_err();
    assert!(again.message.contains("already added"), "{}", again.message);
    let config = b.ok::<bthome::DeviceGetConfig>(&bthome::IdParams { id: 200 });
    assert_eq!(config.id, Some(200));
    assert_eq!(config.addr.as_deref(), Some("3c:2e:f5:5b:00:01"));
}

/// Since fw 1.6.0 a button is no `BTHomeSensor` ("events will come from BTHomeDevice"), and a
/// sensor needs its `BTHomeDevice` first (shelly-api-docs DynamicComponents/BTHome).
#[test]
fn add_sensor_refuses_buttons_and_sensors_without_their_device() {
    let mut b = Bench::new();
    let addr = "3c:2e:f5:5b:00:01";
    let sensor = |obj_id: u8| json!({"config": {"addr": addr, "obj_id": obj_id, "obj_idx": 0}});
    let err = b.raw("BTHome.AddSensor", sensor(0x02)).unwrap_err();
    assert_eq!(ErrorCode::from(err.code), ErrorCode::InvalidArgument);
    assert!(err.message.contains("BTHomeDevice"), "{}", err.message);
    assert!(err.message.contains(addr), "{}", err.message);
    b.raw("BTHome.AddDevice", json!({"config": {"addr": addr}}))
        .unwrap();
    let err = b.raw("BTHome.AddSensor", sensor(0x3A)).unwrap_err();
    assert_eq!(ErrorCode::from(err.code), ErrorCode::InvalidArgument);
    assert!(err.message.contains("button"), "{}", err.message);
    assert_eq!(
        b.raw("BTHome.AddSensor", sensor(0x02)),
        Ok(json!({"added": "bthomesensor:200"}))
    );
}

/// `BTHome.AddSensor` takes `obj_idx`; read back, firmware names it `idx` (a real gateway's
/// `Shelly.GetComponents` in bieniu/ha-shellies-discovery-gen2 issue 698).
#[test]
fn sensor_config_reads_back_with_idx() {
    let mut b = Bench::new();
    let addr = "3c:2e:f5:5b:00:01";
    b.raw("BTHome.AddDevice", json!({"config": {"addr": addr}}))
        .unwrap();
    let config = json!({"addr": addr, "obj_id": 2, "obj_idx": 1});
    b.raw("BTHome.AddSensor", json!({"id": 210, "config": config}))
        .unwrap();
    let expected = json!({"id": 210, "addr": addr, "obj_id": 2, "idx": 1});
    let got = b.raw("BTHomeSensor.GetConfig", json!({"id": 210}));
    assert_eq!(got, Ok(expected.clone()));
    let all = b.raw("Shelly.GetConfig", json!({})).unwrap();
    assert_eq!(
        all.get("bthomesensor:210"),
        None,
        "dynamic: not in GetConfig"
    );
    let components = b
        .raw(
            "Shelly.GetComponents",
            json!({"include": ["config"], "keys": ["bthomesensor:210"]}),
        )
        .unwrap();
    assert_eq!(components["components"][0]["config"], expected);
    let read: bthome::SensorConfig = serde_json::from_value(expected).unwrap();
    assert_eq!(read.idx, Some(1));
}

/// The kinder behaviours of earlier versions, kept as options: objects known at once, `key` in
/// Add answers.
#[test]
fn options_keep_the_old_kinder_behaviours() {
    let mut b = Bench::configured(|o| {
        o.objects_known_at_once = true;
        o.add_answer = bthome::AddedMember::Key;
    });
    b.advance(1_000);
    let addr = b.p.gateway().sensors()[1].mac().to_string();
    let mut call = b.client.call(
        "BTHome.AddDevice",
        Some(json!({"config": {"addr": addr}})),
        1,
        b.now,
    );
    b.drive(&mut call);
    assert_eq!(
        b.client.finish(call).unwrap().outcome.unwrap(),
        json!({"key": "bthomedevice:200"})
    );
    let known = b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id: 200 });
    assert!(!known.objects.is_empty());
}

/// A button press makes a BLU device send at once, so its objects are known at once.
#[test]
fn a_press_teaches_the_gateway_a_device_s_objects() {
    let mut b = Bench::new();
    b.advance(1_000);
    let addr = b.p.gateway().sensors()[0].mac().to_string();
    let id = b.add_device(&addr);
    assert!(
        b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id })
            .objects
            .is_empty()
    );
    b.p.gateway_mut().sensors_mut()[0].press(b.now);
    let known = b.ok::<bthome::DeviceGetKnownObjects>(&bthome::IdParams { id });
    assert!(known.objects.iter().any(|o| o.obj_id == 0x3A), "{known:?}");
}

#[test]
fn discovery_emits_device_discovered_then_discovery_done() {
    let mut b = Bench::new();
    b.ok::<bthome::StartDeviceDiscovery>(&bthome::StartDiscoveryParams { duration: Some(10) });
    assert_eq!(
        b.ok::<bthome::GetStatus>(&()).discovery.unwrap().duration,
        10
    );
    assert_eq!(
        b.rpc_code::<bthome::StartDeviceDiscovery>(&Default::default()),
        ErrorCode::InvalidArgument
    );
    let mut found = Vec::new();
    let mut done = None;
    for _ in 0..30 {
        b.advance(500);
        for e in events(&b.listen()) {
            match e {
                Event::DeviceDiscovered { device, .. } => found.push(device),
                Event::DiscoveryDone { device_count, .. } => done = Some(device_count),
                _ => {}
            }
        }
    }
    assert_eq!(found.len(), 7);
    assert_eq!(done, Some(7));
    assert_eq!(found[0].local_name.as_deref(), Some("SBBT-002C"));
    assert_eq!(found[0].shelly_mfdata.as_ref().unwrap().model_id, 1);
    assert!(found[2].encrypted);
    assert!(
        found[5].shelly_mfdata.is_none(),
        "the generic thermometer has no Shelly data"
    );
    assert_eq!(b.ok::<bthome::GetStatus>(&()).discovery, None);
}

#[test]
fn object_infos_page_through_the_bthome_table() {
    let mut b = Bench::new();
    let items = b.all_pages::<bthome::GetObjectInfos>(bthome::GetObjectInfosParams {
        obj_ids: vec![0x01, 0x02, 0x03, 0x05, 0x2D, 0x3A, 0x45],
        offset: None,
    });
    assert_eq!(items.len(), 7);
    assert_eq!(items[1].obj_name.as_deref(), Some("temperature"));
    assert_eq!(items[4].kind.as_deref(), Some("binary_sensor"));
    assert_eq!(items[5].kind.as_deref(), Some("event"));
}

#[test]
fn unknown_methods_and_bad_params_fail_with_their_codes() {
    let mut b = Bench::new();
    let mut call = b.client.call("Nope.Nothing", None, 1, b.now);
    b.drive(&mut call);
    let resp = b.client.finish(call).unwrap();
    assert_eq!(
        ErrorCode::from(resp.outcome.unwrap_err().code),
        ErrorCode::NoHandler
    );
    let mut call = b
        .client
        .call("BTHome.DeleteDevice", Some(json!({"id": "x"})), 1, b.now);
    b.drive(&mut call);
    let err = b.client.finish(call).unwrap().outcome.unwrap_err();
    assert_eq!(ErrorCode::from(err.code), ErrorCode::InvalidArgument);
}

fn faulty(faults: Faults) -> Bench {
    Bench::with(GatewayOptions::default(), faults)
}

#[test]
fn client_survives_every_transport_fault_of_the_simulator() {
    let cases = [
        Faults {
            empty_reads: 3,
            ..Faults::default()
        },
        Faults {
            garbage_length: true,
            ..Faults::default()
        },
        Faults {
            slow_ms: 1_500,
            ..Faults::default()
        },
        Faults {
            wrong_ids: 2,
            ..Faults::default()
        },
        Faults {
            max_write: Some(20),
            ..Faults::default()
        },
    ];
    for faults in cases {
        let mut b = faulty(faults.clone());
        let info = b.ok::<shelly::GetDeviceInfo>(&Default::default());
        assert_eq!(info.r#gen, 3, "{faults:?}");
        // A larger answer too.
        let status = b.json::<shelly::GetConfig>(&());
        assert!(status.get("wifi").is_some(), "{faults:?}");
    }
}

#[test]
fn disconnect_mid_frame_drops_the_frame_and_a_reconnect_works() {
    let mut b = faulty(Faults {
        disconnect_after: Some(10),
        ..Faults::default()
    });
    b.client = Client::with_options(
        "t",
        1,
        client::Options {
            chunk_size: 20,
            ..Default::default()
        },
    );
    match b.call::<shelly::GetDeviceInfo>(&Default::default()) {
        Err(MethodError::Transport(client::Error::Gatt {
            error: AttError::Disconnected,
            ..
        })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(b.p.client(), None);
    assert!(matches!(
        b.call::<shelly::GetDeviceInfo>(&Default::default()),
        Err(MethodError::Transport(client::Error::Gatt {
            error: AttError::Disconnected,
            ..
        }))
    ));
    b.p.connect("11:22:33:44:55:66", b.now);
    b.ok::<shelly::GetDeviceInfo>(&Default::default());
}

/// On a disconnect the device destroys the RPC channel and what is queued on it (rpc-gatts
/// `mgos_rpc_channel_gatts.c`, rpc-common `mg_rpc.c`): a new connection reads nothing old.
#[test]
fn a_new_connection_never_reads_frames_queued_for_the_old_one() {
    let request = |b: &mut Bench, id: u32| {
        let frame = alloc::format!(r#"{{"id":{id},"src":"t","method":"Shelly.GetDeviceInfo"}}"#);
        let len = u32::try_from(frame.len()).unwrap().to_be_bytes();
        b.p.write(Characteristic::TxCtl, &len, b.now).unwrap();
        b.p.write(Characteristic::Data, frame.as_bytes(), b.now)
            .unwrap();
    };
    let client = "11:22:33:44:55:66";
    // An answer queued, and discovery events to come.
    let mut b = Bench::new();
    b.raw("BTHome.StartDeviceDiscovery", json!({"duration": 5}))
        .unwrap();
    request(&mut b, 1);
    assert_ne!(b.p.read(Characteristic::RxCtl, b.now), Ok(vec![0, 0, 0, 0]));
    b.p.disconnect(b.now);
    b.advance(6_000);
    b.p.connect(client, b.now);
    assert_eq!(b.p.read(Characteristic::RxCtl, b.now), Ok(vec![0, 0, 0, 0]));
    assert!(b.listen().is_empty());
    // An answer still on its way when the link drops.
    let mut b = faulty(Faults {
        slow_ms: 1_000,
        ..Faults::default()
    });
    request(&mut b, 2);
    b.p.disconnect(b.now);
    b.p.connect(client, b.now);
    b.advance(2_000);
    assert_eq!(b.p.read(Characteristic::RxCtl, b.now), Ok(vec![0, 0, 0, 0]));
}

#[test]
fn sensors_advertise_through_the_bthome_encoder() {
    let mut b = Bench::new();
    assert!(
        b.p.sensor_advertisements(0).is_empty(),
        "nothing before the first emission"
    );
    b.advance(61_000);
    let on_air = b.p.sensor_advertisements(b.now);
    assert_eq!(on_air.len(), 7);
    let own = b.p.gateway_advertisements(b.now);
    assert_eq!(own.len(), 1);
    let gw = crate::shelly::manufacturer::parse(&own[0].manufacturer_data[&0x0BA9]);
    assert_eq!(gw.model_id, Some(0x1817));
    assert!(
        gw.flags
            .unwrap()
            .has(crate::shelly::manufacturer::Flag::RpcOverBle)
    );
    let thermo = on_air
        .iter()
        .find(|a| a.name.as_deref().is_some_and(|n| n.starts_with("BTH-")))
        .unwrap();
    let data = &thermo.service_data[&crate::uuid::Uuid::BTHOME_V2];
    assert_eq!(data[0], 0x40, "plain, periodic");
    let packet = crate::bthome::decode(crate::uuid::Uuid::BTHOME_V2, data, None, None);
    let temp = packet.objects.iter().find(|o| o.id == 0x02).unwrap();
    assert!((18.0..25.0).contains(&temp.value.as_f64().unwrap()));
    // A button press is trigger-based and emits at once.
    b.p.gateway_mut().sensors_mut()[0].press(b.now);
    let button = b.p.gateway().sensors()[0].advertisement();
    let data = &button.service_data[&crate::uuid::Uuid::BTHOME_V2];
    assert_eq!(data[0], 0x44);
    let packet = crate::bthome::decode(crate::uuid::Uuid::BTHOME_V2, data, None, None);
    assert!(packet.objects.iter().any(|o| o.id == 0x3A));
}
