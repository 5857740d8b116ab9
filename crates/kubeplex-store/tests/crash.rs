//! Crash safety of the SQLite store, with real kills.
//!
//! `crash_safety` runs this test binary again as a child process that runs
//! only the hidden test `crash_child` (selected by `--exact`, enabled by the
//! `KUBEPLEX_CRASH_CHILD` variable naming the database). The child opens the
//! store and writes from many tasks at once — creates, updates and deletes
//! of its own keys, read-modify-write increments of shared counters —
//! printing a `try` line before each write and an `ack` line (with the
//! revision) only once the write is acknowledged. The parent kills it with
//! SIGKILL at a random moment, then reopens the store and checks:
//!
//! - every acknowledged write is there: readable at its revision, and the
//!   latest state of each key is its last acknowledged one or the result of
//!   the one write that was in flight when the child died;
//! - nothing appeared that was never tried;
//! - revisions are never reused and keep increasing after the reopen;
//! - the files left by the crash pass `PRAGMA integrity_check`.
//!
//! ```text
//!  crash_safety (parent)                      crash_child (child process)
//!   spawn ──────────────────────────────────► open store, writer tasks
//!   collect "try"/"ack" lines ◄── stdout ───── print, flush, write, print
//!   SIGKILL at a random moment ─────────────► ✝
//!   integrity_check(copy of the files), reopen, verify; 24 times
//! ```

#![cfg(feature = "sqlite")]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use kubeplex_store::sqlite::{SqliteOptions, SqliteStore};
use kubeplex_store::{KeyValue, RangeRequest, Revision, Store, StoreError};
use rand::Rng;

/// Names the database for the child; unset, `crash_child` does nothing.
const CHILD_DB_ENV: &str = "KUBEPLEX_CRASH_CHILD";
/// Which run the child is (its keys are `/crash/r<run>/...`).
const CHILD_RUN_ENV: &str = "KUBEPLEX_CRASH_RUN";
/// How many times the child is started and killed.
const RUNS: usize = 24;
/// Concurrent writer tasks in the child.
const CHILD_WRITERS: usize = 12;
/// Counters shared by all writers of all runs.
const COUNTERS: usize = 4;
/// Guards against hangs only; nothing is asserted about speed.
const PATIENCE: Duration = Duration::from_secs(30);

fn options() -> SqliteOptions {
    // No automatic compaction during the test: old revisions stay readable.
    SqliteOptions { compaction_interval: Duration::from_secs(3600), ..SqliteOptions::default() }
}

// ---------------------------------------------------------------- child --

/// The writer process of `crash_safety` (which runs it with
/// `KUBEPLEX_CRASH_CHILD` set); without that variable it does nothing.
#[test]
#[ignore = "the writer process of crash_safety, which runs it itself"]
fn crash_child() -> Result<()> {
    let Some(db) = std::env::var_os(CHILD_DB_ENV) else { return Ok(()) };
    let run: usize = std::env::var(CHILD_RUN_ENV).context(CHILD_RUN_ENV)?.parse().context(CHILD_RUN_ENV)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // End any line the test harness has begun, so ours start on their own.
    say(format_args!(""))?;
    runtime.block_on(async move {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(PathBuf::from(db), options())?);
        // If the parent is gone (it always kills us), stop on our own.
        let deadline = Instant::now() + PATIENCE;
        let writers: Vec<_> =
            (0..CHILD_WRITERS).map(|w| tokio::spawn(child_writer(store.clone(), run, w, deadline))).collect();
        for writer in writers {
            writer.await??;
        }
        anyhow::Ok(())
    })
}

/// Prints one protocol line and flushes it (a short line is written to the
/// pipe by one `write`, so a kill never leaves half of one behind a newline).
fn say(line: std::fmt::Arguments<'_>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(format_args!("{line}\n"))?;
    out.flush()?;
    Ok(())
}

/// One writer of the child: `try <id> <op> <key> <value>` before each write,
/// `ack <id> <revision> <key>` after it succeeded, `fail <id>` after a conflict.
async fn child_writer(store: Arc<dyn Store>, run: usize, w: usize, deadline: Instant) -> Result<()> {
    // The writer's keys that exist, with their mod_revision.
    let mut own: Vec<(String, Revision)> = Vec::new();
    let mut n = 0usize;
    while Instant::now() < deadline {
        n += 1;
        let id = format!("r{run}w{w}n{n}");
        let value = format!("v-{id}");
        match n % 8 {
            1 | 4 | 7 if !own.is_empty() => {
                let i = n % own.len();
                let (key, expected) = own[i].clone();
                say(format_args!("try {id} update {key} {value}"))?;
                let revision = store.update(&key, Bytes::from(value), expected, None).await?;
                say(format_args!("ack {id} {revision} {key}"))?;
                own[i].1 = revision;
            }
            2 | 5 => {
                let key = format!("/crash/counters/c{}", (n + w) % COUNTERS);
                let mut current = store.get(&key, None).await?;
                for attempt in 0.. {
                    ensure!(attempt < 10_000, "no increment of {key} succeeded");
                    let id = format!("{id}a{attempt}");
                    let (next, result) = match &current {
                        None => {
                            say(format_args!("try {id} counter {key} 1"))?;
                            (1, store.create(&key, Bytes::from("1"), None).await)
                        }
                        Some(kv) => {
                            let next = std::str::from_utf8(&kv.value)?.parse::<u64>()? + 1;
                            say(format_args!("try {id} counter {key} {next}"))?;
                            (next, store.update(&key, Bytes::from(next.to_string()), kv.mod_revision, None).await)
                        }
                    };
                    match result {
                        Ok(revision) => {
                            say(format_args!("ack {id} {revision} {key}"))?;
                            break;
                        }
                        Err(StoreError::Conflict { current: now, .. }) => {
                            say(format_args!("fail {id}"))?;
                            current = Some(*now);
                        }
                        Err(StoreError::AlreadyExists { .. }) => {
                            say(format_args!("fail {id}"))?;
                            current = store.get(&key, None).await?;
                        }
                        Err(e) => return Err(e).with_context(|| format!("increment {key} to {next}")),
                    }
                }
            }
            6 if own.len() > 4 => {
                let (key, expected) = own.remove(0);
                say(format_args!("try {id} delete {key} -"))?;
                let (revision, _) = store.delete(&key, Some(expected)).await?;
                say(format_args!("ack {id} {revision} {key}"))?;
            }
            _ => {
                let key = format!("/crash/r{run:02}/w{w:02}/k{n:06}");
                say(format_args!("try {id} create {key} {value}"))?;
                let revision = store.create(&key, Bytes::from(value), None).await?;
                say(format_args!("ack {id} {revision} {key}"))?;
                own.push((key, revision));
            }
        }
    }
    Ok(())
}

// --------------------------------------------------------------- parent --

/// A running child, killed (SIGKILL, by its PID) and reaped on drop.
struct CrashChild {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
}

impl CrashChild {
    fn spawn(exe: &Path, db: &Path, run: usize) -> Result<Self> {
        let mut child = Command::new(exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1", "--quiet"])
            .env(CHILD_DB_ENV, db)
            .env(CHILD_RUN_ENV, run.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {} as the crash child", exe.display()))?;
        let (tx, lines) = mpsc::channel();
        let mut out = BufReader::new(child.stdout.take().context("child stdout")?);
        let stdout = std::thread::spawn(move || {
            let mut line = Vec::new();
            // Only complete lines: the last one may be cut by the kill.
            while matches!(out.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                if line.ends_with(b"\n") {
                    let _ = tx.send(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
                }
                line.clear();
            }
        });
        let mut err = child.stderr.take().context("child stderr")?;
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        Ok(CrashChild { child, lines, stdout: Some(stdout), stderr: Some(stderr) })
    }

    /// Fails (with the child's stderr) if the child has exited on its own.
    fn ensure_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
            bail!("the crash child exited by itself ({status}) instead of being killed:\n{stderr}");
        }
        Ok(())
    }

    /// SIGKILLs the child, reaps it, and returns every complete line it
    /// printed.
    fn kill(mut self, mut seen: Vec<String>) -> Result<Vec<String>> {
        self.ensure_running()?;
        self.child.kill().context("SIGKILL the crash child")?;
        self.child.wait().context("reaping the crash child")?;
        if let Some(h) = self.stdout.take() {
            let _ = h.join();
        }
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
        seen.extend(self.lines.try_iter());
        Ok(seen)
    }
}

impl Drop for CrashChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When to kill the child.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// This long after it was started (possibly before or while it opens
    /// the store).
    Delay(Duration),
    /// This long after it acknowledged this many writes.
    AfterAcks(usize, Duration),
}

/// Runs one child and kills it as planned; returns its lines.
fn run_child(exe: &Path, db: &Path, run: usize, kill_at: KillAt) -> Result<Vec<String>> {
    let mut child = CrashChild::spawn(exe, db, run)?;
    let mut seen = Vec::new();
    match kill_at {
        KillAt::Delay(delay) => std::thread::sleep(delay),
        KillAt::AfterAcks(acks, delay) => {
            let give_up = Instant::now() + PATIENCE;
            let mut count = 0;
            while count < acks {
                match child.lines.recv_timeout(Duration::from_millis(100)) {
                    Ok(line) => {
                        count += usize::from(line.starts_with("ack "));
                        seen.push(line);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        child.ensure_running()?;
                        ensure!(
                            Instant::now() < give_up,
                            "the crash child acknowledged only {count} writes in {PATIENCE:?}"
                        );
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        child.ensure_running()?;
                        bail!("the crash child closed its stdout");
                    }
                }
            }
            std::thread::sleep(delay);
        }
    }
    child.kill(seen)
}

/// A write the child tried.
#[derive(Debug, Clone)]
struct Try {
    op: String,
    key: String,
    value: String,
}

/// What the store must hold for a key the child wrote.
#[derive(Debug, Default)]
struct KeyRecord {
    /// The last acknowledged write: revision and value (None: deleted).
    acked: Option<(Revision, Option<String>)>,
    /// A write tried but neither acknowledged nor failed when the child died.
    in_flight: Option<Try>,
}

/// Everything acknowledged so far, across runs.
#[derive(Debug, Default)]
struct Model {
    keys: BTreeMap<String, KeyRecord>,
    /// Per counter: acknowledged (revision, value), and how many increments
    /// were in flight at kills since the last acknowledged one.
    counters: BTreeMap<String, (Vec<(Revision, u64)>, usize)>,
    revisions: HashSet<Revision>,
    max_revision: Revision,
    acks: usize,
}

impl Model {
    /// Takes in one run's lines; every acknowledged revision must be new and
    /// above `floor` (the store's revision before the child started).
    /// Returns how many writes were acknowledged and how many in flight.
    fn apply(&mut self, run: usize, lines: &[String], floor: Revision) -> Result<(usize, usize)> {
        let mut tries: HashMap<String, Try> = HashMap::new();
        let mut acks = 0;
        let mut counters_acked = HashSet::new();
        for line in lines {
            let mut words = line.splitn(5, ' ');
            match words.next() {
                Some("try") => {
                    let (Some(id), Some(op), Some(key), Some(value)) =
                        (words.next(), words.next(), words.next(), words.next())
                    else {
                        bail!("run {run}: malformed line {line:?}");
                    };
                    let t = Try { op: op.to_owned(), key: key.to_owned(), value: value.to_owned() };
                    ensure!(tries.insert(id.to_owned(), t).is_none(), "run {run}: {id} tried twice");
                }
                Some("ack") => {
                    let (Some(id), Some(revision), Some(key)) = (words.next(), words.next(), words.next()) else {
                        bail!("run {run}: malformed line {line:?}");
                    };
                    let revision: Revision = revision.parse().with_context(|| format!("run {run}: {line:?}"))?;
                    let t = tries.remove(id).with_context(|| format!("run {run}: ack of untried {id}"))?;
                    ensure!(t.key == key, "run {run}: {id} tried {} but acknowledged {key}", t.key);
                    ensure!(
                        revision > floor,
                        "run {run}: {} {} acknowledged at revision {revision}, but the store was at {floor} before the run",
                        t.op,
                        t.key
                    );
                    ensure!(self.revisions.insert(revision), "run {run}: revision {revision} acknowledged twice");
                    self.max_revision = self.max_revision.max(revision);
                    acks += 1;
                    if t.op == "counter" {
                        let value = t.value.parse().with_context(|| format!("run {run}: {line:?}"))?;
                        counters_acked.insert(t.key.clone());
                        self.counters.entry(t.key).or_default().0.push((revision, value));
                        continue;
                    }
                    let record = self.keys.entry(t.key.clone()).or_default();
                    if let Some((previous, _)) = record.acked {
                        ensure!(revision > previous, "run {run}: {} {} at {revision} after {previous}", t.op, t.key);
                    }
                    record.acked = Some((revision, (t.op != "delete").then_some(t.value)));
                }
                Some("fail") => {
                    let id = words.next().with_context(|| format!("run {run}: malformed line {line:?}"))?;
                    tries.remove(id).with_context(|| format!("run {run}: failure of untried {id}"))?;
                }
                _ => {} // libtest's own output
            }
        }
        // A counter's value may exceed its last acknowledged one by the
        // increments in flight at the kills since (all in this run if it
        // acknowledged one).
        for key in &counters_acked {
            if let Some(record) = self.counters.get_mut(key) {
                record.1 = 0;
            }
        }
        let mut per_writer = HashSet::new();
        let in_flight = tries.len();
        for (id, t) in tries {
            let writer = id.split('n').next().unwrap_or_default().to_owned();
            ensure!(per_writer.insert(writer.clone()), "run {run}: two writes of writer {writer} in flight");
            if t.op == "counter" {
                self.counters.entry(t.key).or_default().1 += 1;
            } else {
                let key = t.key.clone();
                self.keys.entry(key).or_default().in_flight = Some(t);
            }
        }
        self.acks += acks;
        Ok((acks, in_flight))
    }
}

/// Runs `PRAGMA integrity_check` on a copy of the database as the crash
/// left it (the copy lets the store itself recover the original).
fn integrity_check_copy(db: &Path, scratch: &Path) -> Result<()> {
    if !db.exists() {
        return Ok(()); // killed before the database was created
    }
    let copy = scratch.join("copy.db");
    for suffix in ["", "-wal", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{suffix}", copy.display()))
                .with_context(|| format!("copying {}", from.display()))?;
        }
    }
    let _ = std::fs::remove_file(format!("{}-shm", copy.display()));
    integrity_check(&copy)
}

fn integrity_check(db: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(db).with_context(|| format!("opening {} with rusqlite", db.display()))?;
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows: Vec<String> = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    ensure!(rows == ["ok"], "PRAGMA integrity_check on {}: {rows:?}", db.display());
    Ok(())
}

/// Whether `kv` (the latest version, or None) is what `t` would have left.
fn matches_try(kv: Option<&KeyValue>, t: &Try, after: Revision) -> bool {
    match (t.op.as_str(), kv) {
        ("delete", None) => true,
        ("create" | "update", Some(kv)) => kv.mod_revision > after && kv.value == t.value.as_bytes(),
        _ => false,
    }
}

fn show(kv: Option<&KeyValue>) -> String {
    kv.map_or("absent".into(), |kv| format!("{:?} at {}", String::from_utf8_lossy(&kv.value), kv.mod_revision))
}

/// Checks the reopened store against everything acknowledged; returns the
/// revision of a write made after the reopen.
async fn verify(store: &dyn Store, model: &Model, run: usize) -> Result<Revision> {
    let current = store.current_revision().await?;
    ensure!(
        current >= model.max_revision,
        "run {run}: reopened at revision {current}, but revision {} was acknowledged",
        model.max_revision
    );
    let listing = store.range(RangeRequest::prefix("/crash/")).await?;
    let latest: HashMap<&str, &KeyValue> = listing.kvs.iter().map(|kv| (kv.key.as_str(), kv)).collect();

    for (key, record) in &model.keys {
        let now = latest.get(key.as_str()).copied();
        let acked_rev = record.acked.as_ref().map_or(0, |a| a.0);
        let as_acked = match &record.acked {
            None => now.is_none(),
            Some((_, None)) => now.is_none(),
            Some((revision, Some(value))) => {
                now.is_some_and(|kv| kv.mod_revision == *revision && kv.value == value.as_bytes())
            }
        };
        let as_in_flight = record.in_flight.as_ref().is_some_and(|t| matches_try(now, t, acked_rev));
        ensure!(
            as_acked || as_in_flight,
            "run {run}: {key} is {} but its last acknowledged write was {:?} (in flight at the kill: {:?})",
            show(now),
            record.acked,
            record.in_flight
        );
        // The acknowledged version stays readable at its revision.
        if let Some((revision, value)) = &record.acked {
            let then = store.get(key, Some(*revision)).await?;
            let ok = match value {
                None => then.is_none(),
                Some(value) => {
                    then.as_ref().is_some_and(|kv| kv.mod_revision == *revision && kv.value == value.as_bytes())
                }
            };
            ensure!(
                ok,
                "run {run}: {key} at its acknowledged revision {revision} is {}, expected {value:?}",
                show(then.as_ref())
            );
        }
    }
    // Nothing the child never tried.
    for kv in &listing.kvs {
        if kv.key.starts_with("/crash/r") {
            ensure!(model.keys.contains_key(&kv.key), "run {run}: {} exists but was never written", kv.key);
        }
    }
    for (key, (acks, in_flight)) in &model.counters {
        let Some(&(revision, value)) = acks.iter().max() else { continue };
        let now = latest.get(key.as_str()).copied().with_context(|| format!("run {run}: counter {key} is gone"))?;
        let stored: u64 = std::str::from_utf8(&now.value)?.parse()?;
        ensure!(
            stored >= value && stored <= value + *in_flight as u64,
            "run {run}: counter {key} is {stored}; {value} was acknowledged last, and since then at most \
             {in_flight} increments were in flight at kills"
        );
        let then = store.get(key, Some(revision)).await?;
        ensure!(
            then.as_ref().is_some_and(|kv| kv.value == value.to_string().as_bytes() && kv.mod_revision == revision),
            "run {run}: counter {key} at its acknowledged revision {revision} is {}, expected {value}",
            show(then.as_ref())
        );
    }
    // Revisions continue above everything the crashed process committed.
    let marker = format!("/crash/parent/run{run:02}");
    let revision = store.create(&marker, Bytes::from("marker"), None).await?;
    ensure!(
        revision > current,
        "run {run}: the first write after reopening got revision {revision}, current was {current}"
    );
    Ok(revision)
}

/// Each counter's acknowledged values, in revision order, increase by one
/// within a run (every commit but those at a kill is acknowledged) and
/// never decrease.
fn check_counter_order(model: &Model) -> Result<()> {
    for (key, (acks, _)) in &model.counters {
        let mut acks = acks.clone();
        acks.sort();
        for pair in acks.windows(2) {
            ensure!(
                pair[1].1 > pair[0].1,
                "counter {key}: value {} at {} after {} at {}",
                pair[1].1,
                pair[1].0,
                pair[0].1,
                pair[0].0
            );
        }
    }
    Ok(())
}

#[test]
fn crash_safety() -> Result<()> {
    let dir = tempfile::Builder::new().prefix("kubeplex-crash-").tempdir()?;
    let db = dir.path().join("store.db");
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&scratch)?;
    let exe = std::env::current_exe()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut rng = rand::rng();
    let mut model = Model::default();
    let mut floor: Revision = 0;
    let mut runs_with_acks = 0;
    let mut markers = Vec::new();
    for run in 0..RUNS {
        let kill_at = if run % 3 == 0 {
            KillAt::Delay(Duration::from_millis(rng.random_range(0..250)))
        } else {
            KillAt::AfterAcks(rng.random_range(1..400), Duration::from_millis(rng.random_range(0..30)))
        };
        let lines = run_child(&exe, &db, run, kill_at).with_context(|| format!("run {run} ({kill_at:?})"))?;
        let (acks, in_flight) = model.apply(run, &lines, floor)?;
        println!("run {run:2}: killed at {kill_at:?}: {acks} writes acknowledged, {in_flight} in flight");
        runs_with_acks += usize::from(acks > 0);
        integrity_check_copy(&db, &scratch).with_context(|| format!("after the kill of run {run} ({kill_at:?})"))?;
        floor = runtime.block_on(async {
            let store = SqliteStore::open(&db, options())
                .with_context(|| format!("reopening the store after the kill of run {run} ({kill_at:?})"))?;
            let revision = verify(&store, &model, run).await.with_context(|| format!("after {kill_at:?}"))?;
            drop(store);
            anyhow::Ok(revision)
        })?;
        markers.push(floor);
    }
    check_counter_order(&model)?;
    ensure!(runs_with_acks >= RUNS / 2, "only {runs_with_acks} of {RUNS} runs acknowledged any write");
    // Everything, once more, from a clean open; then the file itself.
    runtime.block_on(async {
        let store = SqliteStore::open(&db, options())?;
        verify(&store, &model, RUNS).await?;
        for (run, revision) in markers.iter().enumerate() {
            let marker = format!("/crash/parent/run{run:02}");
            let kv = store.get(&marker, None).await?.with_context(|| format!("{marker} is gone"))?;
            ensure!(kv.mod_revision == *revision, "{marker} is at {}, was written at {revision}", kv.mod_revision);
        }
        anyhow::Ok(())
    })?;
    integrity_check(&db)?;
    ensure!(model.acks > 0, "no write was acknowledged");
    Ok(())
}
