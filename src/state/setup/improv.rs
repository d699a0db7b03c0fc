//! The Improv Wi-Fi flow: capabilities, state and error; authorization (a button press on the
//! device); identify; a Wi-Fi scan where the device offers one, or a typed network name; sending
//! the credentials and following the state to "provisioned", by notification or, when none come,
//! by polling reads; the redirect URL.
//!
//! The protocol is the core's [`Client`]; this file performs the GATT operations it asks for
//! and hands it the notifications that arrive.

use crate::state::actions::RunsActions as _;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use bluehome_core::Uuid;
use bluehome_core::gatt::{Action, Feedback};
use bluehome_core::improv::client::Error as ClientError;
use bluehome_core::improv::{
    self, Capabilities, Client, Credentials, DeviceInfo, ErrorCode, Network, Options, Response,
    State,
};
use bluehome_core::text::printable;
use bluehome_core::wifi::{self, Security};
use leptos::prelude::*;

use super::SetupSession;
use super::explain::SetupFailure;
use crate::ble::{BleError, BleEvent, ErrorKind};
use crate::platform::{monotonic_ms, sleep_ms};

/// How often a sleeping task looks for notifications.
const NOTIFICATION_CHECK_MS: u64 = 50;

/// Notifications received and not yet handed to the client.
type Inbox = Rc<RefCell<VecDeque<(improv::Characteristic, Vec<u8>)>>>;

/// The Improv flow's state.
#[derive(Debug, Clone, Copy)]
pub struct ImprovView {
    /// The capabilities byte.
    pub capabilities: RwSignal<Option<Capabilities>>,
    /// The last state read or notified.
    pub state: RwSignal<Option<State>>,
    /// The last error read or notified.
    pub error: RwSignal<Option<ErrorCode>>,
    /// Device info, where offered, or why it could not be read (in words).
    pub info: RwSignal<Option<Result<DeviceInfo, String>>>,
    /// Networks from the device's scan.
    pub networks: RwSignal<Vec<Network>>,
    /// Whether notifications arrived (else the flow polls).
    pub notifications: RwSignal<bool>,
    /// Provisioned: the redirect URL (a plain http(s) URL), or why none is offered (in words).
    pub provisioned: RwSignal<Option<Result<Option<String>, String>>>,
    /// The other plain http(s) URLs the device listed after the redirect (ESPHome: Home
    /// Assistant's link, then its own web server).
    pub also: RwSignal<Vec<String>>,
    /// The network name typed or picked (kept while the page is left and come back to).
    pub ssid: RwSignal<String>,
    /// The Wi-Fi password typed.
    pub password: RwSignal<String>,
    client: StoredValue<Option<Rc<RefCell<Client>>>, LocalStorage>,
    inbox: StoredValue<Inbox, LocalStorage>,
}

impl ImprovView {
    pub(super) fn new() -> Self {
        Self {
            capabilities: RwSignal::new(None),
            state: RwSignal::new(None),
            error: RwSignal::new(None),
            info: RwSignal::new(None),
            networks: RwSignal::new(Vec::new()),
            notifications: RwSignal::new(false),
            provisioned: RwSignal::new(None),
            also: RwSignal::new(Vec::new()),
            ssid: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            client: StoredValue::new_local(None),
            inbox: StoredValue::new_local(Rc::default()),
        }
    }

    pub(super) fn clear(&self) {
        self.capabilities.set(None);
        self.state.set(None);
        self.error.set(None);
        self.info.set(None);
        self.networks.set(Vec::new());
        self.notifications.set(false);
        self.provisioned.set(None);
        self.also.set(Vec::new());
        self.ssid.set(String::new());
        self.password.set(String::new());
        self.client.set_value(None);
        self.inbox.with_value(|i| i.borrow_mut().clear());
    }

    /// Whether the device offers a command.
    pub fn offers(&self, command: improv::Command) -> bool {
        self.capabilities.get().is_some_and(|c| c.offers(command))
    }

    /// Whether joining the network named `ssid` takes a password, as the device's scan lists it
    /// (tracked).
    pub fn password_need(&self, ssid: &str) -> PasswordNeed {
        self.networks.with(|n| password_need(n, ssid))
    }
}

/// Whether the password field is needed for a network, as the device's scan lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordNeed {
    /// The scan lists it as open (`NO`): no password is sent.
    Open,
    /// The scan lists it as secured: a password is needed.
    Required {
        /// Its authentication as people read it (`WPA/WPA2`).
        auth: String,
        /// What the password is, where the standard fixes it
        /// ([`bluehome_core::wifi::Security::password_rule`]).
        rule: Option<&'static str>,
    },
    /// Not in the scan (a hidden network, or no scan), or listed without its authentication (its
    /// scan result was cut short, [`Network::from_cut_result`]): the password is optional.
    Unknown,
}

/// The network named `ssid` in the device's scan.
fn scanned<'a>(networks: &'a [Network], ssid: &str) -> Option<&'a Network> {
    networks.iter().find(|n| n.ssid == ssid.as_bytes())
}

/// [`PasswordNeed`] of `ssid` among the scanned `networks` ([`Network::needs_password`]).
pub fn password_need(networks: &[Network], ssid: &str) -> PasswordNeed {
    match scanned(networks, ssid) {
        Some(n) if !n.auth_known() => PasswordNeed::Unknown,
        Some(n) if n.needs_password() => PasswordNeed::Required {
            auth: n.auth_described(),
            rule: n.security().password_rule(),
        },
        Some(_) => PasswordNeed::Open,
        None => PasswordNeed::Unknown,
    }
}

fn gatt(c: improv::Characteristic) -> crate::ble::Characteristic {
    crate::ble::Characteristic {
        service: improv::SERVICE_UUID,
        uuid: c.uuid(),
    }
}

impl SetupSession {
    /// Notifications of the chosen Improv device go to its client's inbox.
    pub(super) fn improv_event(self, event: &BleEvent) {
        let BleEvent::Notification {
            device,
            characteristic,
            value,
        } = event
        else {
            return;
        };
        if characteristic.service != improv::SERVICE_UUID
            || self.device_id().as_ref() != Some(device)
        {
            return;
        }
        if let Some(c) = improv::Characteristic::ALL
            .into_iter()
            .find(|c| c.uuid() == characteristic.uuid)
        {
            self.improv
                .inbox
                .try_with_value(|i| i.borrow_mut().push_back((c, value.clone())));
        }
        // Between tasks nothing drains the inbox: take it in now, so that the panel shows (say)
        // an authorization that ran out.
        if let Some(client) = self.improv.client.try_get_value().flatten()
            && client
                .try_borrow()
                .is_ok_and(|c| matches!(c.action(), Action::Done))
        {
            self.improv_deliver(&client);
            self.improv_show(&client);
        }
    }

    pub(super) async fn improv_start(self, characteristics: Vec<Uuid>) -> Result<(), SetupFailure> {
        // Notifications where the device has them (the polling reads work without).
        for c in [
            improv::Characteristic::State,
            improv::Characteristic::Error,
            improv::Characteristic::RpcResult,
        ] {
            if characteristics.contains(&c.uuid()) {
                self.step(format!("Asking for notifications of {c}"));
                let _ = self.subscribe(gatt(c)).await;
            }
        }
        self.step("Reading its capabilities, state and error");
        let client = Rc::new(RefCell::new(Client::new(
            Options::default(),
            monotonic_ms(),
        )));
        self.improv.client.set_value(Some(Rc::clone(&client)));
        let response = self.drive_improv("connecting").await?;
        if let Response::Connected {
            capabilities,
            state,
            error,
        } = response
        {
            self.improv.capabilities.set(Some(capabilities));
            self.improv.state.set(Some(state));
            self.improv.error.set(Some(error));
            if capabilities.offers(improv::Command::DeviceInfo) {
                self.step("Reading its device info");
                self.improv_device_info().await?;
            }
            if state == State::AuthorizationRequired {
                self.improv_authorize("Press the button on the device to authorize this page")
                    .await?;
            }
        }
        self.step_done();
        Ok(())
    }

    /// Device info only describes the device (spec revision 2.1; improv-wifi/sdk-ble-js never
    /// asks for it): when it cannot be read, the panel says why and the flow goes on. A link
    /// that dropped ends the flow here, with the usual failure.
    async fn improv_device_info(self) -> Result<(), SetupFailure> {
        const DURING: &str = "reading device info";
        if let Err(failure) = self.improv_task(DURING, |c, now| c.request_device_info(now)) {
            self.improv.info.set(Some(Err(failure.detail)));
            return Ok(());
        }
        match self.run_improv().await {
            Ok(Response::DeviceInfo(info)) => self.improv.info.set(Some(Ok(info))),
            Ok(_) => {}
            Err((e, ble)) => {
                let failure =
                    SetupFailure::improv(&e, ble.as_ref(), DURING, self.os.get_untracked());
                if ble.is_some_and(|b| b.kind == ErrorKind::Disconnected) {
                    return Err(failure);
                }
                self.improv.info.set(Some(Err(failure.detail)));
            }
        }
        Ok(())
    }

    fn improv_task(
        self,
        during: &str,
        start: impl FnOnce(&mut Client, u64) -> Result<(), ClientError>,
    ) -> Result<(), SetupFailure> {
        let client = self.improv.client.get_value().ok_or_else(|| {
            SetupFailure::improv(&ClientError::Busy, None, during, self.os.get_untracked())
        })?;
        let started = start(&mut client.borrow_mut(), monotonic_ms());
        started.map_err(|e| SetupFailure::improv(&e, None, during, self.os.get_untracked()))
    }

    /// Performs what the client asks for until its task is done; feeds it notifications.
    async fn drive_improv(self, during: &str) -> Result<Response, SetupFailure> {
        self.run_improv().await.map_err(|(e, ble)| {
            SetupFailure::improv(&e, ble.as_ref(), during, self.os.get_untracked())
        })
    }

    /// [`Self::drive_improv`] with the client's own error (and the browser's, for a GATT one).
    async fn run_improv(self) -> Result<Response, (ClientError, Option<BleError>)> {
        let Some(client) = self.improv.client.get_value() else {
            return Err((ClientError::Busy, None));
        };
        let mut last_error: Option<BleError> = None;
        loop {
            self.improv_deliver(&client);
            let action = next(client.borrow().action());
            match action {
                Next::Read(c) => {
                    let result = self.read(gatt(c)).await;
                    let feedback = match &result {
                        Ok(bytes) => Feedback::Read(bytes),
                        Err(e) => Feedback::Failed(e.kind.att_error()),
                    };
                    self.improv_answer(&client, feedback);
                    last_error = result.err().or(last_error);
                }
                Next::Write(c, value) => {
                    let result = self.write(gatt(c), &value).await;
                    let feedback = match &result {
                        Ok(()) => Feedback::Written,
                        Err(e) => Feedback::Failed(e.kind.att_error()),
                    };
                    self.improv_answer(&client, feedback);
                    last_error = result.err().or(last_error);
                }
                Next::Sleep(until) => {
                    while monotonic_ms() < until
                        && self.improv.inbox.with_value(|i| i.borrow().is_empty())
                    {
                        sleep_ms(NOTIFICATION_CHECK_MS.min(until.saturating_sub(monotonic_ms())))
                            .await;
                    }
                    if self.improv.inbox.with_value(|i| i.borrow().is_empty()) {
                        client.borrow_mut().advance(Feedback::Woke, monotonic_ms());
                    }
                }
                Next::Done => break,
            }
            self.improv_show(&client);
        }
        self.improv_show(&client);
        let outcome = client.borrow_mut().take_outcome();
        match outcome {
            Some(Ok(response)) => Ok(response),
            Some(Err(e)) => Err((e, last_error)),
            None => Err((ClientError::Busy, None)),
        }
    }

    /// Waits for a person to press the device's button.
    async fn improv_authorize(self, step: &str) -> Result<(), SetupFailure> {
        self.step(step);
        self.improv_task("authorization", |c, now| c.await_authorization(now))?;
        self.drive_improv("waiting for authorization")
            .await
            .map(drop)
    }

    /// Hands the client the notifications that arrived since it last had them.
    fn improv_deliver(self, client: &Rc<RefCell<Client>>) {
        for (c, value) in self.improv_inbox() {
            client.borrow_mut().notified(c, &value, monotonic_ms());
        }
    }

    /// Hands the client the feedback of its GATT operation, with the notifications that arrived
    /// while the operation was under way.
    fn improv_answer(self, client: &Rc<RefCell<Client>>, feedback: Feedback<'_>) {
        let notes = self.improv_inbox();
        let notes = notes.iter().map(|(c, value)| (*c, value.as_slice()));
        client
            .borrow_mut()
            .advance_after(notes, feedback, monotonic_ms());
    }

    /// The notifications waiting, oldest first; the inbox is left empty.
    fn improv_inbox(self) -> Vec<(improv::Characteristic, Vec<u8>)> {
        self.improv
            .inbox
            .with_value(|i| i.borrow_mut().drain(..).collect())
    }

    fn improv_show(self, client: &Rc<RefCell<Client>>) {
        let client = client.borrow();
        if let Some(state) = client.state() {
            self.improv.state.set(Some(state));
        }
        if let Some(error) = client.error() {
            self.improv.error.set(Some(error));
        }
        self.improv.notifications.set(client.notifications_seen());
    }

    /// Makes the device identify itself (blink or beep).
    pub fn improv_identify(self) {
        self.run("Identify", |s| async move {
            s.step("Asking the device to identify itself");
            s.improv_task("identify", |c, now| c.identify(now))?;
            s.drive_improv("identify").await?;
            s.step_done();
            Ok(())
        });
    }

    /// Asks the device which networks it sees.
    pub fn improv_scan(self) {
        self.run("Scan for networks", |s| async move {
            s.step("The device scans for Wi-Fi networks (a few seconds)");
            s.improv_task("scanning", |c, now| c.scan_wifi(now))?;
            if let Response::Networks(networks) = s.drive_improv("scanning").await? {
                s.improv.networks.set(networks);
            }
            s.step_done();
            Ok(())
        });
    }

    /// Sends the Wi-Fi credentials and follows the device to "provisioned". A network the scan
    /// lists as open is sent without a password; one it lists as secured needs a password, and
    /// nothing is sent without one.
    pub fn improv_send(self, ssid: &str, password: &str) {
        let password = match self
            .improv
            .networks
            .with_untracked(|n| password_need(n, ssid))
        {
            PasswordNeed::Open => "",
            PasswordNeed::Required { auth, .. } if password.is_empty() => {
                return self.refuse(SetupFailure::new(
                    "This network needs a password",
                    // Both come from the device's scan: shown as printable text.
                    format!(
                        "The device's scan lists {} as secured ({}): type its Wi-Fi password, \
                         then connect.",
                        printable(ssid),
                        printable(&auth)
                    ),
                    "sending Wi-Fi settings",
                    "no password for a secured network; nothing was sent",
                ));
            }
            PasswordNeed::Required { .. } | PasswordNeed::Unknown => password,
        };
        let security = self
            .improv
            .networks
            .with_untracked(|n| scanned(n, ssid).map_or(Security::Unknown, Network::security));
        if let Err(e) = wifi::check_password(password.as_bytes(), security) {
            return self.refuse(SetupFailure::new(
                "This password does not fit the network",
                format!("Check the password, then connect: {e}."),
                "sending Wi-Fi settings",
                format!("the password: {e}; nothing was sent"),
            ));
        }
        let credentials =
            match Credentials::new(ssid.as_bytes().to_vec(), password.as_bytes().to_vec()) {
                Ok(c) => c,
                Err(e) => {
                    return self.refuse(SetupFailure::new(
                        "The network name or password does not fit",
                        "A network name has 1 to 32 bytes; name and password together at most 253.",
                        "sending Wi-Fi settings",
                        e.to_string(),
                    ));
                }
            };
        self.steps.set(Vec::new());
        self.run("Connect to Wi-Fi", move |s| {
            let credentials = credentials.clone();
            async move {
                const DURING: &str = "sending Wi-Fi settings";
                s.improv.provisioned.set(None);
                let send = |credentials: Credentials| async move {
                    s.step("Sending the Wi-Fi settings; the device joins the network");
                    s.improv_task(DURING, |c, now| c.send_wifi(credentials, now))?;
                    Ok::<_, SetupFailure>(s.run_improv().await)
                };
                let response = match send(credentials.clone()).await? {
                    // An authorization lasts a minute on ESPHome (`authorized_duration`,
                    // esphome.io/components/esp32_improv), less than typing a password may take:
                    // wait for the button again and send once more, rather than failing.
                    Err((ClientError::AuthorizationRequired, _))
                    | Err((ClientError::Device(ErrorCode::NotAuthorized), _)) => {
                        s.improv_authorize(
                            "The device's authorization ran out: press its button again",
                        )
                        .await?;
                        send(credentials).await?
                    }
                    other => other,
                };
                let response = response.map_err(|(e, ble)| {
                    SetupFailure::improv(&e, ble.as_ref(), DURING, s.os.get_untracked())
                })?;
                if let Response::Provisioned {
                    redirect,
                    redirect_error,
                } = response
                {
                    let listed = s.improv.client.with_value(|c| {
                        c.as_ref()
                            .map(|c| c.borrow().redirects())
                            .unwrap_or_default()
                    });
                    s.improv.also.set(
                        listed
                            .into_iter()
                            .filter(|u| Some(u) != redirect.as_ref())
                            .map(|u| u.as_str().to_owned())
                            .collect(),
                    );
                    s.improv.provisioned.set(Some(match redirect_error {
                        Some(e @ improv::rpc::Error::UnsafeUrl { .. }) => Err(format!(
                            "The device's address is not a plain http(s) link, so it is not \
                             offered: {e}"
                        )),
                        Some(e) => Err(format!(
                            "The device's address did not arrive whole (older ESPHome versions \
                             send only its first bytes), so none is offered: {e}"
                        )),
                        None => Ok(redirect.map(|r| r.as_str().to_owned())),
                    }));
                }
                s.step_done();
                Ok(())
            }
        });
    }
}

/// An owned copy of the client's next action (the client is borrowed only briefly).
enum Next {
    Read(improv::Characteristic),
    Write(improv::Characteristic, Vec<u8>),
    Sleep(u64),
    Done,
}

fn next(action: Action<'_, improv::Characteristic>) -> Next {
    match action {
        Action::Read { characteristic } => Next::Read(characteristic),
        Action::Write {
            characteristic,
            value,
        } => Next::Write(characteristic, value.to_vec()),
        Action::Sleep { until_ms } => Next::Sleep(until_ms),
        Action::Done => Next::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluehome_core::improv::rpc::Auth;

    fn network(ssid: &str, auth: Vec<Auth>) -> Network {
        Network {
            ssid: ssid.as_bytes().to_vec(),
            rssi: Some(-60),
            auth,
        }
    }

    /// A password is asked for where the scan says the network is secured, not where it says it
    /// is open; where the scan does not list it, or listed it without its authentication (a
    /// result cut short), the password is optional.
    #[test]
    fn the_password_is_needed_as_the_scan_says() {
        let mut cut = network("Cut", vec![]);
        cut.rssi = None;
        let networks = [
            network("Home", vec![Auth::Wpa2]),
            network("Cafe", vec![Auth::Open]),
            cut,
        ];
        assert_eq!(
            password_need(&networks, "Home"),
            PasswordNeed::Required {
                auth: "WPA2".into(),
                rule: Some("8 to 63 characters, or the key as 64 hex digits")
            }
        );
        assert_eq!(password_need(&networks, "Cafe"), PasswordNeed::Open);
        assert_eq!(password_need(&networks, "Cut"), PasswordNeed::Unknown);
        assert_eq!(password_need(&networks, "Hidden"), PasswordNeed::Unknown);
    }
}
