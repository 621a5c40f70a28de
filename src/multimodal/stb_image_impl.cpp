// The one translation unit that compiles stb_image (PNG and JPEG decoders only, no stdio).
// Built without project warnings (third-party code).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>
