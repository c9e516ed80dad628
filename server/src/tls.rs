//! TLS for the process's outgoing HTTPS (webhooks, the S3 object store): rustls on `ring`, the
//! crypto library already in the tree (WebRTC's DTLS uses it), instead of a second one.
//!
//! reqwest (built with `rustls-no-provider`) takes the crypto provider from rustls's
//! process-wide default, which can be set once; [`install_crypto_provider`] does that before any
//! client is built. Certificates are checked by the platform verifier (the system's roots, e.g.
//! `/etc/ssl/certs`), plus any extra CA a caller adds (`webhooks.ca_file`).

/// Makes `ring` rustls's default provider (idempotent: a provider installed earlier stays).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
