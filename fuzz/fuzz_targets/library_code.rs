#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockwatch::testkit::fuzz::library_code(data));
