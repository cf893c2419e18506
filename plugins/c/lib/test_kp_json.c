/* Unit tests of kp_json, run natively by build.sh before any plugin is built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_json.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);                    \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void check_string(const char *json, const char *key, const char *want) {
    char *got = NULL;
    bool found = kp_get_string(json, strlen(json), key, &got);
    if (!want) {
        CHECK(!found);
    } else {
        CHECK(found && strcmp(got, want) == 0);
    }
    free(got);
}

int main(void) {
    const char *params = "{ \"n\": 12, \"nested\": {\"s\": \"no\", \"a\": [1, {\"s\": \"no\"}]},"
                         " \"s\": \"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\", \"neg\": -7, \"f\": 1.5,"
                         " \"t\": true, \"empty\": \"\" }";
    check_string(params, "s", "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
    check_string(params, "empty", "");
    check_string(params, "n", NULL);      /* not a string */
    check_string(params, "missing", NULL);
    check_string("[\"s\"]", "s", NULL);   /* not an object */
    check_string("{\"s\": \"open", "s", NULL);
    check_string("{\"a\": [1, 2", "s", NULL);

    int64_t n = 0;
    CHECK(kp_get_int(params, strlen(params), "n", &n) && n == 12);
    CHECK(kp_get_int(params, strlen(params), "neg", &n) && n == -7);
    CHECK(!kp_get_int(params, strlen(params), "f", &n));
    CHECK(!kp_get_int(params, strlen(params), "t", &n));
    CHECK(!kp_get_int("{\"big\": 99999999999999999999}", 29, "big", &n));

    kp_buf b = {0};
    kp_put(&b, "{");
    kp_put_str(&b, "q\"\\\x01", 4);
    kp_put(&b, ":");
    kp_put_int(&b, -9223372036854775807LL - 1);
    kp_put(&b, ",");
    kp_put_int(&b, 0);
    kp_put(&b, "}");
    CHECK(!b.failed && strcmp(b.data, "{\"q\\\"\\\\\\u0001\":-9223372036854775808,0}") == 0);
    kp_buf_free(&b);

    if (failures) {
        fprintf(stderr, "kp_json: %d check(s) failed\n", failures);
        return 1;
    }
    fprintf(stderr, "kp_json: all checks passed\n");
    return 0;
}
