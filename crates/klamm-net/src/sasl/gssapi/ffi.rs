//! The dozen GSS-API (RFC 2744) functions the exchange needs, from the system's MIT Kerberos
//! library, opened at run time with `libloading` (so building needs no Kerberos headers and a
//! machine without the library gets a typed error, not a link failure).
//!
//! The declarations follow MIT's `<gssapi/gssapi.h>` and `<gssapi/gssapi_ext.h>` for LP64 Unix:
//! `OM_uint32` is `u32`, `size_t` is `usize`, handles are opaque pointers. Only this module and
//! `system` contain `unsafe`.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

use libloading::Library;

use super::GssapiError;

/// `OM_uint32`.
pub(crate) type OmUint32 = u32;
/// `gss_name_t`, `gss_ctx_id_t`, `gss_cred_id_t`: opaque handles; null is "none".
pub(crate) type Handle = *mut c_void;

/// `gss_buffer_desc`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct BufferDesc {
    pub(crate) length: usize,
    pub(crate) value: *mut c_void,
}

impl BufferDesc {
    /// An empty buffer for the library to fill (`GSS_C_EMPTY_BUFFER`).
    pub(crate) fn empty() -> Self {
        BufferDesc {
            length: 0,
            value: std::ptr::null_mut(),
        }
    }

    /// A buffer describing `bytes`, which must outlive every use of the descriptor. The library
    /// only reads input buffers; the `*mut` is the C declaration's, not a licence to write.
    pub(crate) fn borrowing(bytes: &[u8]) -> Self {
        BufferDesc {
            length: bytes.len(),
            value: bytes.as_ptr() as *mut c_void,
        }
    }
}

/// `gss_OID_desc`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct OidDesc {
    pub(crate) length: OmUint32,
    pub(crate) elements: *mut c_void,
}

impl OidDesc {
    /// An OID descriptor over DER-encoded `elements` (which must outlive it; read only).
    pub(crate) fn new(elements: &'static [u8]) -> Self {
        OidDesc {
            length: elements.len() as OmUint32,
            elements: elements.as_ptr() as *mut c_void,
        }
    }
}

/// `gss_key_value_element_desc` (MIT extension, for `gss_acquire_cred_from`).
#[repr(C)]
#[derive(Debug)]
pub(crate) struct KeyValueElement {
    pub(crate) key: *const c_char,
    pub(crate) value: *const c_char,
}

/// `gss_key_value_set_desc`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct KeyValueSet {
    pub(crate) count: OmUint32,
    pub(crate) elements: *mut KeyValueElement,
}

/// 1.2.840.113554.1.2.2: the Kerberos V5 mechanism.
pub(crate) const MECH_KRB5: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
/// 1.2.840.113554.1.2.1.4: `GSS_C_NT_HOSTBASED_SERVICE` (`service@host`).
pub(crate) const NT_HOSTBASED_SERVICE: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04";
/// 1.2.840.113554.1.2.2.1: `GSS_KRB5_NT_PRINCIPAL_NAME` (`name/instance@REALM`).
pub(crate) const NT_KRB5_PRINCIPAL: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01";

pub(crate) const GSS_C_MUTUAL_FLAG: OmUint32 = 2;
pub(crate) const GSS_C_SEQUENCE_FLAG: OmUint32 = 8;
pub(crate) const GSS_C_INTEG_FLAG: OmUint32 = 32;
pub(crate) const GSS_C_INITIATE: c_int = 1;
pub(crate) const GSS_C_GSS_CODE: c_int = 1;
pub(crate) const GSS_C_MECH_CODE: c_int = 2;
pub(crate) const GSS_S_CONTINUE_NEEDED: OmUint32 = 1;
/// `GSS_C_INDEFINITE`: no particular lifetime asked for.
pub(crate) const GSS_C_INDEFINITE: OmUint32 = 0xffff_ffff;

/// `GSS_ERROR(x)`: a calling or routine error, as opposed to supplementary information.
pub(crate) const fn is_error(major: OmUint32) -> bool {
    major & 0xffff_0000 != 0
}

type ImportName =
    unsafe extern "C" fn(*mut OmUint32, *mut BufferDesc, *mut OidDesc, *mut Handle) -> OmUint32;
type ReleaseHandle = unsafe extern "C" fn(*mut OmUint32, *mut Handle) -> OmUint32;
type ReleaseBuffer = unsafe extern "C" fn(*mut OmUint32, *mut BufferDesc) -> OmUint32;
type DisplayName =
    unsafe extern "C" fn(*mut OmUint32, Handle, *mut BufferDesc, *mut *mut OidDesc) -> OmUint32;
type DisplayStatus = unsafe extern "C" fn(
    *mut OmUint32,
    OmUint32,
    c_int,
    *mut OidDesc,
    *mut OmUint32,
    *mut BufferDesc,
) -> OmUint32;
type AcquireCred = unsafe extern "C" fn(
    *mut OmUint32,
    Handle,
    OmUint32,
    *mut c_void,
    c_int,
    *mut Handle,
    *mut *mut c_void,
    *mut OmUint32,
) -> OmUint32;
type AcquireCredFrom = unsafe extern "C" fn(
    *mut OmUint32,
    Handle,
    OmUint32,
    *mut c_void,
    c_int,
    *const KeyValueSet,
    *mut Handle,
    *mut *mut c_void,
    *mut OmUint32,
) -> OmUint32;
type InitSecContext = unsafe extern "C" fn(
    *mut OmUint32,
    Handle,
    *mut Handle,
    Handle,
    *mut OidDesc,
    OmUint32,
    OmUint32,
    *mut c_void,
    *mut BufferDesc,
    *mut *mut OidDesc,
    *mut BufferDesc,
    *mut OmUint32,
    *mut OmUint32,
) -> OmUint32;
type DeleteSecContext =
    unsafe extern "C" fn(*mut OmUint32, *mut Handle, *mut BufferDesc) -> OmUint32;
type InquireContext = unsafe extern "C" fn(
    *mut OmUint32,
    Handle,
    *mut Handle,
    *mut Handle,
    *mut OmUint32,
    *mut *mut OidDesc,
    *mut OmUint32,
    *mut c_int,
    *mut c_int,
) -> OmUint32;
type Wrap = unsafe extern "C" fn(
    *mut OmUint32,
    Handle,
    c_int,
    OmUint32,
    *mut BufferDesc,
    *mut c_int,
    *mut BufferDesc,
) -> OmUint32;
type Unwrap = unsafe extern "C" fn(
    *mut OmUint32,
    Handle,
    *mut BufferDesc,
    *mut BufferDesc,
    *mut c_int,
    *mut OmUint32,
) -> OmUint32;

/// The loaded library and its entry points. Lives in a `static` once loaded, so the function
/// pointers never outlive the mapping they point into.
pub(crate) struct GssLibrary {
    pub(crate) import_name: ImportName,
    pub(crate) release_name: ReleaseHandle,
    pub(crate) release_buffer: ReleaseBuffer,
    pub(crate) display_name: DisplayName,
    pub(crate) display_status: DisplayStatus,
    pub(crate) acquire_cred: AcquireCred,
    /// MIT 1.11+ only; needed for `sasl_kerberos_keytab`.
    pub(crate) acquire_cred_from: Option<AcquireCredFrom>,
    pub(crate) release_cred: ReleaseHandle,
    pub(crate) init_sec_context: InitSecContext,
    pub(crate) delete_sec_context: DeleteSecContext,
    pub(crate) inquire_context: InquireContext,
    pub(crate) wrap: Wrap,
    pub(crate) unwrap: Unwrap,
    _library: Library,
}

impl std::fmt::Debug for GssLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssLibrary").finish_non_exhaustive()
    }
}

/// The library loaded by default: MIT Kerberos' GSS-API, soname of every Linux distribution.
pub const DEFAULT_LIBRARY: &str = "libgssapi_krb5.so.2";
/// Environment variable naming another library file (e.g. a full path) to load instead.
pub const LIBRARY_ENV_VAR: &str = "KLAMM_GSSAPI_LIBRARY";

/// The process-wide library: `$KLAMM_GSSAPI_LIBRARY` or [`DEFAULT_LIBRARY`], loaded on first use
/// and never unloaded. A failure is remembered (and returned again) for the process's lifetime.
pub(crate) fn library() -> Result<&'static GssLibrary, GssapiError> {
    static LIBRARY: OnceLock<Result<GssLibrary, GssapiError>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let name = std::env::var(LIBRARY_ENV_VAR)
                .ok()
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| DEFAULT_LIBRARY.to_owned());
            GssLibrary::load(&name)
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl GssLibrary {
    /// Opens `name` and looks up every entry point.
    pub(crate) fn load(name: &str) -> Result<Self, GssapiError> {
        let unavailable = |reason: String| GssapiError::LibraryUnavailable {
            library: name.to_owned(),
            reason,
        };
        // SAFETY: opening a shared library runs its initialisers. libgssapi_krb5's are MIT's
        // ordinary library set-up (error tables, mutexes), safe to run on any thread at any
        // time; a file that is not a GSS-API library fails the symbol look-ups below.
        let library =
            unsafe { Library::new(name) }.map_err(|error| unavailable(error.to_string()))?;
        macro_rules! symbol {
            ($name:literal) => {
                // SAFETY: the type is the C prototype from MIT's gssapi.h for this symbol,
                // transcribed in the type aliases above; the pointer is copied out and used
                // only while `library` (kept in the same struct) stays loaded.
                *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                    .map_err(|error| unavailable(format!("{}: {error}", $name)))?
            };
        }
        Ok(GssLibrary {
            import_name: symbol!("gss_import_name"),
            release_name: symbol!("gss_release_name"),
            release_buffer: symbol!("gss_release_buffer"),
            display_name: symbol!("gss_display_name"),
            display_status: symbol!("gss_display_status"),
            acquire_cred: symbol!("gss_acquire_cred"),
            // SAFETY: as in `symbol!`; the prototype is MIT's gssapi_ext.h.
            acquire_cred_from: unsafe {
                library.get::<AcquireCredFrom>(b"gss_acquire_cred_from\0")
            }
            .ok()
            .map(|symbol| *symbol),
            release_cred: symbol!("gss_release_cred"),
            init_sec_context: symbol!("gss_init_sec_context"),
            delete_sec_context: symbol!("gss_delete_sec_context"),
            inquire_context: symbol!("gss_inquire_context"),
            wrap: symbol!("gss_wrap"),
            unwrap: symbol!("gss_unwrap"),
            _library: library,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_a_typed_error_naming_it() {
        let error = GssLibrary::load("libklamm-no-such-gssapi.so.9").unwrap_err();
        match &error {
            GssapiError::LibraryUnavailable { library, reason } => {
                assert_eq!(library, "libklamm-no-such-gssapi.so.9");
                assert!(!reason.is_empty());
            }
            other => panic!("{other}"),
        }
        assert!(error.to_string().contains("libklamm-no-such-gssapi.so.9"));
    }

    #[test]
    fn a_library_without_the_gss_api_is_refused() {
        // libc exists everywhere and exports none of the gss_* functions.
        let error = GssLibrary::load("libc.so.6").unwrap_err();
        assert!(error.to_string().contains("gss_import_name"), "{error}");
    }

    #[test]
    fn error_mask_separates_errors_from_supplementary_bits() {
        assert!(!is_error(0)); // GSS_S_COMPLETE
        assert!(!is_error(GSS_S_CONTINUE_NEEDED));
        assert!(is_error(0x000d_0000)); // GSS_S_NO_CRED
        assert!(is_error(0x0100_0000)); // GSS_S_CALL_INACCESSIBLE_READ
    }
}
