#include <stddef.h>

static int count(const char *s, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++) if (s[i] == ' ') n++;
    return n;
}
