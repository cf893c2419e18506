"""Unit tests of app.py in plain CPython, against the bindings build.sh generates.

    plugins/python/build.sh   # runs them before building the component
"""

import json
import re
import unittest

import app
from componentize_py_types import Err
from wit_world.imports import types

LOGS = []
app.host.log = lambda level, message: LOGS.append((level, message))

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27.3"}]}}},
}


def defaults():
    return {p.name: json.loads(p.default_json) for p in app.Pattern().describe().params}


def request(params=None, workload=None, mode=types.SidecarMode.NATIVE):
    return types.RenderRequest(
        workload_json=json.dumps(workload or DEPLOYMENT),
        params_json=json.dumps({**defaults(), **(params or {})}),
        instance="logs",
        main_container="web",
        target=types.TargetInfo(kube_version=types.KubeVersion(major=1, minor=37),
                                sidecar_mode=mode),
    )


def render_error(req):
    try:
        app.Pattern().render(req)
    except Err as err:
        return err.value
    raise AssertionError("render succeeded")


class DescribeTest(unittest.TestCase):
    def test_info(self):
        info = app.Pattern().describe()
        self.assertRegex(info.id, r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
        self.assertEqual(info.kind, types.PatternKind.SIDECAR)
        for text in (info.docs.description, info.docs.use_when, info.docs.avoid_when,
                     info.docs.diagram):
            self.assertTrue(text.strip())
        names = [p.name for p in info.params]
        self.assertEqual(len(names), len(set(names)))
        for p in info.params:
            self.assertRegex(p.name, r"^[a-z][A-Za-z0-9]*$")
            self.assertTrue(p.required or p.default_json is not None, p.name)
            default = json.loads(p.default_json)
            if p.pattern and p.kind == types.ParamType.LIST:
                for item in default:
                    self.assertRegex(item, p.pattern)
            elif p.pattern:
                self.assertRegex(default, p.pattern)


class RenderTest(unittest.TestCase):
    def test_default(self):
        out = app.Pattern().render(request())
        self.assertEqual(len(out.containers), 1)
        sidecar = json.loads(out.containers[0])
        self.assertEqual(sidecar["name"], "logs")
        self.assertRegex(sidecar["image"], r":[0-9]")
        self.assertEqual(sidecar["command"], ["tail", "-n", "10", "-F", "/var/log/app/app.log"])
        self.assertEqual(set(sidecar["resources"]), {"requests", "limits"})
        sc = sidecar["securityContext"]
        self.assertTrue(sc["runAsNonRoot"])
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertEqual([json.loads(v) for v in out.volumes],
                         [{"name": "logs-logs", "emptyDir": {"sizeLimit": "256Mi"}}])
        self.assertEqual(len(out.mounts), 1)
        self.assertIsInstance(out.mounts[0].target, types.ContainerTarget_Main)
        self.assertEqual(json.loads(out.mounts[0].volume_mount_json),
                         {"name": "logs-logs", "mountPath": "/var/log/app"})
        self.assertEqual(out.warnings, [])

    def test_files_and_trailing_slash(self):
        out = app.Pattern().render(request({"logDir": "/logs/", "files": ["a.log", "b.log"]}))
        self.assertEqual(json.loads(out.containers[0])["command"][-2:],
                         ["/logs/a.log", "/logs/b.log"])

    def test_invalid_params(self):
        self.assertIsInstance(render_error(request({"logDir": "/etc"})),
                              types.RenderError_InvalidParams)
        self.assertIsInstance(render_error(request({"files": ["a", "a"]})),
                              types.RenderError_InvalidParams)

    def test_job_needs_native_sidecars(self):
        job = {**DEPLOYMENT, "kind": "Job"}
        error = render_error(request(workload=job, mode=types.SidecarMode.CLASSIC))
        self.assertIsInstance(error, types.RenderError_UnsupportedWorkload)
        app.Pattern().render(request(workload=job))

    def test_mount_conflict(self):
        pod = {"kind": "Pod", "spec": {"containers": [
            {"name": "web", "volumeMounts": [{"name": "x", "mountPath": "/var/log/app/"}]}]}}
        error = render_error(request(workload=pod))
        self.assertIsInstance(error, types.RenderError_UnsupportedWorkload)
        self.assertTrue(re.search("already mounts volume x", error.value))

    def test_reapplying_the_same_instance(self):
        pod = {"kind": "Pod", "spec": {"containers": [
            {"name": "web", "volumeMounts": [{"name": "logs-logs", "mountPath": "/var/log/app"}]}]}}
        app.Pattern().render(request(workload=pod))

    def test_unexpected_error_is_typed(self):
        req = request()
        req.params_json = "{}"
        error = render_error(req)
        self.assertIsInstance(error, types.RenderError_Failed)
        self.assertIn("KeyError", error.value)


if __name__ == "__main__":
    unittest.main()
