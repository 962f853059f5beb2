//! `/version`: the Kubernetes version whose API kapi serves, in the shape of k8s.io/apimachinery's
//! `version.Info`.

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// The Kubernetes minor version kapi serves.
pub const KUBERNETES_MINOR: u32 = 36;
/// The Kubernetes release whose behaviour kapi follows (the reference recordings' server).
pub const KUBERNETES_GIT_VERSION: &str = "v1.36.2";

/// What `/version` answers. Fields follow `version.Info`; clients parse `major`, `minor` and `gitVersion`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// Major version, `"1"`.
    pub major: String,
    /// Minor version, e.g. `"36"`.
    pub minor: String,
    /// The release as a semantic version with a leading `v`; kapi adds build metadata naming itself.
    pub git_version: String,
    /// The commit the binary was built from, if known.
    pub git_commit: String,
    /// `"clean"` or `"dirty"`.
    pub git_tree_state: String,
    /// When the binary was built (RFC 3339), if known.
    pub build_date: String,
    /// Go's version in kube-apiserver; kapi is not written in Go and says which server it is instead.
    pub go_version: String,
    /// The compiler.
    pub compiler: String,
    /// `os/arch` in Go's spelling, e.g. `linux/amd64`.
    pub platform: String,
}

impl Default for VersionInfo {
    /// Kubernetes v1.36.2 as served by this kapi build.
    fn default() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Self {
            major: "1".to_owned(),
            minor: KUBERNETES_MINOR.to_string(),
            git_version: format!("{KUBERNETES_GIT_VERSION}+kapi.{}", env!("CARGO_PKG_VERSION")),
            git_commit: String::new(),
            git_tree_state: "clean".to_owned(),
            build_date: "1970-01-01T00:00:00Z".to_owned(),
            go_version: concat!("kapi/", env!("CARGO_PKG_VERSION")).to_owned(),
            compiler: "rustc".to_owned(),
            platform: format!("{}/{arch}", std::env::consts::OS),
        }
    }
}

impl VersionInfo {
    /// The JSON object `/version` returns. The emulation and minimum-compatibility fields of 1.36 say that
    /// kapi emulates exactly its own minor and is compatible with the previous one.
    pub fn to_json(&self) -> serde_json::Value {
        let previous_minor = self
            .minor
            .parse::<u32>()
            .map_or_else(|_| self.minor.clone(), |minor| minor.saturating_sub(1).to_string());
        serde_json::json!({
            "major": self.major,
            "minor": self.minor,
            "emulationMajor": self.major,
            "emulationMinor": self.minor,
            "minCompatibilityMajor": self.major,
            "minCompatibilityMinor": previous_minor,
            "gitVersion": self.git_version,
            "gitCommit": self.git_commit,
            "gitTreeState": self.git_tree_state,
            "buildDate": self.build_date,
            "goVersion": self.go_version,
            "compiler": self.compiler,
            "platform": self.platform,
        })
    }

    /// The `/version` response: indented JSON, as kube-apiserver writes it.
    pub(crate) fn response(&self) -> Response {
        let body = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        let mut response = (StatusCode::OK, Body::from(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}
