//! CRD schemas enforced, driven by real kubectl 1.32 and 1.37 with their
//! default validation on: wrong types, enums, minimums and required fields
//! rejected with upstream's texts, defaults applied, unknown fields pruned
//! (under `--validate=false`) or rejected (kubectl's default Strict field
//! validation), and a non-structural schema refused at creation.

use kubeplex_testing::{Kubectl, KubeplexServer};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
              mode: {type: string, enum: [fast, slow], default: fast}
"#;

const NON_STRUCTURAL: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            properties:
              size: {type: integer}
"#;

fn crontab(name: &str, spec: &str) -> String {
    format!("apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: {name}\nspec:\n{spec}\n")
}

#[test]
fn schemas_validate_default_and_prune_custom_objects() {
    let server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server");
    let k32 = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let k37 = Kubectl::v1_37(server.kubeconfig()).unwrap();

    let refused = k32.fails_with_input(&["create", "-f", "-"], Some(NON_STRUCTURAL)).unwrap();
    assert!(
        refused.contains(
            r#"The CustomResourceDefinition "widgets.example.com" is invalid: spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"#
        ),
        "{refused}"
    );

    k32.ok_with_input(&["create", "-f", "-"], Some(CRD)).unwrap();
    let out = k32.ok(&["wait", "--for", "condition=established", "crd/crontabs.stable.example.com"]).unwrap();
    assert!(out.contains("condition met"), "{out}");

    for (i, k) in [&k32, &k37].into_iter().enumerate() {
        let name = |n: &str| format!("{n}-{i}");
        // A wrong type, with upstream's message.
        let wrong = crontab(&name("wrong"), "  cronSpec: '* * * * *'\n  replicas: three");
        let err = k.fails_with_input(&["create", "-f", "-"], Some(&wrong)).unwrap();
        assert!(
            err.contains(&format!(
                r#"The CronTab "{}" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
                name("wrong")
            )),
            "{err}"
        );
        // Enum, minimum and required.
        let bad = crontab(&name("bad"), "  replicas: 0\n  mode: medium");
        let err = k.fails_with_input(&["create", "-f", "-"], Some(&bad)).unwrap();
        for want in [
            "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
            r#"spec.mode: Unsupported value: "medium": supported values: "fast", "slow""#,
            "spec.cronSpec: Required value",
        ] {
            assert!(err.contains(want), "missing {want}: {err}");
        }
        // Defaults are applied and visible.
        k.ok_with_input(&["create", "-f", "-"], Some(&crontab(&name("defaulted"), "  cronSpec: '* * * * *'"))).unwrap();
        let yaml = k.ok(&["get", "ct", &name("defaulted"), "-o", "yaml"]).unwrap();
        assert!(yaml.contains("replicas: 1") && yaml.contains("mode: fast"), "{yaml}");
        // An unknown field: rejected under kubectl's default (Strict) validation ...
        let unknown = crontab(&name("unknown"), "  cronSpec: '* * * * *'\n  foo: bar");
        let err = k.fails_with_input(&["create", "-f", "-"], Some(&unknown)).unwrap();
        assert!(
            err.contains(r#"CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.foo""#),
            "{err}"
        );
        // ... pruned when validation is off.
        k.ok_with_input(&["create", "--validate=false", "-f", "-"], Some(&unknown)).unwrap();
        let yaml = k.ok(&["get", "ct", &name("unknown"), "-o", "yaml"]).unwrap();
        assert!(!yaml.contains("foo") && yaml.contains("cronSpec"), "{yaml}");
        // A patch is validated too.
        let err = k.fails(&["patch", "ct", &name("defaulted"), "--type=merge", "-p", r#"{"spec":{"replicas":11}}"#]);
        let err = err.unwrap();
        assert!(err.contains("spec.replicas in body should be less than or equal to 10"), "{err}");
    }
}
