//! Fuzzes the pack parser the emulator runs on untrusted upload bodies: it must never panic,
//! never read out of bounds, and whatever it accepts must pack back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mp_release_core::upload::pack::{pack, unpack};

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = unpack(data) {
        // Accepted packs round-trip when their bodies are laid out in index order without gaps
        // (the only layout `pack` produces); either way re-packing must not fail.
        let again = pack(&entries).expect("an accepted pack re-packs");
        let back = unpack(&again).expect("a re-packed pack unpacks");
        assert_eq!(back, entries);
    }
});
