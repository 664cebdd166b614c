//! The SQLite and PostgreSQL migrations must give the same schema apart from type names:
//! the same tables, columns (name, kind of type, nullability, primary key), unique
//! constraints and named indexes. Both are read back from the databases' own catalogs
//! after migrating, so a migration written for one database and forgotten for the other
//! fails here. Runs when `LOCKWATCH_TEST_POSTGRES_URL` is set (CI requires it).

use super::connect;
use crate::testkit::databases::fresh_postgres;
use sqlx::{AnyPool, Row};
use std::collections::BTreeMap;

/// A column: its type's kind (`integer`, `text`), NOT NULL, part of the primary key.
type Column = (String, bool, bool);

/// An index: its columns in order, unique, partial (has a WHERE clause).
type Index = (String, bool, bool);

#[derive(Debug, PartialEq, Eq)]
struct Table {
    columns: BTreeMap<String, Column>,
    /// Named indexes (`CREATE INDEX`) by name.
    named: BTreeMap<String, Index>,
    /// Unique constraints other than the primary key, by their columns: their index names
    /// are made up by each database.
    unique: Vec<String>,
}

/// The kind of a column type, the same for both databases' names of it.
fn kind(type_name: &str) -> String {
    match type_name.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int8" | "int4" => "integer".into(),
        "text" => "text".into(),
        other => other.to_string(),
    }
}

async fn strings(pool: &AnyPool, sql: &str, bind: &str) -> Vec<sqlx::any::AnyRow> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(bind.to_string())
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn sqlite_schema(pool: &AnyPool) -> BTreeMap<String, Table> {
    let mut out = BTreeMap::new();
    let tables = strings(
        pool,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name NOT LIKE '_sqlx%' AND name <> $1",
        "",
    )
    .await;
    for t in tables {
        let table: String = t.get("name");
        let mut columns = BTreeMap::new();
        for c in strings(
            pool,
            "SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info($1)",
            &table,
        )
        .await
        {
            let pk = c.get::<i64, _>("pk") > 0;
            // An INTEGER PRIMARY KEY is the rowid: never NULL, though not declared so.
            let not_null = c.get::<i64, _>("nn") == 1 || pk;
            columns.insert(
                c.get("name"),
                (kind(&c.get::<String, _>("type")), not_null, pk),
            );
        }
        let (mut named, mut unique) = (BTreeMap::new(), Vec::new());
        for i in strings(
            pool,
            "SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list($1)",
            &table,
        )
        .await
        {
            let name: String = i.get("name");
            let cols: Vec<String> = strings(
                pool,
                "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
                &name,
            )
            .await
            .iter()
            .map(|r| r.get("name"))
            .collect();
            let cols = cols.join(",");
            let is_unique = i.get::<i64, _>("u") == 1;
            match i.get::<String, _>("origin").as_str() {
                "c" => {
                    named.insert(name, (cols, is_unique, i.get::<i64, _>("partial") == 1));
                }
                "u" => unique.push(cols),
                _ => {} // the primary key, already in the columns
            }
        }
        unique.sort();
        out.insert(
            table,
            Table {
                columns,
                named,
                unique,
            },
        );
    }
    out
}

async fn postgres_schema(pool: &AnyPool) -> BTreeMap<String, Table> {
    let mut out = BTreeMap::new();
    let tables = strings(
        pool,
        "SELECT table_name::TEXT AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'
           AND table_name <> $1",
        "",
    )
    .await;
    for t in tables {
        let table: String = t.get("name");
        let pk_columns: Vec<String> = strings(
            pool,
            "SELECT a.attname::TEXT AS name FROM pg_index ix
             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = ANY(ix.indkey)
             WHERE ix.indrelid = $1::regclass AND ix.indisprimary",
            &table,
        )
        .await
        .iter()
        .map(|r| r.get("name"))
        .collect();
        let mut columns = BTreeMap::new();
        for c in strings(
            pool,
            "SELECT column_name::TEXT AS name, data_type::TEXT AS type,
                    (is_nullable = 'NO') AS nn
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            &table,
        )
        .await
        {
            let name: String = c.get("name");
            let pk = pk_columns.contains(&name);
            columns.insert(
                name,
                (
                    kind(&c.get::<String, _>("type")),
                    c.get::<bool, _>("nn"),
                    pk,
                ),
            );
        }
        let (mut named, mut unique) = (BTreeMap::new(), Vec::new());
        for i in strings(
            pool,
            "SELECT c.relname::TEXT AS name, ix.indisunique AS u, ix.indisprimary AS p,
                    (ix.indpred IS NOT NULL) AS partial,
                    EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid)
                        AS from_constraint,
                    array_to_string(ARRAY(
                        SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                        ORDER BY k.n), ',') AS cols
             FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid
             WHERE ix.indrelid = $1::regclass",
            &table,
        )
        .await
        {
            let cols: String = i.get("cols");
            if i.get::<bool, _>("p") {
                continue;
            }
            if i.get::<bool, _>("from_constraint") {
                unique.push(cols);
            } else {
                named.insert(
                    i.get("name"),
                    (cols, i.get::<bool, _>("u"), i.get::<bool, _>("partial")),
                );
            }
        }
        unique.sort();
        out.insert(
            table,
            Table {
                columns,
                named,
                unique,
            },
        );
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_give_the_same_schema() {
    let Some(pg_url) = fresh_postgres().await.expect("PostgreSQL for tests") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let (sqlite, _) = connect::open(&sqlite_url).await.expect("sqlite");
    let (postgres, _) = connect::open(&pg_url).await.expect("postgres");
    let a = sqlite_schema(&sqlite).await;
    let b = postgres_schema(&postgres).await;
    assert!(
        a.contains_key("jobs") && a.contains_key("deliveries"),
        "{a:#?}"
    );
    for name in a.keys().chain(b.keys()) {
        assert_eq!(
            a.get(name),
            b.get(name),
            "table {name}: SQLite (left) and PostgreSQL (right) differ"
        );
    }
}
