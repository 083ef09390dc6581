//! The state as JSON on a unix socket: connect, read the document until end of file.
//!
//! The socket is mode 0600 (root only, for a daemon run as root): the document names every
//! address, script and real server. A client writes nothing; [`fetch`] reads it back.

use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;

use super::StateSource;
use crate::state::State;

/// lvskitd's default socket path.
pub const DEFAULT_PATH: &str = "/run/lvskitd/lvskitd.sock";

/// A bound control socket; the file is removed when it is dropped.
#[derive(Debug)]
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlSocket {
    /// Binds `path` with mode 0600 (making its directory, mode 0700, when missing). A socket file left by a process that is gone is replaced;
    /// one a live process answers on is not (`AddrInUse`), nor is a file that is no socket.
    pub fn bind(path: &Path) -> io::Result<Self> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("{} is served by a running process", path.display()),
                    ));
                }
                std::fs::remove_file(path)?;
            }
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .recursive(true)
                .create(dir)?;
        }
        let listener = UnixListener::bind(path)?;
        // A socket is connectable only with write permission: with the usual umask (022)
        // nobody else could connect before this either.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Answers every connection with the document from `source`, until the task is dropped or
    /// aborted. A client that does not read within 10 s is dropped.
    pub async fn serve(self, source: StateSource) {
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("control socket: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let source = source.clone();
            tokio::spawn(async move {
                let mut stream = stream;
                let state = source.state().await;
                let body = match serde_json::to_vec_pretty(&state) {
                    Ok(body) => body,
                    Err(e) => {
                        tracing::error!("control socket: cannot write the state: {e}");
                        return;
                    }
                };
                let write = async {
                    stream.write_all(&body).await?;
                    stream.write_all(b"\n").await?;
                    stream.shutdown().await
                };
                match tokio::time::timeout(Duration::from_secs(10), write).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::debug!("control socket client: {e}"),
                    Err(_) => tracing::debug!("control socket client too slow: dropped"),
                }
            });
        }
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Why [`fetch`] found no state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Connecting or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The socket.
        path: String,
        /// The system's reason.
        source: io::Error,
    },
    /// What came back is not the document.
    #[error("{path}: not a state document: {source}")]
    Json {
        /// The socket.
        path: String,
        /// The parser's reason.
        source: serde_json::Error,
    },
}

/// Reads the document from the socket at `path` (blocking; `timeout` for connect and read),
/// with its raw text.
pub fn fetch(path: &Path, timeout: Duration) -> Result<(State, String), FetchError> {
    let io_error = |source| FetchError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(io_error)?;
    stream.set_read_timeout(Some(timeout)).map_err(io_error)?;
    let mut text = String::new();
    stream.read_to_string(&mut text).map_err(io_error)?;
    let state = serde_json::from_str(&text).map_err(|source| FetchError::Json {
        path: path.display().to_string(),
        source,
    })?;
    Ok((state, text))
}
