//! What the pod subresources that would reach a kubelet answer for a pod on a
//! simulated node: `log` returns a few lines saying the container is
//! simulated (never a 404); `exec`, `attach` and `portforward` are refused
//! with 400 BadRequest (the request is well-formed but cannot be served by
//! this node, the same code upstream uses when a pod's containers cannot be
//! reached, e.g. `container not found`).
//!
//! [`log_container`] picks the container as the API server's `LogLocation`
//! does, with its messages.

use k8s_openapi::api::core::v1::Pod;
use kubeplex_core::status::ApiError;

/// Which streaming subresource was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// `pods/exec`.
    Exec,
    /// `pods/attach`.
    Attach,
    /// `pods/portforward`.
    PortForward,
}

impl StreamKind {
    fn verb(self) -> &'static str {
        match self {
            StreamKind::Exec => "exec",
            StreamKind::Attach => "attach to",
            StreamKind::PortForward => "port-forward",
        }
    }
}

fn container_names<'a>(containers: impl Iterator<Item = &'a str>) -> String {
    containers.collect::<Vec<_>>().join(" ")
}

/// The container a `pods/log` request reads, as upstream's `LogLocation`
/// picks it: the one asked for (regular, init or ephemeral), else the only
/// regular container. Errors are upstream's 400s.
pub fn log_container(pod: &Pod, requested: Option<&str>) -> Result<String, ApiError> {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let inits = spec.and_then(|s| s.init_containers.as_deref()).unwrap_or(&[]);
    let ephemeral = spec.and_then(|s| s.ephemeral_containers.as_deref()).unwrap_or(&[]);
    match requested.filter(|c| !c.is_empty()) {
        Some(c) => {
            let known = containers.iter().any(|x| x.name == c)
                || inits.iter().any(|x| x.name == c)
                || ephemeral.iter().any(|x| x.name == c);
            if known {
                Ok(c.to_owned())
            } else {
                Err(ApiError::bad_request(format!("container {c} is not valid for pod {name}")))
            }
        }
        None => match containers {
            [only] => Ok(only.name.clone()),
            [] => Err(ApiError::bad_request(format!("a container name must be specified for pod {name}"))),
            many => {
                let mut message = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    container_names(many.iter().map(|c| c.name.as_str()))
                );
                if !inits.is_empty() {
                    message.push_str(&format!(
                        " or one of the init containers: [{}]",
                        container_names(inits.iter().map(|c| c.name.as_str()))
                    ));
                }
                Err(ApiError::bad_request(message))
            }
        },
    }
}

/// The body of `kubectl logs` for `container` of `pod` on simulated node
/// `node`: three lines saying so, ending in a newline.
pub fn simulated_logs(pod: &Pod, container: &str, node: &str) -> String {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let spec = pod.spec.as_ref();
    let image = spec
        .and_then(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .find(|c| c.name == container)
                .and_then(|c| c.image.clone())
        })
        .unwrap_or_default();
    format!(
        "kubeplex: container \"{container}\" of pod \"{namespace}/{name}\" runs on simulated node \"{node}\".\n\
         kubeplex: no process runs and no image is pulled (image \"{image}\"), so there is no output.\n\
         kubeplex: status, IPs and lifecycle are simulated; see the pod's status and events for what happened.\n"
    )
}

/// The 400 BadRequest answered to `kubectl exec`/`attach`/`port-forward` for
/// a pod on simulated node `node`.
pub fn stream_refused(kind: StreamKind, pod: &Pod, node: &str) -> ApiError {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    ApiError::bad_request(format!(
        "cannot {} pod \"{namespace}/{name}\": it runs on simulated node \"{node}\", which has no containers \
         (kubeplex simulates nodes; there is no process to connect to)",
        kind.verb()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(containers: &[&str], inits: &[&str]) -> Pod {
        let c = |n: &&str| Container { name: (*n).into(), image: Some("nginx:1.27".into()), ..Container::default() };
        Pod {
            metadata: ObjectMeta { name: Some("web".into()), namespace: Some("demo".into()), ..ObjectMeta::default() },
            spec: Some(PodSpec {
                containers: containers.iter().map(c).collect(),
                init_containers: (!inits.is_empty()).then(|| inits.iter().map(c).collect()),
                ..PodSpec::default()
            }),
            status: None,
        }
    }

    #[test]
    fn log_container_as_upstream() {
        assert_eq!(log_container(&pod(&["a"], &[]), None).unwrap(), "a");
        assert_eq!(log_container(&pod(&["a", "b"], &["i"]), Some("i")).unwrap(), "i");
        let e = log_container(&pod(&["a"], &[]), Some("x")).unwrap_err();
        assert_eq!((e.code, e.reason, e.message.as_str()), (400, "BadRequest", "container x is not valid for pod web"));
        let e = log_container(&pod(&["a", "b"], &[]), None).unwrap_err();
        assert_eq!(e.message, "a container name must be specified for pod web, choose one of: [a b]");
        let e = log_container(&pod(&["a", "b"], &["i", "j"]), Some("")).unwrap_err();
        assert_eq!(
            e.message,
            "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i j]"
        );
    }

    #[test]
    fn logs_say_simulated() {
        let text = simulated_logs(&pod(&["a"], &[]), "a", "kubeplex-node-1");
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
        assert!(text.starts_with(
            "kubeplex: container \"a\" of pod \"demo/web\" runs on simulated node \"kubeplex-node-1\".\n"
        ));
        assert!(text.contains("image \"nginx:1.27\""));
    }

    #[test]
    fn streams_refused_with_bad_request() {
        let e = stream_refused(StreamKind::Exec, &pod(&["a"], &[]), "kubeplex-node-1");
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(
            e.message,
            "cannot exec pod \"demo/web\": it runs on simulated node \"kubeplex-node-1\", which has no containers \
             (kubeplex simulates nodes; there is no process to connect to)"
        );
        assert!(
            stream_refused(StreamKind::PortForward, &pod(&["a"], &[]), "n").message.starts_with("cannot port-forward")
        );
        assert!(stream_refused(StreamKind::Attach, &pod(&["a"], &[]), "n").message.starts_with("cannot attach to"));
    }
}
