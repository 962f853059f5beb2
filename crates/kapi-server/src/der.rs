//! Just enough DER to read what kapi needs from an X.509 certificate: the subject's common name and
//! organizations (the Kubernetes x509 identity), the validity end, the subject alternative names and the raw
//! subject / issuer / public-key fields.
//!
//! Certificates come from disk (our own files) or from a TLS peer whose chain rustls has already verified, so
//! the input is well-formed in practice; every read is still bounds-checked and returns `None` on malformed
//! input instead of panicking.

use std::net::IpAddr;

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTF8_STRING: u8 = 0x0c;
const TAG_PRINTABLE_STRING: u8 = 0x13;
const TAG_T61_STRING: u8 = 0x14;
const TAG_IA5_STRING: u8 = 0x16;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_UNIVERSAL_STRING: u8 = 0x1c;
const TAG_BMP_STRING: u8 = 0x1e;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_VERSION: u8 = 0xa0;
const TAG_EXTENSIONS: u8 = 0xa3;
const TAG_SAN_DNS: u8 = 0x82;
const TAG_SAN_IP: u8 = 0x87;

/// id-at-commonName 2.5.4.3
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// id-at-organizationName 2.5.4.10
const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
/// id-ce-subjectAltName 2.5.29.17
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// The fields of a certificate kapi looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertificateSummary<'a> {
    /// The DER of the issuer name (compared byte-wise with a CA's subject).
    pub(crate) issuer_der: &'a [u8],
    /// The DER of the subject name.
    pub(crate) subject_der: &'a [u8],
    /// The subject's common names (Kubernetes uses the first as the user name).
    pub(crate) common_names: Vec<String>,
    /// The subject's organizations (Kubernetes groups).
    pub(crate) organizations: Vec<String>,
    /// notAfter as seconds since the Unix epoch.
    pub(crate) not_after_unix: i64,
    /// The whole SubjectPublicKeyInfo element, tag included.
    pub(crate) public_key_info: &'a [u8],
    /// DNS names of the subject alternative name extension.
    pub(crate) dns_names: Vec<String>,
    /// IP addresses of the subject alternative name extension.
    pub(crate) ip_addresses: Vec<IpAddr>,
}

/// One TLV element: its tag, its content and the whole encoding (header included).
#[derive(Clone, Copy)]
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// Reads consecutive elements from a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn next(&mut self) -> Option<Element<'a>> {
        let input = self.rest;
        let tag = *input.first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags never occur in certificates
        }
        let first_len = *input.get(1)?;
        let (len, header) = if first_len < 0x80 {
            (usize::from(first_len), 2)
        } else {
            let count = usize::from(first_len & 0x7f);
            if count == 0 || count > 4 {
                return None; // indefinite length is not DER; > 4 GiB is nonsense
            }
            let bytes = input.get(2..2 + count)?;
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, 2 + count)
        };
        let end = header.checked_add(len)?;
        let content = input.get(header..end)?;
        let whole = input.get(..end)?;
        self.rest = input.get(end..)?;
        Some(Element { tag, content, whole })
    }

    fn expect(&mut self, tag: u8) -> Option<Element<'a>> {
        let element = self.next()?;
        (element.tag == tag).then_some(element)
    }
}

/// Summarizes a DER certificate; `None` if it is not a well-formed X.509 certificate.
pub(crate) fn summarize_certificate(der: &[u8]) -> Option<CertificateSummary<'_>> {
    let certificate = Reader::new(der).expect(TAG_SEQUENCE)?;
    let tbs = Reader::new(certificate.content).expect(TAG_SEQUENCE)?;
    let mut fields = Reader::new(tbs.content);
    if fields.peek_tag() == Some(TAG_VERSION) {
        fields.next()?;
    }
    fields.expect(TAG_INTEGER)?; // serial number
    fields.expect(TAG_SEQUENCE)?; // signature algorithm
    let issuer = fields.expect(TAG_SEQUENCE)?;
    let validity = fields.expect(TAG_SEQUENCE)?;
    let subject = fields.expect(TAG_SEQUENCE)?;
    let public_key_info = fields.expect(TAG_SEQUENCE)?;

    let mut validity_fields = Reader::new(validity.content);
    validity_fields.next()?; // notBefore
    let not_after_unix = parse_time(validity_fields.next()?)?;

    let mut summary = CertificateSummary {
        issuer_der: issuer.whole,
        subject_der: subject.whole,
        common_names: Vec::new(),
        organizations: Vec::new(),
        not_after_unix,
        public_key_info: public_key_info.whole,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
    };
    read_name(subject.content, &mut summary)?;
    while !fields.is_empty() {
        let element = fields.next()?;
        if element.tag == TAG_EXTENSIONS {
            read_extensions(element.content, &mut summary)?;
        }
    }
    Some(summary)
}

fn read_name(name: &[u8], summary: &mut CertificateSummary<'_>) -> Option<()> {
    let mut rdns = Reader::new(name);
    while !rdns.is_empty() {
        let rdn = rdns.expect(TAG_SET)?;
        let mut attributes = Reader::new(rdn.content);
        while !attributes.is_empty() {
            let attribute = attributes.expect(TAG_SEQUENCE)?;
            let mut parts = Reader::new(attribute.content);
            let oid = parts.expect(TAG_OID)?;
            let value = parts.next()?;
            let target = match oid.content {
                OID_COMMON_NAME => &mut summary.common_names,
                OID_ORGANIZATION => &mut summary.organizations,
                _ => continue,
            };
            target.push(decode_string(value)?);
        }
    }
    Some(())
}

fn read_extensions(explicit: &[u8], summary: &mut CertificateSummary<'_>) -> Option<()> {
    let list = Reader::new(explicit).expect(TAG_SEQUENCE)?;
    let mut extensions = Reader::new(list.content);
    while !extensions.is_empty() {
        let extension = extensions.expect(TAG_SEQUENCE)?;
        let mut parts = Reader::new(extension.content);
        let oid = parts.expect(TAG_OID)?;
        let mut value = parts.next()?;
        if value.tag == TAG_BOOLEAN {
            value = parts.next()?; // the critical flag
        }
        if value.tag != TAG_OCTET_STRING || oid.content != OID_SUBJECT_ALT_NAME {
            continue;
        }
        let names = Reader::new(value.content).expect(TAG_SEQUENCE)?;
        let mut general_names = Reader::new(names.content);
        while !general_names.is_empty() {
            let name = general_names.next()?;
            match name.tag {
                TAG_SAN_DNS => summary
                    .dns_names
                    .push(String::from_utf8_lossy(name.content).into_owned()),
                TAG_SAN_IP => {
                    if let Ok(octets) = <[u8; 4]>::try_from(name.content) {
                        summary.ip_addresses.push(IpAddr::from(octets));
                    } else if let Ok(octets) = <[u8; 16]>::try_from(name.content) {
                        summary.ip_addresses.push(IpAddr::from(octets));
                    }
                }
                _ => {}
            }
        }
    }
    Some(())
}

/// Decodes the directory-string types Go's crypto/x509 accepts in names.
fn decode_string(value: Element<'_>) -> Option<String> {
    match value.tag {
        TAG_UTF8_STRING | TAG_PRINTABLE_STRING | TAG_IA5_STRING => String::from_utf8(value.content.to_vec()).ok(),
        // T61 is treated as Latin-1, as Go does.
        TAG_T61_STRING => Some(value.content.iter().map(|b| char::from(*b)).collect()),
        TAG_BMP_STRING => {
            let units: Vec<u16> = value
                .content
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        TAG_UNIVERSAL_STRING => value
            .content
            .chunks_exact(4)
            .map(|quad| char::from_u32(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]])))
            .collect(),
        _ => None,
    }
}

/// Parses UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) into Unix seconds.
fn parse_time(value: Element<'_>) -> Option<i64> {
    let text = std::str::from_utf8(value.content).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i64>().ok();
    let (year, rest) = match (value.tag, digits.len()) {
        (TAG_UTC_TIME, 12) => {
            let short = number(0..2)?;
            // RFC 5280: two-digit years 50..99 are 19xx, 00..49 are 20xx.
            (if short >= 50 { 1900 + short } else { 2000 + short }, 2)
        }
        (TAG_GENERALIZED_TIME, 14) => (number(0..4)?, 4),
        _ => return None,
    };
    let month = number(rest..rest + 2)?;
    let day = number(rest + 2..rest + 4)?;
    let hour = number(rest + 4..rest + 6)?;
    let minute = number(rest + 6..rest + 8)?;
    let second = number(rest + 8..rest + 10)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 23), 20_780);
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x02, 0x30, 0x05],
            &[0xff; 8],
        ] {
            assert_eq!(summarize_certificate(input), None);
        }
    }
}
