//! Any response body of any API at any version: what decodes must re-encode to itself.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    klamm_fuzz_checks::check_response(data);
});
