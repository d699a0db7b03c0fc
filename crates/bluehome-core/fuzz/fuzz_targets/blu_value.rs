//! Shelly BLU characteristic values: any bytes, as any characteristic, never panic; an error points
//! inside the value; a value that decodes encodes back to bytes that decode to the same value.
#![no_main]

use bluehome_core::blu::{Characteristic, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let all = Characteristic::ALL;
    let c = all[usize::from(which) % all.len()];
    match c.decode(bytes) {
        Ok(Value::Key(None)) => assert!(bytes.iter().all(|&b| b == 0)),
        Ok(value) => {
            let again = c.encode(&value).expect("a decoded value encodes");
            assert_eq!(c.decode(&again).as_ref(), Ok(&value));
        }
        Err(e) => {
            assert!(e.offset() <= bytes.len().max(16), "{e}");
            assert_eq!(e.characteristic(), c);
            let _ = e.to_string();
        }
    }
});
