// The system zlib (Debian: zlib1g-dev), for reading and writing XLSX (ZIP) files.
#ifndef GRIDWORK_CZLIB_SHIM_H
#define GRIDWORK_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 and deflateInit2 are macros, which Swift cannot call; these wrap them.
// A window of -15 means raw deflate (no zlib header), as ZIP stores it.
static inline int czlib_inflate_init_raw(z_streamp stream) {
    return inflateInit2(stream, -15);
}

static inline int czlib_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

#endif
