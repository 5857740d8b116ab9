//! Parsing a request path into what it addresses: the logical cluster (the
//! optional `/clusters/<name>` prefix; none means `root`) and the API
//! location under it.

/// The cluster that requests without a prefix go to.
pub const ROOT_CLUSTER: &str = "root";

/// A parsed request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiPath<'a> {
    pub cluster: &'a str,
    pub target: Target<'a>,
}

/// What a path addresses inside a logical cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    Version,
    Health(&'a str),
    /// `/api`
    CoreRoot,
    /// `/apis`
    GroupsRoot,
    /// `/apis/<group>`
    Group(&'a str),
    /// `/api/v1` or `/apis/<group>/<version>`
    GroupVersion {
        group: &'a str,
        version: &'a str,
    },
    /// A resource collection, object or subresource.
    Resource(ResourcePath<'a>),
    /// `/openapi/v3` (`None`) or `/openapi/v3/<document>` (`api/v1`, `apis/apps/v1`).
    OpenApiV3(Option<&'a str>),
    /// Anything else.
    Unknown,
}

/// `/api(s)/<gv>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePath<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub namespace: Option<&'a str>,
    pub resource: &'a str,
    pub name: Option<&'a str>,
    pub subresource: Option<&'a str>,
}

/// Parses `path` (without query). A malformed cluster prefix is `Unknown`.
pub fn parse(path: &str) -> ApiPath<'_> {
    let (cluster, rest) = match path.strip_prefix("/clusters/") {
        Some(after) => match after.split_once('/') {
            Some((name, _)) if !name.is_empty() => (name, &after[name.len()..]),
            None if !after.is_empty() => (after, ""),
            _ => return ApiPath { cluster: ROOT_CLUSTER, target: Target::Unknown },
        },
        None => (ROOT_CLUSTER, path),
    };
    ApiPath { cluster, target: target(rest) }
}

fn target(path: &str) -> Target<'_> {
    let trimmed = path.trim_end_matches('/');
    if trimmed == "/openapi/v3" {
        return Target::OpenApiV3(None);
    }
    if let Some(document) = trimmed.strip_prefix("/openapi/v3/") {
        return Target::OpenApiV3(Some(document));
    }
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    match segments.as_slice() {
        ["version"] => Target::Version,
        [h @ ("healthz" | "livez" | "readyz"), ..] => Target::Health(h),
        ["api"] => Target::CoreRoot,
        ["apis"] => Target::GroupsRoot,
        ["api", version] => Target::GroupVersion { group: "", version },
        ["apis", group] => Target::Group(group),
        ["apis", group, version] => Target::GroupVersion { group, version },
        ["api", version, rest @ ..] => resource("", version, rest),
        ["apis", group, version, rest @ ..] => resource(group, version, rest),
        _ => Target::Unknown,
    }
}

fn resource<'a>(group: &'a str, version: &'a str, rest: &[&'a str]) -> Target<'a> {
    let (namespace, rest) = match rest {
        // `namespaces/<ns>/<resource>...` is namespaced; `namespaces/<ns>` and
        // `namespaces/<ns>/status|finalize` address the namespace itself.
        ["namespaces", ns, resource, tail @ ..] if !matches!(*resource, "status" | "finalize") || !tail.is_empty() => {
            (Some(*ns), std::iter::once(*resource).chain(tail.iter().copied()).collect::<Vec<_>>())
        }
        other => (None, other.to_vec()),
    };
    if rest.iter().any(|s| s.is_empty()) {
        return Target::Unknown;
    }
    match rest.as_slice() {
        [resource] => {
            Target::Resource(ResourcePath { group, version, namespace, resource, name: None, subresource: None })
        }
        [resource, name] => {
            Target::Resource(ResourcePath { group, version, namespace, resource, name: Some(name), subresource: None })
        }
        [resource, name, sub] => Target::Resource(ResourcePath {
            group,
            version,
            namespace,
            resource,
            name: Some(name),
            subresource: Some(sub),
        }),
        _ => Target::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res<'a>(
        group: &'a str,
        namespace: Option<&'a str>,
        resource: &'a str,
        name: Option<&'a str>,
        sub: Option<&'a str>,
    ) -> Target<'a> {
        Target::Resource(ResourcePath { group, version: "v1", namespace, resource, name, subresource: sub })
    }

    #[test]
    fn clusters() {
        assert_eq!(parse("/version"), ApiPath { cluster: "root", target: Target::Version });
        assert_eq!(parse("/clusters/t1/version"), ApiPath { cluster: "t1", target: Target::Version });
        assert_eq!(parse("/clusters/t1"), ApiPath { cluster: "t1", target: Target::Unknown });
        assert_eq!(parse("/clusters//api").target, Target::Unknown);
        assert_eq!(parse("/clusters/t1/api").target, Target::CoreRoot);
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(parse("/api").target, Target::CoreRoot);
        assert_eq!(parse("/apis/").target, Target::GroupsRoot);
        assert_eq!(parse("/apis/apps").target, Target::Group("apps"));
        assert_eq!(parse("/api/v1").target, Target::GroupVersion { group: "", version: "v1" });
        assert_eq!(parse("/apis/apps/v1").target, Target::GroupVersion { group: "apps", version: "v1" });
        assert_eq!(parse("/healthz").target, Target::Health("healthz"));
        assert_eq!(parse("/readyz/ping").target, Target::Health("readyz"));
        assert_eq!(parse("/openapi/v3").target, Target::OpenApiV3(None));
        assert_eq!(parse("/clusters/t1/openapi/v3/apis/apps/v1").target, Target::OpenApiV3(Some("apis/apps/v1")));
    }

    #[test]
    fn resources() {
        assert_eq!(parse("/api/v1/pods").target, res("", None, "pods", None, None));
        assert_eq!(parse("/api/v1/namespaces").target, res("", None, "namespaces", None, None));
        assert_eq!(parse("/api/v1/namespaces/demo").target, res("", None, "namespaces", Some("demo"), None));
        assert_eq!(
            parse("/api/v1/namespaces/demo/finalize").target,
            res("", None, "namespaces", Some("demo"), Some("finalize"))
        );
        assert_eq!(parse("/api/v1/namespaces/demo/pods").target, res("", Some("demo"), "pods", None, None));
        assert_eq!(
            parse("/apis/apps/v1/namespaces/demo/deployments/web/scale").target,
            res("apps", Some("demo"), "deployments", Some("web"), Some("scale"))
        );
        assert_eq!(
            parse("/clusters/t1/api/v1/namespaces/d/pods/p/status"),
            ApiPath { cluster: "t1", target: res("", Some("d"), "pods", Some("p"), Some("status")) }
        );
        assert_eq!(parse("/api/v1/namespaces/d/pods/p/status/extra").target, Target::Unknown);
        assert_eq!(parse("/apis/apps/v1/namespaces/d//x").target, Target::Unknown);
    }
}
