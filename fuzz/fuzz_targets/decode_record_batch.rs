//! A `records` field of v2 record batches: the batches that decode must re-encode to themselves.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    klamm_fuzz_checks::check_record_batches(data);
});
