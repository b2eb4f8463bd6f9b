//! Putting code on WeChat: the native engine (this binary speaks miniprogram-ci's protocol) and the
//! official one (the pinned npm package, for projects that need its compiler).

pub mod gzip;
pub mod native;
pub mod official;

use native::{Native, Request, UploadError, Uploaded};
use official::Official;
use secrecy::SecretString;

/// The engine chosen for an upload.
#[derive(Debug, Clone)]
pub enum Engine {
    /// This binary.
    Native(Native),
    /// The official miniprogram-ci.
    Official(Official),
}

impl Engine {
    /// Uploads or previews with this engine.
    pub async fn upload(
        &self,
        key: &mp_release_core::upload::signature::SigningKey,
        pem: &SecretString,
        req: &Request,
    ) -> Result<Uploaded, UploadError> {
        match self {
            Self::Native(n) => n.upload(key, req).await,
            Self::Official(o) => o.upload(pem, req).await,
        }
    }

    /// The engine's name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Native(_) => "native",
            Self::Official(_) => "miniprogram-ci",
        }
    }
}

/// An engine with what it needs to upload one project.
#[derive(Debug, Clone)]
pub struct Uploader {
    /// The engine.
    pub engine: Engine,
    /// The key (native engine).
    pub key: mp_release_core::upload::signature::SigningKey,
    /// The key's PEM (official engine).
    pub pem: SecretString,
    /// The request; its version is set per upload.
    pub req: Request,
}

impl Uploader {
    /// Uploads with the request's version replaced.
    pub async fn upload(&self, version: &str) -> Result<Uploaded, UploadError> {
        let mut req = self.req.clone();
        version.clone_into(&mut req.version);
        self.engine.upload(&self.key, &self.pem, &req).await
    }
}
