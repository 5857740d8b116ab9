//! Unit tests with hand-built messages: every wire type, every special type, the zero-value rules,
//! unknown fields and errors. Field numbers are taken from the API facts table by JSON name, so the
//! messages are built the way `generated.proto` lays them out.

use kubeplex_api_facts::{ApiFacts, facts};
use serde_json::{Value, json};

use crate::wire::put_varint;
use crate::{MAGIC, ProtobufError, Transcoder, UnknownField, decode_body, decode_body_as, decode_envelope};

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const DEPLOYMENT_SPEC: &str = "io.k8s.api.apps.v1.DeploymentSpec";
const POD_TEMPLATE: &str = "io.k8s.api.core.v1.PodTemplateSpec";
const POD_SPEC: &str = "io.k8s.api.core.v1.PodSpec";
const CONTAINER: &str = "io.k8s.api.core.v1.Container";
const SCHEMA: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

/// A protobuf message under construction.
#[derive(Debug, Clone, Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn new() -> Msg {
        Msg::default()
    }

    fn key(mut self, number: u32, wire_type: u8) -> Msg {
        put_varint(&mut self.0, (u64::from(number) << 3) | u64::from(wire_type));
        self
    }

    fn varint(self, number: u32, value: u64) -> Msg {
        let mut m = self.key(number, 0);
        put_varint(&mut m.0, value);
        m
    }

    fn int(self, number: u32, value: i64) -> Msg {
        self.varint(number, value as u64)
    }

    fn fixed64(self, number: u32, value: u64) -> Msg {
        let mut m = self.key(number, 1);
        m.0.extend_from_slice(&value.to_le_bytes());
        m
    }

    fn bytes(self, number: u32, bytes: &[u8]) -> Msg {
        let mut m = self.key(number, 2);
        put_varint(&mut m.0, bytes.len() as u64);
        m.0.extend_from_slice(bytes);
        m
    }

    fn str(self, number: u32, text: &str) -> Msg {
        self.bytes(number, text.as_bytes())
    }

    fn msg(self, number: u32, inner: Msg) -> Msg {
        self.bytes(number, &inner.0)
    }

    /// A map entry `{1: key, 2: value}` with a string value.
    fn entry(self, number: u32, key: &str, value: &str) -> Msg {
        self.msg(number, Msg::new().str(1, key).str(2, value))
    }
}

/// Field number of JSON field `json` of type `ty` (or of Go field `json` when it has no JSON name).
fn n(ty: &str, json: &str) -> u32 {
    let facts = facts().type_by_name(ty).unwrap_or_else(|| panic!("{ty}"));
    facts
        .field(json)
        .and_then(|f| f.proto_number())
        .or_else(|| facts.field_by_go_name(json).and_then(|f| f.proto_number()))
        .unwrap_or_else(|| panic!("{ty}.{json} has no protobuf number"))
}

fn body(api_version: &str, kind: &str, raw: Msg) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(Msg::new().msg(1, Msg::new().str(1, api_version).str(2, kind)).msg(2, raw).0);
    out
}

fn decode(api_version: &str, kind: &str, raw: Msg) -> Value {
    let decoded = decode_body(&body(api_version, kind, raw)).expect("decodes");
    assert!(decoded.unknown_fields.is_empty(), "unknown fields: {:?}", decoded.unknown_fields);
    decoded.object
}

fn message(ty: &str, raw: Msg) -> Value {
    let (object, unknown) = Transcoder::embedded().expect("facts").decode_message(ty, &raw.0).expect("decodes");
    assert!(unknown.is_empty(), "unknown fields: {unknown:?}");
    Value::Object(object)
}

fn message_error(ty: &str, raw: Msg) -> ProtobufError {
    Transcoder::embedded().expect("facts").decode_message(ty, &raw.0).expect_err("must fail")
}

/// A Deployment whose spec is `spec`.
fn deployment(spec: Msg) -> Value {
    decode("apps/v1", "Deployment", Msg::new().msg(2, spec))
}

/// The ObjectMeta every Go client sends: every non-pointer field, zero.
fn zero_meta(name: &str) -> Msg {
    Msg::new()
        .str(n(META, "name"), name)
        .str(n(META, "generateName"), "")
        .str(n(META, "namespace"), "")
        .str(n(META, "selfLink"), "")
        .str(n(META, "uid"), "")
        .str(n(META, "resourceVersion"), "")
        .int(n(META, "generation"), 0)
        .msg(n(META, "creationTimestamp"), Msg::new())
}

// ---------------------------------------------------------------- envelope

#[test]
fn envelope_errors_match_upstream() {
    assert_eq!(decode_body(b""), Err(ProtobufError::Empty));
    assert_eq!(decode_body(b"{\"kind\":\"Pod\"}"), Err(ProtobufError::NotProtobuf));
    assert_eq!(decode_body(&MAGIC), Err(ProtobufError::EmptyEnvelope));
    assert_eq!(
        decode_body(&body("v1", "", Msg::new())),
        Err(ProtobufError::MissingKind { api_version: "v1".to_owned() })
    );
    assert_eq!(
        decode_body(&body("", "Pod", Msg::new())),
        Err(ProtobufError::MissingVersion { kind: "Pod".to_owned() })
    );
    assert_eq!(
        decode_body(&body("v1", "Nope", Msg::new())),
        Err(ProtobufError::UnknownKind { api_version: "v1".to_owned(), kind: "Nope".to_owned() })
    );
    assert_eq!(
        decode_body(&body("a/b/c", "Pod", Msg::new())),
        Err(ProtobufError::BadApiVersion { api_version: "a/b/c".to_owned() })
    );
    assert_eq!(
        ProtobufError::NotProtobuf.to_string(),
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    );
    assert_eq!(
        ProtobufError::UnknownKind { api_version: "v1".to_owned(), kind: "Nope".to_owned() }.to_string(),
        "no kind \"Nope\" is registered for version \"v1\""
    );
}

#[test]
fn envelope_is_read_and_defaults_fill_gaps() {
    let mut bytes = MAGIC.to_vec();
    bytes.extend(
        Msg::new()
            .msg(1, Msg::new().str(1, "v1").str(2, "ConfigMap"))
            .msg(2, Msg::new().msg(1, Msg::new().str(1, "cm")))
            .str(3, "")
            .str(4, "application/vnd.kubernetes.protobuf")
            .0,
    );
    let envelope = decode_envelope(&bytes).expect("envelope");
    assert_eq!((envelope.api_version.as_str(), envelope.kind.as_str()), ("v1", "ConfigMap"));
    assert_eq!(envelope.content_type, "application/vnd.kubernetes.protobuf");
    assert_eq!(envelope.raw, Msg::new().msg(1, Msg::new().str(1, "cm")).0.as_slice());

    // No typeMeta at all: the endpoint's kind and version apply.
    let mut bare = MAGIC.to_vec();
    bare.extend(Msg::new().msg(2, Msg::new().msg(1, Msg::new().str(1, "cm"))).0);
    assert!(matches!(decode_body(&bare), Err(ProtobufError::MissingKind { .. })));
    let decoded = decode_body_as(&bare, "v1", "ConfigMap").expect("defaults");
    assert_eq!(decoded.object, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}));
    // A kind and version that are sent win over the defaults.
    let decoded = decode_body_as(&body("apps/v1", "Deployment", Msg::new()), "v1", "ConfigMap").expect("sent");
    assert_eq!((decoded.api_version.as_str(), decoded.kind.as_str()), ("apps/v1", "Deployment"));
}

#[test]
fn unknown_envelope_fields_are_reported() {
    let mut bytes = MAGIC.to_vec();
    bytes.extend(
        Msg::new().msg(1, Msg::new().str(1, "v1").str(2, "ConfigMap").varint(9, 1)).msg(2, Msg::new()).varint(7, 1).0,
    );
    let decoded = decode_body(&bytes).expect("decodes");
    assert_eq!(
        decoded.unknown_fields,
        [
            UnknownField { path: "<envelope>.typeMeta".to_owned(), number: 9, wire_type: 0 },
            UnknownField { path: "<envelope>".to_owned(), number: 7, wire_type: 0 },
        ]
    );
}

#[test]
fn options_kinds_decode_in_meta_and_in_any_group_version() {
    let options = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
    let raw = || Msg::new().str(n(options, "propagationPolicy"), "Background").int(n(options, "gracePeriodSeconds"), 0);
    let expected = |api_version: &str| json!({"apiVersion": api_version, "kind": "DeleteOptions", "gracePeriodSeconds": 0, "propagationPolicy": "Background"});
    assert_eq!(decode("meta.k8s.io/v1", "DeleteOptions", raw()), expected("meta.k8s.io/v1"));
    assert_eq!(decode("apps/v1", "DeleteOptions", raw()), expected("apps/v1"));
    assert_eq!(decode("v1", "DeleteOptions", raw()), expected("v1"));
}

// ---------------------------------------------------------------- zero values and scalars

#[test]
fn non_pointer_zero_values_are_dropped() {
    let raw = Msg::new().msg(1, zero_meta("demo")).msg(2, Msg::new()).msg(3, Msg::new().str(1, ""));
    assert_eq!(
        decode("v1", "Namespace", raw),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    );
}

#[test]
fn pointer_zero_values_are_kept() {
    let replicas = n(DEPLOYMENT_SPEC, "replicas");
    assert_eq!(deployment(Msg::new().int(replicas, 0))["spec"], json!({"replicas": 0}));
    let pod = message(
        POD_SPEC,
        Msg::new()
            .varint(n(POD_SPEC, "enableServiceLinks"), 0)
            .varint(n(POD_SPEC, "hostNetwork"), 0)
            .str(n(POD_SPEC, "restartPolicy"), "")
            .str(n(POD_SPEC, "runtimeClassName"), "")
            .msg(n(POD_SPEC, "securityContext"), Msg::new())
            .int(n(POD_SPEC, "terminationGracePeriodSeconds"), 0),
    );
    assert_eq!(
        pod,
        json!({"enableServiceLinks": false, "runtimeClassName": "", "securityContext": {}, "terminationGracePeriodSeconds": 0})
    );
}

#[test]
fn varints_decode_per_go_type() {
    // int32 negative values come sign-extended to ten bytes.
    let replicas = n(DEPLOYMENT_SPEC, "replicas");
    assert_eq!(deployment(Msg::new().int(replicas, -1))["spec"]["replicas"], json!(-1));
    // A varint above 32 bits is truncated to int32 as Go does.
    assert_eq!(deployment(Msg::new().varint(replicas, (1 << 32) + 7))["spec"]["replicas"], json!(7));
    // int64 keeps all 64 bits.
    let generation = n(META, "generation");
    let meta = message(META, Msg::new().int(generation, i64::MAX));
    assert_eq!(meta["generation"], json!(i64::MAX));
    let meta = message(META, Msg::new().int(generation, -5));
    assert_eq!(meta["generation"], json!(-5));
    // bool: any non-zero varint is true.
    let pod = message(POD_SPEC, Msg::new().varint(n(POD_SPEC, "hostNetwork"), 2));
    assert_eq!(pod, json!({"hostNetwork": true}));
    // A repeated scalar field sent twice: the last wins.
    assert_eq!(deployment(Msg::new().int(replicas, 1).int(replicas, 2))["spec"]["replicas"], json!(2));
}

#[test]
fn doubles_decode_from_fixed64() {
    let maximum = n(SCHEMA, "maximum");
    assert_eq!(message(SCHEMA, Msg::new().fixed64(maximum, 1.5f64.to_bits())), json!({"maximum": 1.5}));
    assert_eq!(message(SCHEMA, Msg::new().fixed64(maximum, 2.0f64.to_bits())), json!({"maximum": 2}));
    // A pointer double of zero is kept.
    assert_eq!(message(SCHEMA, Msg::new().fixed64(maximum, 0.0f64.to_bits())), json!({"maximum": 0}));
    assert!(matches!(
        message_error(SCHEMA, Msg::new().fixed64(maximum, f64::NAN.to_bits())),
        ProtobufError::InvalidValue { path, .. } if path == "maximum"
    ));
}

#[test]
fn strings_are_utf8_with_replacement() {
    let meta = message(META, Msg::new().bytes(n(META, "name"), b"a\xffb"));
    assert_eq!(meta["name"], json!("a\u{fffd}b"));
}

#[test]
fn repeated_scalars_packed_and_unpacked() {
    let requirement = "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement";
    let values = n(requirement, "values");
    let unpacked = Msg::new().int(values, 1).int(values, -2).int(values, 3);
    assert_eq!(message(requirement, unpacked), json!({"values": [1, -2, 3]}));
    let mut packed = Vec::new();
    for v in [1i64, -2, 3] {
        put_varint(&mut packed, v as u64);
    }
    assert_eq!(message(requirement, Msg::new().bytes(values, &packed)), json!({"values": [1, -2, 3]}));
    // Both forms in one message concatenate.
    let mixed = Msg::new().bytes(values, &packed).int(values, 4);
    assert_eq!(message(requirement, mixed), json!({"values": [1, -2, 3, 4]}));
    // A packed run that ends inside a varint is truncated.
    assert!(matches!(
        message_error(requirement, Msg::new().bytes(values, &[0x80])),
        ProtobufError::Truncated { path } if path == "values[0]"
    ));

    let user = "io.k8s.api.core.v1.LinuxContainerUser";
    let groups = n(user, "supplementalGroups");
    let mut packed = Vec::new();
    put_varint(&mut packed, 5_000_000_000);
    assert_eq!(message(user, Msg::new().bytes(groups, &packed)), json!({"supplementalGroups": [5_000_000_000u64]}));

    let attribute = "io.k8s.api.resource.v1.DeviceAttribute";
    if let Some(bools) =
        facts().type_by_name(attribute).and_then(|t| t.field("boolValues")).and_then(|f| f.proto_number())
    {
        assert_eq!(message(attribute, Msg::new().bytes(bools, &[1, 0, 1]))["boolValues"], json!([true, false, true]));
    }
}

#[test]
fn repeated_strings_and_messages_keep_zero_elements() {
    let role = "io.k8s.api.rbac.v1.PolicyRule";
    let raw = Msg::new().str(n(role, "verbs"), "get").str(n(role, "apiGroups"), "").str(n(role, "verbs"), "list");
    assert_eq!(message(role, raw), json!({"verbs": ["get", "list"], "apiGroups": [""]}));
    let containers = n(POD_SPEC, "containers");
    let raw = Msg::new().msg(containers, Msg::new().str(n(CONTAINER, "name"), "a")).msg(containers, Msg::new());
    assert_eq!(message(POD_SPEC, raw), json!({"containers": [{"name": "a"}, {}]}));
}

// ---------------------------------------------------------------- messages

#[test]
fn nested_messages_and_merging_of_repeated_parts() {
    let template = n(DEPLOYMENT_SPEC, "template");
    let spec = n(POD_TEMPLATE, "spec");
    let containers = n(POD_SPEC, "containers");
    let container = Msg::new().str(n(CONTAINER, "name"), "nginx").str(n(CONTAINER, "image"), "nginx");
    let object = deployment(Msg::new().msg(template, Msg::new().msg(spec, Msg::new().msg(containers, container))));
    assert_eq!(object["spec"], json!({"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}));

    // A singular message field sent in two parts is merged (protobuf semantics).
    let raw =
        Msg::new().msg(1, Msg::new().str(n(META, "name"), "a")).msg(1, Msg::new().str(n(META, "namespace"), "ns"));
    assert_eq!(decode("v1", "ConfigMap", raw)["metadata"], json!({"name": "a", "namespace": "ns"}));
}

#[test]
fn inlined_embedded_structs_are_flattened() {
    let probe = "io.k8s.api.core.v1.Probe";
    let handler = "io.k8s.api.core.v1.ProbeHandler";
    let exec = "io.k8s.api.core.v1.ExecAction";
    let raw = Msg::new()
        .msg(n(probe, "ProbeHandler"), Msg::new().msg(n(handler, "exec"), Msg::new().str(n(exec, "command"), "true")))
        .int(n(probe, "periodSeconds"), 5);
    assert_eq!(message(probe, raw), json!({"exec": {"command": ["true"]}, "periodSeconds": 5}));

    let volume = "io.k8s.api.core.v1.Volume";
    let source = "io.k8s.api.core.v1.VolumeSource";
    let raw = Msg::new()
        .str(n(volume, "name"), "scratch")
        .msg(n(volume, "VolumeSource"), Msg::new().msg(n(source, "emptyDir"), Msg::new()));
    assert_eq!(message(volume, raw), json!({"name": "scratch", "emptyDir": {}}));

    // An inlined struct two levels down (NamedRuleWithOperations > RuleWithOperations > Rule).
    let named = "io.k8s.api.admissionregistration.v1.NamedRuleWithOperations";
    let with_ops = "io.k8s.api.admissionregistration.v1.RuleWithOperations";
    let rule = "io.k8s.api.admissionregistration.v1.Rule";
    let raw = Msg::new().str(n(named, "resourceNames"), "x").msg(
        n(named, "RuleWithOperations"),
        Msg::new()
            .str(n(with_ops, "operations"), "CREATE")
            .msg(n(with_ops, "Rule"), Msg::new().str(n(rule, "resources"), "pods")),
    );
    assert_eq!(message(named, raw), json!({"resourceNames": ["x"], "operations": ["CREATE"], "resources": ["pods"]}));
}

#[test]
fn maps_keep_empty_values_and_sort_keys() {
    let labels = n(META, "labels");
    let raw = Msg::new()
        .entry(labels, "b", "2")
        .entry(labels, "a", "")
        .msg(labels, Msg::new().str(1, "no-value"))
        .entry(labels, "b", "3");
    let meta = message(META, raw);
    assert_eq!(meta, json!({"labels": {"a": "", "b": "3", "no-value": ""}}));
    let keys: Vec<&String> = meta["labels"].as_object().expect("labels").keys().collect();
    assert_eq!(keys, ["a", "b", "no-value"]);
}

#[test]
fn maps_of_bytes_quantities_and_structs() {
    let data = n("io.k8s.api.core.v1.Secret", "data");
    let raw = Msg::new().msg(data, Msg::new().str(1, "k").bytes(2, b"v\x00\xff")).msg(data, Msg::new().str(1, "empty"));
    assert_eq!(decode("v1", "Secret", raw)["data"], json!({"k": "dgD/", "empty": ""}));

    let requirements = "io.k8s.api.core.v1.ResourceRequirements";
    let limits = n(requirements, "limits");
    let raw = Msg::new()
        .msg(limits, Msg::new().str(1, "cpu").msg(2, Msg::new().str(1, "500m")))
        .msg(limits, Msg::new().str(1, "memory").msg(2, Msg::new()));
    assert_eq!(message(requirements, raw), json!({"limits": {"cpu": "500m", "memory": "0"}}));

    let status = "io.k8s.api.policy.v1.PodDisruptionBudgetStatus";
    let disrupted = n(status, "disruptedPods");
    let raw = Msg::new().msg(disrupted, Msg::new().str(1, "p").msg(2, Msg::new().int(1, 1_767_323_045)));
    assert_eq!(message(status, raw), json!({"disruptedPods": {"p": "2026-01-02T03:04:05Z"}}));
}

#[test]
fn protobuf_wrapper_slices() {
    // map[string]ExtraValue, ExtraValue being message {repeated string items = 1}.
    let spec = "io.k8s.api.authorization.v1.SubjectAccessReviewSpec";
    let extra = n(spec, "extra");
    let raw = Msg::new()
        .str(n(spec, "user"), "alice")
        .msg(extra, Msg::new().str(1, "scopes").msg(2, Msg::new().str(1, "a").str(1, "b")))
        .msg(extra, Msg::new().str(1, "none").msg(2, Msg::new()));
    assert_eq!(message(spec, raw), json!({"user": "alice", "extra": {"none": [], "scopes": ["a", "b"]}}));

    // A singular field of a wrapper type (APIResource.verbs is `Verbs`).
    let resource = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource";
    let raw =
        Msg::new().str(n(resource, "name"), "pods").msg(n(resource, "verbs"), Msg::new().str(1, "get").str(1, "list"));
    assert_eq!(message(resource, raw), json!({"name": "pods", "verbs": ["get", "list"]}));
    let raw = Msg::new().str(n(resource, "name"), "pods").msg(n(resource, "verbs"), Msg::new());
    assert_eq!(message(resource, raw), json!({"name": "pods"}));
}

#[test]
fn aliases_resolve_to_their_targets() {
    let port = "io.k8s.api.core.v1.ContainerPort";
    let raw = Msg::new().int(n(port, "containerPort"), 80).str(n(port, "protocol"), "UDP");
    assert_eq!(message(port, raw), json!({"containerPort": 80, "protocol": "UDP"}));
}

// ---------------------------------------------------------------- special types

#[test]
fn time_is_rfc3339_seconds() {
    let created = n(META, "creationTimestamp");
    let deleted = n(META, "deletionTimestamp");
    let ts = |s: i64, nanos: i64| Msg::new().int(1, s).int(2, nanos);
    // Nanoseconds are dropped, as upstream's Time.Unmarshal does.
    assert_eq!(
        message(META, Msg::new().msg(created, ts(1_767_323_045, 999))),
        json!({"creationTimestamp": "2026-01-02T03:04:05Z"})
    );
    // The epoch is not the zero time.
    assert_eq!(message(META, Msg::new().msg(created, ts(0, 0))), json!({"creationTimestamp": "1970-01-01T00:00:00Z"}));
    // An empty message is the zero time: null, dropped even for a pointer field.
    assert_eq!(message(META, Msg::new().msg(created, Msg::new()).msg(deleted, Msg::new())), json!({}));
    // Go's zero time spelled out is still zero.
    assert_eq!(message(META, Msg::new().msg(deleted, ts(-62_135_596_800, 0))), json!({}));
}

#[test]
fn micro_time_is_rfc3339_microseconds() {
    let lease = "io.k8s.api.coordination.v1.LeaseSpec";
    let raw = Msg::new().msg(n(lease, "acquireTime"), Msg::new().int(1, 1_767_323_045).int(2, 123_456_789));
    assert_eq!(message(lease, raw), json!({"acquireTime": "2026-01-02T03:04:05.123456Z"}));
    let event = "io.k8s.api.core.v1.Event";
    let raw = Msg::new().msg(n(event, "eventTime"), Msg::new().int(1, 1_767_323_045));
    assert_eq!(decode("v1", "Event", raw)["eventTime"], json!("2026-01-02T03:04:05.000000Z"));
    assert_eq!(
        decode("v1", "Event", Msg::new().msg(n(event, "eventTime"), Msg::new())),
        json!({"apiVersion": "v1", "kind": "Event"})
    );
}

#[test]
fn int_or_string_forms_and_zero() {
    let port = "io.k8s.api.core.v1.ServicePort";
    let target = n(port, "targetPort");
    let int = Msg::new().int(1, 0).int(2, 8080).str(3, "");
    assert_eq!(message(port, Msg::new().msg(target, int)), json!({"targetPort": 8080}));
    let text = Msg::new().int(1, 1).int(2, 0).str(3, "http");
    assert_eq!(message(port, Msg::new().msg(target, text)), json!({"targetPort": "http"}));
    // Non-pointer zero: dropped, so the Service default (targetPort = port) applies.
    let zero = Msg::new().int(1, 0).int(2, 0).str(3, "");
    assert_eq!(message(port, Msg::new().int(n(port, "port"), 80).msg(target, zero)), json!({"port": 80}));
    // Pointer zero: kept (maxUnavailable: 0 is meaningful).
    let rolling = "io.k8s.api.apps.v1.RollingUpdateDeployment";
    let raw = Msg::new()
        .msg(n(rolling, "maxUnavailable"), Msg::new())
        .msg(n(rolling, "maxSurge"), Msg::new().int(1, 1).str(3, "25%"));
    assert_eq!(message(rolling, raw), json!({"maxUnavailable": 0, "maxSurge": "25%"}));
    assert!(matches!(
        message_error(port, Msg::new().msg(target, Msg::new().int(1, 2))),
        ProtobufError::InvalidValue { path, message } if path == "targetPort" && message.contains("impossible IntOrString.Type")
    ));
}

#[test]
fn raw_extension_holds_json_or_a_nested_object() {
    let data = n("io.k8s.api.apps.v1.ControllerRevision", "data");
    let revision = n("io.k8s.api.apps.v1.ControllerRevision", "revision");
    let json_raw = Msg::new().msg(data, Msg::new().bytes(1, br#"{"spec":{"replicas":2}}"#)).int(revision, 3);
    assert_eq!(
        decode("apps/v1", "ControllerRevision", json_raw),
        json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "data": {"spec": {"replicas": 2}}, "revision": 3})
    );
    // A nested protobuf object with its own envelope.
    let nested = body("v1", "ConfigMap", Msg::new().msg(1, Msg::new().str(1, "inner")));
    let raw = Msg::new().msg(data, Msg::new().bytes(1, &nested));
    assert_eq!(
        decode("apps/v1", "ControllerRevision", raw)["data"],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}})
    );
    // Empty: null, dropped.
    let raw = Msg::new().msg(data, Msg::new());
    assert_eq!(
        decode("apps/v1", "ControllerRevision", raw),
        json!({"apiVersion": "apps/v1", "kind": "ControllerRevision"})
    );
    // Neither JSON nor protobuf.
    let error =
        decode_body(&body("apps/v1", "ControllerRevision", Msg::new().msg(data, Msg::new().bytes(1, b"{nope"))))
            .expect_err("bad JSON");
    assert!(matches!(&error, ProtobufError::InvalidValue { path, .. } if path == "data"), "{error}");
    let error = decode_body(&body(
        "apps/v1",
        "ControllerRevision",
        Msg::new().msg(data, Msg::new().bytes(1, &[0xa1, 0x61, 0x61, 0x01])),
    ))
    .expect_err("CBOR");
    assert!(error.to_string().contains("CBOR"), "{error}");
}

#[test]
fn fields_v1_and_apiextensions_json_hold_json() {
    let entry = "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry";
    let raw = Msg::new()
        .str(n(entry, "manager"), "kubectl")
        .msg(n(entry, "fieldsV1"), Msg::new().bytes(1, br#"{"f:data":{".":{}}}"#));
    assert_eq!(message(entry, raw), json!({"manager": "kubectl", "fieldsV1": {"f:data": {".": {}}}}));
    let default = n(SCHEMA, "default");
    assert_eq!(message(SCHEMA, Msg::new().msg(default, Msg::new().bytes(1, b"5"))), json!({"default": 5}));
    assert_eq!(message(SCHEMA, Msg::new().msg(default, Msg::new().bytes(1, b"\"x\""))), json!({"default": "x"}));
    let enum_ = n(SCHEMA, "enum");
    let raw = Msg::new().msg(enum_, Msg::new().bytes(1, b"\"a\"")).msg(enum_, Msg::new().bytes(1, b"null"));
    assert_eq!(message(SCHEMA, raw), json!({"enum": ["a", null]}));
}

#[test]
fn json_schema_props_unions() {
    let type_ = n(SCHEMA, "type");
    let string_schema = || Msg::new().str(type_, "string");
    // additionalProperties: JSONSchemaPropsOrBool {allows = 1, schema = 2}; a pointer, false is kept.
    let additional = n(SCHEMA, "additionalProperties");
    assert_eq!(
        message(SCHEMA, Msg::new().msg(additional, Msg::new().varint(1, 0))),
        json!({"additionalProperties": false})
    );
    assert_eq!(
        message(SCHEMA, Msg::new().msg(additional, Msg::new().varint(1, 1))),
        json!({"additionalProperties": true})
    );
    assert_eq!(
        message(SCHEMA, Msg::new().msg(additional, Msg::new().varint(1, 1).msg(2, string_schema()))),
        json!({"additionalProperties": {"type": "string"}})
    );
    // items: JSONSchemaPropsOrArray {schema = 1, JSONSchemas = 2}.
    let items = n(SCHEMA, "items");
    assert_eq!(
        message(SCHEMA, Msg::new().msg(items, Msg::new().msg(1, string_schema()))),
        json!({"items": {"type": "string"}})
    );
    assert_eq!(
        message(SCHEMA, Msg::new().msg(items, Msg::new().msg(2, string_schema()).msg(2, Msg::new()))),
        json!({"items": [{"type": "string"}, {}]})
    );
    // dependencies: map of JSONSchemaPropsOrStringArray {schema = 1, property = 2}.
    let dependencies = n(SCHEMA, "dependencies");
    let raw = Msg::new()
        .msg(dependencies, Msg::new().str(1, "a").msg(2, Msg::new().str(2, "b").str(2, "c")))
        .msg(dependencies, Msg::new().str(1, "d").msg(2, Msg::new().msg(1, string_schema())));
    assert_eq!(message(SCHEMA, raw), json!({"dependencies": {"a": ["b", "c"], "d": {"type": "string"}}}));
    // properties: map of schemas, recursively.
    let properties = n(SCHEMA, "properties");
    let raw = Msg::new().msg(properties, Msg::new().str(1, "spec").msg(2, Msg::new().str(type_, "object")));
    assert_eq!(message(SCHEMA, raw), json!({"properties": {"spec": {"type": "object"}}}));
}

/// Duration, Quantity as a field, and the rarer primitives have no built-in field to test through:
/// a small facts table of made-up types does.
fn synthetic_facts() -> ApiFacts {
    let text = r#"{
      "kubernetesVersion": "v0.0",
      "sources": {},
      "aliases": {},
      "types": {
        "io.k8s.apimachinery.pkg.apis.meta.v1.Duration": {
          "go": "k8s.io/apimachinery/pkg/apis/meta/v1.Duration", "special": "Duration", "customJson": true,
          "fields": [{"go": "Duration", "json": "Duration", "embedded": true, "type": "time.Duration(int64)",
                      "proto": {"n": 1, "wire": "varint", "label": "opt", "name": "duration"}}]
        },
        "io.k8s.apimachinery.pkg.api.resource.Quantity": {
          "go": "k8s.io/apimachinery/pkg/api/resource.Quantity", "special": "Quantity", "customJson": true,
          "customProto": true, "protoMessage": [{"name": "string", "n": 1, "type": "string", "label": "optional"}],
          "fields": []
        },
        "io.example.v1.Thing": {
          "go": "example.io/v1.Thing",
          "kinds": [{"group": "example.io", "version": "v1", "kind": "Thing"}],
          "fields": [
            {"go": "Timeout", "json": "timeout", "type": "io.k8s.apimachinery.pkg.apis.meta.v1.Duration",
             "proto": {"n": 1, "wire": "bytes", "label": "opt"}},
            {"go": "Backoff", "json": "backoff", "pointer": true, "type": "io.k8s.apimachinery.pkg.apis.meta.v1.Duration",
             "proto": {"n": 2, "wire": "bytes", "label": "opt"}},
            {"go": "Size", "json": "size", "type": "io.k8s.apimachinery.pkg.api.resource.Quantity",
             "proto": {"n": 3, "wire": "bytes", "label": "opt"}},
            {"go": "Limit", "json": "limit", "pointer": true, "type": "io.k8s.apimachinery.pkg.api.resource.Quantity",
             "proto": {"n": 4, "wire": "bytes", "label": "opt"}},
            {"go": "Ratio", "json": "ratio", "type": "float32", "proto": {"n": 5, "wire": "fixed32", "label": "opt"}},
            {"go": "Offset", "json": "offset", "type": "int32", "proto": {"n": 6, "wire": "zigzag32", "label": "opt"}},
            {"go": "Big", "json": "big", "type": "uint64", "proto": {"n": 7, "wire": "varint", "label": "opt"}},
            {"go": "Deltas", "json": "deltas", "type": "[]int64", "proto": {"n": 8, "wire": "zigzag64", "label": "rep"}},
            {"go": "Weights", "json": "weights", "type": "[]float64", "proto": {"n": 9, "wire": "fixed64", "label": "rep"}},
            {"go": "Blobs", "json": "blobs", "type": "[]bytes", "proto": {"n": 10, "wire": "bytes", "label": "rep"}},
            {"go": "Hidden", "type": "string", "proto": {"n": 11, "wire": "bytes", "label": "opt"}}
          ]
        }
      }
    }"#;
    ApiFacts::from_json(text).expect("synthetic facts")
}

fn thing(raw: Msg) -> Value {
    let facts = synthetic_facts();
    let decoded = Transcoder::new(&facts).decode_body(&body("example.io/v1", "Thing", raw)).expect("decodes");
    assert!(decoded.unknown_fields.is_empty(), "{:?}", decoded.unknown_fields);
    let mut object = decoded.object;
    if let Some(map) = object.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    object
}

#[test]
fn duration_is_a_go_duration_string() {
    assert_eq!(thing(Msg::new().msg(1, Msg::new().int(1, 90_000_000_000))), json!({"timeout": "1m30s"}));
    assert_eq!(thing(Msg::new().msg(1, Msg::new().int(1, 1_500_000))), json!({"timeout": "1.5ms"}));
    // Zero: dropped for a value, kept as "0s" for a pointer.
    assert_eq!(thing(Msg::new().msg(1, Msg::new()).msg(2, Msg::new().int(1, 0))), json!({"backoff": "0s"}));
}

#[test]
fn quantity_fields_keep_their_text() {
    assert_eq!(thing(Msg::new().msg(3, Msg::new().str(1, "1Gi"))), json!({"size": "1Gi"}));
    // An empty message is the zero Quantity: dropped for a value, "0" for a pointer.
    assert_eq!(thing(Msg::new().msg(3, Msg::new()).msg(4, Msg::new())), json!({"limit": "0"}));
    // A sent "0" is not the Go zero value (it has a format): kept.
    assert_eq!(thing(Msg::new().msg(3, Msg::new().str(1, "0"))), json!({"size": "0"}));
}

#[test]
fn rarer_scalars_fixed32_zigzag_uint64_bytes_lists() {
    let raw = Msg::new().key(5, 5);
    let mut raw = raw;
    raw.0.extend_from_slice(&0.25f32.to_bits().to_le_bytes());
    assert_eq!(thing(raw), json!({"ratio": 0.25}));
    assert_eq!(thing(Msg::new().varint(6, 3)), json!({"offset": -2}));
    assert_eq!(thing(Msg::new().varint(7, u64::MAX)), json!({"big": u64::MAX}));
    let mut packed = Vec::new();
    put_varint(&mut packed, 1); // -1
    put_varint(&mut packed, 4); // 2
    assert_eq!(thing(Msg::new().bytes(8, &packed)), json!({"deltas": [-1, 2]}));
    let mut doubles = Vec::new();
    doubles.extend_from_slice(&0.5f64.to_bits().to_le_bytes());
    doubles.extend_from_slice(&3.0f64.to_bits().to_le_bytes());
    assert_eq!(thing(Msg::new().bytes(9, &doubles).fixed64(9, 1.25f64.to_bits())), json!({"weights": [0.5, 3, 1.25]}));
    assert_eq!(thing(Msg::new().bytes(10, b"\x01\x02").bytes(10, b"")), json!({"blobs": ["AQI=", ""]}));
    // In protobuf but not in JSON: read and left out.
    assert_eq!(thing(Msg::new().str(11, "secret")), json!({}));
}

#[test]
fn special_field_numbers_agree_with_the_facts() {
    let t = |name: &str| facts().type_by_name(name).unwrap_or_else(|| panic!("{name}"));
    let numbers = |name: &str| -> Vec<(String, u32)> {
        let ty = t(name);
        if ty.custom_proto {
            ty.proto_message.iter().map(|f| (f.name.clone(), f.number)).collect()
        } else {
            ty.fields.iter().filter_map(|f| Some((f.proto.as_ref()?.name.clone()?, f.proto.as_ref()?.number))).collect()
        }
    };
    let pairs = |list: &[(&str, u32)]| list.iter().map(|(n, i)| ((*n).to_owned(), *i)).collect::<Vec<_>>();
    assert_eq!(numbers("io.k8s.apimachinery.pkg.apis.meta.v1.Time"), pairs(&[("seconds", 1), ("nanos", 2)]));
    assert_eq!(numbers("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"), pairs(&[("seconds", 1), ("nanos", 2)]));
    assert_eq!(numbers("io.k8s.apimachinery.pkg.apis.meta.v1.Duration"), pairs(&[("duration", 1)]));
    assert_eq!(numbers("io.k8s.apimachinery.pkg.api.resource.Quantity"), pairs(&[("string", 1)]));
    assert_eq!(numbers("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"), pairs(&[("Raw", 1)]));
    assert_eq!(numbers("io.k8s.apimachinery.pkg.runtime.RawExtension"), pairs(&[("raw", 1)]));
    assert_eq!(
        numbers("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
        pairs(&[("type", 1), ("intVal", 2), ("strVal", 3)])
    );
    let v1 = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";
    assert_eq!(numbers(&format!("{v1}.JSON")), pairs(&[("raw", 1)]));
    assert_eq!(numbers(&format!("{v1}.JSONSchemaPropsOrBool")), pairs(&[("allows", 1), ("schema", 2)]));
    assert_eq!(numbers(&format!("{v1}.JSONSchemaPropsOrArray")), pairs(&[("schema", 1), ("jSONSchemas", 2)]));
    assert_eq!(numbers(&format!("{v1}.JSONSchemaPropsOrStringArray")), pairs(&[("schema", 1), ("property", 2)]));
}

// ---------------------------------------------------------------- unknown fields and errors

#[test]
fn unknown_fields_are_collected_with_their_path() {
    let template = n(DEPLOYMENT_SPEC, "template");
    let spec = n(POD_TEMPLATE, "spec");
    let containers = n(POD_SPEC, "containers");
    let container = Msg::new().str(n(CONTAINER, "name"), "c").varint(999, 1);
    let raw = Msg::new().msg(
        2,
        Msg::new()
            .varint(900, 5)
            .msg(template, Msg::new().msg(spec, Msg::new().msg(containers, Msg::new()).msg(containers, container)))
            .key(901, 3)
            .varint(1, 0)
            .key(901, 4),
    );
    let decoded = decode_body(&body("apps/v1", "Deployment", raw)).expect("decodes");
    assert_eq!(
        decoded.unknown_fields,
        [
            UnknownField { path: "spec".to_owned(), number: 900, wire_type: 0 },
            UnknownField { path: "spec".to_owned(), number: 901, wire_type: 3 },
            UnknownField { path: "spec.template.spec.containers[1]".to_owned(), number: 999, wire_type: 0 },
        ]
    );
    assert_eq!(decoded.object["spec"]["template"]["spec"]["containers"], json!([{}, {"name": "c"}]));
    assert_eq!(
        decoded.unknown_fields[2].to_string(),
        "unknown protobuf field number 999 (wire type 0) in spec.template.spec.containers[1]"
    );
    assert_eq!(
        UnknownField { path: String::new(), number: 7, wire_type: 2 }.to_string(),
        "unknown protobuf field number 7 (wire type 2) in the object"
    );
}

#[test]
fn wrong_wire_types_are_rejected() {
    let replicas = n(DEPLOYMENT_SPEC, "replicas");
    let error = decode_body(&body("apps/v1", "Deployment", Msg::new().msg(2, Msg::new().str(replicas, "3"))))
        .expect_err("wire");
    assert_eq!(error, ProtobufError::WrongWireType { path: "spec.replicas".to_owned(), expected: 0, actual: 2 });
    assert_eq!(error.to_string(), "proto: wrong wireType = 2 for field spec.replicas (expected 0)");
    // A message field sent as a varint; a string list element as a varint; a map entry as a varint.
    assert!(matches!(
        message_error(POD_SPEC, Msg::new().varint(n(POD_SPEC, "containers"), 1)),
        ProtobufError::WrongWireType { .. }
    ));
    assert!(matches!(
        message_error(CONTAINER, Msg::new().varint(n(CONTAINER, "command"), 1)),
        ProtobufError::WrongWireType { .. }
    ));
    assert!(matches!(
        message_error(META, Msg::new().varint(n(META, "labels"), 1)),
        ProtobufError::WrongWireType { .. }
    ));
    // Inside a map entry: a string key sent as a varint.
    let error = message_error(META, Msg::new().msg(n(META, "labels"), Msg::new().varint(1, 1)));
    assert_eq!(error, ProtobufError::WrongWireType { path: "labels.key".to_owned(), expected: 2, actual: 0 });
    // Inside a special type.
    let error = message_error(META, Msg::new().msg(n(META, "creationTimestamp"), Msg::new().str(1, "x")));
    assert_eq!(error, ProtobufError::WrongWireType { path: "creationTimestamp".to_owned(), expected: 0, actual: 2 });
    // The envelope's typeMeta as a varint.
    let mut bytes = MAGIC.to_vec();
    bytes.extend(Msg::new().varint(1, 1).0);
    assert_eq!(
        decode_body(&bytes),
        Err(ProtobufError::WrongWireType { path: "<envelope>.typeMeta".to_owned(), expected: 2, actual: 0 })
    );
}

#[test]
fn truncated_bodies_are_rejected_with_a_path() {
    let full = body(
        "apps/v1",
        "Deployment",
        Msg::new().msg(1, zero_meta("web")).msg(2, Msg::new().int(n(DEPLOYMENT_SPEC, "replicas"), 3)),
    );
    // Cut anywhere, the body fails as truncated, except right after the typeMeta, where it is a
    // complete envelope without raw bytes (an empty object).
    let type_meta_end = MAGIC.len() + 2 + Msg::new().str(1, "apps/v1").str(2, "Deployment").0.len();
    for cut in MAGIC.len() + 1..full.len() {
        match decode_body(&full[..cut]) {
            Ok(decoded) => {
                assert_eq!(cut, type_meta_end, "cut at {cut} decodes");
                assert_eq!(decoded.object, json!({"apiVersion": "apps/v1", "kind": "Deployment"}));
            }
            Err(error) => assert!(matches!(error, ProtobufError::Truncated { .. }), "cut at {cut}: {error}"),
        }
    }
    // A length that runs past the end of the inner message.
    let error = message_error(META, Msg::new().bytes(n(META, "labels"), &[0x0a, 0x05, b'a']));
    assert_eq!(error, ProtobufError::Truncated { path: "labels".to_owned() });
    assert_eq!(error.to_string(), "proto: unexpected EOF in labels");
    let error = decode_body(&body("v1", "ConfigMap", Msg(vec![0x0a, 0x03, 0x0a]))).expect_err("short");
    assert_eq!(error, ProtobufError::Truncated { path: String::new() });
    assert_eq!(error.to_string(), "proto: unexpected EOF in the object");
}

#[test]
fn illegal_tags_and_wire_types_are_rejected() {
    assert!(matches!(message_error(META, Msg(vec![0x00, 0x00])), ProtobufError::IllegalTag { tag: 0, .. }));
    assert!(matches!(message_error(META, Msg(vec![0x0e])), ProtobufError::IllegalWireType { wire_type: 6, .. }));
    assert!(matches!(message_error(META, Msg(vec![0x0c])), ProtobufError::IllegalWireType { wire_type: 4, .. }));
    let mut overflow = vec![0x38];
    overflow.extend([0xff; 10]);
    overflow.push(0x01);
    assert!(matches!(message_error(META, Msg(overflow)), ProtobufError::Overflow { .. }));
}

#[test]
fn nesting_is_bounded() {
    let properties = n(SCHEMA, "properties");
    let mut schema = Msg::new();
    for _ in 0..crate::transcode::MAX_DEPTH {
        schema = Msg::new().msg(properties, Msg::new().str(1, "p").msg(2, schema));
    }
    // At the limit it decodes (and the stack holds, in debug builds too) ...
    let decoded = message(SCHEMA, schema.clone());
    assert!(decoded["properties"]["p"]["properties"]["p"].is_object());
    // ... one level more is refused.
    let deeper = Msg::new().msg(properties, Msg::new().str(1, "p").msg(2, schema));
    assert!(matches!(message_error(SCHEMA, deeper), ProtobufError::TooDeep { limit: crate::transcode::MAX_DEPTH, .. }));
}

#[test]
fn content_type_and_magic_checks() {
    assert!(crate::is_protobuf(b"k8s\x00\x0a"));
    assert!(!crate::is_protobuf(b"k8s"));
    assert!(!crate::is_protobuf(b"{}"));
    assert!(crate::is_protobuf_content_type("application/vnd.kubernetes.protobuf"));
    assert!(crate::is_protobuf_content_type("Application/VND.Kubernetes.Protobuf; charset=utf-8"));
    assert!(!crate::is_protobuf_content_type("application/vnd.kubernetes.protobuf;stream=watch"));
    assert!(!crate::is_protobuf_content_type("application/json"));
}
