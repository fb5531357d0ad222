"""utm_proto_library: C++ messages and gRPC stubs from .proto files.

proto_library and cc_proto_library would download protobuf; this runs
Debian's /usr/bin/protoc with /usr/bin/grpc_cpp_plugin in a genrule instead,
as CMake's protobuf_generate does. Outputs mirror the source paths under the
package (utm/v1/common.proto -> utm/v1/common.pb.h, .pb.cc, .grpc.pb.h,
.grpc.pb.cc) and are included as "utm/v1/common.pb.h".
"""

def utm_proto_library(name, srcs, visibility = None):
    """A cc_library of the messages and stubs generated from srcs.

    Args:
      name: the cc_library.
      srcs: .proto files of this package, relative to it; each may import
        any of the others by that relative path.
      visibility: of the cc_library.
    """
    stems = [src[:-len(".proto")] for src in srcs]
    headers = [s + ".pb.h" for s in stems] + [s + ".grpc.pb.h" for s in stems]
    sources = [s + ".pb.cc" for s in stems] + [s + ".grpc.pb.cc" for s in stems]
    package = native.package_name()
    native.genrule(
        name = name + "_protoc",
        srcs = srcs,
        outs = headers + sources,
        # Every output depends on every .proto (an edit to an imported file
        # regenerates its importers).
        cmd = " ".join([
            "/usr/bin/protoc",
            "-I" + (package if package else "."),
            "--cpp_out=$(RULEDIR)",
            "--grpc_out=$(RULEDIR)",
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin",
            "$(SRCS)",
        ]),
        message = "protoc " + name,
    )
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        # -isystem: dependants get no warnings from generated headers.
        includes = ["."],
        # Generated code is not ours to warn about.
        copts = ["-w"],
        deps = [
            "@system_libs//:grpc",
            "@system_libs//:protobuf",
        ],
        visibility = visibility,
    )
