//! CEL rules of CRD schemas (`x-kubernetes-validations`), driven by real
//! kubectl 1.32 and 1.37 with their default validation on: a rule's
//! `message`, a `messageExpression`, a transition rule (`self == oldSelf`)
//! refusing a change, a valid object accepted, and CRDs refused at creation
//! for a rule that does not compile, one over the cost limits, one selecting
//! an undeclared field and one not giving a bool.

use kubeplex_testing::{Kubectl, KubeplexServer};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: scalers.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: scalers, singular: scaler, kind: Scaler}
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
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.replicas
              message: replicas must be greater than or equal to minReplicas
            - rule: self.replicas <= 50
              messageExpression: "'replicas ' + string(self.replicas) + ' exceeds 50'"
            properties:
              replicas: {type: integer}
              minReplicas: {type: integer}
              target:
                type: string
                x-kubernetes-validations:
                - rule: self == oldSelf
                  message: Value is immutable
"#;

const BROKEN: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: brokens.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: brokens, kind: Broken}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations:
        - rule: "self.spec.a <= "
"#;

/// Nested loops over an unbounded list of unbounded strings (upstream's
/// classic cost refusal); one rule selects an undeclared field, one gives a
/// string.
const COSTLY: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: costlies.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: costlies, kind: Costly}
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
            x-kubernetes-validations:
            - rule: self.nope > 1
            - rule: self.name
            properties:
              name: {type: string}
              tags:
                type: array
                items: {type: string}
                x-kubernetes-validations:
                - rule: self.all(x, self.exists(y, x == y))
"#;

fn scaler(name: &str, replicas: i64, min: i64, target: &str) -> String {
    format!(
        "apiVersion: cel.example.com/v1\nkind: Scaler\nmetadata:\n  name: {name}\n\
         spec:\n  replicas: {replicas}\n  minReplicas: {min}\n  target: {target}\n"
    )
}

#[test]
fn cel_rules_validate_custom_objects() {
    let server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server");
    let k32 = Kubectl::v1_32(server.kubeconfig()).unwrap();
    let k37 = Kubectl::v1_37(server.kubeconfig()).unwrap();

    let refused = k32.fails_with_input(&["create", "-f", "-"], Some(BROKEN)).unwrap();
    assert!(
        refused.contains(
            r#"The CustomResourceDefinition "brokens.cel.example.com" is invalid: spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule: Invalid value: {"Rule":"self.spec.a \u003c= ","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: "#
        ),
        "{refused}"
    );

    let refused = k32.fails_with_input(&["create", "-f", "-"], Some(COSTLY)).unwrap();
    let at = "spec.versions[0].schema.openAPIV3Schema";
    for expected in [
        r#"The CustomResourceDefinition "costlies.cel.example.com" is invalid: "#.to_owned(),
        format!(
            "{at}.properties[spec].properties[tags].x-kubernetes-validations[0].rule: Forbidden: estimated rule \
             cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, \
             maxProperties, and maxLength where arrays, maps, and strings are declared)"
        ),
        format!(
            "{at}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema \
             exceeds budget by factor of more than 100x"
        ),
        format!(
            r#"{at}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {{"Rule":"self.nope \u003e 1","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}}: compilation failed: ERROR: <input>:1:5: undefined field 'nope'"#
        ),
        format!(
            "{at}.properties[spec].x-kubernetes-validations[1].rule: Invalid value: {{\"Rule\":\"self.name\",\
             \"Message\":\"\",\"MessageExpression\":\"\",\"Reason\":null,\"FieldPath\":\"\",\
             \"OptionalOldSelf\":null}}: cel expression must evaluate to a bool"
        ),
    ] {
        assert!(refused.contains(&expected), "missing {expected}\nin {refused}");
    }

    k32.ok_with_input(&["create", "-f", "-"], Some(CRD)).unwrap();
    let out = k32.ok(&["wait", "--for", "condition=established", "crd/scalers.cel.example.com"]).unwrap();
    assert!(out.contains("condition met"), "{out}");

    for (i, k) in [&k32, &k37].into_iter().enumerate() {
        let name = |n: &str| format!("{n}-{i}");
        // The first rule's message.
        let err = k.fails_with_input(&["create", "-f", "-"], Some(&scaler(&name("low"), 1, 3, "a"))).unwrap();
        assert!(
            err.contains(&format!(
                r#"The Scaler "{}" is invalid: spec: Invalid value: replicas must be greater than or equal to minReplicas"#,
                name("low")
            )),
            "{err}"
        );
        // A messageExpression.
        let err = k.fails_with_input(&["create", "-f", "-"], Some(&scaler(&name("high"), 60, 1, "a"))).unwrap();
        assert!(err.contains("spec: Invalid value: replicas 60 exceeds 50"), "{err}");
        // A valid object passes; the transition rule refuses a change of `target`
        // and lets other changes through.
        k.ok_with_input(&["create", "-f", "-"], Some(&scaler(&name("ok"), 3, 1, "a"))).unwrap();
        let err = k.fails(&["patch", "scaler", &name("ok"), "--type=merge", "-p", r#"{"spec":{"target":"b"}}"#]);
        let err = err.unwrap();
        assert!(
            err.contains(&format!(
                r#"The Scaler "{}" is invalid: spec.target: Invalid value: "b": Value is immutable"#,
                name("ok")
            )),
            "{err}"
        );
        k.ok(&["patch", "scaler", &name("ok"), "--type=merge", "-p", r#"{"spec":{"replicas":5}}"#]).unwrap();
        let yaml = k.ok(&["get", "scaler", &name("ok"), "-o", "yaml"]).unwrap();
        assert!(yaml.contains("replicas: 5") && yaml.contains("target: a"), "{yaml}");
    }
}
