/* The {{name}} pattern plugin: a sidecar that writes a greeting into a volume the main
 * container reads. Replace the logic in `render`.
 *
 * Built into a WebAssembly component by ./build.sh: wit-bindgen writes the C bindings of the
 * world `pattern-plugin` (wit/plugin.wit) into bindings/, clang compiles for wasm32-wasi and
 * wasm-tools makes the component. Do not use stdio (printf, snprintf): it makes the module
 * import WASI, which the host does not offer. Build text with kp_buf (kp_json.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kp_json.h"
#include "pattern_plugin.h"

typedef kubectl_pattern_plugin_types_param_spec_t param_spec_t;

static void dup(pattern_plugin_string_t *out, const char *text) { pattern_plugin_string_dup(out, text); }

static void param(param_spec_t *p, const char *name, kubectl_pattern_plugin_types_param_type_t kind,
                  const char *description, const char *default_json, const char *pattern) {
    memset(p, 0, sizeof *p);
    dup(&p->name, name);
    p->kind = kind;
    dup(&p->description, description);
    p->default_json.is_some = true;
    dup(&p->default_json.val, default_json);
    if (pattern) {
        p->pattern.is_some = true;
        dup(&p->pattern.val, pattern);
    }
}

/* Everything returned is allocated: the bindings free it after the host has copied it. */
void exports_kubectl_pattern_plugin_pattern_describe(exports_kubectl_pattern_plugin_pattern_pattern_info_t *ret) {
    memset(ret, 0, sizeof *ret);
    dup(&ret->id, "{{name}}");
    ret->kind = KUBECTL_PATTERN_PLUGIN_TYPES_PATTERN_KIND_SIDECAR;
    dup(&ret->version, "0.1.0");
    dup(&ret->summary, "Write a greeting for the app into a shared volume");
    dup(&ret->docs.description, "A sidecar writes a greeting naming the app into hello.txt in an in-memory\n"
                                "volume, which the main container mounts read-only at sharedDir.");
    dup(&ret->docs.use_when, "- You are learning to write kubectl-pattern plugins.");
    dup(&ret->docs.avoid_when, "- Anything real: replace this logic with your own.");
    dup(&ret->docs.diagram, "+------------------ Pod ------------------+\n"
                            "|  main container  <-- hello.txt --  helper |\n"
                            "|         (shared in-memory emptyDir)       |\n"
                            "+-------------------------------------------+");
    param_spec_t *params = calloc(3, sizeof *params);
    if (!params) {
        abort();
    }
    param(&params[0], "image", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_IMAGE, "Helper image, pinned.",
          "\"busybox:1.37\"", NULL);
    param(&params[1], "message", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_STRING, "The greeting.", "\"hello\"", NULL);
    param(&params[2], "sharedDir", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_STRING,
          "Where the main container finds hello.txt.", "\"/shared\"", "^/[^\\s]*$");
    ret->params.ptr = params;
    ret->params.len = 3;
    /* ret->examples: example values for `explain`'s example command, one for each required
     * parameter (kubectl_pattern_plugin_types_param_example_t: name, value_json). None here. */
}

static void put_s(kp_buf *b, const char *text) { kp_put_str(b, text, strlen(text)); }

/* A string as a result field: the buffer's memory moves into it. */
static void take(pattern_plugin_string_t *out, kp_buf *b) {
    out->ptr = (uint8_t *)b->data;
    out->len = b->len;
    *b = (kp_buf){0};
}

bool exports_kubectl_pattern_plugin_pattern_render(exports_kubectl_pattern_plugin_pattern_render_request_t *request,
                                                   exports_kubectl_pattern_plugin_pattern_contribution_t *ret,
                                                   exports_kubectl_pattern_plugin_pattern_render_error_t *err) {
    const char *json = (const char *)request->params_json.ptr;
    size_t len = request->params_json.len;
    char *image = NULL, *message = NULL, *shared_dir = NULL;
    bool ok = false;
    memset(ret, 0, sizeof *ret);
    if (!kp_get_string(json, len, "image", &image) || !kp_get_string(json, len, "message", &message) ||
        !kp_get_string(json, len, "sharedDir", &shared_dir)) {
        /* render-error: invalid-params, unsupported-workload, failed, not-applicable */
        err->tag = KUBECTL_PATTERN_PLUGIN_TYPES_RENDER_ERROR_FAILED;
        dup(&err->val.failed, "{{name}}: parameters image, message and sharedDir are missing");
        goto done;
    }
    kp_buf volume = {0}, helper = {0}, vol = {0}, mount = {0};
    kp_put_n(&volume, (const char *)request->instance.ptr, request->instance.len);
    kp_put(&volume, "-shared");

    kp_put(&helper, "{\"name\":");
    kp_put_str(&helper, (const char *)request->instance.ptr, request->instance.len);
    kp_put(&helper, ",\"image\":");
    put_s(&helper, image);
    kp_put(&helper, ",\"command\":[\"/bin/sh\",\"-c\"],\"args\":[\"echo \\\"$MESSAGE, $APP\\\" > /out/hello.txt"
                    " && while true; do sleep 3600; done\"],\"env\":[{\"name\":\"MESSAGE\",\"value\":");
    put_s(&helper, message);
    kp_put(&helper, "},{\"name\":\"APP\",\"value\":");
    kp_put_str(&helper, (const char *)request->main_container.ptr, request->main_container.len);
    kp_put(&helper, "}],\"resources\":{\"requests\":{\"cpu\":\"5m\",\"memory\":\"8Mi\"},"
                    "\"limits\":{\"cpu\":\"50m\",\"memory\":\"32Mi\"}},"
                    "\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":65534,\"readOnlyRootFilesystem\":true,"
                    "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]},"
                    "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"volumeMounts\":[{\"name\":");
    put_s(&helper, volume.data ? volume.data : "");
    kp_put(&helper, ",\"mountPath\":\"/out\"}]}");

    kp_put(&vol, "{\"name\":");
    put_s(&vol, volume.data ? volume.data : "");
    kp_put(&vol, ",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"1Mi\"}}");

    kp_put(&mount, "{\"name\":");
    put_s(&mount, volume.data ? volume.data : "");
    kp_put(&mount, ",\"mountPath\":");
    put_s(&mount, shared_dir);
    kp_put(&mount, ",\"readOnly\":true}");

    if (volume.failed || helper.failed || vol.failed || mount.failed) {
        abort(); /* out of memory */
    }
    ret->containers.ptr = calloc(1, sizeof *ret->containers.ptr);
    ret->volumes.ptr = calloc(1, sizeof *ret->volumes.ptr);
    ret->mounts.ptr = calloc(1, sizeof *ret->mounts.ptr);
    if (!ret->containers.ptr || !ret->volumes.ptr || !ret->mounts.ptr) {
        abort();
    }
    take(&ret->containers.ptr[0], &helper);
    ret->containers.len = 1;
    take(&ret->volumes.ptr[0], &vol);
    ret->volumes.len = 1;
    ret->mounts.ptr[0].target.tag = KUBECTL_PATTERN_PLUGIN_TYPES_CONTAINER_TARGET_MAIN;
    take(&ret->mounts.ptr[0].volume_mount_json, &mount);
    ret->mounts.len = 1;
    kp_buf_free(&volume);

    pattern_plugin_string_t line;
    pattern_plugin_string_set(&line, "greeting the main container");
    kubectl_pattern_plugin_host_log(KUBECTL_PATTERN_PLUGIN_TYPES_LOG_LEVEL_DEBUG, &line);
    ok = true;
done:
    free(image);
    free(message);
    free(shared_dir);
    /* The arguments belong to the export: free them. */
    exports_kubectl_pattern_plugin_pattern_render_request_free(request);
    return ok;
}
