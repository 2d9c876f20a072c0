//! [`MitContext`]: the [`SecurityContext`] of the system's MIT Kerberos library, with an owner
//! for every handle and buffer the library hands out (released in `Drop`), and status codes
//! turned into text with `gss_display_status`.
//!
//! The handles are raw pointers, so `MitContext` is neither `Send` nor `Sync`: it is created,
//! used and dropped on the one worker thread of its exchange (see the parent module).
#![deny(clippy::undocumented_unsafe_blocks)]

use std::ffi::CString;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::ptr::null_mut;

use super::client::SecurityContext;
use super::ffi::{
    self, BufferDesc, GssLibrary, Handle, KeyValueElement, KeyValueSet, OidDesc, OmUint32,
};
use super::{GssapiConfig, GssapiError};

/// Flags asked of `gss_init_sec_context`: the broker proves its identity too (mutual), and
/// wrapped messages are integrity-protected and ordered.
const REQUESTED_FLAGS: OmUint32 =
    ffi::GSS_C_MUTUAL_FLAG | ffi::GSS_C_SEQUENCE_FLAG | ffi::GSS_C_INTEG_FLAG;

/// An initiator's security context with one broker service.
pub(crate) struct MitContext {
    lib: &'static GssLibrary,
    target: Name,
    target_text: String,
    credential: Option<Credential>,
    /// `GSS_C_NO_CONTEXT` (null) until the first `gss_init_sec_context`.
    context: Handle,
}

impl std::fmt::Debug for MitContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MitContext")
            .field("target", &self.target_text)
            .field("own_credential", &self.credential.is_some())
            .field("started", &!self.context.is_null())
            .finish()
    }
}

impl MitContext {
    /// Loads the library, names the service `target` (`service@host`) and acquires the
    /// credential `config` asks for (or none: the library's defaults, i.e. `KRB5CCNAME`, then
    /// the client keytab `KRB5_CLIENT_KTNAME`).
    pub(crate) fn new(config: &GssapiConfig, target: &str) -> Result<Self, GssapiError> {
        let lib = ffi::library()?;
        let target_name = Name::import(lib, target, ffi::NT_HOSTBASED_SERVICE)?;
        let credential = Credential::acquire(lib, config)?;
        Ok(MitContext {
            lib,
            target: target_name,
            target_text: target.to_owned(),
            credential,
            context: null_mut(),
        })
    }
}

impl SecurityContext for MitContext {
    fn initiate(&mut self, server_token: Option<&[u8]>) -> Result<(Vec<u8>, bool), GssapiError> {
        let lib = self.lib;
        let mut minor: OmUint32 = 0;
        let mut input = server_token.map(BufferDesc::borrowing);
        let input_ptr = input
            .as_mut()
            .map_or(null_mut(), |input| input as *mut BufferDesc);
        let mut mech = OidDesc::new(ffi::MECH_KRB5);
        let mut output = OwnedBuffer::new(lib);
        let mut returned_flags: OmUint32 = 0;
        let credential = self.credential.as_ref().map_or(null_mut(), |c| c.handle);
        // SAFETY: every pointer is to a live local or field of the right C type; `input`, when
        // given, describes `server_token`, which outlives the call; `self.context` is null or a
        // context this function created earlier; the library allocates `output`, released by
        // its owner. Optional outputs we do not need are null, which RFC 2744 allows.
        let major = unsafe {
            (lib.init_sec_context)(
                &mut minor,
                credential,
                &mut self.context,
                self.target.handle,
                &mut mech,
                REQUESTED_FLAGS,
                0,
                null_mut(),
                input_ptr,
                null_mut(),
                &mut output.desc,
                &mut returned_flags,
                null_mut(),
            )
        };
        if ffi::is_error(major) {
            return Err(call_error(lib, "gss_init_sec_context", major, minor));
        }
        let established = major & ffi::GSS_S_CONTINUE_NEEDED == 0;
        Ok((output.to_vec(), established))
    }

    fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, GssapiError> {
        let lib = self.lib;
        let mut minor: OmUint32 = 0;
        let mut input = BufferDesc::borrowing(token);
        let mut output = OwnedBuffer::new(lib);
        // SAFETY: `self.context` is an established context (the state machine unwraps only
        // after establishment; a null one makes the library fail with NO_CONTEXT); `input`
        // describes `token`, alive for the call; `output` is released by its owner. The
        // optional `conf_state` / `qop_state` outputs are null.
        let major = unsafe {
            (lib.unwrap)(
                &mut minor,
                self.context,
                &mut input,
                &mut output.desc,
                null_mut(),
                null_mut(),
            )
        };
        if ffi::is_error(major) {
            return Err(call_error(lib, "gss_unwrap", major, minor));
        }
        Ok(output.to_vec())
    }

    fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, GssapiError> {
        let lib = self.lib;
        let mut minor: OmUint32 = 0;
        let mut input = BufferDesc::borrowing(message);
        let mut output = OwnedBuffer::new(lib);
        // SAFETY: as for `unwrap`; `conf_req_flag` 0 asks for integrity only, `qop_req` 0 is
        // GSS_C_QOP_DEFAULT, and the optional `conf_state` output is null.
        let major = unsafe {
            (lib.wrap)(
                &mut minor,
                self.context,
                0,
                0,
                &mut input,
                null_mut(),
                &mut output.desc,
            )
        };
        if ffi::is_error(major) {
            return Err(call_error(lib, "gss_wrap", major, minor));
        }
        Ok(output.to_vec())
    }

    fn initiator_name(&mut self) -> Result<String, GssapiError> {
        let lib = self.lib;
        let mut minor: OmUint32 = 0;
        let mut source = Name {
            lib,
            handle: null_mut(),
        };
        // SAFETY: `self.context` is established (see `unwrap`); only `src_name` is asked for,
        // into a `Name` that releases it; every other output pointer is null, as allowed.
        let major = unsafe {
            (lib.inquire_context)(
                &mut minor,
                self.context,
                &mut source.handle,
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
            )
        };
        if ffi::is_error(major) {
            return Err(call_error(lib, "gss_inquire_context", major, minor));
        }
        source.display()
    }
}

impl Drop for MitContext {
    fn drop(&mut self) {
        if self.context.is_null() {
            return;
        }
        let mut minor: OmUint32 = 0;
        // SAFETY: `self.context` is a context the library created for us and nobody else
        // holds; it is deleted once (the library nulls the handle). No output token is wanted
        // (GSS_C_NO_BUFFER).
        unsafe {
            (self.lib.delete_sec_context)(&mut minor, &mut self.context, null_mut());
        }
    }
}

/// A `gss_name_t`, released on drop.
struct Name {
    lib: &'static GssLibrary,
    handle: Handle,
}

impl Name {
    fn import(
        lib: &'static GssLibrary,
        text: &str,
        name_type: &'static [u8],
    ) -> Result<Self, GssapiError> {
        let mut minor: OmUint32 = 0;
        let mut buffer = BufferDesc::borrowing(text.as_bytes());
        let mut oid = OidDesc::new(name_type);
        let mut name = Name {
            lib,
            handle: null_mut(),
        };
        // SAFETY: `buffer` describes `text` (the library copies it), `oid` points at a static
        // OID, and the imported name goes into a `Name` that releases it.
        let major =
            unsafe { (lib.import_name)(&mut minor, &mut buffer, &mut oid, &mut name.handle) };
        if ffi::is_error(major) {
            return Err(call_error(lib, "gss_import_name", major, minor));
        }
        Ok(name)
    }

    fn display(&self) -> Result<String, GssapiError> {
        let mut minor: OmUint32 = 0;
        let mut output = OwnedBuffer::new(self.lib);
        // SAFETY: `self.handle` is a live name; the text goes into a buffer its owner
        // releases; the optional name-type output is null.
        let major = unsafe {
            (self.lib.display_name)(&mut minor, self.handle, &mut output.desc, null_mut())
        };
        if ffi::is_error(major) {
            return Err(call_error(self.lib, "gss_display_name", major, minor));
        }
        Ok(String::from_utf8_lossy(&output.to_vec()).into_owned())
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        if self.handle.is_null() {
            return;
        }
        let mut minor: OmUint32 = 0;
        // SAFETY: a name the library gave us, released exactly once (the library nulls it).
        unsafe {
            (self.lib.release_name)(&mut minor, &mut self.handle);
        }
    }
}

/// A `gss_cred_id_t`, released on drop.
struct Credential {
    lib: &'static GssLibrary,
    handle: Handle,
}

impl Credential {
    /// The credential `config` names, or `None` for the library's default.
    fn acquire(
        lib: &'static GssLibrary,
        config: &GssapiConfig,
    ) -> Result<Option<Self>, GssapiError> {
        if config.keytab.is_none() && config.principal.is_none() {
            return Ok(None);
        }
        let desired = config
            .principal
            .as_deref()
            .map(|principal| Name::import(lib, principal, ffi::NT_KRB5_PRINCIPAL))
            .transpose()?;
        let desired_handle = desired.as_ref().map_or(null_mut(), |name| name.handle);
        let mut credential = Credential {
            lib,
            handle: null_mut(),
        };
        let mut minor: OmUint32 = 0;
        let (call, major) = match &config.keytab {
            None => {
                // SAFETY: `desired_handle` is a live name (owned by `desired` until after the
                // call); no mechanism set (null: the defaults); the credential goes into an
                // owner that releases it; the optional outputs are null.
                let major = unsafe {
                    (lib.acquire_cred)(
                        &mut minor,
                        desired_handle,
                        ffi::GSS_C_INDEFINITE,
                        null_mut(),
                        ffi::GSS_C_INITIATE,
                        &mut credential.handle,
                        null_mut(),
                        null_mut(),
                    )
                };
                ("gss_acquire_cred", major)
            }
            Some(keytab) => {
                let acquire_from = lib.acquire_cred_from.ok_or_else(|| GssapiError::InvalidSetting {
                    reason: "sasl_kerberos_keytab needs gss_acquire_cred_from (MIT Kerberos 1.11 or newer), which this GSS-API library lacks".to_owned(),
                })?;
                let keytab = c_string("sasl_kerberos_keytab", keytab.as_os_str().as_bytes())?;
                let ccache = c_string(
                    "credential cache name",
                    memory_ccache_name(config).as_bytes(),
                )?;
                let mut elements = [
                    KeyValueElement {
                        key: c"client_keytab".as_ptr(),
                        value: keytab.as_ptr(),
                    },
                    KeyValueElement {
                        key: c"ccache".as_ptr(),
                        value: ccache.as_ptr(),
                    },
                ];
                let store = KeyValueSet {
                    count: elements.len() as OmUint32,
                    elements: elements.as_mut_ptr(),
                };
                // SAFETY: as for gss_acquire_cred; `store` points at `elements`, whose C
                // strings (`keytab`, `ccache`, literals) all outlive the call; the library
                // only reads them.
                let major = unsafe {
                    acquire_from(
                        &mut minor,
                        desired_handle,
                        ffi::GSS_C_INDEFINITE,
                        null_mut(),
                        ffi::GSS_C_INITIATE,
                        &store,
                        &mut credential.handle,
                        null_mut(),
                        null_mut(),
                    )
                };
                ("gss_acquire_cred_from", major)
            }
        };
        drop(desired);
        if ffi::is_error(major) {
            return Err(GssapiError::NoCredentials {
                principal: config.principal.clone(),
                keytab: config.keytab.clone(),
                cause: Box::new(call_error(lib, call, major, minor)),
            });
        }
        Ok(Some(credential))
    }
}

impl Drop for Credential {
    fn drop(&mut self) {
        if self.handle.is_null() {
            return;
        }
        let mut minor: OmUint32 = 0;
        // SAFETY: a credential the library gave us, released exactly once.
        unsafe {
            (self.lib.release_cred)(&mut minor, &mut self.handle);
        }
    }
}

/// A process-wide in-memory credential cache per (keytab, principal): tickets obtained with the
/// keytab are reused by every connection of the process and never touch the user's own cache.
fn memory_ccache_name(config: &GssapiConfig) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    config.keytab.hash(&mut hasher);
    config.principal.hash(&mut hasher);
    format!("MEMORY:klamm-{:016x}", hasher.finish())
}

fn c_string(what: &str, bytes: &[u8]) -> Result<CString, GssapiError> {
    CString::new(bytes).map_err(|_| GssapiError::InvalidSetting {
        reason: format!("{what} contains a NUL byte"),
    })
}

/// A buffer the library allocated, released on drop.
struct OwnedBuffer {
    lib: &'static GssLibrary,
    desc: BufferDesc,
}

impl OwnedBuffer {
    fn new(lib: &'static GssLibrary) -> Self {
        OwnedBuffer {
            lib,
            desc: BufferDesc::empty(),
        }
    }

    fn to_vec(&self) -> Vec<u8> {
        if self.desc.value.is_null() || self.desc.length == 0 {
            return Vec::new();
        }
        // SAFETY: the library filled `desc` with a buffer of `length` readable bytes that stays
        // allocated until we release it in `drop`.
        unsafe { std::slice::from_raw_parts(self.desc.value.cast::<u8>(), self.desc.length) }
            .to_vec()
    }
}

impl Drop for OwnedBuffer {
    fn drop(&mut self) {
        if self.desc.value.is_null() {
            return;
        }
        let mut minor: OmUint32 = 0;
        // SAFETY: a buffer the library allocated, released exactly once (the library resets
        // the descriptor to empty).
        unsafe {
            (self.lib.release_buffer)(&mut minor, &mut self.desc);
        }
    }
}

/// The error of a failed call, with the library's text for both status codes.
fn call_error(
    lib: &'static GssLibrary,
    call: &'static str,
    major: OmUint32,
    minor: OmUint32,
) -> GssapiError {
    let mut message = display_status(lib, major, ffi::GSS_C_GSS_CODE);
    if minor != 0 {
        let mechanism = display_status(lib, minor, ffi::GSS_C_MECH_CODE);
        if !mechanism.is_empty() {
            message = format!("{message}: {mechanism}");
        }
    }
    GssapiError::Call {
        call,
        major,
        minor,
        message,
    }
}

/// Every message `gss_display_status` has for `code`, joined with "; ".
fn display_status(lib: &'static GssLibrary, code: OmUint32, kind: std::ffi::c_int) -> String {
    let mut parts = Vec::new();
    let mut message_context: OmUint32 = 0;
    // A status has a handful of messages at most; the bound guards against a library that
    // never resets the context.
    for _ in 0..8 {
        let mut minor: OmUint32 = 0;
        let mut mech = OidDesc::new(ffi::MECH_KRB5);
        let mut text = OwnedBuffer::new(lib);
        // SAFETY: plain integer inputs, a static mechanism OID, the message-context cursor and
        // an output buffer its owner releases.
        let major = unsafe {
            (lib.display_status)(
                &mut minor,
                code,
                kind,
                &mut mech,
                &mut message_context,
                &mut text.desc,
            )
        };
        if ffi::is_error(major) {
            break;
        }
        let part = String::from_utf8_lossy(&text.to_vec()).trim().to_owned();
        if !part.is_empty() {
            parts.push(part);
        }
        if message_context == 0 {
            break;
        }
    }
    if parts.is_empty() {
        format!("status {code:#x}")
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the system library (installed on the project's machines); a machine without it
    /// fails here with the typed error, which is also worth knowing.
    fn lib() -> &'static GssLibrary {
        ffi::library().expect("libgssapi_krb5.so.2 is installed")
    }

    #[test]
    fn status_text_comes_from_the_library() {
        // GSS_S_NO_CRED: "No credentials were supplied, or the credentials were unavailable…"
        let text = display_status(lib(), 0x0007_0000, ffi::GSS_C_GSS_CODE);
        assert!(text.contains("credentials"), "{text}");
    }

    #[test]
    fn names_import_and_display_round_trip() {
        let name =
            Name::import(lib(), "kafka@broker-1.example", ffi::NT_HOSTBASED_SERVICE).unwrap();
        assert!(name
            .display()
            .unwrap()
            .starts_with("kafka@broker-1.example"));
    }

    #[test]
    fn memory_ccache_differs_per_keytab_and_principal() {
        let a = GssapiConfig::default().keytab("/a.keytab").principal("x@R");
        let b = GssapiConfig::default().keytab("/b.keytab").principal("x@R");
        assert_ne!(memory_ccache_name(&a), memory_ccache_name(&b));
        assert_eq!(memory_ccache_name(&a), memory_ccache_name(&a.clone()));
        assert!(memory_ccache_name(&a).starts_with("MEMORY:"));
    }
}
