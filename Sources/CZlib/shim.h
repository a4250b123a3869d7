// zlib for GraphData, which reads gzip-compressed edge lists and label files as a stream
// (Debian: zlib1g-dev, installed by scripts/setup.sh). inflateInit2 is a macro (it passes the
// library version and the stream's size), which Swift cannot import: the inline function does.
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

/// Prepares `stream` to inflate gzip data (a gzip header and trailer, not raw or zlib data).
static inline int czlib_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 16 + MAX_WBITS); }

/// Prepares `stream` to deflate into gzip data at `level` (0-9), as `gzip -LEVEL` writes it
/// (the tests write gzip inputs with it).
static inline int czlib_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}
#endif
