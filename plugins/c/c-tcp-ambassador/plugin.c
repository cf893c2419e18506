/* c-tcp-ambassador: a kubectl-pattern plugin written in C.
 *
 * The app talks to a remote TCP service (a database, a cache, a legacy backend) through
 * 127.0.0.1:listenPort; a socat sidecar (the ambassador) forwards every connection to the real
 * target. Moving the service, or putting TLS or a proxy in between later, changes the
 * ambassador, not the app. The main container gets the local address in an env var.
 *
 * Built into a WebAssembly component by ../build.sh: wit-bindgen generates the C bindings of
 * the world `pattern-plugin` (wit/plugin.wit), clang-19 compiles for wasm32-wasi, and
 * wasm-tools makes the core module a component. It imports no WASI: only malloc and string
 * functions of wasi-libc are linked (no stdio: printf would import WASI streams; text is built
 * with kp_buf). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_json.h"
#include "pattern_plugin.h"

#define VERSION "0.1.0"
#define DEFAULT_IMAGE "alpine/socat:1.8.0.3"

typedef exports_kubectl_pattern_plugin_pattern_pattern_info_t pattern_info_t;
typedef exports_kubectl_pattern_plugin_pattern_render_request_t render_request_t;
typedef exports_kubectl_pattern_plugin_pattern_contribution_t contribution_t;
typedef exports_kubectl_pattern_plugin_pattern_render_error_t render_error_t;
typedef kubectl_pattern_plugin_types_param_spec_t param_spec_t;

/* ---- describe --------------------------------------------------------------------------- */

static void dup(pattern_plugin_string_t *out, const char *text) { pattern_plugin_string_dup(out, text); }

static void some(pattern_plugin_option_string_t *out, const char *text) {
    out->is_some = true;
    dup(&out->val, text);
}

/* One parameter; `default_json` and `pattern` may be NULL. */
static void param(param_spec_t *p, const char *name, kubectl_pattern_plugin_types_param_type_t kind,
                  const char *description, const char *default_json, const char *pattern) {
    memset(p, 0, sizeof *p);
    dup(&p->name, name);
    p->kind = kind;
    dup(&p->description, description);
    if (default_json) {
        some(&p->default_json, default_json);
    }
    p->required = default_json == NULL;
    if (pattern) {
        some(&p->pattern, pattern);
    }
}

enum { PARAM_COUNT = 7 };

void exports_kubectl_pattern_plugin_pattern_describe(pattern_info_t *ret) {
    memset(ret, 0, sizeof *ret);
    dup(&ret->id, "c-tcp-ambassador");
    ret->kind = KUBECTL_PATTERN_PLUGIN_TYPES_PATTERN_KIND_AMBASSADOR;
    dup(&ret->version, VERSION);
    dup(&ret->summary, "Reach a remote TCP service through a local socat ambassador");
    dup(&ret->docs.description,
        "A socat sidecar listens on 127.0.0.1:listenPort inside the pod and forwards every\n"
        "connection to target (host:port). The main container connects to the local address,\n"
        "which it finds in the env var envName: where the service lives is the ambassador's\n"
        "business, so moving it, or adding TLS or a proxy later, does not touch the app.\n"
        "\n"
        "The sidecar runs hardened (non-root, read-only root filesystem, no privilege\n"
        "escalation, no capabilities, RuntimeDefault seccomp) and listens on loopback only.\n"
        "\n"
        "An example plugin: it is written in C and built into a WebAssembly component with\n"
        "clang, wit-bindgen and wasm-tools (see docs/plugins.md).");
    dup(&ret->docs.use_when,
        "- The app reaches a TCP service whose address differs per environment, or will move.\n"
        "- You want one place to add TLS, retries or a proxy later without changing the app.");
    dup(&ret->docs.avoid_when,
        "- A Service or ExternalName already gives the target a stable name: use it directly.\n"
        "- The protocol needs TLS to the target: use tls-proxy, which terminates and verifies it.");
    dup(&ret->docs.diagram,
        "+---------------------------- Pod ----------------------------+\n"
        "|  +----------------+  127.0.0.1:listenPort  +-------------+   |\n"
        "|  | main container |----------------------->|    socat    |---+--> target host:port\n"
        "|  +----------------+                        +-------------+   |\n"
        "+-------------------------------------------------------------+");

    param_spec_t *params = calloc(PARAM_COUNT, sizeof *params);
    if (!params) {
        abort();
    }
    param(&params[0], "target", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_STRING,
          "The remote service, host:port (a DNS name or IPv4 address).", NULL,
          "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$");
    param(&params[1], "listenPort", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_PORT,
          "The local port the app connects to (127.0.0.1 only).", "15432", NULL);
    param(&params[2], "envName", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_STRING,
          "The env var of the main container that gets host:port of the ambassador.", "\"TARGET_ADDR\"",
          "^[A-Z_][A-Z0-9_]*$");
    param(&params[3], "image", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_IMAGE, "socat image, pinned.",
          "\"" DEFAULT_IMAGE "\"", NULL);
    param(&params[4], "cpuRequest", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_QUANTITY,
          "CPU request of the sidecar.", "\"10m\"", NULL);
    param(&params[5], "memoryRequest", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_QUANTITY,
          "Memory request of the sidecar.", "\"8Mi\"", NULL);
    param(&params[6], "memoryLimit", KUBECTL_PATTERN_PLUGIN_TYPES_PARAM_TYPE_QUANTITY,
          "Memory limit of the sidecar.", "\"32Mi\"", NULL);
    ret->params.ptr = params;
    ret->params.len = PARAM_COUNT;

    kubectl_pattern_plugin_types_param_example_t *examples = calloc(1, sizeof *examples);
    if (!examples) {
        abort();
    }
    dup(&examples[0].name, "target");
    dup(&examples[0].value_json, "\"postgres.db.svc.cluster.local:5432\"");
    ret->examples.ptr = examples;
    ret->examples.len = 1;
}

/* ---- render ----------------------------------------------------------------------------- */

static void log_msg(kubectl_pattern_plugin_host_log_level_t level, const char *text) {
    pattern_plugin_string_t message;
    pattern_plugin_string_set(&message, text);
    kubectl_pattern_plugin_host_log(level, &message);
}

static bool fail(render_error_t *err, uint8_t tag, const char *message) {
    err->tag = tag;
    /* every case of render-error carries a string at the same place */
    dup(&err->val.invalid_params, message);
    return false;
}

/* The port of `host:port`, or 0 when it is not 1-65535. */
static long target_port(const char *target) {
    const char *colon = strrchr(target, ':');
    if (!colon || colon == target || colon[1] == '\0') {
        return 0;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    return (*end == '\0' && port >= 1 && port <= 65535) ? port : 0;
}

typedef struct {
    char *target, *env_name, *image, *cpu_request, *memory_request, *memory_limit;
    int64_t listen_port;
} params_t;

static void params_free(params_t *p) {
    free(p->target);
    free(p->env_name);
    free(p->image);
    free(p->cpu_request);
    free(p->memory_request);
    free(p->memory_limit);
}

static bool read_params(const pattern_plugin_string_t *json, params_t *p) {
    const char *text = (const char *)json->ptr;
    size_t len = json->len;
    return kp_get_string(text, len, "target", &p->target) && kp_get_string(text, len, "envName", &p->env_name) &&
           kp_get_string(text, len, "image", &p->image) &&
           kp_get_string(text, len, "cpuRequest", &p->cpu_request) &&
           kp_get_string(text, len, "memoryRequest", &p->memory_request) &&
           kp_get_string(text, len, "memoryLimit", &p->memory_limit) &&
           kp_get_int(text, len, "listenPort", &p->listen_port);
}

static void put_s(kp_buf *b, const char *text) { kp_put_str(b, text, strlen(text)); }

static void sidecar_json(kp_buf *b, const char *instance, size_t instance_len, const params_t *p) {
    kp_put(b, "{\"name\":");
    kp_put_str(b, instance, instance_len);
    kp_put(b, ",\"image\":");
    put_s(b, p->image);
    /* socat's addresses: listen on loopback only, one child per connection */
    kp_put(b, ",\"args\":[\"-d\",\"TCP-LISTEN:");
    kp_put_int(b, p->listen_port);
    kp_put(b, ",bind=127.0.0.1,fork,reuseaddr\",");
    kp_buf connect = {0};
    kp_put(&connect, "TCP:");
    kp_put(&connect, p->target);
    kp_put_str(b, connect.data ? connect.data : "", connect.len);
    b->failed |= connect.failed;
    kp_buf_free(&connect);
    kp_put(b, "],\"resources\":{\"requests\":{\"cpu\":");
    put_s(b, p->cpu_request);
    kp_put(b, ",\"memory\":");
    put_s(b, p->memory_request);
    kp_put(b, "},\"limits\":{\"memory\":");
    put_s(b, p->memory_limit);
    kp_put(b, "}},\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":65534,\"runAsGroup\":65534,"
              "\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,\"privileged\":false,"
              "\"capabilities\":{\"drop\":[\"ALL\"]},\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}}");
}

bool exports_kubectl_pattern_plugin_pattern_render(render_request_t *request, contribution_t *ret,
                                                   render_error_t *err) {
    params_t p = {0};
    bool ok = false;
    kp_buf sidecar = {0}, env = {0};
    memset(ret, 0, sizeof *ret);
    if (!read_params(&request->params_json, &p)) {
        fail(err, KUBECTL_PATTERN_PLUGIN_TYPES_RENDER_ERROR_FAILED,
             "c-tcp-ambassador: the host passed parameters without target, listenPort, envName, image or resources");
        goto done;
    }
    if (target_port(p.target) == 0) {
        kp_buf message = {0};
        kp_put(&message, "target ");
        kp_put(&message, p.target);
        kp_put(&message, " has no port in 1-65535: give host:port, e.g. --set target=postgres.db:5432");
        fail(err, KUBECTL_PATTERN_PLUGIN_TYPES_RENDER_ERROR_INVALID_PARAMS,
             message.failed ? "target has no port in 1-65535" : message.data);
        kp_buf_free(&message);
        goto done;
    }

    sidecar_json(&sidecar, (const char *)request->instance.ptr, request->instance.len, &p);
    kp_put(&env, "{\"name\":");
    put_s(&env, p.env_name);
    kp_put(&env, ",\"value\":\"127.0.0.1:");
    kp_put_int(&env, p.listen_port);
    kp_put(&env, "\"}");
    if (sidecar.failed || env.failed) {
        fail(err, KUBECTL_PATTERN_PLUGIN_TYPES_RENDER_ERROR_FAILED, "c-tcp-ambassador: out of memory");
        goto done;
    }

    ret->containers.ptr = calloc(1, sizeof *ret->containers.ptr);
    ret->env.ptr = calloc(1, sizeof *ret->env.ptr);
    if (!ret->containers.ptr || !ret->env.ptr) {
        abort();
    }
    ret->containers.ptr[0].ptr = (uint8_t *)sidecar.data; /* ownership moves to the result */
    ret->containers.ptr[0].len = sidecar.len;
    ret->containers.len = 1;
    sidecar = (kp_buf){0};
    ret->env.ptr[0].target.tag = KUBECTL_PATTERN_PLUGIN_TYPES_CONTAINER_TARGET_MAIN;
    ret->env.ptr[0].env_var_json.ptr = (uint8_t *)env.data;
    ret->env.ptr[0].env_var_json.len = env.len;
    ret->env.len = 1;
    env = (kp_buf){0};

    kp_buf line = {0};
    kp_put(&line, "forwarding 127.0.0.1:");
    kp_put_int(&line, p.listen_port);
    kp_put(&line, " to ");
    kp_put(&line, p.target);
    if (!line.failed) {
        log_msg(KUBECTL_PATTERN_PLUGIN_TYPES_LOG_LEVEL_INFO, line.data);
    }
    kp_buf_free(&line);
    ok = true;
done:
    kp_buf_free(&sidecar);
    kp_buf_free(&env);
    params_free(&p);
    exports_kubectl_pattern_plugin_pattern_render_request_free(request);
    return ok;
}
