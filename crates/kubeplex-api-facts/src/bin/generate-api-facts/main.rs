//! Generates the API facts table from the Go sources of k8s.io/api and friends.
//!
//! ```text
//! generate-api-facts --api SRC --apimachinery SRC [--apiextensions SRC] [--kube-aggregator SRC]
//!                    [--kubernetes-version v1.36] --out FILE [--check]
//! ```
//!
//! Each SRC is `GITDIR@REV` (read with git, no work tree needed) or a directory of the module's
//! files. `--check` compares with FILE instead of writing it and fails if they differ.
//! See the crate documentation for the full command.

mod build;
mod lexer;
mod output;
mod parser;
mod proto;
mod register;
mod source;
mod tags;

use std::collections::BTreeMap;
use std::process::ExitCode;

use build::{Builder, PackageSpec, Role, load_package};
use source::Source;

const USAGE: &str = "usage: generate-api-facts --api SRC --apimachinery SRC [--apiextensions SRC] \
[--kube-aggregator SRC] [--kubernetes-version v1.36] --out FILE [--check]\n  SRC is GITDIR@REV or a directory";

#[derive(Debug, Default)]
struct Args {
    api: Option<String>,
    apimachinery: Option<String>,
    apiextensions: Option<String>,
    kube_aggregator: Option<String>,
    kubernetes_version: Option<String>,
    out: Option<String>,
    check: bool,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if flag == "--check" {
            parsed.check = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = match inline_value {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?,
        };
        let slot = match flag.as_str() {
            "--api" => &mut parsed.api,
            "--apimachinery" => &mut parsed.apimachinery,
            "--apiextensions" => &mut parsed.apiextensions,
            "--kube-aggregator" => &mut parsed.kube_aggregator,
            "--kubernetes-version" => &mut parsed.kubernetes_version,
            "--out" => &mut parsed.out,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        };
        *slot = Some(value);
    }
    Ok(parsed)
}

/// Versioned subdirectories (`v1`, `v1beta1`) of `dir`.
fn version_dirs(source: &Source, dir: &str) -> Result<Vec<String>, String> {
    Ok(source
        .dirs_in(dir)?
        .into_iter()
        .filter(|d| d.len() > 1 && d.starts_with('v') && d[1..2].chars().all(|c| c.is_ascii_digit()))
        .collect())
}

fn run() -> Result<(), String> {
    let args = parse_args(std::env::args().skip(1))?;
    let api_spec = args.api.ok_or_else(|| format!("--api is required\n{USAGE}"))?;
    let apimachinery_spec = args.apimachinery.ok_or_else(|| format!("--apimachinery is required\n{USAGE}"))?;
    let out = args.out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    let kubernetes_version = args.kubernetes_version.unwrap_or_else(|| "v1.36".to_owned());

    let mut modules: Vec<(String, Source, Vec<PackageSpec>)> = Vec::new();

    let api = Source::open(&api_spec)?;
    let mut api_packages = Vec::new();
    for group in api.dirs_in("")? {
        for version in version_dirs(&api, &group)? {
            let dir = format!("{group}/{version}");
            if api.files_in(&dir)?.iter().any(|f| f == "types.go") {
                api_packages.push(PackageSpec { dir, role: Role::Api });
            }
        }
    }
    modules.push(("k8s.io/api".to_owned(), api, api_packages));

    let apimachinery = Source::open(&apimachinery_spec)?;
    let mut machinery_packages: Vec<PackageSpec> =
        ["pkg/apis/meta/v1", "pkg/api/resource", "pkg/util/intstr", "pkg/runtime", "pkg/version"]
            .iter()
            .map(|d| PackageSpec { dir: (*d).to_owned(), role: Role::Lib })
            .collect();
    machinery_packages.push(PackageSpec { dir: "pkg/types".to_owned(), role: Role::Support });
    modules.push(("k8s.io/apimachinery".to_owned(), apimachinery, machinery_packages));

    for (spec, module, base) in [
        (&args.apiextensions, "k8s.io/apiextensions-apiserver", "pkg/apis/apiextensions"),
        (&args.kube_aggregator, "k8s.io/kube-aggregator", "pkg/apis/apiregistration"),
    ] {
        let Some(spec) = spec else { continue };
        let source = Source::open(spec)?;
        let packages = version_dirs(&source, base)?
            .into_iter()
            .map(|v| PackageSpec { dir: format!("{base}/{v}"), role: Role::Api })
            .collect();
        modules.push((module.to_owned(), source, packages));
    }

    let mut packages = Vec::new();
    let mut sources = BTreeMap::new();
    for (module, source, specs) in &modules {
        sources.insert(module.clone(), source.revision().to_owned());
        for spec in specs {
            packages.push(load_package(module, source, spec)?);
        }
    }
    let (file, warnings) = Builder::new(&packages).build(&kubernetes_version, sources)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let text = output::render(&file)?;
    // The output must load as the library loads it.
    let loaded =
        kubeplex_api_facts::ApiFacts::from_json(&text).map_err(|e| format!("generated data does not load: {e}"))?;
    let kinds = loaded.kinds().count();
    eprintln!(
        "{} packages, {} struct types, {} defined types, {kinds} kind registrations, {} bytes",
        packages.len(),
        file.types.len(),
        file.aliases.len(),
        text.len()
    );
    if args.check {
        let existing = std::fs::read_to_string(&out).map_err(|e| format!("{out}: {e}"))?;
        if existing != text {
            return Err(format!("{out} is not what the generator produces; regenerate it"));
        }
        eprintln!("{out} is up to date");
    } else {
        std::fs::write(&out, text).map_err(|e| format!("{out}: {e}"))?;
        eprintln!("wrote {out}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate-api-facts: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments() {
        let args = parse_args(
            ["--api", "/a@v1", "--apimachinery=/m@v2", "--out", "x.json", "--check"].into_iter().map(String::from),
        )
        .expect("args");
        assert_eq!(args.api.as_deref(), Some("/a@v1"));
        assert_eq!(args.apimachinery.as_deref(), Some("/m@v2"));
        assert_eq!(args.out.as_deref(), Some("x.json"));
        assert!(args.check);
        assert!(parse_args(["--bogus", "x"].into_iter().map(String::from)).is_err());
        assert!(parse_args(["--api"].into_iter().map(String::from)).is_err());
    }
}
