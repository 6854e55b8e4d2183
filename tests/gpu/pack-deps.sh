#!/usr/bin/env bash
# Packs the system libraries kiln builds against that the GPU machine's image lacks (PCRE2, ICU's
# headers and static libraries, and cpp-httplib with its shared-library dependencies) from this Debian machine into build/devdeps,
# with pkg-config files that point inside it. Carry build/devdeps with the device call; then
# tests/gpu/run.sh (and `source tests/gpu/devdeps.env`) find them there.
# Usage: tests/gpu/pack-deps.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
d=build/devdeps
rm -rf "$d"
mkdir -p "$d/include" "$d/lib/pkgconfig"
cp /usr/include/pcre2.h /usr/include/httplib.h "$d/include/"
cp -r /usr/include/unicode /usr/include/brotli /usr/include/openssl "$d/include/"
cp /usr/include/x86_64-linux-gnu/openssl/* "$d/include/openssl/"  # opensslconf.h, configuration.h
cp /usr/lib/x86_64-linux-gnu/libpcre2-8.a /usr/lib/x86_64-linux-gnu/libicu{uc,data}.a "$d/lib/"
cp -P /usr/lib/x86_64-linux-gnu/libcpp-httplib.so* "$d/lib/"
# httplib's own dependencies, so the linker and the loader find them on an image without them.
for lib in $(ldd /usr/lib/x86_64-linux-gnu/libcpp-httplib.so.0.11 |
  awk '/(ssl|crypto|libz|brotli)/ {print $3}'); do
  cp "$lib" "$d/lib/"
done
cat >"$d/lib/pkgconfig/libpcre2-8.pc" <<'PC'
prefix=${pcfiledir}/../..
Name: libpcre2-8
Description: PCRE2 (packed for the GPU machine)
Version: 10.42
Libs: -L${prefix}/lib -lpcre2-8
Cflags: -I${prefix}/include
PC
cat >"$d/lib/pkgconfig/cpp-httplib.pc" <<'PC'
prefix=${pcfiledir}/../..
Name: cpp-httplib
Description: cpp-httplib (packed for the GPU machine)
Version: 0.11.4
Libs: -L${prefix}/lib -lcpp-httplib -Wl,-rpath-link,${prefix}/lib -pthread
Cflags: -I${prefix}/include -DCPPHTTPLIB_OPENSSL_SUPPORT -DCPPHTTPLIB_ZLIB_SUPPORT -DCPPHTTPLIB_BROTLI_SUPPORT
PC
cat >"$d/lib/pkgconfig/icu-uc.pc" <<'PC'
prefix=${pcfiledir}/../..
Name: icu-uc
Description: ICU common library (packed for the GPU machine, static)
Version: 72.1
Libs: -L${prefix}/lib -licuuc -licudata -ldl -lpthread
Cflags: -I${prefix}/include
PC
du -sh "$d"
