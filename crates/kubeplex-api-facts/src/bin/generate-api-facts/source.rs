//! Where Go sources come from: a git repository at a revision (read with `git ls-tree` and
//! `git show`, no work tree needed) or a checked-out directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A module's source tree.
#[derive(Debug)]
pub enum Source {
    /// A git directory (bare or not) and a revision (tag, branch, commit).
    Git { dir: PathBuf, rev: String, files: BTreeSet<String> },
    /// A directory holding the module's files.
    Dir(PathBuf),
}

impl Source {
    /// `GITDIR@REV` or `DIR`.
    pub fn open(spec: &str) -> Result<Source, String> {
        if let Some((dir, rev)) = spec.rsplit_once('@') {
            let dir = PathBuf::from(dir);
            let listing = git(&dir, &["ls-tree", "-r", "--name-only", rev])?;
            let files = listing.lines().map(str::to_owned).collect();
            Ok(Source::Git { dir, rev: rev.to_owned(), files })
        } else {
            let dir = PathBuf::from(spec);
            if !dir.is_dir() {
                return Err(format!("{spec} is not a directory (use GITDIR@REV for a git repository)"));
            }
            Ok(Source::Dir(dir))
        }
    }

    /// The revision, or `directory` for a plain directory.
    pub fn revision(&self) -> &str {
        match self {
            Source::Git { rev, .. } => rev,
            Source::Dir(_) => "directory",
        }
    }

    /// Names of the files directly in `dir` (relative to the module root, no trailing slash).
    pub fn files_in(&self, dir: &str) -> Result<Vec<String>, String> {
        match self {
            Source::Git { files, .. } => {
                let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
                Ok(files
                    .iter()
                    .filter_map(|f| f.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(str::to_owned)
                    .collect())
            }
            Source::Dir(root) => list_dir(&root.join(dir), false),
        }
    }

    /// Names of the subdirectories directly in `dir`.
    pub fn dirs_in(&self, dir: &str) -> Result<Vec<String>, String> {
        match self {
            Source::Git { files, .. } => {
                let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
                let set: BTreeSet<String> = files
                    .iter()
                    .filter_map(|f| f.strip_prefix(&prefix))
                    .filter_map(|rest| rest.split_once('/').map(|(d, _)| d.to_owned()))
                    .collect();
                Ok(set.into_iter().collect())
            }
            Source::Dir(root) => list_dir(&root.join(dir), true),
        }
    }

    /// The text of `path`, or None if there is no such file.
    pub fn read(&self, path: &str) -> Result<Option<String>, String> {
        match self {
            Source::Git { dir, rev, files } => {
                if !files.contains(path) {
                    return Ok(None);
                }
                git(dir, &["show", &format!("{rev}:{path}")]).map(Some)
            }
            Source::Dir(root) => {
                let file = root.join(path);
                if !file.is_file() {
                    return Ok(None);
                }
                std::fs::read_to_string(&file).map(Some).map_err(|e| format!("{}: {e}", file.display()))
            }
        }
    }
}

fn list_dir(dir: &Path, want_dirs: bool) -> Result<Vec<String>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let is_dir = entry.file_type().map_err(|e| format!("{}: {e}", dir.display()))?.is_dir();
        if is_dir == want_dirs {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("running git in {}: {e}", dir.display()))?;
    if !output.status.success() {
        return Err(format!(
            "git {} in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("git {} output is not UTF-8: {e}", args.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_directory_tree() {
        let root = std::env::temp_dir().join(format!("api-facts-source-{}", std::process::id()));
        std::fs::create_dir_all(root.join("apps/v1")).unwrap();
        std::fs::write(root.join("apps/v1/types.go"), "package v1\n").unwrap();
        std::fs::write(root.join("doc.go"), "package api\n").unwrap();
        let source = Source::open(root.to_str().unwrap()).unwrap();
        assert_eq!(source.dirs_in("").unwrap(), ["apps"]);
        assert_eq!(source.dirs_in("apps").unwrap(), ["v1"]);
        assert_eq!(source.files_in("apps/v1").unwrap(), ["types.go"]);
        assert_eq!(source.files_in("").unwrap(), ["doc.go"]);
        assert_eq!(source.read("apps/v1/types.go").unwrap().as_deref(), Some("package v1\n"));
        assert_eq!(source.read("apps/v1/missing.go").unwrap(), None);
        assert_eq!(source.revision(), "directory");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn lists_a_git_listing() {
        let files = ["apps/v1/types.go", "apps/v1/doc.go", "core/v1/types.go", "go.mod"].map(String::from);
        let source = Source::Git { dir: PathBuf::from("/nonexistent"), rev: "v0".into(), files: files.into() };
        assert_eq!(source.dirs_in("").unwrap(), ["apps", "core"]);
        assert_eq!(source.files_in("apps/v1").unwrap(), ["doc.go", "types.go"]);
        assert_eq!(source.files_in("").unwrap(), ["go.mod"]);
        assert_eq!(source.read("apps/v2/types.go").unwrap(), None);
    }

    #[test]
    fn rejects_missing_directories() {
        assert!(Source::open("/nonexistent/api-facts").is_err());
    }
}
