//! Live pokes across processes: every write transaction notifies
//! [`CHANNEL`] as it commits (`db.rs`); each process keeps one connection
//! listening on it and, on each notification, reads the change log past the
//! last entry it published and tells its live clients, in order. Whichever
//! process made a change, every process publishes it.
//!
//! A notification carries nothing the listener trusts but "something
//! committed": the entries are read back from the log, so a notification
//! lost while the listener reconnects costs nothing — it catches up from
//! where it was when it is back.

use std::time::Duration;

use desk_sync::wire::mark::Mark;
use futures_util::StreamExt;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio_postgres::{AsyncMessage, Config, NoTls};
use uuid::Uuid;

use super::db::{CHANNEL, Db, db_error, signed, unsigned};
use crate::store::{ChangeNotice, Result};

/// More new entries than this at once (a bulk import) become a single poke
/// to everyone.
const DESCRIBED_MAX: i64 = 256;
/// How often the listener reads the log without being told to.
const CATCH_UP_EVERY: Duration = Duration::from_secs(5);
/// How long the listener waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Runs until `stop` is notified.
pub async fn listen(
    config: Config,
    db: Db,
    notices: broadcast::Sender<ChangeNotice>,
    mut last: u64,
    stop: std::sync::Arc<Notify>,
) {
    loop {
        tokio::select! {
            () = stop.notified() => return,
            ended = listen_once(&config, &db, &notices, &mut last) => {
                if let Err(err) = ended {
                    tracing::warn!(%err, "lost the database's change notifications; reconnecting");
                }
            }
        }
        tokio::select! {
            () = stop.notified() => return,
            () = tokio::time::sleep(RECONNECT_AFTER) => {}
        }
    }
}

/// One connection's worth of listening: returns when it ends.
async fn listen_once(
    config: &Config,
    db: &Db,
    notices: &broadcast::Sender<ChangeNotice>,
    last: &mut u64,
) -> Result<()> {
    let (client, mut connection) = config.connect(NoTls).await.map_err(db_error)?;
    let (wake, mut woken) = mpsc::channel::<()>(1);
    // The connection delivers notifications only while it is polled.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                // A full channel already holds a wake-up: enough.
                Ok(AsyncMessage::Notification(_)) => drop(wake.try_send(())),
                Ok(_) => {}
                Err(err) => return Err(db_error(err)),
            }
        }
        Ok(())
    });
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(db_error)?;
    // What committed before the LISTEN took effect.
    publish(db, notices, last).await?;
    let ended = loop {
        // A notification lost with a silently dropped connection is made
        // up for within a few seconds: the log is read then anyway.
        tokio::select! {
            woke = woken.recv() => if woke.is_none() { break Ok(()) },
            () = tokio::time::sleep(CATCH_UP_EVERY) => {}
        }
        if let Err(err) = publish(db, notices, last).await {
            break Err(err);
        }
    };
    driver.abort();
    ended
}

/// Publishes every entry past `last`.
async fn publish(db: &Db, notices: &broadcast::Sender<ChangeNotice>, last: &mut u64) -> Result<()> {
    let client = db.client().await?;
    let rows = client
        .query(
            "SELECT c.seq, t.requester_id, t.assignee_id, c.left_user, c.mark
             FROM changes c JOIN tickets t ON t.id = c.ticket_id
             WHERE c.seq > $1 ORDER BY c.seq LIMIT $2",
            &[&signed(*last), &(DESCRIBED_MAX + 1)],
        )
        .await
        .map_err(db_error)?;
    if rows.len() as i64 > DESCRIBED_MAX {
        let head = client
            .query_one(
                "SELECT k.value, COALESCE(c.mark, 0) FROM counters k
                 LEFT JOIN changes c ON c.seq = k.value WHERE k.name = 'change_seq'",
                &[],
            )
            .await
            .map_err(db_error)?;
        *last = unsigned(&head, 0);
        // No receivers is fine: pokes are best-effort.
        let _ = notices.send(ChangeNotice {
            seq: *last,
            mark: Mark::from_db(head.get(1)),
            requester: Uuid::nil(),
            assignee: None,
            left_user: None,
            everyone: true,
        });
        return Ok(());
    }
    for row in &rows {
        *last = unsigned(row, 0);
        let _ = notices.send(ChangeNotice {
            seq: *last,
            mark: Mark::from_db(row.get(4)),
            requester: row.get(1),
            assignee: row.get(2),
            left_user: row.get(3),
            everyone: false,
        });
    }
    Ok(())
}
