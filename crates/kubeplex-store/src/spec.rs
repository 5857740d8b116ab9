//! Choosing a backend from a `--store` argument: `sqlite` (a database in the
//! data directory) or `etcd://HOST:PORT[,HOST:PORT…]`.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::{Result, Store, StoreError};

/// Which backend to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreSpec {
    /// The embedded SQLite database `store.db` in the data directory.
    Sqlite,
    /// An etcd cluster, by its client endpoints (`http://HOST:PORT`).
    Etcd { endpoints: Vec<String> },
}

/// The database file of the SQLite backend inside a data directory.
pub const SQLITE_FILE: &str = "store.db";

impl FromStr for StoreSpec {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason: &str| StoreError::InvalidSpec { spec: s.to_owned(), reason: reason.to_owned() };
        if s == "sqlite" {
            return Ok(StoreSpec::Sqlite);
        }
        let Some(hosts) = s.strip_prefix("etcd://") else {
            return Err(invalid("expected `sqlite` or `etcd://HOST:PORT[,HOST:PORT...]`"));
        };
        let endpoints = hosts
            .split(',')
            .map(|host| {
                let (name, port) =
                    host.rsplit_once(':').ok_or_else(|| invalid("every etcd endpoint needs HOST:PORT"))?;
                if name.is_empty() || name.contains('/') || port.parse::<u16>().is_err() {
                    return Err(invalid(&format!("{host:?} is not HOST:PORT")));
                }
                Ok(format!("http://{host}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StoreSpec::Etcd { endpoints })
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Sqlite => f.write_str("sqlite"),
            StoreSpec::Etcd { endpoints } => {
                let hosts: Vec<_> = endpoints.iter().map(|e| e.trim_start_matches("http://")).collect();
                write!(f, "etcd://{}", hosts.join(","))
            }
        }
    }
}

/// Options that apply whatever the backend.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// How often history is compacted (to the revision seen one interval
    /// earlier); for SQLite by the store itself.
    pub compaction_interval: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { compaction_interval: Duration::from_secs(300) }
    }
}

impl StoreSpec {
    /// Opens the store this spec names; `data_dir` holds the SQLite file.
    pub async fn open(&self, data_dir: &Path, options: &StoreOptions) -> Result<Arc<dyn Store>> {
        let _ = (data_dir, options);
        match self {
            #[cfg(feature = "sqlite")]
            StoreSpec::Sqlite => {
                let sqlite = crate::sqlite::SqliteOptions {
                    compaction_interval: options.compaction_interval,
                    ..Default::default()
                };
                Ok(Arc::new(crate::sqlite::SqliteStore::open(data_dir.join(SQLITE_FILE), sqlite)?))
            }
            #[cfg(feature = "etcd")]
            StoreSpec::Etcd { endpoints } => {
                Ok(Arc::new(crate::etcd::EtcdStore::connect(endpoints, Default::default()).await?))
            }
            #[allow(unreachable_patterns)]
            other => Err(StoreError::InvalidSpec {
                spec: other.to_string(),
                reason: "this build does not include that backend".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_backends() {
        assert_eq!("sqlite".parse::<StoreSpec>().unwrap(), StoreSpec::Sqlite);
        let spec: StoreSpec = "etcd://127.0.0.1:2379,10.0.0.2:2379".parse().unwrap();
        assert_eq!(
            spec,
            StoreSpec::Etcd { endpoints: vec!["http://127.0.0.1:2379".into(), "http://10.0.0.2:2379".into()] }
        );
        assert_eq!(spec.to_string(), "etcd://127.0.0.1:2379,10.0.0.2:2379");
    }

    #[test]
    fn rejects_nonsense_with_the_reason() {
        for bad in ["", "mysql://x", "etcd://", "etcd://host", "etcd://host:http", "etcd://:2379", "etcd://a:1/x:2"] {
            let err = bad.parse::<StoreSpec>().unwrap_err();
            assert!(matches!(err, StoreError::InvalidSpec { .. }), "{bad}: {err}");
        }
        let err = "etcd://host".parse::<StoreSpec>().unwrap_err().to_string();
        assert!(err.contains("HOST:PORT"), "{err}");
    }
}
