//! DNS_CHECK: one query over UDP; a response with the query's id and RCODE NOERROR is healthy.

use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

use crate::net::{Human, connect_udp, within};
use crate::tcp::round_micros;
use crate::{CheckFuture, Checker, ConnectOptions, Error, Outcome};

/// DNS_CHECK: asks `name`/`type` (default `.` SOA) and wants a NOERROR response. A NOERROR
/// response with no records (NODATA) still counts as healthy: the server answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnsCheck {
    /// Where to send the query (port 53 usually) and how.
    pub connect: ConnectOptions,
    /// `type`.
    pub query_type: RecordType,
    /// `name`.
    pub name: Name,
}

impl DnsCheck {
    /// A DNS_CHECK with keepalived's defaults: `.` SOA.
    pub fn new(connect: ConnectOptions) -> Self {
        Self {
            connect,
            query_type: RecordType::SOA,
            name: Name::root(),
        }
    }

    /// Sets `type` (A, NS, CNAME, SOA, MX, TXT or AAAA, as keepalived accepts).
    pub fn query_type(mut self, word: &str) -> Result<Self, Error> {
        self.query_type = match word.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "NS" => RecordType::NS,
            "CNAME" => RecordType::CNAME,
            "SOA" => RecordType::SOA,
            "MX" => RecordType::MX,
            "TXT" => RecordType::TXT,
            "AAAA" => RecordType::AAAA,
            _ => return Err(Error::DnsType(word.to_owned())),
        };
        Ok(self)
    }

    /// Sets `name`.
    pub fn name(mut self, name: &str) -> Result<Self, Error> {
        self.name = Name::from_ascii(name).map_err(|e| Error::DnsName {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(self)
    }

    async fn run(&self) -> Outcome {
        let target = self.connect.target();
        let started = Instant::now();
        match within(self.connect.connect_timeout, self.exchange()).await {
            Ok(answers) => Outcome::up(format!(
                "DNS {} {} on {target}: NOERROR, {answers} answer(s) in {}",
                self.name,
                self.query_type,
                Human(round_micros(started.elapsed()))
            )),
            Err(reason) => Outcome::down(format!(
                "DNS {} {} on {target}: {reason}",
                self.name, self.query_type
            )),
        }
    }

    async fn exchange(&self) -> Result<usize, String> {
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(self.name.clone(), self.query_type));
        let id = query.metadata.id;
        let bytes = query
            .to_vec()
            .map_err(|e| format!("cannot encode the query: {e}"))?;
        let socket = connect_udp(&self.connect)?;
        socket
            .send(&bytes)
            .await
            .map_err(|e| format!("sending the query: {e}"))?;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = socket
                .recv(&mut buf)
                .await
                .map_err(|e| format!("no response: {e}"))?;
            match judge_reply(&buf[..n], id) {
                Some(verdict) => return verdict,
                None => continue, // a stray or late datagram: keep waiting for ours
            }
        }
    }
}

/// Judges one datagram received after the query with id `id`: `None` when it is not the answer
/// to it (another id, or a query), else the number of answers or why the reply is a failure.
pub(crate) fn judge_reply(datagram: &[u8], id: u16) -> Option<Result<usize, String>> {
    let Ok(response) = Message::from_vec(datagram) else {
        return Some(Err(format!(
            "undecodable response of {} bytes",
            datagram.len()
        )));
    };
    if response.metadata.id != id || response.metadata.message_type != MessageType::Response {
        return None;
    }
    let code = response.metadata.response_code;
    if code != ResponseCode::NoError {
        return Some(Err(format!("response code {code}, expected NOERROR")));
    }
    Some(Ok(response.answers.len()))
}

impl Checker for DnsCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }

    fn timeout(&self) -> Duration {
        self.connect.connect_timeout
    }
}
