"""utm_fuzz_target: a fuzz/ target as CMake's utm_add_fuzzer builds it.

NAME_fuzzer is a libFuzzer binary under --config=asan (clang-14, which
defines utm_fuzz=1), and otherwise runs each seed once (fuzz_replay_main.cc);
the test fuzz.NAME fuzzes it for UTM_FUZZ_SECONDS from its seeds, or replays
them (fuzz/run_fuzz_test.sh). Seeds are corpus/NAME/*, except *.txtpb, text
protos encoded at build time into the binary message the target reads.
"""

def utm_fuzz_target(name, deps, source = None, max_len = None, proto = None,
                    dict = None, defines = []):
    """A fuzz target, its encoded seeds and its test fuzz.NAME.

    Args:
      name: the target's name, as in fuzz/CMakeLists.txt.
      deps: the libraries it links.
      source: its LLVMFuzzerTestOneInput; DEFAULT name + ".cc".
      max_len: libFuzzer's -max_len.
      proto: the message .txtpb seeds are encoded as.
      dict: a libFuzzer dictionary in fuzz/.
      defines: compile definitions of the target's source.
    """
    seeds = native.glob(["corpus/%s/*" % name])
    text_seeds = [s for s in seeds if s.endswith(".txtpb")]
    plain_seeds = [s for s in seeds if not s.endswith(".txtpb")]
    encoded = []
    for s in text_seeds:
        out = "seeds/%s/%s.pb" % (name, s.split("/")[-1][:-len(".txtpb")])
        native.genrule(
            name = "%s_seed_%s" % (name, s.split("/")[-1][:-len(".txtpb")]),
            srcs = [s, "fuzz_session.proto", "//proto:protos"],
            outs = [out],
            cmd = ("/usr/bin/protoc --encode=%s -Ifuzz -Iproto " +
                   "fuzz/fuzz_session.proto < $(location %s) > $@") % (proto, s),
        )
        encoded.append(out)
    native.cc_binary(
        name = name + "_fuzzer",
        srcs = [source or name + ".cc"] + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["fuzz_replay_main.cc"],
        }),
        local_defines = defines,
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps,
    )
    options = ["-rss_limit_mb=2048", "-timeout=10"]
    if max_len:
        options.append("-max_len=%d" % max_len)
    data = [":%s_fuzzer" % name] + plain_seeds + encoded
    if dict:
        options.append("-dict=fuzz/" + dict)
        data.append(dict)
    native.sh_test(
        name = "fuzz." + name,
        srcs = ["run_fuzz_test.sh"],
        args = [
            "$(location :%s_fuzzer)" % name,
            "fuzz/corpus/" + name,
            "fuzz/seeds/" + name,
        ] + select({
            "//fuzz:libfuzzer": ["fuzz"],
            "//conditions:default": ["replay"],
        }) + options,
        data = data,
        size = "medium",
        tags = ["fuzz"],
    )
