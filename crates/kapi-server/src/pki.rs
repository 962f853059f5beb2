//! The server's certificates: a CA, a serving certificate and an admin client certificate, kept as PEM files in
//! `DATA_DIR/pki/`.
//!
//! The first start creates all of them; later starts reuse them. The CA is never replaced: a CA file that cannot
//! be read or parsed stops the start with an error naming the file, and the file is left as it was. The two
//! leaf certificates are reissued (signed by the same CA) only when they are valid but no longer fit: they
//! expire within [`RENEW_BEFORE`], or the serving certificate does not name the address the server listens on.
//!
//! Keys are ECDSA P-256 in PKCS#8 PEM, which Go (kubectl, client-go), OpenSSL (curl, Python) and rustls all
//! read; key files are created with mode 0600 inside a 0700 directory.

use std::{
    fs, io,
    io::Write,
    net::IpAddr,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData, SanType,
};
use rustls::pki_types::{pem::PemObject, CertificateDer};

use crate::der::{summarize_certificate, CertificateSummary};

/// The admin client certificate's common name (the Kubernetes user name).
pub const ADMIN_USER: &str = "kapi-admin";
/// The admin client certificate's organization (the Kubernetes group that bypasses authorization).
pub const ADMIN_GROUP: &str = "system:masters";
/// The CA certificate's common name.
const CA_COMMON_NAME: &str = "kapi-ca";
/// The serving certificate's common name.
const SERVING_COMMON_NAME: &str = "kapi-apiserver";

/// How long a new CA is valid.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);
/// How long a new leaf certificate is valid.
const LEAF_VALIDITY: Duration = Duration::from_secs(365 * 86_400);
/// Leaf certificates that expire sooner than this are reissued at start.
pub const RENEW_BEFORE: Duration = Duration::from_secs(30 * 86_400);
/// New certificates are valid from this long ago, so clients with a slightly slow clock accept them.
const CLOCK_SKEW: Duration = Duration::from_secs(3600);

/// Why the certificates could not be loaded or created. Every variant names the file concerned; files that
/// fail to load are never modified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A file exists but could not be read (permissions, I/O error).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file holds no valid PEM certificate.
    #[error("{path} is not a valid PEM certificate ({detail}); refusing to overwrite it: repair it, or move it away to have kapi create a new one")]
    CorruptCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A file holds no valid PKCS#8 PEM private key.
    #[error("{path} is not a valid PKCS#8 PEM private key ({detail}); refusing to overwrite it: repair it, or move it away to have kapi create a new one")]
    CorruptKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// One half of a certificate/key pair exists without the other.
    #[error("{present} exists but {missing} does not; refusing to guess: restore {missing}, or move {present} away to have kapi create a new pair")]
    IncompletePair {
        /// The file that exists.
        present: PathBuf,
        /// The file that is missing.
        missing: PathBuf,
    },
    /// A private key does not match the public key of its certificate.
    #[error("the private key {key} does not belong to the certificate {certificate}")]
    KeyMismatch {
        /// The certificate file.
        certificate: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// A leaf certificate was not issued by the CA in the same directory.
    #[error("{certificate} was not issued by the CA in {ca}")]
    WrongIssuer {
        /// The leaf certificate file.
        certificate: PathBuf,
        /// The CA certificate file.
        ca: PathBuf,
    },
    /// The CA was not created by kapi, so kapi cannot issue certificates that chain to it.
    #[error("cannot issue {certificate}: the CA in {ca} was not created by kapi; provide the certificate yourself")]
    ForeignCa {
        /// The certificate that needed issuing.
        certificate: PathBuf,
        /// The CA certificate file.
        ca: PathBuf,
    },
    /// Key generation or signing failed.
    #[error("cannot generate {what}: {source}")]
    Generate {
        /// What was being generated.
        what: &'static str,
        /// The error from rcgen.
        source: rcgen::Error,
    },
}

/// What a [`Pki`] must cover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PkiRequirements {
    /// Addresses the serving certificate must name besides 127.0.0.1, ::1 and `localhost`.
    pub extra_serving_ips: Vec<IpAddr>,
}

/// A certificate and its private key, as PEM text and parsed DER.
#[derive(Clone, Debug)]
pub struct CertifiedKeyPem {
    /// The certificate in PEM.
    pub certificate_pem: String,
    /// The private key in PKCS#8 PEM.
    pub key_pem: String,
    /// The certificate in DER.
    pub certificate_der: CertificateDer<'static>,
}

/// The loaded (or newly created) certificates of one data directory.
#[derive(Clone, Debug)]
pub struct Pki {
    directory: PathBuf,
    ca_certificate_pem: String,
    ca_certificate_der: CertificateDer<'static>,
    serving: CertifiedKeyPem,
    admin: CertifiedKeyPem,
}

impl Pki {
    /// Loads the certificates from `DATA_DIR/pki/`, creating what is missing (see the module docs).
    ///
    /// This does blocking file I/O and key generation (about a millisecond); call it from `spawn_blocking` in
    /// latency-sensitive async code.
    pub fn load_or_create(data_dir: &Path, requirements: &PkiRequirements) -> Result<Self, PkiError> {
        let directory = data_dir.join("pki");
        create_private_dir(&directory)?;
        let now = unix_now();
        let ca = load_or_create_ca(&directory, now)?;
        let mut serving_ips: Vec<IpAddr> = vec![[127, 0, 0, 1].into(), IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])];
        for ip in &requirements.extra_serving_ips {
            if !ip.is_unspecified() && !serving_ips.contains(ip) {
                serving_ips.push(*ip);
            }
        }
        let serving = LeafSpec {
            file_stem: "apiserver",
            what: "the serving certificate",
            common_name: SERVING_COMMON_NAME,
            organization: None,
            ips: serving_ips,
            dns_names: vec!["localhost".to_owned()],
            usage: ExtendedKeyUsagePurpose::ServerAuth,
        };
        let admin = LeafSpec {
            file_stem: "admin",
            what: "the admin client certificate",
            common_name: ADMIN_USER,
            organization: Some(ADMIN_GROUP),
            ips: Vec::new(),
            dns_names: Vec::new(),
            usage: ExtendedKeyUsagePurpose::ClientAuth,
        };
        let serving = load_or_issue_leaf(&directory, &ca, &serving, now)?;
        let admin = load_or_issue_leaf(&directory, &ca, &admin, now)?;
        Ok(Self {
            directory,
            ca_certificate_pem: ca.certificate_pem,
            ca_certificate_der: ca.certificate_der,
            serving,
            admin,
        })
    }

    /// The directory holding the files (`DATA_DIR/pki`).
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The CA certificate in PEM.
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_certificate_pem
    }

    /// The CA certificate in DER.
    pub fn ca_certificate_der(&self) -> &CertificateDer<'static> {
        &self.ca_certificate_der
    }

    /// The serving certificate and key.
    pub fn serving(&self) -> &CertifiedKeyPem {
        &self.serving
    }

    /// The admin client certificate (CN `kapi-admin`, O `system:masters`) and key.
    pub fn admin(&self) -> &CertifiedKeyPem {
        &self.admin
    }
}

/// The CA as loaded: its certificate and what is needed to sign with it.
struct LoadedCa {
    certificate_pem: String,
    certificate_der: CertificateDer<'static>,
    subject_der: Vec<u8>,
    key: KeyPair,
    certificate_path: PathBuf,
}

/// How one leaf certificate looks.
struct LeafSpec {
    file_stem: &'static str,
    what: &'static str,
    common_name: &'static str,
    organization: Option<&'static str>,
    ips: Vec<IpAddr>,
    dns_names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
}

fn ca_params(now: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, now, CA_VALIDITY);
    params
}

fn load_or_create_ca(directory: &Path, now: u64) -> Result<LoadedCa, PkiError> {
    let certificate_path = directory.join("ca.crt");
    let key_path = directory.join("ca.key");
    let (certificate_pem, key_pem) = match read_pair(&certificate_path, &key_path)? {
        Some(pair) => pair,
        None => {
            let key = generate_key("the CA key")?;
            let certificate = ca_params(now).self_signed(&key).map_err(|source| PkiError::Generate {
                what: "the CA certificate",
                source,
            })?;
            let pair = (certificate.pem(), key.serialize_pem());
            write_private(&key_path, &pair.1)?;
            write_public(&certificate_path, &pair.0)?;
            tracing::info!(path = %certificate_path.display(), "created a new CA");
            pair
        }
    };
    let certificate_der = parse_certificate(&certificate_path, &certificate_pem)?;
    let key = parse_key(&key_path, &key_pem)?;
    let summary = summarize(&certificate_path, &certificate_der)?;
    check_key_matches(&summary, &key, &certificate_path, &key_path)?;
    let subject_der = summary.subject_der.to_vec();
    Ok(LoadedCa {
        certificate_pem,
        certificate_der,
        subject_der,
        key,
        certificate_path,
    })
}

fn load_or_issue_leaf(directory: &Path, ca: &LoadedCa, spec: &LeafSpec, now: u64) -> Result<CertifiedKeyPem, PkiError> {
    let certificate_path = directory.join(format!("{}.crt", spec.file_stem));
    let key_path = directory.join(format!("{}.key", spec.file_stem));
    if let Some((certificate_pem, key_pem)) = read_pair(&certificate_path, &key_path)? {
        let certificate_der = parse_certificate(&certificate_path, &certificate_pem)?;
        let key = parse_key(&key_path, &key_pem)?;
        let summary = summarize(&certificate_path, &certificate_der)?;
        check_key_matches(&summary, &key, &certificate_path, &key_path)?;
        if summary.issuer_der != ca.subject_der.as_slice() {
            return Err(PkiError::WrongIssuer {
                certificate: certificate_path,
                ca: ca.certificate_path.clone(),
            });
        }
        match reason_to_reissue(&summary, spec, now) {
            None => {
                return Ok(CertifiedKeyPem {
                    certificate_pem,
                    key_pem,
                    certificate_der,
                })
            }
            Some(reason) => {
                tracing::info!(path = %certificate_path.display(), reason, "reissuing {}", spec.what);
            }
        }
    }
    let issued = issue_leaf(ca, spec, now, &certificate_path)?;
    write_private(&key_path, &issued.key_pem)?;
    write_public(&certificate_path, &issued.certificate_pem)?;
    Ok(issued)
}

fn reason_to_reissue(summary: &CertificateSummary<'_>, spec: &LeafSpec, now: u64) -> Option<&'static str> {
    let renew_at = i64::try_from(now.saturating_add(RENEW_BEFORE.as_secs())).unwrap_or(i64::MAX);
    if summary.not_after_unix < renew_at {
        return Some("it expires soon");
    }
    if spec.ips.iter().any(|ip| !summary.ip_addresses.contains(ip))
        || spec.dns_names.iter().any(|name| !summary.dns_names.contains(name))
    {
        return Some("it does not name every serving address");
    }
    if summary.common_names.first().map(String::as_str) != Some(spec.common_name)
        || summary.organizations.first().map(String::as_str) != spec.organization
    {
        return Some("its subject differs");
    }
    None
}

fn issue_leaf(ca: &LoadedCa, spec: &LeafSpec, now: u64, certificate_path: &Path) -> Result<CertifiedKeyPem, PkiError> {
    let key = generate_key(spec.what)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, spec.common_name);
    if let Some(organization) = spec.organization {
        params.distinguished_name.push(DnType::OrganizationName, organization);
    }
    params.subject_alt_names = spec.ips.iter().map(|ip| SanType::IpAddress(*ip)).collect();
    for name in &spec.dns_names {
        let name = name.clone().try_into().map_err(|source| PkiError::Generate {
            what: spec.what,
            source,
        })?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![spec.usage.clone()];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now, LEAF_VALIDITY);
    // The issuer is rebuilt from the parameters kapi creates CAs with; the check below catches a CA made
    // elsewhere, whose subject would differ and whose chain would break.
    let issuer = Issuer::new(ca_params(now), &ca.key);
    let certificate = params.signed_by(&key, &issuer).map_err(|source| PkiError::Generate {
        what: spec.what,
        source,
    })?;
    let certificate_der = certificate.der().clone();
    let issued_by_ca =
        summarize_certificate(&certificate_der).is_some_and(|summary| summary.issuer_der == ca.subject_der.as_slice());
    if !issued_by_ca {
        return Err(PkiError::ForeignCa {
            certificate: certificate_path.to_path_buf(),
            ca: ca.certificate_path.clone(),
        });
    }
    Ok(CertifiedKeyPem {
        certificate_pem: certificate.pem(),
        key_pem: key.serialize_pem(),
        certificate_der,
    })
}

fn set_validity(params: &mut CertificateParams, now: u64, validity: Duration) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(now.saturating_sub(CLOCK_SKEW.as_secs()));
    params.not_after = epoch + Duration::from_secs(now) + validity;
}

fn generate_key(what: &'static str) -> Result<KeyPair, PkiError> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|source| PkiError::Generate { what, source })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Reads a certificate/key pair: both present → their text; both absent → `None`; one absent → an error.
fn read_pair(certificate: &Path, key: &Path) -> Result<Option<(String, String)>, PkiError> {
    match (read_optional(certificate)?, read_optional(key)?) {
        (Some(certificate), Some(key)) => Ok(Some((certificate, key))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(PkiError::IncompletePair {
            present: certificate.to_path_buf(),
            missing: key.to_path_buf(),
        }),
        (None, Some(_)) => Err(PkiError::IncompletePair {
            present: key.to_path_buf(),
            missing: certificate.to_path_buf(),
        }),
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, PkiError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| PkiError::Read {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidData, "the file is not text"),
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PkiError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn parse_certificate(path: &Path, pem: &str) -> Result<CertificateDer<'static>, PkiError> {
    let corrupt = |detail: String| PkiError::CorruptCertificate {
        path: path.to_path_buf(),
        detail,
    };
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|err| corrupt(err.to_string()))?;
    if summarize_certificate(&der).is_none() {
        return Err(corrupt("the PEM block is not an X.509 certificate".to_owned()));
    }
    Ok(der)
}

fn parse_key(path: &Path, pem: &str) -> Result<KeyPair, PkiError> {
    KeyPair::from_pem(pem).map_err(|err| PkiError::CorruptKey {
        path: path.to_path_buf(),
        detail: err.to_string(),
    })
}

fn summarize<'a>(path: &Path, der: &'a CertificateDer<'static>) -> Result<CertificateSummary<'a>, PkiError> {
    summarize_certificate(der).ok_or_else(|| PkiError::CorruptCertificate {
        path: path.to_path_buf(),
        detail: "the PEM block is not an X.509 certificate".to_owned(),
    })
}

fn check_key_matches(
    summary: &CertificateSummary<'_>,
    key: &KeyPair,
    certificate: &Path,
    key_path: &Path,
) -> Result<(), PkiError> {
    if summary.public_key_info == key.subject_public_key_info().as_slice() {
        Ok(())
    } else {
        Err(PkiError::KeyMismatch {
            certificate: certificate.to_path_buf(),
            key: key_path.to_path_buf(),
        })
    }
}

fn create_private_dir(directory: &Path) -> Result<(), PkiError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(directory).map_err(|source| PkiError::Write {
        path: directory.to_path_buf(),
        source,
    })
}

fn write_private(path: &Path, contents: &str) -> Result<(), PkiError> {
    write_atomically(path, contents, 0o600).map_err(|source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn write_public(path: &Path, contents: &str) -> Result<(), PkiError> {
    write_atomically(path, contents, 0o644).map_err(|source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a file with the given mode: created with that mode before any byte is written, then renamed into
/// place so a crash never leaves half a key or half a kubeconfig.
pub(crate) fn write_atomically(path: &Path, contents: &str, mode: u32) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temporary)?;
    // A stale temporary file keeps its old mode; make sure a secret is never readable by others.
    #[cfg(unix)]
    fs::set_permissions(&temporary, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)
}
