//! What the status codes of a failed GSS-API call say about retrying it.
//!
//! MIT Kerberos reports a failed call as a GSS major status (RFC 2744) plus a minor status: the
//! Kerberos error code from MIT's `krb5` com_err table, whose base is -1765328384, i.e.
//! `0x96c7_3a00` as an `OM_uint32`. A few of those codes mean the KDC could not be reached or
//! could not serve the request for the moment; every other failure (no key for the principal,
//! an unknown client or service principal, a wrong password, clock skew, policy, a missing
//! library) comes back unchanged on a retry.
//!
//! MIT reports a KDC that times out (rather than refusing the connection) with
//! [`KRB5_KDC_UNREACH`] as well, after its own retries. A KDC that never answers within
//! `request_timeout` ends the exchange with `NetError::Timeout` before that, which is
//! retriable too.

use super::ffi::{self, OmUint32};

/// `KRB5KDC_ERR_SVC_UNAVAILABLE` (KDC error 29): "A service is not available that is required
/// to process the request" — the KDC answered but its database or a back end is unavailable.
pub(crate) const KRB5KDC_ERR_SVC_UNAVAILABLE: OmUint32 = 0x96c7_3a1d;
/// `KRB5_KDC_UNREACH`: "Cannot contact any KDC for requested realm" — every KDC of the realm
/// refused the connection or did not answer in time.
pub(crate) const KRB5_KDC_UNREACH: OmUint32 = 0x96c7_3a9c;
/// `KRB5_REALM_CANT_RESOLVE`: "Cannot resolve network address for KDC in requested realm" —
/// the KDC's host name did not resolve (a resolver failure, like `NetError::Resolve`).
pub(crate) const KRB5_REALM_CANT_RESOLVE: OmUint32 = 0x96c7_3adc;

/// The minor codes after which a new attempt may succeed.
const TRANSIENT_MINOR_CODES: [OmUint32; 3] = [
    KRB5_KDC_UNREACH,
    KRB5KDC_ERR_SVC_UNAVAILABLE,
    KRB5_REALM_CANT_RESOLVE,
];

/// The calling-error bits of a major status: the caller passed something unusable.
const CALLING_ERROR_MASK: OmUint32 = 0xff00_0000;

/// Whether a call that failed with `major` / `minor` may succeed when tried again: a routine
/// error (not a calling error) whose Kerberos minor code says the KDC was out of reach.
pub(crate) fn is_transient(major: OmUint32, minor: OmUint32) -> bool {
    ffi::is_error(major)
        && major & CALLING_ERROR_MASK == 0
        && TRANSIENT_MINOR_CODES.contains(&minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GSS_S_FAILURE`: what MIT returns with a Kerberos minor code.
    const GSS_S_FAILURE: OmUint32 = 0x000d_0000;
    /// `GSS_S_NO_CRED`: what `gss_acquire_cred*` returns.
    const GSS_S_NO_CRED: OmUint32 = 0x0007_0000;
    /// `KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN` (KDC error 6).
    const CLIENT_UNKNOWN: OmUint32 = 0x96c7_3a06;
    /// `KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN` (KDC error 7).
    const SERVICE_UNKNOWN: OmUint32 = 0x96c7_3a07;
    /// `KRB5KDC_ERR_PREAUTH_FAILED` (KDC error 24): the wrong key or password.
    const PREAUTH_FAILED: OmUint32 = 0x96c7_3a18;
    /// `KRB5KRB_AP_ERR_SKEW` (error 37).
    const CLOCK_SKEW: OmUint32 = 0x96c7_3a25;
    /// `KRB5_KT_NOTFOUND`: no key for the principal in the keytab.
    const KEYTAB_ENTRY_NOT_FOUND: OmUint32 = 0x96c7_3ab5;
    /// `ENOENT`: MIT passes errno values through as minor codes (a missing keytab file).
    const ENOENT: OmUint32 = 2;

    #[test]
    fn unreachable_or_unavailable_kdc_is_transient() {
        for minor in [
            KRB5_KDC_UNREACH,
            KRB5KDC_ERR_SVC_UNAVAILABLE,
            KRB5_REALM_CANT_RESOLVE,
        ] {
            assert!(is_transient(GSS_S_FAILURE, minor), "{minor:#x}");
            assert!(is_transient(GSS_S_NO_CRED, minor), "{minor:#x}");
        }
    }

    #[test]
    fn wrong_credentials_and_unknown_principals_are_not_transient() {
        for minor in [
            CLIENT_UNKNOWN,
            SERVICE_UNKNOWN,
            PREAUTH_FAILED,
            CLOCK_SKEW,
            KEYTAB_ENTRY_NOT_FOUND,
            ENOENT,
            0,
        ] {
            assert!(!is_transient(GSS_S_FAILURE, minor), "{minor:#x}");
            assert!(!is_transient(GSS_S_NO_CRED, minor), "{minor:#x}");
        }
    }

    #[test]
    fn only_routine_errors_are_transient() {
        // GSS_S_COMPLETE and GSS_S_CONTINUE_NEEDED are not failures at all.
        assert!(!is_transient(0, KRB5_KDC_UNREACH));
        assert!(!is_transient(ffi::GSS_S_CONTINUE_NEEDED, KRB5_KDC_UNREACH));
        // GSS_S_CALL_BAD_STRUCTURE: our call was malformed; the same call fails again.
        assert!(!is_transient(0x0300_0000, KRB5_KDC_UNREACH));
        assert!(!is_transient(0x0300_0000 | GSS_S_FAILURE, KRB5_KDC_UNREACH));
    }
}
