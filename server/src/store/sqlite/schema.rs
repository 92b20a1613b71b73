//! The schema, as numbered migrations applied in order; `PRAGMA user_version`
//! remembers how far a database has come.

use rusqlite::Connection;

use crate::store::Result;

const MIGRATIONS: &[&str] = &[
    // 1: users, sessions, tickets, comments, history, change log.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    -- The lineage of this database: a restore from backup keeps it, a fresh
    -- database gets a new one, and sync clients notice the difference.
    INSERT INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));

    CREATE TABLE users (
        id            BLOB PRIMARY KEY,
        email         TEXT NOT NULL UNIQUE,
        name          TEXT NOT NULL,
        role          TEXT NOT NULL,
        active        INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
    );

    CREATE TABLE refresh_families (
        id      BLOB PRIMARY KEY,
        user_id BLOB NOT NULL REFERENCES users(id),
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX refresh_families_by_user ON refresh_families(user_id);

    CREATE TABLE refresh_tokens (
        token_hash BLOB PRIMARY KEY,
        family_id  BLOB NOT NULL REFERENCES refresh_families(id),
        expires_at INTEGER NOT NULL,
        spent      INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;

    CREATE TABLE tickets (
        id            BLOB PRIMARY KEY,
        number        INTEGER NOT NULL UNIQUE,
        subject       TEXT NOT NULL,
        description   TEXT NOT NULL,
        status        TEXT NOT NULL,
        priority      INTEGER NOT NULL,
        requester_id  BLOB NOT NULL REFERENCES users(id),
        assignee_id   BLOB REFERENCES users(id),
        tags          TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        version       INTEGER NOT NULL,
        embed_token   TEXT NOT NULL,
        embed_hash    BLOB NOT NULL UNIQUE,
        -- Subject and description lower-cased with Unicode rules, for `q`:
        -- SQLite's LIKE folds ASCII only ("Ü" would not match "ü").
        search        TEXT NOT NULL,
        -- Digest of the create request, so a repeated create is recognised.
        create_digest BLOB NOT NULL
    );
    CREATE INDEX tickets_by_updated ON tickets(updated_at);
    CREATE INDEX tickets_by_assignee ON tickets(assignee_id, updated_at);
    CREATE INDEX tickets_by_requester ON tickets(requester_id, updated_at);

    CREATE TABLE comments (
        id         BLOB PRIMARY KEY,
        ticket_id  BLOB NOT NULL REFERENCES tickets(id),
        author_id  BLOB NOT NULL REFERENCES users(id),
        body       TEXT NOT NULL,
        internal   INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX comments_by_ticket ON comments(ticket_id, created_at);

    CREATE TABLE history (
        id         INTEGER PRIMARY KEY,
        ticket_id  BLOB NOT NULL REFERENCES tickets(id),
        at         INTEGER NOT NULL,
        actor_id   BLOB NOT NULL REFERENCES users(id),
        kind       TEXT NOT NULL,
        field      TEXT,
        from_value TEXT,
        to_value   TEXT,
        internal   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX history_by_ticket ON history(ticket_id, id);

    -- The outbox sync clients read: one entry per write, numbered in commit
    -- order. AUTOINCREMENT: a number is never reused, even after deletes.
    CREATE TABLE changes (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id BLOB NOT NULL,
        kind      TEXT NOT NULL,
        at        INTEGER NOT NULL
    );
    "#,
    // 2: sync — who lost sight of a ticket, clients and their op results.
    r#"
    -- The user who stopped seeing the ticket with this change (the former
    -- assignee of a reassignment): their pull reports it as removed.
    ALTER TABLE changes ADD COLUMN left_user BLOB;

    -- A sync client (one replica) and the last op the server consumed from
    -- it; advanced in the same transaction as the op's effect.
    CREATE TABLE sync_clients (
        client_id       BLOB PRIMARY KEY,
        user_id         BLOB NOT NULL REFERENCES users(id),
        last_client_seq INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- What each op came to, so a repeated push gets the same answer — also
    -- when a client re-sends it under a new client id (by op id).
    CREATE TABLE sync_results (
        client_id  BLOB NOT NULL,
        client_seq INTEGER NOT NULL,
        op_id      BLOB NOT NULL,
        user_id    BLOB NOT NULL,
        result     TEXT NOT NULL,
        PRIMARY KEY (client_id, client_seq)
    ) WITHOUT ROWID;
    CREATE INDEX sync_results_by_op ON sync_results(op_id, user_id);

    -- Conflicts name who last changed a field, and when.
    CREATE INDEX history_by_field ON history(ticket_id, field, id);
    "#,
    // 3: list pages in index order. The lists sort by a column, then by
    // number; with the number in the index, a page is found by walking the
    // index alone (see `tickets::list`), not by reading every skipped ticket.
    r#"
    DROP INDEX tickets_by_updated;
    DROP INDEX tickets_by_assignee;
    DROP INDEX tickets_by_requester;
    CREATE INDEX tickets_by_updated ON tickets(updated_at, number);
    CREATE INDEX tickets_by_assignee ON tickets(assignee_id, updated_at, number);
    CREATE INDEX tickets_by_requester ON tickets(requester_id, updated_at, number);
    CREATE INDEX tickets_by_created ON tickets(created_at, number);
    CREATE INDEX tickets_by_priority ON tickets(priority, number);
    "#,
    // 4: every list filter and sort from one index range, in order (see
    // `tickets::list`'s `Lead`): for each column a listing can pin to one
    // value, one index per sort, led by that column and holding the other
    // pinned columns after the sort key. The sort-only indexes of 3 stay for
    // listings that pin nothing; those led by assignee, requester and
    // priority are replaced by wider ones.
    //
    // Text search (`q`, a substring) gets a trigram index. It is keyed by the
    // ticket's number, not its rowid: VACUUM (and `VACUUM INTO`, a backup)
    // may renumber the rowids of a table without an INTEGER PRIMARY KEY. It
    // keeps no copy of the text (`content=''`); the list still checks
    // `search LIKE` on each ticket it finds, so the index only narrows.
    r#"
    DROP INDEX tickets_by_assignee;
    DROP INDEX tickets_by_requester;
    DROP INDEX tickets_by_priority;
    CREATE INDEX tickets_assignee_by_updated ON tickets(assignee_id, updated_at, number, requester_id, status, priority);
    CREATE INDEX tickets_assignee_by_created ON tickets(assignee_id, created_at, number, requester_id, status, priority);
    CREATE INDEX tickets_assignee_by_priority ON tickets(assignee_id, priority, number, requester_id, status);
    CREATE INDEX tickets_assignee_by_number ON tickets(assignee_id, number, requester_id, status, priority);
    CREATE INDEX tickets_assignee_by_status ON tickets(assignee_id, status, number, requester_id, priority);
    CREATE INDEX tickets_requester_by_updated ON tickets(requester_id, updated_at, number, assignee_id, status, priority);
    CREATE INDEX tickets_requester_by_created ON tickets(requester_id, created_at, number, assignee_id, status, priority);
    CREATE INDEX tickets_requester_by_priority ON tickets(requester_id, priority, number, assignee_id, status);
    CREATE INDEX tickets_requester_by_number ON tickets(requester_id, number, assignee_id, status, priority);
    CREATE INDEX tickets_requester_by_status ON tickets(requester_id, status, number, assignee_id, priority);
    CREATE INDEX tickets_status_by_updated ON tickets(status, updated_at, number, assignee_id, requester_id, priority);
    CREATE INDEX tickets_status_by_created ON tickets(status, created_at, number, assignee_id, requester_id, priority);
    CREATE INDEX tickets_status_by_priority ON tickets(status, priority, number, assignee_id, requester_id);
    CREATE INDEX tickets_status_by_number ON tickets(status, number, assignee_id, requester_id, priority);
    CREATE INDEX tickets_priority_by_updated ON tickets(priority, updated_at, number, assignee_id, requester_id, status);
    CREATE INDEX tickets_priority_by_created ON tickets(priority, created_at, number, assignee_id, requester_id, status);
    CREATE INDEX tickets_priority_by_number ON tickets(priority, number, assignee_id, requester_id, status);
    CREATE INDEX tickets_priority_by_status ON tickets(priority, status, number, assignee_id, requester_id);

    -- How many tickets share each (requester, assignee, status, priority):
    -- a listing's total without text is a sum over these few rows, whatever
    -- it pins. "No assignee" is an empty id, so it is a key like the others.
    CREATE TABLE ticket_counts (
        requester_id BLOB NOT NULL,
        assignee_id  BLOB NOT NULL,
        status       TEXT NOT NULL,
        priority     INTEGER NOT NULL,
        n            INTEGER NOT NULL,
        PRIMARY KEY (requester_id, assignee_id, status, priority)
    ) WITHOUT ROWID;
    INSERT INTO ticket_counts
        SELECT requester_id, COALESCE(assignee_id, x''), status, priority, COUNT(*)
        FROM tickets GROUP BY 1, 2, 3, 4;
    CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
        INSERT OR IGNORE INTO ticket_counts
            VALUES (new.requester_id, COALESCE(new.assignee_id, x''), new.status, new.priority, 0);
        UPDATE ticket_counts SET n = n + 1
        WHERE requester_id = new.requester_id AND assignee_id = COALESCE(new.assignee_id, x'')
            AND status = new.status AND priority = new.priority;
    END;
    CREATE TRIGGER ticket_counts_update
    AFTER UPDATE OF requester_id, assignee_id, status, priority ON tickets
    WHEN old.requester_id IS NOT new.requester_id OR old.assignee_id IS NOT new.assignee_id
        OR old.status IS NOT new.status OR old.priority IS NOT new.priority BEGIN
        UPDATE ticket_counts SET n = n - 1
        WHERE requester_id = old.requester_id AND assignee_id = COALESCE(old.assignee_id, x'')
            AND status = old.status AND priority = old.priority;
        INSERT OR IGNORE INTO ticket_counts
            VALUES (new.requester_id, COALESCE(new.assignee_id, x''), new.status, new.priority, 0);
        UPDATE ticket_counts SET n = n + 1
        WHERE requester_id = new.requester_id AND assignee_id = COALESCE(new.assignee_id, x'')
            AND status = new.status AND priority = new.priority;
    END;
    CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
        UPDATE ticket_counts SET n = n - 1
        WHERE requester_id = old.requester_id AND assignee_id = COALESCE(old.assignee_id, x'')
            AND status = old.status AND priority = old.priority;
    END;

    CREATE VIRTUAL TABLE ticket_text USING fts5(
        search, content = '', contentless_delete = 1, tokenize = 'trigram'
    );
    INSERT INTO ticket_text (rowid, search) SELECT number, search FROM tickets;
    CREATE TRIGGER ticket_text_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO ticket_text (rowid, search) VALUES (new.number, new.search);
    END;
    -- Every write sets `search`; only a changed text is indexed again.
    CREATE TRIGGER ticket_text_update AFTER UPDATE OF search ON tickets
    WHEN old.search IS NOT new.search BEGIN
        DELETE FROM ticket_text WHERE rowid = old.number;
        INSERT INTO ticket_text (rowid, search) VALUES (new.number, new.search);
    END;
    CREATE TRIGGER ticket_text_delete AFTER DELETE ON tickets BEGIN
        DELETE FROM ticket_text WHERE rowid = old.number;
    END;
    "#,
    // 5: sessions that end at once, and upkeep.
    r#"
    -- Access tokens issued up to this instant are void (a deactivation, a
    -- new password or role, a logout everywhere); NULL: none.
    ALTER TABLE users ADD COLUMN tokens_valid_after INTEGER;

    -- Logged-out access tokens, refused until they expire.
    CREATE TABLE denied_tokens (
        jti        BLOB PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- When each op result was recorded, so old ones can be swept. Results
    -- from before this column count as recorded now.
    ALTER TABLE sync_results ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
    UPDATE sync_results
        SET at = CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER);
    CREATE INDEX sync_results_by_at ON sync_results(at);

    CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
    "#,
    // 6: change-log marks (docs/SYNC.md › Cursors).
    r#"
    -- Random per entry, so a cursor names the change it stands on and not
    -- only its number, which a restored database hands out again. Entries
    -- from before marks have none (0).
    ALTER TABLE changes ADD COLUMN mark INTEGER NOT NULL DEFAULT 0;
    "#,
    // 7: API tokens for bots and scripts (docs/API.md › API tokens).
    r#"
    -- The secret only as its SHA-256 digest. A revoked token keeps its row,
    -- so history written through it still names it.
    CREATE TABLE api_tokens (
        id           BLOB PRIMARY KEY,
        name         TEXT NOT NULL,
        scopes       TEXT NOT NULL,  -- a JSON list of scope names
        token_hash   BLOB NOT NULL UNIQUE,
        created_by   BLOB REFERENCES users(id),  -- NULL: made by `deskd token create`
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at   INTEGER,
        revoked_at   INTEGER
    );
    -- The token a change was made through, on behalf of `actor_id`.
    ALTER TABLE history ADD COLUMN via_token BLOB REFERENCES api_tokens(id);
    "#,
    // 8: webhooks — endpoints with their cursor in the change log, and
    // their deliveries (docs/API.md › Webhooks).
    r#"
    CREATE TABLE webhooks (
        id               BLOB PRIMARY KEY,
        url              TEXT NOT NULL,
        -- A JSON list of event names.
        events           TEXT NOT NULL,
        include_internal INTEGER NOT NULL,
        active           INTEGER NOT NULL,
        failing          INTEGER NOT NULL DEFAULT 0,
        -- In clear: every delivery is signed with it.
        secret           TEXT NOT NULL,
        -- The last change-log entry this endpoint is done with.
        cursor           INTEGER NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
    );

    CREATE TABLE webhook_deliveries (
        id              BLOB PRIMARY KEY,
        webhook_id      BLOB NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        event           TEXT NOT NULL,
        payload         TEXT NOT NULL,
        redelivery      INTEGER NOT NULL,
        state           TEXT NOT NULL,
        status_code     INTEGER,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, created_at);
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(webhook_id, next_attempt_at)
        WHERE state = 'pending';
    "#,
    // 9: `Idempotency-Key` (docs/API.md › Idempotency): per caller and key,
    // the request that first used the key and, once answered, its answer.
    // A rowid table: an answer may be as large as a request (64 KiB).
    r#"
    CREATE TABLE idempotency_keys (
        principal    BLOB NOT NULL,     -- the user or API token that sent it
        key          TEXT NOT NULL,
        -- HMAC-SHA256 of method, target and body under a key derived from
        -- the server's secret (a body may hold a password).
        digest       BLOB NOT NULL,
        -- The run that holds the key while its request runs.
        attempt      BLOB NOT NULL,
        created_at   INTEGER NOT NULL,
        status       INTEGER,           -- NULL: its request still runs
        content_type TEXT,
        body         BLOB,              -- NULL once answered: not kept
        UNIQUE (principal, key)
    );
    CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_at);
    "#,
    // 10: staff writing for a customer (docs/API.md › On behalf of a
    // customer).
    r#"
    -- The agent or admin a change was made by, on behalf of `actor_id`.
    ALTER TABLE history ADD COLUMN via_user BLOB REFERENCES users(id);
    "#,
    // 11: projects (queues) and ticket keys (docs/API.md › Projects).
    r#"
    CREATE TABLE projects (
        key                  TEXT PRIMARY KEY,
        name                 TEXT NOT NULL,
        -- Reserved for SLA policies: NULL until they exist.
        default_sla          BLOB,
        customers_may_choose INTEGER NOT NULL,
        -- The number the project's next ticket gets: keys are gap-free per
        -- project, and never given twice.
        next_number          INTEGER NOT NULL,
        created_at           INTEGER NOT NULL,
        updated_at           INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE project_members (
        project TEXT NOT NULL REFERENCES projects(key) ON DELETE CASCADE,
        user_id BLOB NOT NULL REFERENCES users(id),
        PRIMARY KEY (project, user_id)
    ) WITHOUT ROWID;

    -- The default project holds every ticket from before projects under its
    -- own number: DESK-n is ticket n.
    INSERT INTO projects VALUES ('DESK', 'Desk', NULL, 0,
        (SELECT COALESCE(MAX(number), 0) + 1 FROM tickets),
        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));

    -- No REFERENCES: SQLite adds a column with one only if its default is
    -- NULL. The store checks the project on every create and move, and a
    -- project that held a ticket is never deleted.
    ALTER TABLE tickets ADD COLUMN project TEXT NOT NULL DEFAULT 'DESK';
    ALTER TABLE tickets ADD COLUMN project_number INTEGER NOT NULL DEFAULT 0;
    UPDATE tickets SET project_number = number;

    -- Every key a ticket was ever given, its current one included, so an old
    -- key goes on naming a ticket that moved.
    CREATE TABLE ticket_keys (
        project   TEXT NOT NULL REFERENCES projects(key),
        number    INTEGER NOT NULL,
        ticket_id BLOB NOT NULL REFERENCES tickets(id),
        PRIMARY KEY (project, number)
    ) WITHOUT ROWID;
    INSERT INTO ticket_keys SELECT 'DESK', number, id FROM tickets;

    -- A listing pinned to a project (`?project=`) walks one of these, as
    -- schema 4's indexes for the other pins (see `tickets::list`).
    CREATE INDEX tickets_project_by_updated ON tickets(project, updated_at, number, assignee_id, requester_id, status, priority);
    CREATE INDEX tickets_project_by_created ON tickets(project, created_at, number, assignee_id, requester_id, status, priority);
    CREATE INDEX tickets_project_by_priority ON tickets(project, priority, number, assignee_id, requester_id, status);
    CREATE INDEX tickets_project_by_number ON tickets(project, number, assignee_id, requester_id, status, priority);
    CREATE INDEX tickets_project_by_status ON tickets(project, status, number, assignee_id, requester_id, priority);

    -- The kept counts (schema 4) by project too, so a listing pinned to one
    -- is still totalled from them.
    DROP TRIGGER ticket_counts_insert;
    DROP TRIGGER ticket_counts_update;
    DROP TRIGGER ticket_counts_delete;
    DROP TABLE ticket_counts;
    CREATE TABLE ticket_counts (
        project      TEXT NOT NULL,
        requester_id BLOB NOT NULL,
        assignee_id  BLOB NOT NULL,
        status       TEXT NOT NULL,
        priority     INTEGER NOT NULL,
        n            INTEGER NOT NULL,
        PRIMARY KEY (project, requester_id, assignee_id, status, priority)
    ) WITHOUT ROWID;
    INSERT INTO ticket_counts
        SELECT project, requester_id, COALESCE(assignee_id, x''), status, priority, COUNT(*)
        FROM tickets GROUP BY 1, 2, 3, 4, 5;
    CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
        INSERT OR IGNORE INTO ticket_counts
            VALUES (new.project, new.requester_id, COALESCE(new.assignee_id, x''), new.status, new.priority, 0);
        UPDATE ticket_counts SET n = n + 1
        WHERE project = new.project AND requester_id = new.requester_id
            AND assignee_id = COALESCE(new.assignee_id, x'')
            AND status = new.status AND priority = new.priority;
    END;
    CREATE TRIGGER ticket_counts_update
    AFTER UPDATE OF project, requester_id, assignee_id, status, priority ON tickets
    WHEN old.project IS NOT new.project OR old.requester_id IS NOT new.requester_id
        OR old.assignee_id IS NOT new.assignee_id
        OR old.status IS NOT new.status OR old.priority IS NOT new.priority BEGIN
        UPDATE ticket_counts SET n = n - 1
        WHERE project = old.project AND requester_id = old.requester_id
            AND assignee_id = COALESCE(old.assignee_id, x'')
            AND status = old.status AND priority = old.priority;
        INSERT OR IGNORE INTO ticket_counts
            VALUES (new.project, new.requester_id, COALESCE(new.assignee_id, x''), new.status, new.priority, 0);
        UPDATE ticket_counts SET n = n + 1
        WHERE project = new.project AND requester_id = new.requester_id
            AND assignee_id = COALESCE(new.assignee_id, x'')
            AND status = new.status AND priority = new.priority;
    END;
    CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
        UPDATE ticket_counts SET n = n - 1
        WHERE project = old.project AND requester_id = old.requester_id
            AND assignee_id = COALESCE(old.assignee_id, x'')
            AND status = old.status AND priority = old.priority;
    END;
    "#,
];

/// Brings `conn`'s database up to the latest schema.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(crate::store::StoreError::Backend(
            format!(
                "the database is at schema {current}, newer than this deskd knows ({}); upgrade deskd",
                MIGRATIONS.len()
            )
            .into(),
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A database as a `deskd` that knew only the first `version`
    /// migrations left it, with one user and two tickets.
    fn database_at(version: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, name, role, active, password_hash, created_at)
                VALUES (x'01', 'a@example.com', 'A', 'customer', 1, 'h', 0);
             INSERT INTO tickets (id, number, subject, description, status, priority,
                requester_id, assignee_id, tags, created_at, updated_at, version,
                embed_token, embed_hash, search, create_digest)
             VALUES (x'10', 1, 's', '', 'open', 3, x'01', NULL, '[]', 1, 1, 1, 't1', x'a1', 'scanner jam', x''),
                    (x'20', 2, 's', '', 'closed', 0, x'01', NULL, '[]', 2, 2, 1, 't2', x'a2', 'scanner off', x'');",
        )
        .unwrap();
        conn
    }

    fn indexes(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// The numbers of the tickets whose text matches `q` (FTS5 syntax).
    fn texts(conn: &Connection, q: &str) -> Vec<i64> {
        conn.prepare("SELECT rowid FROM ticket_text WHERE ticket_text MATCH ?1 ORDER BY rowid")
            .unwrap()
            .query_map([q], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn a_database_of_the_previous_schema_gets_the_list_indexes_and_keeps_its_tickets() {
        let mut conn = database_at(3);
        assert!(indexes(&conn).contains(&"tickets_by_assignee".to_string()));
        migrate(&mut conn).unwrap();
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let names = indexes(&conn);
        assert!(!names.contains(&"tickets_by_assignee".to_string()));
        assert!(names.contains(&"tickets_status_by_priority".to_string()));
        // The indexes hold the tickets that were there: a page read through
        // one finds them.
        let found: Vec<i64> = conn
            .prepare(
                "SELECT number FROM tickets INDEXED BY tickets_requester_by_updated
                 WHERE requester_id = x'01' AND status = 'closed' ORDER BY updated_at",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(found, [2]);
        assert_eq!(texts(&conn, "\"scanner\""), [1, 2]);
        let kept: Vec<(String, i64)> = conn
            .prepare("SELECT status, n FROM ticket_counts ORDER BY status")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(kept, [("closed".to_string(), 1), ("open".to_string(), 1)]);
        // So does the text index, and it follows later writes.
        conn.execute_batch("UPDATE tickets SET search = 'printer on fire' WHERE number = 2")
            .unwrap();
        assert_eq!(
            texts(&conn, "\"s\""),
            Vec::<i64>::new(),
            "under three characters matches nothing"
        );
        assert_eq!(texts(&conn, "\"nter on\""), [2]);
        conn.execute_batch(
            "DELETE FROM ticket_keys WHERE number = 2; DELETE FROM tickets WHERE number = 2",
        )
        .unwrap();
        assert_eq!(texts(&conn, "\"nter on\""), Vec::<i64>::new());
        // The kept counts start from the tickets there, and follow writes.
        let counts = |conn: &Connection| -> Vec<(String, i64)> {
            conn.prepare("SELECT status, n FROM ticket_counts WHERE n > 0 ORDER BY status")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        assert_eq!(
            counts(&conn),
            [("open".to_string(), 1)],
            "ticket 2 was deleted"
        );
        conn.execute_batch("UPDATE tickets SET status = 'blocked' WHERE number = 1")
            .unwrap();
        assert_eq!(counts(&conn), [("blocked".to_string(), 1)]);
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
        // Opening it again changes nothing.
        migrate(&mut conn).unwrap();
        assert_eq!(indexes(&conn), names);
    }

    #[test]
    fn tickets_from_before_projects_are_in_desk_under_their_numbers() {
        let before = MIGRATIONS.len() - 1;
        let mut conn = database_at(before);
        migrate(&mut conn).unwrap();
        let filed: Vec<(i64, String, i64)> = conn
            .prepare("SELECT number, project, project_number FROM tickets ORDER BY number")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(filed, [(1, "DESK".into(), 1), (2, "DESK".into(), 2)]);
        let keys: Vec<(String, i64, Vec<u8>)> = conn
            .prepare("SELECT project, number, ticket_id FROM ticket_keys ORDER BY number")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                ("DESK".into(), 1, vec![0x10]),
                ("DESK".into(), 2, vec![0x20])
            ]
        );
        let (key, next): (String, i64) = conn
            .query_row("SELECT key, next_number FROM projects", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((key.as_str(), next), ("DESK", 3), "DESK-3 comes next");
        // The kept counts are by project now, and follow a move.
        let counts = |conn: &Connection| -> Vec<(String, String, i64)> {
            conn.prepare(
                "SELECT project, status, n FROM ticket_counts WHERE n > 0 ORDER BY project, status",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
        };
        assert_eq!(
            counts(&conn),
            [
                ("DESK".into(), "closed".into(), 1),
                ("DESK".into(), "open".into(), 1)
            ]
        );
        conn.execute_batch(
            "INSERT INTO projects VALUES ('BILL', 'Billing', NULL, 0, 1, 0, 0);
             UPDATE tickets SET project = 'BILL', project_number = 1 WHERE number = 2;",
        )
        .unwrap();
        assert_eq!(
            counts(&conn),
            [
                ("BILL".into(), "closed".into(), 1),
                ("DESK".into(), "open".into(), 1)
            ]
        );
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }
}
