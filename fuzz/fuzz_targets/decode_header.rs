//! Request and response headers at every version: what decodes must re-encode to itself.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    klamm_fuzz_checks::check_header(data);
});
