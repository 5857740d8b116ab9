//! `kubeplex store …`: direct access to the store, for operators and tests.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Subcommand;
use futures::StreamExt;
use kubeplex_store::{Event, RangeRequest, Revision, Store, StoreError, StoreSpec};

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Print the backend, current and compacted revisions.
    Status,
    /// Print a key's value.
    Get {
        key: String,
        /// Read as of this revision.
        #[arg(long)]
        revision: Option<Revision>,
    },
    /// Set a key (creating or replacing it); prints the new revision.
    Put {
        key: String,
        value: String,
        /// Delete the key after this many seconds.
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Delete a key; prints the deletion's revision.
    Delete { key: String },
    /// List the keys under a prefix (ending in '/'), one `KEY<TAB>REVISION<TAB>VALUE` per line.
    List {
        prefix: String,
        #[arg(long)]
        revision: Option<Revision>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print every change under a prefix after a revision, until interrupted.
    Watch {
        prefix: String,
        /// Start after this revision (default: the current one).
        #[arg(long)]
        after: Option<Revision>,
    },
    /// Discard history older than a revision.
    Compact { revision: Revision },
}

pub async fn run(spec: &StoreSpec, data_dir: &Path, command: StoreCommand) -> anyhow::Result<()> {
    let store = spec.open(data_dir, &Default::default()).await?;
    let mut out = std::io::stdout().lock();
    match command {
        StoreCommand::Status => {
            let location = match spec {
                StoreSpec::Sqlite => data_dir.join(kubeplex_store::SQLITE_FILE).display().to_string(),
                StoreSpec::Etcd { .. } => spec.to_string(),
            };
            writeln!(out, "backend: {}\nlocation: {location}", backend_name(spec))?;
            writeln!(out, "revision: {}", store.current_revision().await?)?;
            writeln!(out, "compacted: {}", store.compacted_revision().await?)?;
        }
        StoreCommand::Get { key, revision } => {
            let kv = store.get(&key, revision).await?.with_context(|| format!("key {key:?} not found"))?;
            out.write_all(&kv.value)?;
            writeln!(out)?;
        }
        StoreCommand::Put { key, value, ttl } => {
            let revision = put(store.as_ref(), &key, Bytes::from(value), ttl.map(Duration::from_secs)).await?;
            writeln!(out, "{revision}")?;
        }
        StoreCommand::Delete { key } => {
            let (revision, _) = store.delete(&key, None).await?;
            writeln!(out, "{revision}")?;
        }
        StoreCommand::List { prefix, revision, limit } => {
            let page = store.range(RangeRequest { prefix, revision, limit, start_after: None }).await?;
            for kv in &page.kvs {
                writeln!(out, "{}\t{}\t{}", kv.key, kv.mod_revision, String::from_utf8_lossy(&kv.value))?;
            }
            if page.more() {
                writeln!(out, "# {} more at revision {}", page.remaining, page.revision)?;
            }
        }
        StoreCommand::Watch { prefix, after } => {
            let after = match after {
                Some(after) => after,
                None => store.current_revision().await?,
            };
            let mut events = store.watch(&prefix, after).await?;
            drop(out);
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    event = events.next() => match event {
                        Some(event) => print_event(&event?)?,
                        None => break,
                    },
                }
            }
        }
        StoreCommand::Compact { revision } => {
            store.compact(revision).await?;
            writeln!(out, "compacted to {revision}")?;
        }
    }
    Ok(())
}

/// Creates the key, or replaces whatever version is there (retrying when a
/// concurrent writer gets in first).
async fn put(store: &dyn Store, key: &str, value: Bytes, ttl: Option<Duration>) -> anyhow::Result<Revision> {
    loop {
        let result = match store.get(key, None).await? {
            None => store.create(key, value.clone(), ttl).await,
            Some(kv) => store.update(key, value.clone(), kv.mod_revision, ttl).await,
        };
        match result {
            Err(StoreError::AlreadyExists { .. } | StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {
                continue;
            }
            other => return Ok(other?),
        }
    }
}

fn print_event(event: &Event) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match event {
        Event::Put { kv, .. } => {
            writeln!(out, "PUT\t{}\t{}\t{}", kv.mod_revision, kv.key, String::from_utf8_lossy(&kv.value))?
        }
        Event::Delete { key, revision, .. } => writeln!(out, "DELETE\t{revision}\t{key}")?,
    }
    out.flush()
}

fn backend_name(spec: &StoreSpec) -> &'static str {
    match spec {
        StoreSpec::Sqlite => "sqlite",
        StoreSpec::Etcd { .. } => "etcd",
    }
}
