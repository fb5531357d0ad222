# Sanitizer and fuzzing builds (docs/testing.md).
#
# UTM_SANITIZE: every translation unit with AddressSanitizer and UBSan. UB
# aborts (-fno-sanitize-recover) so that a test or a fuzzer reaching it fails
# instead of printing a line nobody reads. Debian's prebuilt gRPC, protobuf,
# Abseil and S2 stay uninstrumented: ASan and UBSan work with uninstrumented
# dependencies (MSan would not).
#
# UTM_FUZZ: libFuzzer's coverage instrumentation in every translation unit
# (-fsanitize=fuzzer-no-link), so the fuzzers see coverage inside the
# libraries; only the fuzz/ targets link libFuzzer itself.

if(UTM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "UTM_FUZZ needs clang: -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(NOT UTM_SANITIZE)
    # Fuzzing without ASan misses most memory errors, and the coverage
    # callbacks of test binaries (built with fuzzer-no-link too) come from
    # the sanitizer runtime.
    message(FATAL_ERROR "UTM_FUZZ needs UTM_SANITIZE=ON")
  endif()
endif()

if(UTM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Line tables are all a symbolized stack trace needs; full debug info
    # doubles the link time of this build.
    add_compile_options(-gline-tables-only)
  endif()
endif()
if(UTM_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# utm_uses_s2(<source>...): declares the translation units (of the calling
# directory's targets) that include S2 headers. Under UTM_SANITIZE they are
# compiled without ASan: Abseil changes the layout of its btree under ASan,
# which then no longer matches Debian's prebuilt libs2, and S2 code spins
# forever. They keep UBSan.
function(utm_uses_s2)
  foreach(source IN LISTS ARGN)
    get_filename_component(path ${source} ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY UTM_S2_SOURCES ${path})
  endforeach()
  if(UTM_SANITIZE)
    set_property(SOURCE ${ARGN} APPEND PROPERTY COMPILE_OPTIONS
                 -fno-sanitize=address)
  endif()
endfunction()

# Fails the configuration when a source includes S2 without utm_uses_s2(), so
# that the sanitizer build never meets the pitfall above by surprise. S2 stays
# behind our own types: a header including it is refused too.
function(utm_check_s2_sources)
  if(NOT UTM_SANITIZE)
    return()
  endif()
  get_property(declared GLOBAL PROPERTY UTM_S2_SOURCES)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS
       LIST_DIRECTORIES false RELATIVE ${PROJECT_SOURCE_DIR}
       ${PROJECT_SOURCE_DIR}/geo/*.cc ${PROJECT_SOURCE_DIR}/geo/*.h
       ${PROJECT_SOURCE_DIR}/services/*.cc ${PROJECT_SOURCE_DIR}/services/*.h
       ${PROJECT_SOURCE_DIR}/sim/*.cc ${PROJECT_SOURCE_DIR}/sim/*.h
       ${PROJECT_SOURCE_DIR}/tests/*.cc ${PROJECT_SOURCE_DIR}/tests/*.h
       ${PROJECT_SOURCE_DIR}/fuzz/*.cc ${PROJECT_SOURCE_DIR}/fuzz/*.h)
  foreach(source IN LISTS sources)
    file(STRINGS ${PROJECT_SOURCE_DIR}/${source} s2_includes
         REGEX "^#include [<\"]s2/")
    if(NOT s2_includes)
      continue()
    endif()
    if(source MATCHES "\\.h$")
      message(FATAL_ERROR "${source} includes S2 headers: keep S2 inside .cc "
                          "files (declared with utm_uses_s2())")
    endif()
    if(NOT "${PROJECT_SOURCE_DIR}/${source}" IN_LIST declared)
      message(FATAL_ERROR "${source} includes S2 headers: declare it with "
                          "utm_uses_s2(), or the UTM_SANITIZE build hangs")
    endif()
  endforeach()
endfunction()
