//! A fresh PostgreSQL database per test, on the server named by `TRENT_TEST_POSTGRES_URL`.
//!
//! Without that variable [`TestDatabase::create`] prints "skipped: TRENT_TEST_POSTGRES_URL not
//! set" and returns `None` (the test then passes without running), except under `CI=true`,
//! where it panics: CI must run the PostgreSQL tests (`.ci/run` starts a throwaway cluster).

use std::io::Write as _;

/// The variable naming the PostgreSQL server tests may create databases on.
pub const URL_VAR: &str = "TRENT_TEST_POSTGRES_URL";

/// A database `trent_test_<random>` that is dropped (with its connections) on drop.
pub struct TestDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a fresh database, or `None` (after saying so) when no server is configured.
    pub fn create() -> Option<Self> {
        let server_url = match std::env::var(URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{URL_VAR} is not set, but CI=true: CI must run the PostgreSQL tests");
                }
                // Straight to stderr, past the test harness's capture, so the skip is visible.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: {URL_VAR} not set (PostgreSQL end-to-end tests)"
                );
                return None;
            }
        };
        let name = format!("trent_test_{}", random_hex());
        admin_execute(&server_url, &format!("CREATE DATABASE \"{name}\""));
        let url = url_with_database(&server_url, &name);
        Some(Self {
            server_url,
            name,
            url,
        })
    }

    /// The connection URL of this database (for `TRENT_DATABASE_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin_execute(
            &self.server_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 12];
    // /dev/urandom is enough for a unique test database name.
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read as _;
        let _ = f.read_exact(&mut bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut out: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    out.push_str(&format!("{:x}_{}", nanos, std::process::id()));
    out
}

/// Runs `sql` on the server's maintenance database, on a thread of its own (so it works from
/// inside or outside an async runtime, and from `Drop`).
fn admin_execute(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connecting to {URL_VAR}: {e}"));
            let task = tokio::spawn(connection);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
        });
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// `url` with its database name replaced by `database`.
pub fn url_with_database(url: &str, database: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let (base, query) = match url.find('?') {
            Some(q) => (&url[..q], &url[q..]),
            None => (url, ""),
        };
        let authority_start = scheme_end + 3;
        let prefix = match base[authority_start..].find('/') {
            Some(slash) => &base[..authority_start + slash],
            None => base,
        };
        format!("{prefix}/{database}{query}")
    } else {
        format!("{url} dbname={database}")
    }
}

#[cfg(test)]
mod tests {
    use super::url_with_database;

    #[test]
    fn database_urls_are_rewritten() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:55432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:55432/t1"
        );
        assert_eq!(
            url_with_database("postgresql://u:p@h/db?sslmode=disable", "t1"),
            "postgresql://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://h:1", "t1"),
            "postgres://h:1/t1"
        );
        assert_eq!(
            url_with_database("host=h user=u", "t1"),
            "host=h user=u dbname=t1"
        );
    }
}
