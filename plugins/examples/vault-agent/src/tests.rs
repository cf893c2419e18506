//! Unit tests of the render logic, on the host target.

use super::*;

fn deployment(annotations: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "billing"},
        "spec": {"template": {"metadata": {"annotations": annotations},
            "spec": {"serviceAccountName": "billing",
                     "containers": [{"name": "app", "image": "billing:2"}]}}}})
}

fn render(wl: Value, params: Value) -> Result<Contribution, RenderError> {
    let mut map: Map<String, Value> = VaultAgent::describe()
        .params
        .into_iter()
        .filter_map(|p| Some((p.name, p.default?)))
        .collect();
    map.insert("address".into(), json!("https://vault.vault.svc:8200"));
    map.insert("role".into(), json!("billing"));
    if let Value::Object(extra) = params {
        map.extend(extra);
    }
    VaultAgent::render_json(Request::new(wl, map).with_instance("vault"))
}

fn config_of(container: &Value) -> Value {
    let env = container["env"].as_array().cloned().unwrap_or_default();
    let text = env[0]["value"].as_str().expect("VAULT_AGENT_CONFIG");
    serde_json::from_str(text).expect("JSON")
}

#[test]
fn init_and_sidecar_share_an_in_memory_volume() {
    let wl =
        deployment(json!({"vault-agent.kubectl-pattern.io/secret-db": "database/creds/billing"}));
    let c = render(wl, json!({})).expect("renders");
    assert_eq!(c.init_containers.len(), 1);
    assert_eq!(c.containers.len(), 1);
    let (init, sidecar) = (&c.init_containers[0], &c.containers[0]);
    assert_eq!(init["name"], "vault-init");
    assert_eq!(sidecar["name"], "vault");
    assert_eq!(config_of(init)["exit_after_auth"], true);
    assert_eq!(config_of(sidecar)["exit_after_auth"], false);
    let cfg = config_of(sidecar);
    assert_eq!(cfg["auto_auth"]["method"]["config"]["role"], "billing");
    assert_eq!(cfg["template"][0]["destination"], "/vault/secrets/db");
    assert_eq!(cfg["vault"]["address"], "https://vault.vault.svc:8200");
    assert_eq!(init["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        init["volumeMounts"][1],
        json!({"name": "vault-secrets", "mountPath": "/vault/secrets"})
    );

    let secrets = c
        .volumes
        .iter()
        .find(|v| v["name"] == "vault-secrets")
        .expect("secrets volume");
    assert_eq!(secrets["emptyDir"]["medium"], "Memory");
    let token = c
        .volumes
        .iter()
        .find(|v| v["name"] == "vault-token")
        .expect("token volume");
    assert_eq!(
        token["projected"]["sources"][0]["serviceAccountToken"]["path"],
        "token"
    );
    assert_eq!(c.mounts.len(), 1);
    assert_eq!(c.mounts[0].target, ContainerTarget::Main);
    assert_eq!(c.mounts[0].json["readOnly"], true);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn init_only_and_options() {
    let wl =
        deployment(json!({"vault-agent.kubectl-pattern.io/secret-app.json": "kv/data/billing"}));
    let c = render(
        wl,
        json!({"refresh": false, "vaultNamespace": "team-a", "tokenAudience": "vault", "secretsDir": "/secrets"}),
    )
    .expect("renders");
    assert!(c.containers.is_empty());
    assert!(c.warnings.iter().any(|w| w.contains("refresh=false")));
    let init = &c.init_containers[0];
    assert!(
        init["env"]
            .as_array()
            .is_some_and(|e| e.iter().any(|v| v["name"] == "VAULT_NAMESPACE"))
    );
    assert_eq!(
        config_of(init)["template"][0]["destination"],
        "/secrets/app.json"
    );
    assert_eq!(c.mounts[0].json["mountPath"], "/secrets");
    let token = c
        .volumes
        .iter()
        .find(|v| v["name"] == "vault-token")
        .expect("token volume");
    assert_eq!(
        token["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        "vault"
    );
}

#[test]
fn no_secret_annotation_declines() {
    let err = render(deployment(json!({})), json!({})).expect_err("nothing to render");
    assert!(matches!(err, RenderError::NotApplicable(m) if m.contains(SECRET_PREFIX)));
}

#[test]
fn default_service_account_warns_and_clashes_are_refused() {
    let mut wl =
        deployment(json!({"vault-agent.kubectl-pattern.io/secret-db": "database/creds/x"}));
    wl["spec"]["template"]["spec"]["serviceAccountName"] = Value::Null;
    let c = render(wl.clone(), json!({})).expect("renders");
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("service account default"))
    );

    wl["spec"]["template"]["spec"]["volumes"] = json!([{"name": "vault-config", "emptyDir": {}}]);
    assert!(matches!(
        render(wl.clone(), json!({})),
        Err(RenderError::InvalidParams(_))
    ));
    wl["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "x", "mountPath": "/vault/secrets"}]);
    let err = render(wl, json!({"address": "https://v:8200"})).expect_err("mount clash");
    assert!(matches!(err, RenderError::InvalidParams(m) if m.contains("secretsDir")));
    assert!(agent::TEMPLATE_PREFIX.ends_with("template-"));
}
