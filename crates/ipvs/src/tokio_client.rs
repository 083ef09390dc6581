//! The async client, on a tokio netlink socket (feature `tokio`).
//!
//! It drives the same sans-IO core as the blocking [`Ipvs`](crate::Ipvs) (framing, ACK tracking,
//! dump collection, error sorting); only the socket calls are async.

use std::net::SocketAddr;
use std::time::Duration;

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_ipvs::{IPVS_GENL_NAME, IpvsAttr, IpvsCmd, IpvsMessage};
use netlink_sys::{AsyncSocket, AsyncSocketExt, TokioSocket, protocols::NETLINK_GENERIC};

use crate::batch::{BatchReport, OnError, Op};
use crate::client::{Counters, DUMP_ATTEMPTS, Options, RECV_BUFFER, configure_socket, window_for};
use crate::ctrl::{RESOLVE_SEQ, get_family_request, parse_family_reply};
use crate::error::{Error, Result, receive_error};
use crate::proto::{
    BatchPlan, Codec, DumpReader, Exchanged, Reply, decode, read_destinations, read_messages,
    read_services, start_exchange,
};
use crate::reconcile::ServiceEntry;
use crate::reply;
use crate::types::{Daemon, DaemonState, Destination, Info, Service, ServiceKey, Timeouts};

/// The async twin of [`Ipvs`](crate::Ipvs): same methods, same semantics, awaited.
pub struct AsyncIpvs {
    socket: TokioSocket,
    codec: Codec,
    window: usize,
    recv_buf: Vec<u8>,
    send_buf: Vec<u8>,
    counters: Counters,
    /// The longest wait for one answer ([`Options::timeout`]).
    timeout: Duration,
}

impl std::fmt::Debug for AsyncIpvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncIpvs")
            .field("family_id", &self.codec.family_id())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl AsyncIpvs {
    /// Opens a client; must be called inside a tokio runtime.
    pub async fn new() -> Result<Self> {
        Self::with_options(Options::default()).await
    }

    /// Opens a client with the given options.
    pub async fn with_options(options: Options) -> Result<Self> {
        let mut socket = TokioSocket::new(NETLINK_GENERIC)?;
        configure_socket(socket.socket_mut())?;
        let timeout = options.effective_timeout();
        let mut recv_buf = Vec::with_capacity(RECV_BUFFER);
        let family_id = match resolve(&socket, &mut recv_buf, timeout).await {
            Err(Error::ModuleNotLoaded { detail }) if options.load_module => {
                let detail2 = detail.clone();
                tokio::task::spawn_blocking(move || crate::load_module(&detail2))
                    .await
                    .map_err(|e| Error::ModuleNotLoaded {
                        detail: format!("{detail}; {e}"),
                    })??;
                resolve(&socket, &mut recv_buf, timeout).await?
            }
            other => other?,
        };
        let window = window_for(socket.socket_ref(), options.window);
        Ok(Self {
            socket,
            codec: Codec::new(family_id),
            window,
            recv_buf,
            send_buf: Vec::new(),
            counters: Counters::default(),
            timeout,
        })
    }

    /// The family id the kernel gave "IPVS".
    pub fn family_id(&self) -> u16 {
        self.codec.family_id()
    }

    /// Most requests a [`OnError::Continue`] batch puts in one `sendmsg`, as
    /// [`Ipvs::window`](crate::Ipvs::window).
    pub fn window(&self) -> usize {
        self.window
    }

    /// Requests, sends and receives so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Sets the counters back to zero.
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    /// All services, with their statistics.
    pub async fn services(&mut self) -> Result<Vec<Service>> {
        self.dump(&IpvsMessage::new(IpvsCmd::GetService), read_services)
            .await
    }

    /// The destinations of a service.
    pub async fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>> {
        let msg = IpvsMessage {
            cmd: IpvsCmd::GetDest,
            attrs: vec![IpvsAttr::Service(key.attrs())],
        };
        self.dump(&msg, read_destinations(key.family())).await
    }

    /// One service, looked up by key.
    pub async fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let msgs = self
            .request(&crate::proto::get_service_request(key))
            .await?;
        crate::proto::first_service(&msgs)
    }

    /// Every service with its destinations, in the kernel's order, as
    /// [`Ipvs::entries`](crate::Ipvs::entries).
    pub async fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        let services = self.services().await?;
        let mut entries = Vec::with_capacity(services.len());
        for service in services {
            let destinations = self.destinations(&service.key).await?;
            entries.push(ServiceEntry {
                service,
                destinations,
            });
        }
        Ok(entries)
    }

    /// Adds a service.
    pub async fn new_service(&mut self, service: &Service) -> Result<()> {
        self.apply(&Op::NewService(service.clone())).await
    }

    /// Edits a service in place.
    pub async fn set_service(&mut self, service: &Service) -> Result<()> {
        self.apply(&Op::SetService(service.clone())).await
    }

    /// Deletes a service.
    pub async fn del_service(&mut self, key: &ServiceKey) -> Result<()> {
        self.apply(&Op::DelService(*key)).await
    }

    /// Adds a destination.
    pub async fn new_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.apply(&Op::NewDest(*key, dest.clone())).await
    }

    /// Edits a destination in place.
    pub async fn set_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.apply(&Op::SetDest(*key, dest.clone())).await
    }

    /// Deletes a destination.
    pub async fn del_destination(&mut self, key: &ServiceKey, addr: SocketAddr) -> Result<()> {
        self.apply(&Op::DelDest(*key, addr)).await
    }

    /// Deletes every service.
    pub async fn flush(&mut self) -> Result<()> {
        self.apply(&Op::Flush).await
    }

    /// Zeroes counters of one service, or of all.
    pub async fn zero(&mut self, key: Option<&ServiceKey>) -> Result<()> {
        self.apply(&Op::Zero(key.copied())).await
    }

    /// The connection timeouts.
    pub async fn timeouts(&mut self) -> Result<Timeouts> {
        let msgs = self.request(&IpvsMessage::new(IpvsCmd::GetConfig)).await?;
        Ok(reply::timeouts(&msgs))
    }

    /// Sets the connection timeouts.
    pub async fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<()> {
        self.apply(&Op::SetTimeouts(*timeouts)).await
    }

    /// The IPVS version and connection-table size.
    pub async fn info(&mut self) -> Result<Info> {
        let msgs = self.request(&IpvsMessage::new(IpvsCmd::GetInfo)).await?;
        reply::info(&msgs)
    }

    /// The running sync daemons.
    pub async fn daemons(&mut self) -> Result<Vec<Daemon>> {
        let msgs = self
            .dump(&IpvsMessage::new(IpvsCmd::GetDaemon), read_messages)
            .await?;
        Ok(reply::daemons(&msgs))
    }

    /// Starts a sync daemon.
    pub async fn start_daemon(&mut self, daemon: &Daemon) -> Result<()> {
        self.apply(&Op::StartDaemon(daemon.clone())).await
    }

    /// Stops the sync daemon in the given state.
    pub async fn stop_daemon(&mut self, state: DaemonState) -> Result<()> {
        self.apply(&Op::StopDaemon(state)).await
    }

    /// Applies one operation.
    pub async fn apply(&mut self, op: &Op) -> Result<()> {
        self.request(&op.to_message()).await.map(drop)
    }

    /// Applies many operations, as [`Ipvs::batch`](crate::Ipvs::batch).
    pub async fn batch(&mut self, ops: &[Op], on_error: OnError) -> Result<BatchReport> {
        let mut plan = BatchPlan::new(ops, on_error, self.window);
        while let Some(msgs) = plan.next_window() {
            let (results, _) = self.exchange(&msgs).await?;
            plan.record(results);
        }
        Ok(plan.finish())
    }

    async fn request(&mut self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>> {
        crate::proto::single_reply(self.exchange(std::slice::from_ref(msg)).await?)
    }

    async fn exchange(&mut self, msgs: &[IpvsMessage]) -> Result<Exchanged> {
        let Some(mut tracker) = start_exchange(&mut self.codec, &mut self.send_buf, msgs) else {
            return Ok((Vec::new(), Vec::new()));
        };
        self.send().await?;
        self.counters.requests += msgs.len() as u64;
        while !tracker.complete() {
            for reply in self.recv().await? {
                tracker.on_reply(reply);
            }
        }
        Ok(tracker.into_results())
    }

    async fn dump<T>(
        &mut self,
        msg: &IpvsMessage,
        mut read: impl FnMut(&[u8], &mut Vec<T>) -> std::result::Result<(), String>,
    ) -> Result<Vec<T>> {
        for _ in 0..DUMP_ATTEMPTS {
            self.send_buf.clear();
            let seq = self
                .codec
                .encode(&mut self.send_buf, msg, NLM_F_REQUEST | NLM_F_DUMP);
            self.send().await?;
            self.counters.requests += 1;
            let mut dump = DumpReader::new(self.codec.family_id(), seq, msg.cmd, &mut read);
            while !dump.complete() {
                self.recv_datagram().await?;
                dump.feed(&self.recv_buf)?;
            }
            if let Some(kernel) = dump.error {
                return Err(Error::from_kernel(kernel));
            }
            if !dump.interrupted {
                return Ok(dump.items);
            }
        }
        Err(Error::Protocol(format!(
            "the {:?} dump was interrupted {DUMP_ATTEMPTS} times in a row",
            msg.cmd
        )))
    }

    async fn send(&mut self) -> Result<()> {
        let sent = self.socket.send(&self.send_buf).await?;
        self.counters.sends += 1;
        if sent != self.send_buf.len() {
            return Err(Error::Protocol(format!(
                "sent {sent} of {} bytes",
                self.send_buf.len()
            )));
        }
        Ok(())
    }

    async fn recv(&mut self) -> Result<Vec<Reply>> {
        self.recv_datagram().await?;
        decode(self.codec.family_id(), &self.recv_buf)
    }

    /// Receives one datagram into `recv_buf`.
    async fn recv_datagram(&mut self) -> Result<()> {
        recv_within(&self.socket, &mut self.recv_buf, self.timeout).await?;
        self.counters.receives += 1;
        self.counters.receive_calls += 1;
        Ok(())
    }
}

/// Receives one datagram into `buf` (cleared first), waiting at most `timeout`.
async fn recv_within(socket: &TokioSocket, buf: &mut Vec<u8>, timeout: Duration) -> Result<()> {
    buf.clear();
    match tokio::time::timeout(timeout, socket.recv(buf)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(receive_error(e, timeout)),
        Err(_) => Err(Error::Timeout(timeout)),
    }
}

async fn resolve(socket: &TokioSocket, buf: &mut Vec<u8>, timeout: Duration) -> Result<u16> {
    socket
        .send(&get_family_request(IPVS_GENL_NAME, RESOLVE_SEQ))
        .await?;
    let mut found = None;
    loop {
        recv_within(socket, buf, timeout).await?;
        if let Some(id) = parse_family_reply(buf, RESOLVE_SEQ, IPVS_GENL_NAME, &mut found)? {
            return Ok(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing asked, nothing answered: the wait ends with the typed timeout.
    #[tokio::test]
    async fn a_silent_kernel_is_a_timeout() {
        let mut socket = TokioSocket::new(NETLINK_GENERIC).unwrap();
        configure_socket(socket.socket_mut()).unwrap();
        let timeout = Duration::from_millis(50);
        let mut buf = Vec::with_capacity(RECV_BUFFER);
        match recv_within(&socket, &mut buf, timeout).await {
            Err(Error::Timeout(after)) => assert_eq!(after, timeout),
            other => panic!("expected a timeout, found {other:?}"),
        }
    }
}
