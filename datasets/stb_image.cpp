// The one translation unit that compiles stb_image. PNG only: Debian's stb_image 2.27 has known
// overflow bugs in its other decoders, and PNG is the only format the image folder reads.
// STBI_MAX_DIMENSIONS is a last line of defence; load_image_folder applies its own, smaller
// max_side before anything is decoded.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS (1 << 14)
#include <stb/stb_image.h>
