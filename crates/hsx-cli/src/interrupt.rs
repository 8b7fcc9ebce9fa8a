//! Ctrl-C while the shell follows a stream (`listen`, `events --follow`): stop the
//! follow, not the shell. One-shot commands keep the default (Ctrl-C ends the process).

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static FLAG: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Routes SIGINT to a flag instead of ending the process. Idempotent.
pub fn install() {
    INSTALL.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("hsx-sigint".into())
            .spawn(|| {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    while tokio::signal::ctrl_c().await.is_ok() {
                        FLAG.store(true, Ordering::SeqCst);
                    }
                });
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot watch for Ctrl-C: {e}");
        }
    });
}

/// True once after a Ctrl-C; clears the flag.
pub fn take() -> bool {
    FLAG.swap(false, Ordering::SeqCst)
}

/// Forgets an earlier Ctrl-C (before starting a new follow).
pub fn clear() {
    FLAG.store(false, Ordering::SeqCst);
}
