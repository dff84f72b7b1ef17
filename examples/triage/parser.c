/* A small parser of a made-up record format, with the bugs a fuzzer finds.
 * The input: a version byte, then records of [type, length, bytes...]. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct table {
    uint64_t slots[8];
    char *names[4];
};

static struct table table;

/* Type 'n': a name, copied into a fixed buffer (no length check). */
static void parse_name(const unsigned char *data, size_t len) {
    char name[16];
    memcpy(name, data, len);
    printf("name %.*s\n", (int)(len < sizeof name ? len : sizeof name), name);
}

/* Type 's': store a value at a slot index taken from the input (no bounds check). */
static void parse_slot(const unsigned char *data, size_t len) {
    if (len < 9) return;
    uint64_t index;
    memcpy(&index, data, 8);
    table.slots[index] = data[8];
}

/* Type 'l': look up a name by index; unset names are NULL. */
static size_t parse_lookup(const unsigned char *data, size_t len) {
    if (len < 1) return 0;
    return strlen(table.names[data[0] & 3]);
}

/* Type 'a': an average over a count taken from the input. */
static int parse_average(const unsigned char *data, size_t len) {
    int sum = 0;
    for (size_t i = 1; i < len; i++) sum += data[i];
    return sum / data[0];
}

/* Type 'b': a temporary buffer, freed on error, and again at the end. */
static void parse_blob(const unsigned char *data, size_t len) {
    char *copy = malloc(len + 1);
    memcpy(copy, data, len);
    if (len > 0 && data[0] == 0xff) free(copy); /* the error path */
    free(copy);
}

static void parse(const unsigned char *data, size_t size) {
    assert(size > 0 && data[0] <= 2 && "unsupported version");
    size_t at = 1;
    while (at + 2 <= size) {
        unsigned char type = data[at], len = data[at + 1];
        const unsigned char *body = data + at + 2;
        if (at + 2 + len > size) len = (unsigned char)(size - at - 2);
        switch (type) {
        case 'n': parse_name(body, len); break;
        case 's': parse_slot(body, len); break;
        case 'l': printf("%zu\n", parse_lookup(body, len)); break;
        case 'a': printf("%d\n", parse_average(body, len)); break;
        case 'b': parse_blob(body, len); break;
        default: break;
        }
        at += 2 + len;
    }
}

int main(int argc, char **argv) {
    static unsigned char buf[65536];
    table.names[0] = "zero";
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (!f) return 2;
    size_t n = fread(buf, 1, sizeof buf, f);
    parse(buf, n);
    return 0;
}
