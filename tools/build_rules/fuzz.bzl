"""The one macro every fuzz harness uses.

`libp2p_fuzz_test(name, srcs, deps)` declares a cc_test whose sources define LLVMFuzzerTestOneInput:
- in a plain `bazel test` it links tools/fuzz:replay_main and replays every file of the checked-in corpus folder
  `<name>_corpus/` beside the BUILD file, failing if any input aborts;
- under `--config=fuzz` (clang) it links libFuzzer instead, and tools/test.sh runs it for a bounded time.
"""

def libp2p_fuzz_test(name, srcs, deps = [], **kwargs):
    corpus = name + "_corpus"
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//tools/build_rules:fuzzing": [],
            "//conditions:default": ["//tools/fuzz:replay_main"],
        }),
        linkopts = select({
            "//tools/build_rules:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = native.glob([corpus + "/**"]),
        args = [native.package_name() + "/" + corpus],
        tags = kwargs.pop("tags", []) + ["fuzz_target"],
        **kwargs
    )
