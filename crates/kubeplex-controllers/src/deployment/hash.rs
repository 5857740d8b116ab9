//! The `pod-template-hash` of a Deployment's template, in the shape of
//! upstream's `controller.ComputeHash`: FNV-1a (32 bit) over the template
//! (here its normalized JSON instead of Go's object dump), then the
//! `collisionCount` as 8 little-endian bytes when set, printed in decimal and
//! encoded with `rand.SafeEncodeString` (alphabet without vowels and
//! look-alike characters), e.g. `7b5c9d6f4`.

use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::util::normalized_template;

/// `rand.SafeEncodeString`'s alphabet.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The `pod-template-hash` value for `template` and `collision_count`.
pub fn pod_template_hash(template: Option<&PodTemplateSpec>, collision_count: Option<i32>) -> String {
    let json = normalized_template(template).to_string();
    let mut h = Fnv1a32::new();
    h.write(json.as_bytes());
    if let Some(count) = collision_count {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&count.to_le_bytes());
        h.write(&bytes);
    }
    safe_encode(&h.0.to_string())
}

/// `rand.SafeEncodeString`: each byte mapped into [`ALPHANUMS`].
fn safe_encode(s: &str) -> String {
    s.bytes().map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()])).collect()
}

struct Fnv1a32(u32);

impl Fnv1a32 {
    fn new() -> Self {
        Fnv1a32(0x811c_9dc5)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u32::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_safe_and_collision_sensitive() {
        let t: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}
        }))
        .unwrap_or_default();
        let a = pod_template_hash(Some(&t), None);
        assert_eq!(a, pod_template_hash(Some(&t), None));
        assert!(a.bytes().all(|b| ALPHANUMS.contains(&b)) && !a.is_empty());
        assert_ne!(a, pod_template_hash(Some(&t), Some(1)));
        let mut labelled = t.clone();
        if let Some(l) = labelled.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            l.insert("pod-template-hash".into(), a.clone());
        }
        assert_eq!(a, pod_template_hash(Some(&labelled), None));
        // FNV-1a reference value: "a" hashes to 0xe40c292c.
        let mut h = Fnv1a32::new();
        h.write(b"a");
        assert_eq!(h.0, 0xe40c_292c);
    }
}
