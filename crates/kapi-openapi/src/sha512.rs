//! SHA-512, for the `?hash=` of OpenAPI v3 documents, from `ring` (already in every kapi build through rustls).

/// The SHA-512 digest of `data`.
pub fn sha512(data: &[u8]) -> [u8; 64] {
    let mut digest = [0u8; 64];
    digest.copy_from_slice(ring::digest::digest(&ring::digest::SHA512, data).as_ref());
    digest
}

/// SHA-512 as 128 upper-case hex digits, the form kube-apiserver puts in `/openapi/v3` URLs.
pub fn sha512_upper_hex(data: &[u8]) -> String {
    use std::fmt::Write as _;
    sha512(data).iter().fold(String::with_capacity(128), |mut hex, byte| {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02X}");
        hex
    })
}
