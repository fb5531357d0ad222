#!/usr/bin/python3
"""Keeps the Bazel build in step with CMake (bazel/README.md).

Usage: bazel_sync_test.py <source root>

Fails, naming the file or test and where to add it, when under geo/,
services/, sim/ or tests/:
- a .cc or .h named in a CMakeLists.txt is in no BUILD file, or the other way
  round (benchmark sources, *_benchmark.cc, are CMake-only);
- a .h in the tree is in no BUILD file (CMake lists no headers; Bazel needs
  every header declared);
- a GoogleTest program CMake registers (gtest_discover_tests, or add_test of
  one of its executables) has no cc_test of the same name;
- a translation unit CMake compiles without ASan because it includes S2
  (utm_uses_s2) is not in .bazelrc's list for --config=asan (the sanitized
  build would hang in S2, cmake/sanitizers.cmake).
Reads the files as text: no CMake or Bazel run needed.
"""
import fnmatch
import os
import re
import sys

DIRS = ("geo", "services", "sim", "tests")
SOURCE = re.compile(r"[A-Za-z0-9_./-]+\.(?:cc|h)$")


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def cmake_commands(text):
    """(command, [args]) of a CMakeLists.txt, comments removed."""
    text = strip_comments(text)
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(((?:[^()]|\([^()]*\))*)\)", text):
        yield m.group(1).lower(), m.group(2).split()


def walk(root):
    for top in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            yield os.path.relpath(dirpath, root), filenames


def main(root):
    cmake_files = {}  # source path -> CMakeLists.txt naming it
    cmake_tests = {}  # test program -> CMakeLists.txt
    bazel_files = {}  # source path -> BUILD naming it
    bazel_tests = set()
    s2_files = {}  # source path -> CMakeLists.txt declaring it with utm_uses_s2
    headers = []
    for rel, files in walk(root):
        headers += [os.path.join(rel, f) for f in files if f.endswith(".h")]
        if "CMakeLists.txt" in files:
            where = os.path.join(rel, "CMakeLists.txt")
            executables = set()
            for cmd, args in cmake_commands(open(os.path.join(root, where)).read()):
                if cmd in ("add_library", "add_executable", "target_sources"):
                    if cmd == "add_executable" and args:
                        executables.add(args[0])
                    for a in args[1:]:
                        if SOURCE.match(a):
                            cmake_files[os.path.normpath(os.path.join(rel, a))] = where
                elif cmd == "utm_uses_s2":
                    for a in args:
                        s2_files[os.path.normpath(os.path.join(rel, a))] = where
                elif cmd == "gtest_discover_tests" and args:
                    cmake_tests[args[0]] = where
                elif cmd == "add_test" and "COMMAND" in args:
                    command = args[args.index("COMMAND") + 1]
                    if command in executables:
                        cmake_tests[command] = where
            # foreach(test a b c) add_executable(${test} ${test}.cc) ...
            for m in re.finditer(r"foreach\s*\(\s*(\w+)\s+([^)]*)\)(.*?)endforeach",
                                 strip_comments(open(os.path.join(root, where)).read()), re.S):
                var, names, body = m.group(1), m.group(2).split(), m.group(3)
                if "${%s}.cc" % var in body:
                    for n in names:
                        cmake_files[os.path.join(rel, n + ".cc")] = where
        if "BUILD" in files:
            where = os.path.join(rel, "BUILD")
            text = strip_comments(open(os.path.join(root, where)).read())
            generated = set()
            for outs in re.findall(r"outs\s*=\s*\[([^\]]*)\]", text):
                generated.update(re.findall(r'"([^"]+)"', outs))
            for s in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
                if SOURCE.match(s) and s not in generated:
                    bazel_files[os.path.normpath(os.path.join(rel, s))] = where
            for pattern_list in re.findall(r"glob\(\s*\[([^\]]*)\]", text):
                for pattern in re.findall(r'"([^"]+)"', pattern_list):
                    if not pattern.endswith((".cc", ".h")):
                        continue
                    for f in files:
                        if fnmatch.fnmatch(f, pattern):
                            bazel_files[os.path.join(rel, f)] = where
            bazel_tests.update(re.findall(r'cc_test\(\s*name\s*=\s*"([^"]+)"', text))

    errors = []
    for path, where in sorted(cmake_files.items()):
        if path.endswith("_benchmark.cc"):
            continue  # benchmarks are built by CMake only
        if path not in bazel_files:
            errors.append("%s: in %s but in no BUILD file (add it to %s/BUILD)"
                          % (path, where, os.path.dirname(where)))
    for path, where in sorted(bazel_files.items()):
        if path.endswith(".cc") and path not in cmake_files:
            errors.append("%s: in %s but in no CMakeLists.txt" % (path, where))
        if not os.path.exists(os.path.join(root, path)):
            errors.append("%s: in %s but there is no such file" % (path, where))
    for path in sorted(headers):
        if path not in bazel_files:
            # The package: the nearest directory up with a BUILD file.
            package = os.path.dirname(path)
            while package and not os.path.exists(os.path.join(root, package, "BUILD")):
                package = os.path.dirname(package)
            errors.append("%s: a header in no BUILD file (add it to the hdrs of "
                          "the library it belongs to in %s/BUILD)" % (path, package))
    for test, where in sorted(cmake_tests.items()):
        if test not in bazel_tests:
            errors.append("%s: a test registered in %s with no cc_test(name = \"%s\") "
                          "in any BUILD file" % (test, where, test))
    # build:asan --per_file_copt=<regex>,<regex>...@-fno-sanitize=address
    no_asan = []
    for line in open(os.path.join(root, ".bazelrc")):
        m = re.match(r"build:asan\s+--per_file_copt=(\S+)@-fno-sanitize=address\s*$", line)
        if m:
            no_asan += m.group(1).split(",")
    for path, where in sorted(s2_files.items()):
        if not any(re.fullmatch(pattern, path) for pattern in no_asan):
            errors.append("%s: compiled without ASan in %s (utm_uses_s2) but not in "
                          ".bazelrc's build:asan --per_file_copt=...@-fno-sanitize=address"
                          % (path, where))
    for e in errors:
        print(e, file=sys.stderr)
    print("%d CMake sources, %d BUILD sources, %d headers, %d CMake tests, "
          "%d cc_test, %d S2 sources: %d errors"
          % (len(cmake_files), len(bazel_files), len(headers), len(cmake_tests),
             len(bazel_tests), len(s2_files), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
