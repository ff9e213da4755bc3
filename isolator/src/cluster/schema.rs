//! The cluster database's schema, migrated at start.
//!
//! Each migration is applied once, in order, inside one transaction that
//! holds an advisory lock, so nodes starting together never race; the
//! versions applied are listed in `isolator_schema`. A database whose schema
//! is newer than this build knows is refused (an older node must not write
//! into a layout it does not understand).

use super::db::{describe, Db, DbError};

/// The migrations, oldest first; never edit one that shipped, add another.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "
CREATE TABLE policy_versions (
    version     bigint PRIMARY KEY,
    author      text NOT NULL,
    at          text NOT NULL,
    summary     jsonb NOT NULL,
    rollback_of bigint,
    document    jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE nodes (
    id           text PRIMARY KEY,
    url          text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    sessions     integer NOT NULL DEFAULT 0,
    capacity     integer NOT NULL,
    draining     boolean NOT NULL DEFAULT false,
    build        text NOT NULL
);
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    node       text NOT NULL,
    user_name  text NOT NULL,
    started    bigint NOT NULL,
    url        text NOT NULL DEFAULT '',
    title      text NOT NULL DEFAULT '',
    tabs       integer NOT NULL DEFAULT 0,
    attached   boolean NOT NULL DEFAULT false,
    incidents  bigint NOT NULL DEFAULT 0,
    seen_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_by_node ON sessions (node);
",
    ),
    (
        2,
        "
CREATE TABLE logins (
    key        bytea PRIMARY KEY,
    user_name  text NOT NULL,
    groups     jsonb NOT NULL,
    admin      boolean NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX logins_by_expiry ON logins (expires_at);
CREATE TABLE cluster_secret (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    secret bytea NOT NULL
);
",
    ),
    (
        3,
        "ALTER TABLE nodes ADD COLUMN drain_requested boolean NOT NULL DEFAULT false;",
    ),
    (
        4,
        "
CREATE TABLE audit_sessions (
    id          text PRIMARY KEY,
    node        text NOT NULL,
    user_name   text NOT NULL,
    groups      text[] NOT NULL,
    client_addr text NOT NULL,
    app         text,
    start_ms    bigint NOT NULL,
    end_ms      bigint,
    end_reason  text,
    bytes       bigint NOT NULL,
    records     bigint NOT NULL,
    head        text
);
CREATE INDEX audit_sessions_by_user ON audit_sessions (user_name, start_ms);
CREATE INDEX audit_sessions_by_start ON audit_sessions (start_ms);
CREATE TABLE audit_incidents (
    session   text NOT NULL,
    seq       bigint NOT NULL,
    node      text NOT NULL,
    ts_ms     bigint NOT NULL,
    wall_ms   bigint NOT NULL,
    gate      text NOT NULL,
    decision  text NOT NULL,
    detectors text[] NOT NULL,
    rule      text,
    user_name text NOT NULL,
    app       text,
    url       text,
    reason    text NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE INDEX audit_incidents_by_wall ON audit_incidents (wall_ms);
CREATE INDEX audit_incidents_by_detector ON audit_incidents USING gin (detectors);
",
    ),
    (
        5,
        "
CREATE TABLE users (
    name          text PRIMARY KEY,
    password_hash text NOT NULL,
    groups        jsonb NOT NULL,
    admin         boolean NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE api_tokens (
    name         text PRIMARY KEY,
    hash         bytea NOT NULL UNIQUE,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX logins_by_user ON logins (user_name);
",
    ),
];

/// A fixed key for `pg_advisory_xact_lock`: "isolator" in ASCII.
const LOCK_KEY: i64 = 0x69736f6c61746f72;

/// Applies the migrations this database lacks; returns the schema version.
pub async fn migrate(db: &Db) -> Result<i32, DbError> {
    // Runs before anything else uses the shared client, so the transaction
    // holds only these statements.
    let client = db.client()?;
    client
        .batch_execute(&format!(
            "BEGIN;
             SELECT pg_advisory_xact_lock({LOCK_KEY});
             CREATE TABLE IF NOT EXISTS isolator_schema (
                 version    integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );"
        ))
        .await?;
    let outcome = apply(&client).await;
    match &outcome {
        Ok(_) => client.batch_execute("COMMIT").await?,
        Err(_) => {
            let _ = client.batch_execute("ROLLBACK").await;
        }
    }
    outcome
}

async fn apply(client: &tokio_postgres::Client) -> Result<i32, DbError> {
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM isolator_schema", &[])
        .await?;
    let have: i32 = row.get(0);
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if have > newest {
        return Err(DbError::Data(format!(
            "the database's schema is version {have}, newer than this build's {newest}: \
             upgrade this node"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| DbError::Data(format!("migration {version} failed: {}", describe(&e))))?;
        client
            .execute(
                "INSERT INTO isolator_schema (version) VALUES ($1)",
                &[version],
            )
            .await?;
        tracing::info!(version, "cluster database schema migrated");
    }
    Ok(newest.max(have))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lock_key_spells_isolator() {
        assert_eq!(super::LOCK_KEY.to_be_bytes(), *b"isolator");
        assert_eq!(super::LOCK_KEY, 7598539507586330482);
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        let v: Vec<i32> = super::MIGRATIONS.iter().map(|m| m.0).collect();
        assert!(v.windows(2).all(|w| w[1] == w[0] + 1) && v[0] == 1, "{v:?}");
    }
}
