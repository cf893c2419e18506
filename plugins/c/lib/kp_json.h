/* kp_json: the little JSON a C pattern plugin needs. A growable output buffer with JSON string
 * escaping, and a reader for the flat object of parameters the host passes to `render`
 * (already validated, defaults filled in). No dependencies beyond the C standard library. */
#ifndef KP_JSON_H
#define KP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable, NUL-terminated text buffer. Start with `kp_buf b = {0};`. On allocation
 * failure the buffer is marked `failed` and later writes do nothing. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} kp_buf;

void kp_put(kp_buf *b, const char *text);
void kp_put_n(kp_buf *b, const char *text, size_t len);
void kp_put_int(kp_buf *b, int64_t value);
/* Writes `text` (of `len` bytes) as a JSON string, quotes included. */
void kp_put_str(kp_buf *b, const char *text, size_t len);
void kp_buf_free(kp_buf *b);

/* Looks up `key` in the top-level JSON object `json` (of `len` bytes).
 * kp_get_string: a string value, unescaped into a fresh NUL-terminated allocation (free it).
 * kp_get_int: an integer value. Both return false when the key is missing, has another
 * type, or the text is not a JSON object. */
bool kp_get_string(const char *json, size_t len, const char *key, char **out);
bool kp_get_int(const char *json, size_t len, const char *key, int64_t *out);

#endif
