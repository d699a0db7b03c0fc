//! Decoding speed: the public vectors' advertisements decoded in a loop, in ns per advertisement.
//!
//! Native: `cargo bench -p bluehome-core --bench decode`.
//! WebAssembly (wasm32-wasip1, run by Node's WASI): `crates/bluehome-core/benches/wasm.sh`.
//!
//! Groups: plain v2 (every plain, error-free v2 vector), encrypted (every encrypted vector whose
//! key and MAC decrypt it, v1 and v2), plus two single advertisements (a plain and an encrypted one).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bluehome_core::bthome::{self, BindKey, ReceiverState};
use bluehome_core::{MacAddress, Uuid};
use serde_json::Value;

#[path = "../tests/public_vectors/mod.rs"]
mod public_vectors;

/// The vectors, embedded so the wasm build needs no file system.
const VECTORS: &str = include_str!("../tests/data/bthome_public.json");

struct Case {
    uuid: Uuid,
    data: Vec<u8>,
    mac: Option<MacAddress>,
    key: Option<BindKey>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn cases() -> (Vec<Case>, Vec<Case>) {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let (mut plain, mut encrypted) = (Vec::new(), Vec::new());
    for v in public_vectors::every_vector(&all) {
        let Some(data) = v["service_data_hex"].as_str() else {
            continue;
        };
        let case = Case {
            uuid: v["service_uuid"].as_str().unwrap().parse().unwrap(),
            data: hex(data),
            mac: v["mac"].as_str().and_then(|m| m.parse().ok()),
            key: v["bindkey_hex"].as_str().and_then(|k| k.parse().ok()),
        };
        let packet = bthome::decode(case.uuid, &case.data, case.mac, case.key.as_ref());
        let Some(header) = packet.header else {
            continue;
        };
        if !packet.is_ok() || packet.objects.is_empty() {
            continue;
        }
        if header.encrypted {
            encrypted.push(case);
        } else if header.version == 2 {
            plain.push(case);
        }
    }
    (plain, encrypted)
}

/// Decodes every case repeatedly for about `budget`; returns ns per advertisement.
fn measure(cases: &[Case], budget: Duration) -> f64 {
    let run = |rounds: u32| {
        let start = Instant::now();
        for _ in 0..rounds {
            for c in cases {
                black_box(bthome::decode(
                    black_box(c.uuid),
                    black_box(&c.data),
                    c.mac,
                    c.key.as_ref(),
                ));
            }
        }
        start.elapsed()
    };
    let mut rounds = 1;
    while run(rounds) < budget / 10 {
        rounds *= 2;
    }
    let elapsed = run(rounds * 10);
    elapsed.as_nanos() as f64 / (f64::from(rounds * 10) * cases.len() as f64)
}

fn one(uuid: Uuid, data: &str, mac: Option<&str>, key: Option<&str>) -> Case {
    Case {
        uuid,
        data: hex(data),
        mac: mac.map(|m| m.parse().unwrap()),
        key: key.map(|k| k.parse().unwrap()),
    }
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let budget = Duration::from_millis(if quick { 20 } else { 1_000 });
    let (plain, encrypted) = cases();
    assert!(
        plain.len() > 100 && encrypted.len() > 10,
        "{} / {}",
        plain.len(),
        encrypted.len()
    );

    let target = if cfg!(target_family = "wasm") {
        "wasm"
    } else {
        "native"
    };
    println!(
        "bluehome-core decode benchmark ({target}, {} ms per group)",
        budget.as_millis()
    );
    let p = measure(&plain, budget);
    println!(
        "  plain v2 vectors      {:>4} advertisements  {p:>8.1} ns/adv  (target ≤ 150 ns native)",
        plain.len()
    );
    let e = measure(&encrypted, budget);
    println!(
        "  encrypted vectors     {:>4} advertisements  {e:>8.1} ns/adv  (target ≤ 1000 ns native)",
        encrypted.len()
    );
    let th = [one(Uuid::BTHOME_V2, "4002ca0903bf13", None, None)];
    println!(
        "  4002ca0903bf13 (temperature + humidity)          {:>8.1} ns/adv",
        measure(&th, budget)
    );
    let button = [one(
        Uuid::BTHOME_V2,
        "450aeb84467f85ba0100003188788c",
        Some("B4:35:22:F5:3D:A4"),
        Some("90bffd73cb6b26ef58a7a8eba9232036"),
    )];
    println!(
        "  Shelly BLU Button1, encrypted                      {:>8.1} ns/adv",
        measure(&button, budget)
    );

    // The stateful path the manager uses: one receiver, increasing packet ids.
    let mut state = ReceiverState::new(None);
    let mut data = hex("40000001640245090301c213");
    let rounds: u32 = if quick { 10_000 } else { 2_000_000 };
    let start = Instant::now();
    for i in 0..rounds {
        data[2] = i as u8;
        black_box(state.receive(Uuid::BTHOME_V2, black_box(&data), None, u64::from(i)));
    }
    let r = start.elapsed().as_nanos() as f64 / f64::from(rounds);
    println!("  ReceiverState::receive, plain, packet id rising      {r:>8.1} ns/adv");
}
