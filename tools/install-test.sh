#!/usr/bin/env bash
# Installs Ordinal as an app developer gets it and builds the examples against the *installed* tree:
# runtime-only builds (tools and tests off), static and shared (-DBUILD_SHARED_LIBS=ON), each installed
# into its own prefix; then examples/c (C only) and examples/cpp through find_package(Ordinal CONFIG), the
# same two through pkg-config (--static for the static library), and examples/java on the JNI library;
# a C-only app that builds Ordinal as a subproject (examples/c-subproject); every program must print
# llama2.c's stories260K greedy text byte for byte. The shared library must export
# only the public API (nm -D). Usage: tools/install-test.sh [MAIN_BUILD_DIR] (the build whose `ordinal`
# imports the model; default build). Work goes to $MAIN_BUILD_DIR/install-test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
main=${1:-build}
work="$root/$main/install-test"
shared=${ORDINAL_SHARED:-$root/../shared}
golden="$shared/models/stories260K.greedy256.txt"
jobs=$(nproc)
rm -rf "$work"
mkdir -p "$work"

"$main/tools/ordinal" import llama2c "$shared/models/stories260K.bin" "$shared/models/tok512.bin" \
  -o "$work/stories260K.ordinal" > /dev/null
model="$work/stories260K.ordinal"

failures=0
check() {  # check NAME COMMAND...: runs a program, compares its stdout with the golden text
  local name=$1
  shift
  if "$@" > "$work/$name.out" 2> "$work/$name.err" && cmp -s "$work/$name.out" "$golden"; then
    echo "ok    $name"
  else
    echo "FAIL  $name (stdout $work/$name.out, stderr:)"
    sed 's/^/      /' "$work/$name.err" | tail -5
    failures=$((failures + 1))
  fi
}

for kind in static shared; do
  prefix="$work/prefix-$kind"
  shared_flag=OFF
  [[ $kind == shared ]] && shared_flag=ON
  cmake -S . -B "$work/build-$kind" -G Ninja -DCMAKE_BUILD_TYPE=Release -DORDINAL_BUILD_TOOLS=OFF \
    -DORDINAL_BUILD_TESTS=OFF -DBUILD_SHARED_LIBS=$shared_flag -DCMAKE_INSTALL_PREFIX="$prefix" > /dev/null
  cmake --build "$work/build-$kind" -j "$jobs"
  cmake --install "$work/build-$kind" > /dev/null
  libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$work/build-$kind/CMakeCache.txt")
  [[ -f "$prefix/$libdir/pkgconfig/ordinal.pc" ]] || { echo "FAIL  $kind: no ordinal.pc installed"; exit 1; }

  if [[ $kind == shared ]]; then
    cmake -DNM=nm -DLIB="$prefix/$libdir/libordinal.so" -P tests/support/check_shared_exports.cmake
    [[ ! -e "$prefix/$libdir/libordinal.a" ]] || { echo "FAIL  shared install also has libordinal.a"; exit 1; }
  else
    [[ ! -e "$prefix/$libdir/libordinal.so" ]] || { echo "FAIL  static install also has libordinal.so"; exit 1; }
  fi

  for lang in c cpp; do
    cmake -S "examples/$lang" -B "$work/examples-$kind-$lang" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
    cmake --build "$work/examples-$kind-$lang" > /dev/null
    check "cmake-$kind-$lang" "$work/examples-$kind-$lang/generate_$lang" "$model"
  done

  export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
  if [[ $kind == static ]]; then
    pc_libs=$(pkg-config --static --libs ordinal)
  else
    pc_libs="$(pkg-config --libs ordinal) -Wl,-rpath,$prefix/$libdir"
  fi
  # shellcheck disable=SC2086  # pkg-config output is a list of flags
  cc -std=c11 -Wall -Werror $(pkg-config --cflags ordinal) examples/c/generate.c $pc_libs \
    -o "$work/pkgconfig-$kind-c"
  # shellcheck disable=SC2086
  c++ -std=c++17 -Wall -Werror $(pkg-config --cflags ordinal) examples/cpp/generate.cpp $pc_libs \
    -o "$work/pkgconfig-$kind-cpp"
  check "pkgconfig-$kind-c" "$work/pkgconfig-$kind-c" "$model"
  check "pkgconfig-$kind-cpp" "$work/pkgconfig-$kind-cpp" "$model"
  unset PKG_CONFIG_PATH

  if [[ -f "$prefix/share/java/ordinal.jar" ]]; then
    mkdir -p "$work/java-$kind"
    javac -Xlint:all -Werror -cp "$prefix/share/java/ordinal.jar" -d "$work/java-$kind" examples/java/Generate.java
    check "java-$kind" java -Djava.library.path="$prefix/$libdir" \
      -cp "$prefix/share/java/ordinal.jar:$work/java-$kind" Generate "$model"
  else
    echo "FAIL  java-$kind: ordinal.jar not installed (no JDK? tools/setup.sh installs openjdk-17-jdk-headless)"
    failures=$((failures + 1))
  fi
done
# The from-source recipe: a C-only app with Ordinal as a subproject (no build type given: the app's own).
cmake -S examples/c-subproject -B "$work/subproject-c" -G Ninja > /dev/null
cmake --build "$work/subproject-c" -j "$jobs" > /dev/null
check "subproject-c" "$work/subproject-c/generate_c" "$model"

[[ $failures -eq 0 ]] || { echo "install-test: $failures failed"; exit 1; }
echo "install-test: every example printed the stories260K golden text"
