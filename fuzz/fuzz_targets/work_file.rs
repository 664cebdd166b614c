#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lockwatch::testkit::fuzz::work_file(data));
