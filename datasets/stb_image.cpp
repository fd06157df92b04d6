// The one translation unit that compiles stb_image. PNG only: Debian's stb_image 2.27 has known
// overflow bugs in its other decoders, and PNG is the only format the image folder reads.
// STBI_MAX_DIMENSIONS is a last line of defence; load_image_folder applies its own, smaller
// max_side before anything is decoded.
#include <cstddef>
#include <cstdlib>

namespace {
// stb_image's inflate doubles its output buffer for as long as the deflate data goes on, up to
// 4 GB, whatever the image's size: a few hundred kilobytes of IDAT would ask for that much. No
// allocation may exceed what the largest image admitted needs (8192 x 8192 RGBA and a filter byte
// per row); beyond, stb_image fails with "outofmem".
constexpr std::size_t kMaxAllocation = std::size_t{8192} * (8192 * 4 + 1);
void* capped_realloc(void* p, std::size_t n) { return n > kMaxAllocation ? nullptr : std::realloc(p, n); }
}  // namespace

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS (1 << 13)
#define STBI_MALLOC(n) capped_realloc(nullptr, n)
#define STBI_REALLOC(p, n) capped_realloc(p, n)
#define STBI_FREE(p) std::free(p)
#include <stb/stb_image.h>

// For image_folder.cpp, which declares them.
namespace zg {
// stb_image keeps its last failure reason until it sets another, and some failures (a deflate
// block of type 3) set none: it is cleared before each call.
void clear_stb_failure_reason() { stbi__g_failure_reason = nullptr; }

// stbi_info_from_memory tries each format in turn and so ends every failure with "unknown image
// type"; the PNG reader's own keeps the reason ("bad ctype", "too large", ...).
int stb_png_info(const stbi_uc* data, int length, int* width, int* height, int* channels) {
  stbi__context s;
  stbi__start_mem(&s, data, length);
  return stbi__png_info(&s, width, height, channels);
}
}  // namespace zg
