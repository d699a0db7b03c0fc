//! GATT cost of Shelly RPC calls: operations and bytes per call, through the real client against
//! the simulated gateway (`cargo bench -p bluehome-core --features sim --bench shelly_rpc`).
//!
//! Calls: `Shelly.GetDeviceInfo`, `WiFi.Scan`, and `BLE.CloudRelay.ListInfos` fetched in 20 pages
//! (40 simulated BLU devices, 2 per page), each with 512- and 20-byte write chunks, at ATT MTU 247
//! (reads of 245 bytes) and 23 (reads of 21 bytes). Every GATT operation counts (control writes,
//! `rx_ctl` reads, data reads and writes); sleeps are not operations. CPU time per call is printed
//! too (the simulator's work included; for the "all" row, the whole 20-page fetch).

use std::time::Instant;

use bluehome_core::shelly::methods::{Method, Pager, ble, shelly, wifi};
use bluehome_core::shelly::rpc::client::{Call, Client, Options, Stats};
use bluehome_core::sim::{
    Faults, Gateway, GatewayOptions, Peripheral, SensorKind, SensorSpec, SimSensor,
};

struct Link {
    p: Peripheral,
    now: u64,
}

impl Link {
    fn new(mtu: u16) -> Self {
        let kinds = [
            SensorKind::Button,
            SensorKind::HumidityTemperature,
            SensorKind::DoorWindow,
            SensorKind::Motion,
        ];
        let sensors = (0..40u8)
            .map(|i| {
                SimSensor::new(SensorSpec::numbered(
                    kinds[usize::from(i % 4)],
                    i,
                    i % 3 == 0,
                ))
            })
            .collect();
        let options = GatewayOptions {
            relay_page_size: 2,
            ..GatewayOptions::default()
        };
        let mut p = Peripheral::new(Gateway::new(options, sensors), mtu, Faults::default());
        p.connect("BE:NC:H0:00:00:01", 0);
        p.sync(70_000);
        Self { p, now: 70_000 }
    }

    fn drive(&mut self, call: &mut Call) {
        self.p
            .run_call(call, &mut self.now, 0, 1_000_000)
            .expect("call finished");
    }

    fn call<M: Method>(&mut self, client: &mut Client, params: &M::Params) -> (M::Result, Stats) {
        let mut call = client.call_method::<M>(params, 1, self.now);
        self.drive(&mut call);
        let result = client.finish_method::<M>(call).expect("call succeeds");
        (result, client.last_stats())
    }
}

fn add(a: Stats, b: Stats) -> Stats {
    Stats {
        gatt_ops: a.gatt_ops + b.gatt_ops,
        bytes_written: a.bytes_written + b.bytes_written,
        bytes_read: a.bytes_read + b.bytes_read,
    }
}

fn row(name: &str, mtu: u16, chunk: usize, calls: u32, s: Stats, micros: f64) {
    println!(
        "{name:<34} {mtu:>4} {chunk:>6} {calls:>6} {:>8} {:>10} {:>10} {micros:>12.1}",
        s.gatt_ops, s.bytes_written, s.bytes_read
    );
}

fn main() {
    const RUNS: u32 = 200;
    println!(
        "{:<34} {:>4} {:>6} {:>6} {:>8} {:>10} {:>10} {:>12}",
        "call", "mtu", "chunk", "calls", "gatt_ops", "written", "read", "cpu_us"
    );
    for mtu in [247u16, 23] {
        for chunk in [512usize, 20] {
            let options = Options {
                chunk_size: chunk,
                ..Options::default()
            };

            let mut link = Link::new(mtu);
            let mut client = Client::with_options("bench", 1, options.clone());
            let start = Instant::now();
            let mut stats = Stats::default();
            for _ in 0..RUNS {
                stats = link
                    .call::<shelly::GetDeviceInfo>(&mut client, &Default::default())
                    .1;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(RUNS);
            row("Shelly.GetDeviceInfo", mtu, chunk, 1, stats, us);

            let start = Instant::now();
            for _ in 0..RUNS {
                let (r, s) = link.call::<wifi::Scan>(&mut client, &());
                assert_eq!(r.results.len(), 3);
                stats = s;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(RUNS);
            row("WiFi.Scan (3 networks)", mtu, chunk, 1, stats, us);

            let start = Instant::now();
            let mut total = Stats::default();
            let mut pages = 0;
            for run in 0..RUNS {
                let mut pager = Pager::<ble::CloudRelayListInfos>::new(Default::default(), 100);
                let mut sum = Stats::default();
                while let Some(params) = pager.next_params() {
                    let (r, s) = link.call::<ble::CloudRelayListInfos>(&mut client, &params);
                    pager.add(r).expect("pages add up");
                    sum = add(sum, s);
                }
                pages = pager.pages();
                assert_eq!(pager.into_items().len(), 40);
                if run == 0 {
                    total = sum;
                }
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(RUNS) / f64::from(pages);
            row(
                "BLE.CloudRelay.ListInfos (all)",
                mtu,
                chunk,
                pages,
                total,
                us * f64::from(pages),
            );
            let per_page = Stats {
                gatt_ops: total.gatt_ops / pages,
                bytes_written: total.bytes_written / pages as usize,
                bytes_read: total.bytes_read / pages as usize,
            };
            row("  per page", mtu, chunk, 1, per_page, us);
        }
    }
}
