"""Unit tests of the plugin's logic, on plain CPython >= 3.11 against the generated bindings
(./build.sh runs them before it builds the component)."""

import json
import unittest
from unittest import mock

import app
from wit_world.imports import types


def request(**params):
    defaults = {p.name: json.loads(p.default_json) for p in app.INFO.params if p.default_json}
    return types.RenderRequest(
        workload_json=json.dumps({"kind": "Deployment", "metadata": {"name": "web"}}),
        params_json=json.dumps({**defaults, **params}),
        instance="{{name}}",
        main_container="app",
        target=types.TargetInfo(kube_version=None, sidecar_mode=types.SidecarMode.NATIVE),
    )


class RenderTest(unittest.TestCase):
    def test_adds_a_sidecar_and_a_read_only_mount(self):
        with mock.patch.object(app.host, "log"):
            c = app.Pattern().render(request(sharedDir="/greeting"))
        helper = json.loads(c.containers[0])
        self.assertEqual(helper["name"], "{{name}}")
        self.assertEqual(helper["env"][1], {"name": "APP", "value": "app"})
        mount = json.loads(c.mounts[0].volume_mount_json)
        self.assertEqual(mount, {"name": "{{name}}-shared", "mountPath": "/greeting", "readOnly": True})


if __name__ == "__main__":
    unittest.main()
