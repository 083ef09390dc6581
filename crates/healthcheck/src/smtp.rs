//! SMTP_CHECK: a 220 banner, `HELO helo_name` answered with 250, then QUIT.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt as _, AsyncWriteExt, BufReader};

use crate::net::{Human, connect_tcp, within};
use crate::tcp::round_micros;
use crate::{CheckFuture, Checker, ConnectOptions, Outcome};

/// SMTP_CHECK: healthy when the server greets with 220, accepts `HELO` with 250 and the whole
/// dialogue fits in `connect_timeout`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SmtpCheck {
    /// Where to connect (port 25 usually) and how.
    pub connect: ConnectOptions,
    /// `helo_name`: the name given in HELO.
    pub helo_name: String,
}

/// The longest reply line accepted.
pub(crate) const MAX_LINE: usize = 1024;

impl SmtpCheck {
    /// An SMTP_CHECK that says `HELO localhost`.
    pub fn new(connect: ConnectOptions) -> Self {
        Self {
            connect,
            helo_name: "localhost".into(),
        }
    }

    async fn run(&self) -> Outcome {
        let target = self.connect.target();
        let started = Instant::now();
        let result = within(self.connect.connect_timeout, self.dialogue()).await;
        match result {
            Ok(()) => Outcome::up(format!(
                "SMTP {target}: 220, HELO 250 in {}",
                Human(round_micros(started.elapsed()))
            )),
            Err(reason) => Outcome::down(format!("SMTP {target}: {reason}")),
        }
    }

    async fn dialogue(&self) -> Result<(), String> {
        let stream = connect_tcp(&self.connect).await?;
        let mut stream = BufReader::new(stream);
        expect(&mut stream, 220, "the banner").await?;
        let helo = format!("HELO {}\r\n", self.helo_name);
        stream
            .get_mut()
            .write_all(helo.as_bytes())
            .await
            .map_err(|e| format!("sending HELO: {e}"))?;
        expect(&mut stream, 250, "HELO").await?;
        // QUIT is a courtesy: the verdict is already in.
        let _ = stream.get_mut().write_all(b"QUIT\r\n").await;
        Ok(())
    }
}

/// Reads one reply (all its `NNN-` continuation lines) and checks its code.
pub(crate) async fn expect<R: AsyncBufReadExt + Unpin>(
    stream: &mut R,
    code: u16,
    after: &str,
) -> Result<(), String> {
    loop {
        let mut line = Vec::new();
        let n = (&mut *stream)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| format!("reading the reply to {after}: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed, expected {code} for {after}"));
        }
        if !line.ends_with(b"\n") {
            return Err(format!(
                "reply to {after} longer than {MAX_LINE} bytes, expected {code}"
            ));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let got = text.get(..3).and_then(|c| c.parse::<u16>().ok());
        if got != Some(code) {
            return Err(format!("expected {code} for {after}, got {text:?}"));
        }
        match text.as_bytes().get(3) {
            Some(b'-') => continue,
            _ => return Ok(()),
        }
    }
}

impl Checker for SmtpCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }

    fn timeout(&self) -> Duration {
        self.connect.connect_timeout
    }
}
