//! Spot checks of the committed table against facts known from the Kubernetes sources.

use kubeplex_api_facts::{
    ListType, MapType, PatchStrategy, Primitive, ProtoLabel, SpecialType, StructType, TypeFacts, TypeRef, WireType,
    facts,
};

fn ty(name: &str) -> &'static TypeFacts {
    facts().type_by_name(name).unwrap_or_else(|| panic!("{name} is missing"))
}

#[test]
fn deployment_spec_is_protobuf_field_2() {
    let deployment = facts().kind("apps", "v1", "Deployment").expect("apps/v1 Deployment");
    assert_eq!(deployment.name, "io.k8s.api.apps.v1.Deployment");
    assert_eq!(deployment.go, "k8s.io/api/apps/v1.Deployment");
    let spec = deployment.field("spec").expect("spec");
    assert_eq!(spec.proto_number(), Some(2));
    assert_eq!(spec.ty, TypeRef::Named("io.k8s.api.apps.v1.DeploymentSpec".into()));
    assert_eq!(deployment.field_by_proto_number(1).map(|f| f.go.as_str()), Some("ObjectMeta"));
    assert_eq!(deployment.field_by_proto_number(3).and_then(|f| f.json.as_deref()), Some("status"));
    assert!(deployment.field_by_proto_number(4).is_none());
    // apiVersion and kind come from the inlined TypeMeta and are not in protobuf.
    let kind = deployment.field("kind").expect("kind");
    assert_eq!(kind.inlined_via, ["TypeMeta"]);
    assert!(kind.proto.is_none());
    let json: Vec<&str> = deployment.json_fields().filter_map(|f| f.json.as_deref()).collect();
    assert_eq!(json, ["kind", "apiVersion", "metadata", "spec", "status"], "Go order: TypeMeta declares Kind first");
}

#[test]
fn deployment_spec_replicas_is_a_pointer_and_template_is_not() {
    let spec = ty("io.k8s.api.apps.v1.DeploymentSpec");
    let replicas = spec.field("replicas").expect("replicas");
    assert!(replicas.pointer);
    assert_eq!(replicas.ty, TypeRef::Primitive(Primitive::Int32));
    assert_eq!(replicas.proto.as_ref().map(|p| (p.number, p.wire)), Some((1, WireType::Varint)));
    let template = spec.field("template").expect("template");
    assert!(!template.pointer);
    assert_eq!(template.proto_number(), Some(3));
}

#[test]
fn container_ports_merge_by_container_port_and_list_by_port_and_protocol() {
    let ports = ty("io.k8s.api.core.v1.Container").field("ports").expect("ports");
    assert_eq!(ports.patch_merge_key.as_deref(), Some("containerPort"));
    assert!(ports.has_patch_strategy(PatchStrategy::Merge));
    assert_eq!(ports.list_type, Some(ListType::Map));
    assert_eq!(ports.list_map_keys, ["containerPort", "protocol"]);
    assert_eq!(ports.ty.list_element().and_then(TypeRef::struct_name), Some("io.k8s.api.core.v1.ContainerPort"));
    let tag = ports.proto.as_ref().expect("protobuf tag");
    assert_eq!((tag.number, tag.label, tag.wire), (6, ProtoLabel::Rep, WireType::Bytes));
    let protocol = ty("io.k8s.api.core.v1.ContainerPort").field("protocol").expect("protocol");
    assert_eq!(
        protocol.ty,
        TypeRef::Alias {
            name: "io.k8s.api.core.v1.Protocol".into(),
            target: Box::new(TypeRef::Primitive(Primitive::String))
        }
    );
    assert_eq!(protocol.default.as_deref(), Some("\"TCP\""));
    assert!(facts().alias_by_name("io.k8s.api.core.v1.Protocol").is_some_and(|a| a.r#enum));
}

#[test]
fn pod_spec_containers_merge_by_name() {
    let pod_spec = ty("io.k8s.api.core.v1.PodSpec");
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let field = pod_spec.field(list).unwrap_or_else(|| panic!("{list}"));
        assert_eq!(field.patch_merge_key.as_deref(), Some("name"), "{list}");
        assert!(field.has_patch_strategy(PatchStrategy::Merge), "{list}");
        assert_eq!(field.list_type, Some(ListType::Map), "{list}");
        assert_eq!(field.list_map_keys, ["name"], "{list}");
    }
    let volumes = pod_spec.field("volumes").expect("volumes");
    assert_eq!(volumes.patch_strategies(), [PatchStrategy::Merge, PatchStrategy::RetainKeys]);
    // The Go tag says `bytes` for this *int32; generated.proto (and so the wire) says int32, a varint.
    let priority = pod_spec.field("priority").expect("priority");
    assert_eq!(priority.proto.as_ref().map(|p| p.wire), Some(WireType::Varint));
    assert!(priority.pointer);
    let restart = pod_spec.field("restartPolicy").expect("restartPolicy");
    assert!(!restart.pointer, "non-pointer: Go clients send \"\" and defaulting must still apply");
    let links = pod_spec.field("enableServiceLinks").expect("enableServiceLinks");
    assert!(links.pointer);
}

#[test]
fn object_meta_finalizers_merge_and_labels_are_a_string_map() {
    let meta = ty("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    let finalizers = meta.field("finalizers").expect("finalizers");
    assert!(finalizers.has_patch_strategy(PatchStrategy::Merge));
    assert_eq!(finalizers.list_type, Some(ListType::Set));
    assert_eq!(finalizers.proto_number(), Some(14));
    let labels = meta.field("labels").expect("labels");
    assert_eq!(labels.proto_number(), Some(11));
    let (key, value) = labels.ty.map_entry().expect("map");
    assert_eq!((key.primitive(), value.primitive()), (Some(Primitive::String), Some(Primitive::String)));
    let owners = meta.field("ownerReferences").expect("ownerReferences");
    assert_eq!(owners.patch_merge_key.as_deref(), Some("uid"));
    assert_eq!(owners.list_map_keys, ["uid"]);
    let created = meta.field("creationTimestamp").expect("creationTimestamp");
    assert_eq!(created.ty.special(), Some(SpecialType::Time));
    assert!(!created.pointer);
    let uid = meta.field("uid").expect("uid");
    assert_eq!(uid.ty.to_string(), "io.k8s.apimachinery.pkg.types.UID(string)");
    let generation = meta.field("generation").expect("generation");
    assert_eq!(generation.ty, TypeRef::Primitive(Primitive::Int64));
}

#[test]
fn quantity_time_and_int_or_string_are_special() {
    let quantity = ty("io.k8s.apimachinery.pkg.api.resource.Quantity");
    assert_eq!(quantity.special, Some(SpecialType::Quantity));
    assert!(quantity.custom_json && quantity.custom_proto);
    assert!(quantity.fields.is_empty());
    let message: Vec<(&str, u32, &str)> =
        quantity.proto_message.iter().map(|f| (f.name.as_str(), f.number, f.proto_type.as_str())).collect();
    assert_eq!(message, [("string", 1, "string")]);

    let time = ty("io.k8s.apimachinery.pkg.apis.meta.v1.Time");
    assert_eq!(time.special, Some(SpecialType::Time));
    let message: Vec<(&str, u32, &str)> =
        time.proto_message.iter().map(|f| (f.name.as_str(), f.number, f.proto_type.as_str())).collect();
    assert_eq!(message, [("seconds", 1, "int64"), ("nanos", 2, "int32")]);

    // IntOrString's JSON is hand-written, its protobuf is an ordinary message.
    let int_or_string = ty("io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_eq!(int_or_string.special, Some(SpecialType::IntOrString));
    assert!(int_or_string.custom_json && !int_or_string.custom_proto);
    let numbers: Vec<(&str, Option<u32>)> = int_or_string.fields().map(|f| (f.go.as_str(), f.proto_number())).collect();
    assert_eq!(numbers, [("Type", Some(1)), ("IntVal", Some(2)), ("StrVal", Some(3))]);

    let raw = ty("io.k8s.apimachinery.pkg.runtime.RawExtension");
    assert_eq!(raw.special, Some(SpecialType::RawExtension));
    let field = raw.field_by_proto_number(1).expect("raw = 1");
    assert_eq!((field.json.as_deref(), &field.ty), (None, &TypeRef::Bytes));

    let resources = ty("io.k8s.api.core.v1.ResourceRequirements").field("limits").expect("limits");
    let (key, value) = resources.ty.map_entry().expect("map");
    assert_eq!(key.to_string(), "io.k8s.api.core.v1.ResourceName(string)");
    assert_eq!(value.special(), Some(SpecialType::Quantity));
    assert_eq!(resources.proto.as_ref().and_then(|p| p.castkey.as_deref()), Some("ResourceName"));

    let max_surge = ty("io.k8s.api.apps.v1.RollingUpdateDeployment").field("maxSurge").expect("maxSurge");
    assert_eq!(max_surge.ty.special(), Some(SpecialType::IntOrString));
    assert!(max_surge.pointer);
}

#[test]
fn service_ports_are_a_list_map_by_port_and_protocol() {
    let service = facts().kind("", "v1", "Service").expect("v1 Service");
    let spec = facts().resolve(&service.field("spec").expect("spec").ty).expect("ServiceSpec");
    let ports = spec.field("ports").expect("ports");
    assert_eq!(ports.list_type, Some(ListType::Map));
    assert_eq!(ports.list_map_keys, ["port", "protocol"]);
    assert_eq!(ports.patch_merge_key.as_deref(), Some("port"));
    assert!(ports.has_patch_strategy(PatchStrategy::Merge));
    let target = ty("io.k8s.api.core.v1.ServicePort").field("targetPort").expect("targetPort");
    assert_eq!(target.ty.special(), Some(SpecialType::IntOrString));
}

#[test]
fn secret_data_is_bytes_and_string_data_is_not_in_protobuf_order() {
    let secret = facts().kind_for_api_version("v1", "Secret").expect("Secret");
    let data = secret.field("data").expect("data");
    let (_, value) = data.ty.map_entry().expect("map");
    assert!(value.is_bytes());
    assert_eq!(data.proto_number(), Some(2));
    let immutable = secret.field("immutable").expect("immutable");
    assert!(immutable.pointer);
    assert_eq!(immutable.proto.as_ref().map(|p| p.wire), Some(WireType::Varint));
}

#[test]
fn inline_fields_with_protobuf_numbers_stay_nested_in_protobuf() {
    let ephemeral = ty("io.k8s.api.core.v1.EphemeralContainer");
    let common = ephemeral.field_by_proto_number(1).expect("ephemeralContainerCommon = 1");
    assert!(common.inline && common.embedded);
    assert_eq!(common.json, None);
    // In JSON the common fields are flattened.
    assert_eq!(
        ephemeral.field("image").map(|f| f.inlined_via.clone()),
        Some(vec!["EphemeralContainerCommon".to_owned()])
    );
    assert_eq!(ephemeral.field("targetContainerName").and_then(|f| f.proto_number()), Some(2));
}

#[test]
fn kinds_are_registered_per_group_version() {
    let f = facts();
    assert_eq!(f.kind("", "v1", "Pod").map(|t| t.name.as_str()), Some("io.k8s.api.core.v1.Pod"));
    assert_eq!(f.kind("", "v1", "PodList").map(|t| t.name.as_str()), Some("io.k8s.api.core.v1.PodList"));
    assert_eq!(
        f.kind("", "v1", "Status").map(|t| t.name.as_str()),
        Some("io.k8s.apimachinery.pkg.apis.meta.v1.Status")
    );
    assert_eq!(
        f.kind("apps", "v1", "DeleteOptions").map(|t| t.name.as_str()),
        Some("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")
    );
    assert_eq!(
        f.kind("meta.k8s.io", "v1", "Table").map(|t| t.name.as_str()),
        Some("io.k8s.apimachinery.pkg.apis.meta.v1.Table")
    );
    assert_eq!(
        f.kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition").map(|t| t.name.as_str()),
        Some("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition")
    );
    assert_eq!(
        f.kind("apiregistration.k8s.io", "v1", "APIService").map(|t| t.name.as_str()),
        Some("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService")
    );
    assert!(f.kind("apps", "v1", "Pod").is_none());
    assert!(f.kind("nosuch.example.com", "v1", "DeleteOptions").is_none(), "unknown group versions have no kinds");
    assert!(f.kind_for_api_version("authentication.k8s.io/v1", "TokenRequest").is_some());
    assert!(f.kind_for_api_version("policy/v1", "Eviction").is_some());
    assert!(f.group_versions().any(|gv| gv == ("apps", "v1")));
    assert!(f.kinds().count() > 300);
}

#[test]
fn user_info_extra_values_are_protobuf_wrapper_messages() {
    let extra = ty("io.k8s.api.authentication.v1.UserInfo").field("extra").expect("extra");
    let (_, value) = extra.ty.map_entry().expect("map");
    let TypeRef::Alias { name, target } = value else { panic!("ExtraValue is a defined type: {value}") };
    assert_eq!(**target, TypeRef::List(Box::new(TypeRef::Primitive(Primitive::String))));
    assert!(facts().alias_by_name(name).expect("ExtraValue").proto_wrapper);
}

#[test]
fn atomic_structs_and_maps_are_marked() {
    assert_eq!(ty("io.k8s.api.core.v1.LocalObjectReference").struct_type, Some(StructType::Atomic));
    assert_eq!(ty("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").struct_type, Some(StructType::Atomic));
    let match_labels =
        ty("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").field("matchLabels").expect("matchLabels");
    assert!(match_labels.map_type.is_none() || match_labels.map_type == Some(MapType::Atomic));
    let node_selector = ty("io.k8s.api.core.v1.PodSpec").field("nodeSelector").expect("nodeSelector");
    assert_eq!(node_selector.map_type, Some(MapType::Atomic));
}

#[test]
fn every_type_reference_resolves_and_every_kind_type_has_type_meta() {
    let f = facts();
    let mut seen = 0;
    for t in f.types() {
        for field in t.fields() {
            for name in field.ty.struct_names() {
                assert!(f.type_by_name(name).is_some(), "{}.{} -> {name}", t.name, field.go);
            }
        }
        if !t.kinds.is_empty() && t.special.is_none() && !t.custom_json {
            assert!(
                t.field("kind").is_some() && t.field("apiVersion").is_some(),
                "{} is a kind without TypeMeta",
                t.name
            );
            seen += 1;
        }
    }
    assert!(seen > 300);
    assert_eq!(f.kubernetes_version(), "v1.36");
    assert!(f.sources().any(|(module, tag)| module == "k8s.io/api" && tag == "v0.36.3"));
}
