/* sargas-verify: the standalone verifier of evidence packages (docs/EVIDENCE.md). It holds
 * only the verifier (src/verify/: libsodium, jansson, libc) and is linked statically where the
 * build allows, so a recipient can build and run it without the rest of Sargas:
 *   cmake --build build --target sargas-verify */
#include "verify/verify.h"

int main(int argc, char **argv)
{
    return sg_verify_main(argc, argv, "sargas-verify");
}
