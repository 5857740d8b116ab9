//! Deterministic identifiers for things a real node would make up at random:
//! machine IDs, system UUIDs and boot IDs of nodes, container IDs and image
//! digests of pods. They are derived from names (FNV-1a, not cryptographic),
//! so the same node or container always gets the same ID and tests can pin them.

/// FNV-1a 64 over the parts (each followed by a 0 byte so `("ab","c")` and
/// `("a","bc")` differ), started from `seed`.
fn fnv(seed: u64, parts: &[&str]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(PRIME);
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    // A final avalanche so neighbouring inputs differ in every hex digit.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// `digits` lowercase hex digits (a multiple of 16) derived from the parts.
pub fn hex_id(digits: usize, parts: &[&str]) -> String {
    let mut out = String::with_capacity(digits);
    let mut seed = 0u64;
    while out.len() < digits {
        out.push_str(&format!("{:016x}", fnv(seed, parts)));
        seed += 1;
    }
    out.truncate(digits);
    out
}

/// A UUID-shaped identifier (`8-4-4-4-12` hex, version 4 and RFC 4122 variant
/// bits set) derived from the parts.
pub fn uuid_id(parts: &[&str]) -> String {
    let hex = hex_id(32, parts);
    let b = hex.as_bytes();
    let pick =
        |r: std::ops::Range<usize>| b.get(r).map(|s| String::from_utf8_lossy(s).into_owned()).unwrap_or_default();
    let variant = match b.get(16).copied() {
        Some(c) => ["8", "9", "a", "b"][usize::from(c) % 4],
        None => "8",
    };
    format!("{}-{}-4{}-{}{}-{}", pick(0..8), pick(8..12), pick(13..16), variant, pick(17..20), pick(20..32))
}

/// The `image` a container runtime reports for a pod's image reference, as
/// containerd normalizes it: `nginx` → `docker.io/library/nginx:latest`,
/// `ghcr.io/a/b:1` unchanged, a digest reference kept as given.
pub fn normalize_image(image: &str) -> String {
    let image = image.trim();
    if image.is_empty() {
        return String::new();
    }
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let has_registry = !first.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut out = if has_registry {
        image.to_owned()
    } else if first.is_empty() {
        format!("docker.io/library/{rest}")
    } else {
        format!("docker.io/{image}")
    };
    let last = out.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !last.contains('@') {
        out.push_str(":latest");
    }
    out
}

/// The `imageID` a runtime reports: the repository with a digest
/// (`docker.io/library/nginx@sha256:…`), the digest derived from the image.
pub fn image_id(image: &str) -> String {
    let normalized = normalize_image(image);
    if normalized.contains("@sha256:") {
        return normalized;
    }
    let repo = match normalized.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => normalized.as_str(),
    };
    format!("{repo}@sha256:{}", hex_id(64, &["image", &normalized]))
}

/// `containerd://<64 hex>` for one run of a container: the pod UID (or
/// namespace/name when there is none), the container name and its restart count.
pub fn container_id(pod_key: &str, container: &str, restart_count: i32) -> String {
    format!("containerd://{}", hex_id(64, &["container", pod_key, container, &restart_count.to_string()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(hex_id(32, &["a"]), hex_id(32, &["a"]));
        assert_ne!(hex_id(32, &["ab", "c"]), hex_id(32, &["a", "bc"]));
        assert_eq!(hex_id(64, &["x"]).len(), 64);
        assert!(hex_id(64, &["x"]).bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let u = uuid_id(&["node-1"]);
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
        assert_eq!(u.as_bytes()[14], b'4');
        assert!(matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(uuid_id(&["node-1"]), uuid_id(&["node-2"]));
        let c = container_id("uid-1", "nginx", 0);
        assert!(c.starts_with("containerd://"));
        assert_eq!(c.len(), "containerd://".len() + 64);
        assert_ne!(c, container_id("uid-1", "nginx", 1));
    }

    #[test]
    fn images_normalize_as_containerd_reports_them() {
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalize_image("nginx:1.27"), "docker.io/library/nginx:1.27");
        assert_eq!(normalize_image("bitnami/redis"), "docker.io/bitnami/redis:latest");
        assert_eq!(normalize_image("ghcr.io/a/b:1"), "ghcr.io/a/b:1");
        assert_eq!(normalize_image("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(normalize_image("registry.k8s.io/pause@sha256:ab"), "registry.k8s.io/pause@sha256:ab");
        assert!(image_id("nginx").starts_with("docker.io/library/nginx@sha256:"));
        assert!(image_id("localhost:5000/app").starts_with("localhost:5000/app@sha256:"));
        assert_eq!(image_id("registry.k8s.io/pause@sha256:ab"), "registry.k8s.io/pause@sha256:ab");
    }
}
