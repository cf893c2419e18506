/* kp_json: see kp_json.h. */
#include "kp_json.h"

#include <stdlib.h>
#include <string.h>

/* ---- writing ---------------------------------------------------------------------------- */

static bool reserve(kp_buf *b, size_t more) {
    if (b->failed) {
        return false;
    }
    if (b->len + more + 1 <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void kp_put_n(kp_buf *b, const char *text, size_t len) {
    if (!reserve(b, len)) {
        return;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void kp_put(kp_buf *b, const char *text) { kp_put_n(b, text, strlen(text)); }

/* No printf here: stdio would make the module import WASI for its streams. */
void kp_put_int(kp_buf *b, int64_t value) {
    char digits[24];
    size_t at = sizeof digits;
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[--at] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) {
        digits[--at] = '-';
    }
    kp_put_n(b, digits + at, sizeof digits - at);
}

void kp_put_str(kp_buf *b, const char *text, size_t len) {
    kp_put_n(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            kp_put_n(b, esc, 2);
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            kp_put_n(b, esc, sizeof esc);
        } else {
            kp_put_n(b, (const char *)&text[i], 1);
        }
    }
    kp_put_n(b, "\"", 1);
}

void kp_buf_free(kp_buf *b) {
    free(b->data);
    *b = (kp_buf){0};
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct {
    const char *p;
    const char *end;
} cursor;

enum { MAX_DEPTH = 64 };

static void ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        v <<= 4;
        if (h >= '0' && h <= '9') {
            v |= h - '0';
        } else if (h >= 'a' && h <= 'f') {
            v |= h - 'a' + 10;
        } else if (h >= 'A' && h <= 'F') {
            v |= h - 'A' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

static void put_utf8(kp_buf *out, uint32_t cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    kp_put_n(out, u, n);
}

/* Reads the string at the cursor; unescaped into `out` when it is not NULL. */
static bool string(cursor *c, kp_buf *out) {
    if (c->p >= c->end || *c->p != '"') {
        return false;
    }
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p != '\\') {
            if (out) {
                kp_put_n(out, c->p, 1);
            }
            c->p++;
            continue;
        }
        if (c->end - c->p < 2) {
            return false;
        }
        char e = c->p[1];
        c->p += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (simple && e != '\0') {
            static const char plain[] = "\"\\/\b\f\n\r\t";
            if (out) {
                kp_put_n(out, &plain[simple - "\"\\/bfnrt"], 1);
            }
            continue;
        }
        if (e != 'u' || c->end - c->p < 4) {
            return false;
        }
        int cp = hex4(c->p);
        c->p += 4;
        if (cp < 0) {
            return false;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
            int low = hex4(c->p + 2);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                c->p += 6;
            }
        }
        if (out) {
            put_utf8(out, (uint32_t)cp);
        }
    }
    if (c->p >= c->end) {
        return false;
    }
    c->p++;
    return true;
}

static bool value(cursor *c, int depth);

/* Skips an object or array body after its opening bracket. */
static bool container(cursor *c, char close, bool keyed, int depth) {
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return true;
    }
    for (;;) {
        ws(c);
        if (keyed) {
            if (!string(c, NULL)) {
                return false;
            }
            ws(c);
            if (c->p >= c->end || *c->p != ':') {
                return false;
            }
            c->p++;
        }
        if (!value(c, depth + 1)) {
            return false;
        }
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return true;
        }
        return false;
    }
}

static bool value(cursor *c, int depth) {
    ws(c);
    if (c->p >= c->end || depth > MAX_DEPTH) {
        return false;
    }
    switch (*c->p) {
    case '"':
        return string(c, NULL);
    case '{':
        c->p++;
        return container(c, '}', true, depth);
    case '[':
        c->p++;
        return container(c, ']', false, depth);
    default: {
        const char *start = c->p;
        while (c->p < c->end && strchr("+-.0123456789eEaflnrstu", *c->p) && *c->p != '\0') {
            c->p++;
        }
        return c->p > start;
    }
    }
}

/* Moves the cursor to the value of `key` in the top-level object. */
static bool find(const char *json, size_t len, const char *key, cursor *c) {
    *c = (cursor){json, json + len};
    ws(c);
    if (c->p >= c->end || *c->p != '{') {
        return false;
    }
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        return false;
    }
    for (;;) {
        kp_buf name = {0};
        ws(c);
        bool ok = string(c, &name);
        bool match = ok && !name.failed && name.len == strlen(key) && memcmp(name.data, key, name.len) == 0;
        kp_buf_free(&name);
        if (!ok) {
            return false;
        }
        ws(c);
        if (c->p >= c->end || *c->p != ':') {
            return false;
        }
        c->p++;
        ws(c);
        if (match) {
            return true;
        }
        if (!value(c, 1)) {
            return false;
        }
        ws(c);
        if (c->p >= c->end || *c->p != ',') {
            return false;
        }
        c->p++;
    }
}

bool kp_get_string(const char *json, size_t len, const char *key, char **out) {
    cursor c;
    if (!find(json, len, key, &c) || c.p >= c.end || *c.p != '"') {
        return false;
    }
    kp_buf text = {0};
    kp_put_n(&text, "", 0);
    if (!string(&c, &text) || text.failed) {
        kp_buf_free(&text);
        return false;
    }
    *out = text.data;
    return true;
}

bool kp_get_int(const char *json, size_t len, const char *key, int64_t *out) {
    cursor c;
    if (!find(json, len, key, &c)) {
        return false;
    }
    const char *p = c.p;
    bool negative = p < c.end && *p == '-';
    if (negative) {
        p++;
    }
    if (p >= c.end || *p < '0' || *p > '9') {
        return false;
    }
    int64_t v = 0;
    while (p < c.end && *p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - (*p - '0')) / 10) {
            return false;
        }
        v = v * 10 + (*p - '0');
        p++;
    }
    if (p < c.end && (*p == '.' || *p == 'e' || *p == 'E')) {
        return false;
    }
    *out = negative ? -v : v;
    return true;
}
