//! `hsxd --can SPEC`: the daemon as a CAN provisioning device. Images pushed over ISO-TP
//! (by `hsx provision push --can`, python-can with can-isotp, or any master speaking the
//! layout of docs/can.md) go through the executive's streamed loader and start as tasks.

use std::sync::Arc;
use std::time::Duration;

use hsx_can::IsoTpChannel;
use hsx_can::provision::{
    DeviceSession, ProvisionDevice, ProvisionTarget, TargetError, device_params,
};
use hsx_exec::stream::StreamError;

use crate::event_map::publish;
use crate::state::Daemon;

/// A load session idle this long is dropped by the CAN side (the executive's own write
/// timeout applies as well).
const IDLE: Duration = Duration::from_secs(10);

fn target_error(e: &StreamError) -> TargetError {
    match e {
        StreamError::NoSpace(_) => TargetError::NoSpace,
        StreamError::NoSession(_) => TargetError::NoSession,
        StreamError::Busy { .. } => TargetError::Busy,
        other => TargetError::BadImage(other.detail()),
    }
}

/// The executive behind the CAN device: each step locks it briefly and publishes the
/// `provisioning.*` events it produced.
pub struct DaemonTarget {
    daemon: Arc<Daemon>,
}

impl DaemonTarget {
    /// A target loading into `daemon`'s executive.
    pub fn new(daemon: Arc<Daemon>) -> Self {
        Self { daemon }
    }
}

impl ProvisionTarget for DaemonTarget {
    fn begin(&mut self, label: Option<&str>, total_len: u32) -> Result<u32, TargetError> {
        let d = &self.daemon;
        let mut exec = d.exec();
        let r = exec.load_begin(label.or(Some("can")), total_len);
        publish(d, &mut exec);
        r.map_err(|e| target_error(&e))
    }

    fn write(&mut self, pid: u32, chunk: &[u8]) -> Result<(), TargetError> {
        let d = &self.daemon;
        let mut exec = d.exec();
        let r = exec.load_write(pid, chunk);
        publish(d, &mut exec);
        r.map(|_| ()).map_err(|e| target_error(&e))
    }

    fn end(&mut self, pid: u32) -> Result<(), TargetError> {
        let d = &self.daemon;
        let mut exec = d.exec();
        if let Err(e) = exec.load_end(pid) {
            publish(d, &mut exec);
            return Err(target_error(&e));
        }
        let mut prov = d.prov();
        let grace = prov.grace_ms;
        let r = prov.activate(&mut exec, pid, grace);
        prov.prune(&exec);
        drop(prov);
        publish(d, &mut exec);
        match r {
            Ok(a) => {
                tracing::info!(pid = a.pid, app = %a.app_name, "image received over CAN started");
                Ok(())
            }
            Err(e) => Err(TargetError::Failed(e.message)),
        }
    }

    fn abort(&mut self, pid: u32) {
        let d = &self.daemon;
        let mut exec = d.exec();
        let _ = exec.load_abort(pid);
        publish(d, &mut exec);
    }
}

/// Why `--can` could not start.
#[derive(Debug, thiserror::Error)]
pub enum CanStartError {
    /// The bus could not be opened.
    #[error(transparent)]
    Open(#[from] hsx_can::spec::OpenError),
    /// The ISO-TP channel could not be set up.
    #[error(transparent)]
    IsoTp(#[from] hsx_can::IsoTpError),
}

/// Opens `spec` (`slcan:PATH[@BITRATE]`, `socketcan:IFNAME`) and serves provisioning
/// requests on it in a thread until the daemon stops.
///
/// # Errors
/// [`CanStartError`].
pub fn spawn(
    daemon: Arc<Daemon>,
    spec: &str,
) -> Result<std::thread::JoinHandle<()>, CanStartError> {
    let bus = hsx_can::open_bus(spec)?;
    let channel = IsoTpChannel::new(bus, device_params())?;
    Ok(serve(daemon, channel, spec.to_string()))
}

/// Serves provisioning on an open channel in a thread until the daemon stops or the bus
/// fails.
pub fn serve<B: hsx_can::CanBus + Send + 'static>(
    daemon: Arc<Daemon>,
    channel: IsoTpChannel<B>,
    name: String,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let max_chunk = u16::try_from(daemon.exec().config().load.max_chunk).unwrap_or(u16::MAX);
        let mut dev = ProvisionDevice::new(channel, DeviceSession::new(max_chunk, IDLE));
        let mut target = DaemonTarget::new(daemon.clone());
        while !daemon.is_stopping() {
            if let Err(e) = dev.serve_once(&mut target, Duration::from_millis(100)) {
                tracing::error!(bus = %name, error = %e, "CAN provisioning stopped: the bus failed");
                return;
            }
        }
    })
}
