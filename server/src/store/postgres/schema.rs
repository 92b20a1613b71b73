//! The schema, as numbered migrations applied in order, each in its own
//! transaction under an advisory lock, so several `deskd` starting at once
//! against one database migrate it once. `meta.schema` remembers how far a
//! database has come.

use tokio_postgres::Client;

use super::db::db_error;
use crate::store::{Result, StoreError};

/// Held while migrating: any fixed number, the same in every `deskd`.
const MIGRATION_LOCK: i64 = 0x6465_736b_0001;

const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite store holds, in PostgreSQL's own types.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- The lineage of this database: a copy made by `deskd migrate` gets a
    -- new one, and sync clients notice the difference.
    INSERT INTO meta (key, value) VALUES ('epoch', replace(gen_random_uuid()::text, '-', ''));

    -- Numbers handed out under a row lock held until commit: ticket numbers
    -- without gaps, and change-log numbers in commit order (see `db.rs`).
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('ticket_number', 0), ('change_seq', 0);

    CREATE TABLE users (
        id                 UUID PRIMARY KEY,
        email              TEXT NOT NULL UNIQUE,
        name               TEXT NOT NULL,
        role               TEXT NOT NULL,
        active             BOOLEAN NOT NULL,
        password_hash      TEXT NOT NULL,
        created_at         TIMESTAMPTZ NOT NULL,
        -- Access tokens issued up to this instant are void; NULL: none.
        tokens_valid_after TIMESTAMPTZ
    );

    CREATE TABLE refresh_families (
        id      UUID PRIMARY KEY,
        user_id UUID NOT NULL REFERENCES users(id),
        revoked BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX refresh_families_by_user ON refresh_families(user_id);

    CREATE TABLE refresh_tokens (
        token_hash BYTEA PRIMARY KEY,
        family_id  UUID NOT NULL REFERENCES refresh_families(id),
        expires_at TIMESTAMPTZ NOT NULL,
        spent      BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);

    -- Logged-out access tokens, refused until they expire.
    CREATE TABLE denied_tokens (
        jti        UUID PRIMARY KEY,
        expires_at TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE tickets (
        id            UUID PRIMARY KEY,
        number        BIGINT NOT NULL UNIQUE,
        subject       TEXT NOT NULL,
        description   TEXT NOT NULL,
        status        TEXT NOT NULL,
        priority      SMALLINT NOT NULL,
        requester_id  UUID NOT NULL REFERENCES users(id),
        assignee_id   UUID REFERENCES users(id),
        tags          TEXT NOT NULL,
        created_at    TIMESTAMPTZ NOT NULL,
        updated_at    TIMESTAMPTZ NOT NULL,
        version       BIGINT NOT NULL,
        embed_token   TEXT NOT NULL,
        embed_hash    BYTEA NOT NULL UNIQUE,
        -- Subject and description lower-cased with Unicode rules, for `q`.
        search        TEXT NOT NULL,
        -- Digest of the create request, so a repeated create is recognised.
        create_digest BYTEA NOT NULL
    );
    CREATE INDEX tickets_by_updated ON tickets(updated_at, number);
    CREATE INDEX tickets_by_created ON tickets(created_at, number);
    CREATE INDEX tickets_by_priority ON tickets(priority, number);
    CREATE INDEX tickets_by_status ON tickets(status, updated_at, number);
    CREATE INDEX tickets_by_assignee ON tickets(assignee_id, updated_at, number);
    CREATE INDEX tickets_by_requester ON tickets(requester_id, updated_at, number);

    CREATE TABLE comments (
        id         UUID PRIMARY KEY,
        ticket_id  UUID NOT NULL REFERENCES tickets(id),
        author_id  UUID NOT NULL REFERENCES users(id),
        body       TEXT NOT NULL,
        internal   BOOLEAN NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX comments_by_ticket ON comments(ticket_id, created_at);

    -- Writes to one ticket hold its row lock, so ids follow its events.
    CREATE TABLE history (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ticket_id  UUID NOT NULL REFERENCES tickets(id),
        at         TIMESTAMPTZ NOT NULL,
        actor_id   UUID NOT NULL REFERENCES users(id),
        kind       TEXT NOT NULL,
        field      TEXT,
        from_value TEXT,
        to_value   TEXT,
        internal   BOOLEAN NOT NULL DEFAULT false
    );
    CREATE INDEX history_by_ticket ON history(ticket_id, id);
    CREATE INDEX history_by_field ON history(ticket_id, field, id);

    -- The outbox sync clients read, numbered in commit order (`db.rs`).
    CREATE TABLE changes (
        seq       BIGINT PRIMARY KEY,
        ticket_id UUID NOT NULL,
        kind      TEXT NOT NULL,
        at        TIMESTAMPTZ NOT NULL,
        left_user UUID
    );

    CREATE TABLE sync_clients (
        client_id       UUID PRIMARY KEY,
        user_id         UUID NOT NULL REFERENCES users(id),
        last_client_seq BIGINT NOT NULL
    );

    CREATE TABLE sync_results (
        client_id  UUID NOT NULL,
        client_seq BIGINT NOT NULL,
        op_id      UUID NOT NULL,
        user_id    UUID NOT NULL,
        result     TEXT NOT NULL,
        at         TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (client_id, client_seq)
    );
    CREATE INDEX sync_results_by_op ON sync_results(op_id, user_id);
    CREATE INDEX sync_results_by_at ON sync_results(at);
    "#,
    // 2: how many tickets share each (requester, assignee, status,
    // priority), kept by triggers in the writing transaction: a listing's
    // total without text is a sum over these few rows, whatever it pins,
    // instead of a count over every matching ticket. "No assignee" is the
    // nil id, so it is a key like the others.
    r#"
    CREATE TABLE ticket_counts (
        requester_id UUID NOT NULL,
        assignee_id  UUID NOT NULL,
        status       TEXT NOT NULL,
        priority     SMALLINT NOT NULL,
        n            BIGINT NOT NULL,
        PRIMARY KEY (requester_id, assignee_id, status, priority)
    );
    INSERT INTO ticket_counts
        SELECT requester_id, COALESCE(assignee_id, '00000000-0000-0000-0000-000000000000'),
            status, priority, count(*)
        FROM tickets GROUP BY 1, 2, 3, 4;
    CREATE FUNCTION ticket_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE ticket_counts SET n = n - 1
            WHERE requester_id = OLD.requester_id
                AND assignee_id = COALESCE(OLD.assignee_id, '00000000-0000-0000-0000-000000000000')
                AND status = OLD.status AND priority = OLD.priority;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO ticket_counts VALUES (NEW.requester_id,
                COALESCE(NEW.assignee_id, '00000000-0000-0000-0000-000000000000'),
                NEW.status, NEW.priority, 1)
            ON CONFLICT (requester_id, assignee_id, status, priority)
                DO UPDATE SET n = ticket_counts.n + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER ticket_counts_insert_delete AFTER INSERT OR DELETE ON tickets
        FOR EACH ROW EXECUTE FUNCTION ticket_counts_follow();
    CREATE TRIGGER ticket_counts_update
        AFTER UPDATE OF requester_id, assignee_id, status, priority ON tickets
        FOR EACH ROW
        WHEN (OLD.requester_id IS DISTINCT FROM NEW.requester_id
            OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
            OR OLD.status IS DISTINCT FROM NEW.status
            OR OLD.priority IS DISTINCT FROM NEW.priority)
        EXECUTE FUNCTION ticket_counts_follow();
    "#,
    // 3: change-log marks (docs/SYNC.md › Cursors): random per entry, so a
    // cursor names the change it stands on, not only its number, which a
    // point-in-time recovery or `pg_restore` hands out again. Entries from
    // before marks have none (0).
    r#"
    ALTER TABLE changes ADD COLUMN mark BIGINT NOT NULL DEFAULT 0;
    "#,
    // 4: API tokens for bots and scripts (docs/API.md › API tokens). The
    // secret only as its SHA-256 digest; a revoked token keeps its row, so
    // history written through it still names it.
    r#"
    CREATE TABLE api_tokens (
        id           UUID PRIMARY KEY,
        name         TEXT NOT NULL,
        scopes       TEXT NOT NULL,
        token_hash   BYTEA NOT NULL UNIQUE,
        created_by   UUID REFERENCES users(id),  -- NULL: made by `deskd token create`
        created_at   TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ,
        expires_at   TIMESTAMPTZ,
        revoked_at   TIMESTAMPTZ
    );
    -- The token a change was made through, on behalf of `actor_id`.
    ALTER TABLE history ADD COLUMN via_token UUID REFERENCES api_tokens(id);
    "#,
    // 5: webhooks — endpoints with their cursor in the change log and a
    // lease (which process delivers to each), and their deliveries
    // (docs/API.md › Webhooks).
    r#"
    CREATE TABLE webhooks (
        id               UUID PRIMARY KEY,
        url              TEXT NOT NULL,
        events           TEXT NOT NULL,
        include_internal BOOLEAN NOT NULL,
        active           BOOLEAN NOT NULL,
        failing          BOOLEAN NOT NULL DEFAULT false,
        secret           TEXT NOT NULL,
        cursor           BIGINT NOT NULL,
        lease_owner      UUID,
        lease_until      TIMESTAMPTZ,
        created_at       TIMESTAMPTZ NOT NULL,
        updated_at       TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE webhook_deliveries (
        id              UUID PRIMARY KEY,
        webhook_id      UUID NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        seq             BIGINT NOT NULL,
        event           TEXT NOT NULL,
        payload         TEXT NOT NULL,
        redelivery      BOOLEAN NOT NULL,
        state           TEXT NOT NULL,
        status_code     INTEGER,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ,
        last_error      TEXT,
        created_at      TIMESTAMPTZ NOT NULL,
        updated_at      TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, created_at);
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(webhook_id, next_attempt_at)
        WHERE state = 'pending';
    "#,
    // 6: `Idempotency-Key` (docs/API.md › Idempotency): per caller and key,
    // the request that first used the key and, once answered, its answer —
    // shared by every `deskd` on the database.
    r#"
    CREATE TABLE idempotency_keys (
        principal    UUID NOT NULL,     -- the user or API token that sent it
        key          TEXT NOT NULL,
        -- HMAC-SHA256 of method, target and body under a key derived from
        -- the server's secret (a body may hold a password).
        digest       BYTEA NOT NULL,
        -- The run that holds the key while its request runs.
        attempt      UUID NOT NULL,
        created_at   TIMESTAMPTZ NOT NULL,
        status       INTEGER,           -- NULL: its request still runs
        content_type TEXT,
        body         BYTEA,             -- NULL once answered: not kept
        PRIMARY KEY (principal, key)
    );
    CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_at);
    "#,
    // 7: staff writing for a customer (docs/API.md › On behalf of a
    // customer): the agent or admin a change was made by, on behalf of
    // `actor_id`.
    r#"
    ALTER TABLE history ADD COLUMN via_user UUID REFERENCES users(id);
    "#,
    // 8: projects (queues) and ticket keys (docs/API.md › Projects).
    r#"
    CREATE TABLE projects (
        key                  TEXT PRIMARY KEY,
        name                 TEXT NOT NULL,
        -- Reserved for SLA policies: NULL until they exist.
        default_sla          UUID,
        customers_may_choose BOOLEAN NOT NULL,
        -- The number the project's next ticket gets, handed out under this
        -- row's lock: keys are gap-free per project, and never given twice.
        next_number          BIGINT NOT NULL,
        created_at           TIMESTAMPTZ NOT NULL,
        updated_at           TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE project_members (
        project TEXT NOT NULL REFERENCES projects(key) ON DELETE CASCADE,
        user_id UUID NOT NULL REFERENCES users(id),
        PRIMARY KEY (project, user_id)
    );

    -- The default project holds every ticket from before projects under its
    -- own number: DESK-n is ticket n.
    INSERT INTO projects VALUES ('DESK', 'Desk', NULL, false,
        (SELECT COALESCE(MAX(number), 0) + 1 FROM tickets), now(), now());

    -- The kept counts (schema 2) by project too, so a listing pinned to one
    -- is still totalled from them.
    DROP TRIGGER ticket_counts_insert_delete ON tickets;
    DROP TRIGGER ticket_counts_update ON tickets;
    DROP FUNCTION ticket_counts_follow();
    DROP TABLE ticket_counts;

    ALTER TABLE tickets ADD COLUMN project TEXT NOT NULL DEFAULT 'DESK' REFERENCES projects(key);
    ALTER TABLE tickets ALTER COLUMN project DROP DEFAULT;
    ALTER TABLE tickets ADD COLUMN project_number BIGINT;
    UPDATE tickets SET project_number = number;
    ALTER TABLE tickets ALTER COLUMN project_number SET NOT NULL;
    CREATE INDEX tickets_by_project ON tickets(project, updated_at, number);

    -- Every key a ticket was ever given, its current one included, so an old
    -- key goes on naming a ticket that moved.
    CREATE TABLE ticket_keys (
        project   TEXT NOT NULL REFERENCES projects(key),
        number    BIGINT NOT NULL,
        ticket_id UUID NOT NULL REFERENCES tickets(id),
        PRIMARY KEY (project, number)
    );
    INSERT INTO ticket_keys SELECT 'DESK', number, id FROM tickets;

    CREATE TABLE ticket_counts (
        project      TEXT NOT NULL,
        requester_id UUID NOT NULL,
        assignee_id  UUID NOT NULL,
        status       TEXT NOT NULL,
        priority     SMALLINT NOT NULL,
        n            BIGINT NOT NULL,
        PRIMARY KEY (project, requester_id, assignee_id, status, priority)
    );
    INSERT INTO ticket_counts
        SELECT project, requester_id,
            COALESCE(assignee_id, '00000000-0000-0000-0000-000000000000'),
            status, priority, count(*)
        FROM tickets GROUP BY 1, 2, 3, 4, 5;
    CREATE FUNCTION ticket_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE ticket_counts SET n = n - 1
            WHERE project = OLD.project AND requester_id = OLD.requester_id
                AND assignee_id = COALESCE(OLD.assignee_id, '00000000-0000-0000-0000-000000000000')
                AND status = OLD.status AND priority = OLD.priority;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO ticket_counts VALUES (NEW.project, NEW.requester_id,
                COALESCE(NEW.assignee_id, '00000000-0000-0000-0000-000000000000'),
                NEW.status, NEW.priority, 1)
            ON CONFLICT (project, requester_id, assignee_id, status, priority)
                DO UPDATE SET n = ticket_counts.n + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER ticket_counts_insert_delete AFTER INSERT OR DELETE ON tickets
        FOR EACH ROW EXECUTE FUNCTION ticket_counts_follow();
    CREATE TRIGGER ticket_counts_update
        AFTER UPDATE OF project, requester_id, assignee_id, status, priority ON tickets
        FOR EACH ROW
        WHEN (OLD.project IS DISTINCT FROM NEW.project
            OR OLD.requester_id IS DISTINCT FROM NEW.requester_id
            OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
            OR OLD.status IS DISTINCT FROM NEW.status
            OR OLD.priority IS DISTINCT FROM NEW.priority)
        EXECUTE FUNCTION ticket_counts_follow();
    "#,
];

/// How far this `deskd` knows the schema.
pub const VERSION: usize = MIGRATIONS.len();

/// Brings the database up to the latest schema, or refuses one that is
/// newer than this `deskd` or is not Desk's.
pub async fn migrate(client: &mut Client) -> Result<()> {
    migrate_to(client, VERSION).await
}

/// Brings the database up to schema `target` (at most [`VERSION`]).
async fn migrate_to(client: &mut Client, target: usize) -> Result<()> {
    let tx = client.transaction().await.map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_error)?;
    let has_meta: bool = tx
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .await
        .map_err(db_error)?
        .get(0);
    let current = if has_meta {
        let version: Option<String> = tx
            .query_opt("SELECT value FROM meta WHERE key = 'schema'", &[])
            .await
            .map_err(db_error)?
            .map(|row| row.get(0));
        version
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| not_desks("its `meta` table has no schema version"))?
    } else {
        let tables: i64 = tx
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            )
            .await
            .map_err(db_error)?
            .get(0);
        if tables > 0 {
            return Err(not_desks("it already holds tables"));
        }
        0
    };
    if current > VERSION {
        return Err(StoreError::Backend(
            format!(
                "the database is at schema {current}, newer than this deskd knows ({VERSION}); upgrade deskd"
            )
            .into(),
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        tx.batch_execute(sql).await.map_err(db_error)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&(index + 1).to_string()],
        )
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}

fn not_desks(why: &str) -> StoreError {
    StoreError::Backend(format!("the database is not a Desk database ({why}); give deskd an empty database or one it created").into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use desk_testkit::postgres::TestDatabase;
    use tokio_postgres::NoTls;

    use super::*;

    #[tokio::test]
    async fn tickets_from_before_projects_are_in_desk_under_their_numbers() {
        let Some(database) =
            TestDatabase::create("tickets_from_before_projects_are_in_desk_under_their_numbers")
                .await
        else {
            return;
        };
        let (mut client, connection) = tokio_postgres::connect(database.url(), NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(connection);
        migrate_to(&mut client, VERSION - 1).await.unwrap();
        client
            .batch_execute(
                "INSERT INTO users (id, email, name, role, active, password_hash, created_at)
                 VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'A',
                    'customer', true, 'h', now());
                 INSERT INTO tickets (id, number, subject, description, status, priority,
                    requester_id, assignee_id, tags, created_at, updated_at, version,
                    embed_token, embed_hash, search, create_digest)
                 SELECT ('00000000-0000-0000-0000-00000000001' || n)::uuid, n, 's', '',
                    CASE WHEN n = 1 THEN 'open' ELSE 'closed' END, 1,
                    '00000000-0000-0000-0000-000000000001', NULL, '[]', now(), now(), 1,
                    't' || n, ('\\x0' || n)::bytea, 's', ''
                 FROM generate_series(1, 2) AS n;
                 UPDATE counters SET value = 2 WHERE name = 'ticket_number';",
            )
            .await
            .unwrap();
        migrate(&mut client).await.unwrap();

        let rows = client
            .query(
                "SELECT t.number, t.project, t.project_number, k.project, k.number
                 FROM tickets t JOIN ticket_keys k ON k.ticket_id = t.id ORDER BY t.number",
                &[],
            )
            .await
            .unwrap();
        let filed: Vec<(i64, String, i64, String, i64)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect();
        assert_eq!(
            filed,
            [
                (1, "DESK".into(), 1, "DESK".into(), 1),
                (2, "DESK".into(), 2, "DESK".into(), 2)
            ]
        );
        let next: i64 = client
            .query_one("SELECT next_number FROM projects WHERE key = 'DESK'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(next, 3, "DESK-3 comes next");
        let counts: Vec<(String, String, i64)> = client
            .query(
                "SELECT project, status, n FROM ticket_counts ORDER BY status",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(
            counts,
            [
                ("DESK".into(), "closed".into(), 1),
                ("DESK".into(), "open".into(), 1)
            ]
        );
        // A ticket must name a project from now on.
        let unfiled = client
            .execute(
                "INSERT INTO tickets (id, number, subject, description, status, priority,
                    requester_id, tags, created_at, updated_at, version, embed_token,
                    embed_hash, search, create_digest, project_number)
                 VALUES (gen_random_uuid(), 3, 's', '', 'open', 1,
                    '00000000-0000-0000-0000-000000000001', '[]', now(), now(), 1, 't3',
                    '\\x03', 's', '', 3)",
                &[],
            )
            .await;
        assert!(unfiled.is_err());
        // Opening it again changes nothing.
        migrate(&mut client).await.unwrap();
        drop(client);
        let _ = driver.await;
    }
}
