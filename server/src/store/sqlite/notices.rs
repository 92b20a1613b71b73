//! After each commit, tell live clients what it added to the change log, and
//! remember how far the log has come (the lineage file).
//!
//! The lineage file sits beside the database and holds its epoch and the
//! highest change number seen. A database that opens *behind* that number was
//! restored from an older copy: its change numbers will be handed out again
//! for different changes, so it gets a new epoch and every client
//! re-bootstraps instead of silently missing them (docs/SYNC.md, Replicache #335).

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use rusqlite::{Connection, params};
use tokio::sync::broadcast;

use desk_sync::wire::mark::Mark;

use super::{
    codec::Cached,
    sync::{head, head_cursor},
};
use crate::store::{ChangeNotice, Result};

/// More new entries than this in one commit (a bulk import) become a single
/// poke to everyone.
const DESCRIBED_MAX: usize = 256;
/// How often the lineage file is rewritten while changes flow.
const LINEAGE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Publisher {
    tx: broadcast::Sender<ChangeNotice>,
    /// The last change number published.
    last: u64,
    lineage: Lineage,
    lineage_written: Instant,
}

impl Publisher {
    pub fn new(
        conn: &Connection,
        tx: broadcast::Sender<ChangeNotice>,
        lineage: Lineage,
    ) -> Result<Self> {
        Ok(Publisher {
            tx,
            last: head(conn)?,
            lineage,
            lineage_written: Instant::now(),
        })
    }

    /// Called by the writer after each group commit.
    pub fn after_commit(&mut self, conn: &Connection) {
        if let Err(err) = self.publish(conn) {
            tracing::warn!(%err, "cannot read the change log to notify live clients");
        }
        if self.lineage_written.elapsed() >= LINEAGE_EVERY {
            self.lineage.record(self.last);
            self.lineage_written = Instant::now();
        }
    }

    /// At shutdown.
    pub fn finish(&mut self) {
        self.lineage.record(self.last);
    }

    fn publish(&mut self, conn: &Connection) -> Result<()> {
        if self.tx.receiver_count() == 0 {
            self.last = head(conn)?;
            return Ok(());
        }
        let mut stmt = conn.prepare_cached(
            "SELECT c.seq, t.requester_id, t.assignee_id, c.left_user, c.mark
             FROM changes c JOIN tickets t ON t.id = c.ticket_id
             WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2",
        )?;
        let notices = stmt
            .query_map(params![self.last, DESCRIBED_MAX + 1], |r| {
                Ok(ChangeNotice {
                    seq: r.get(0)?,
                    mark: Mark::from_db(r.get(4)?),
                    requester: r.get(1)?,
                    assignee: r.get(2)?,
                    left_user: r.get(3)?,
                    everyone: false,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if notices.len() > DESCRIBED_MAX {
            let head = head_cursor(conn)?;
            let _ = self.tx.send(ChangeNotice {
                seq: head.seq,
                mark: head.mark.unwrap_or_default(),
                requester: uuid::Uuid::nil(),
                assignee: None,
                left_user: None,
                everyone: true,
            });
            self.last = head.seq;
            return Ok(());
        }
        for notice in notices {
            self.last = notice.seq;
            // No receivers left is fine: pokes are best-effort.
            let _ = self.tx.send(notice);
        }
        Ok(())
    }
}

/// `<db>-lineage`: "<epoch> <highest seq>".
#[derive(Debug)]
pub struct Lineage {
    path: PathBuf,
    epoch: String,
}

impl Lineage {
    /// Checks `conn`'s database against its lineage file; gives it a new
    /// epoch if it went back in time. Returns the epoch to use.
    pub fn check(db: &Path, conn: &Connection) -> Result<Lineage> {
        let mut path = db.as_os_str().to_owned();
        path.push("-lineage");
        let path = PathBuf::from(path);
        let epoch: String = conn.row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
            r.get(0)
        })?;
        let head = head(conn)?;
        let recorded = std::fs::read_to_string(&path).ok().and_then(|text| {
            let (epoch, seq) = text.trim().split_once(' ')?;
            Some((epoch.to_string(), seq.parse::<u64>().ok()?))
        });
        let epoch = match recorded {
            Some((known, seen)) if known == epoch && head < seen => {
                let fresh: String = conn.row(
                    "UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'epoch'
                     RETURNING value",
                    [],
                    |r| r.get(0),
                )?;
                tracing::warn!(
                    head,
                    seen,
                    "the database is behind its own change log (restored from an older copy?): \
                     starting a new sync epoch; clients will download their tickets again"
                );
                fresh
            }
            _ => epoch,
        };
        let lineage = Lineage { path, epoch };
        lineage.record(head);
        Ok(lineage)
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Best effort: without the file a restore is still caught when a
    /// client's cursor is ahead of the log.
    fn record(&self, seq: u64) {
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        let written = std::fs::write(&tmp, format!("{} {seq}\n", self.epoch))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(err) = written {
            tracing::warn!(%err, path = %self.path.display(), "cannot record the database lineage");
        }
    }
}
